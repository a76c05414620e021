"""Docker HEALTHCHECK: exit 0 when /healthz of the local web process answers 200.

`healthcheck.py /readyz` asks readiness instead (the database, its migrations, the static
files): the deploy steps in the README run it before replacing the next instance. The image's
HEALTHCHECK keeps to /healthz: a database outage must not get every container restarted.

Standard library only (no curl in the image). The site answers /healthz whatever the Host
(omsportal.middleware.HostMiddleware); this still sends the first of ALLOWED_HOSTS, so that the
probe looks like any request to the site.
"""

import os
import sys
import urllib.error
import urllib.request

PROBES = ("/healthz", "/readyz")


def main() -> int:
    probe = sys.argv[1] if len(sys.argv) > 1 else PROBES[0]
    if probe not in PROBES:
        print(f"healthcheck: the probe is one of {', '.join(PROBES)}", file=sys.stderr)
        return 2
    port = os.environ.get("PORT", "8000")
    host = os.environ.get("ALLOWED_HOSTS", "localhost").split(",")[0].strip().lstrip(".")
    if host in {"", "*"}:
        host = "localhost"
    request = urllib.request.Request(f"http://127.0.0.1:{port}{probe}", headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return 0 if response.status == 200 else 1
    except urllib.error.HTTPError as exc:
        # /readyz's body names what is missing.
        print(f"healthcheck failed: {exc}: {exc.read().decode(errors='replace')}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"healthcheck failed: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
