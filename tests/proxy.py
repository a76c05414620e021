"""The site as deployed: gunicorn instances of the site behind nginx with deploy/nginx.conf.

Used by the tests of the HTTP cache and of what nginx shields gunicorn from, and by the
benchmark. The nginx configuration is the shipped files, copied unchanged; only the two
includes that differ between deployments (the upstream instances, the listening port) are
written here.
"""

import http.client
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def nginx_available() -> bool:
    return Path(NGINX).exists()


def upstream_conf(ports: list[int]) -> str:
    """The shipped upstream.conf with these local ports for its servers, each with the
    parameters of the shipped servers (max_fails, fail_timeout), so tests see what production
    gets."""
    shipped = (ROOT / "deploy" / "nginx" / "upstream.conf").read_text()
    parameters = re.search(r"^ *server \S+?( [^;]*)?;$", shipped, re.M).group(1) or ""
    servers = "".join(f"    server 127.0.0.1:{port}{parameters};\n" for port in ports)
    return re.sub(r"(?:^ *server .*\n)+", lambda _: servers, shipped, count=1, flags=re.M)


class Nginx:
    def __init__(self, upstreams: list[int], *, balancers: str | None = None):
        """``balancers``: nginx/balancers.conf's text instead of the shipped one."""
        # nginx's workers drop root for "nobody": their files cannot live in pytest's private
        # temporary folders.
        workdir = Path(tempfile.mkdtemp(prefix="omsportal-nginx-"))
        workdir.chmod(0o755)
        self.workdir = workdir
        self.port = free_port()
        shutil.copy(ROOT / "deploy" / "nginx.conf", workdir / "nginx.conf")
        shutil.copytree(ROOT / "deploy" / "nginx", workdir / "nginx")
        (workdir / "nginx" / "upstream.conf").write_text(upstream_conf(upstreams))
        (workdir / "nginx" / "listen.conf").write_text(f"listen 127.0.0.1:{self.port};\n")
        if balancers is not None:
            (workdir / "nginx" / "balancers.conf").write_text(balancers)
        self.log_path = workdir / "nginx.log"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [
                    NGINX,
                    *("-p", f"{workdir}/"),
                    *("-c", str(workdir / "nginx.conf")),
                    *("-g", "daemon off;"),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log_path.read_text()
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"nginx did not start:\n{self.log_path.read_text()}")

    def request(
        self, method: str, path: str, *, headers: dict | None = None, body: str | None = None
    ) -> tuple[http.client.HTTPResponse, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        try:
            conn.request(method, path, body, {"Host": "127.0.0.1", **(headers or {})})
            response = conn.getresponse()
            return response, response.read().decode("utf-8", "replace")
        finally:
            conn.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)


def require_nginx() -> bool:
    """CI installs nginx and sets REQUIRE_NGINX: there a missing binary fails, never skips."""
    return bool(os.environ.get("REQUIRE_NGINX"))
