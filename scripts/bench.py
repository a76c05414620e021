#!/usr/bin/env python3
"""`make bench`: the site under gunicorn in its production configuration against a bare WSGI app.

One run serves the site (DEBUG off, collected static files through whitenoise, HTTPS as a
TLS-terminating proxy announces it) and scripts/bare_wsgi.py, which replays the very bytes the
site answered, under the same gunicorn settings. wrk loads each page on both, alternating,
several rounds; the table gives medians and the site/bare ratio of the same round, because the
machine is shared and absolute figures drift. It also checks page weights and the memory of the
gunicorn workers, and exits non-zero naming every target missed.

Environment: DATABASE_URL (PostgreSQL when it points there: use a scratch database, the
benchmark adds a file row and removes it; SQLite in a temporary directory otherwise), CACHE_URL
(local memory unless set), BENCH_QUICK=1 (a smoke run of under a minute), BENCH_DURATION,
BENCH_ROUNDS, BENCH_CONNECTIONS, BENCH_PORT (the site; the bare app takes the next port).
"""

import http.client
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")

DURATION = int(os.environ.get("BENCH_DURATION", "1" if QUICK else "3"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "1" if QUICK else "3"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
THREADS = 2
WORKERS = 2
PORT = int(os.environ.get("BENCH_PORT", "18010"))
# Memory is read after this many requests, then again after the second figure.
MEMORY_CHECKPOINTS = (200, 2_000) if QUICK else (1_000, 20_000)

RATIO_TARGET = 0.5
HTML_LIMIT = 30 * 1024
CSS_LIMIT = 20 * 1024
JS_LIMIT = 10 * 1024
RSS_LIMIT = 120 * 1024 * 1024
RSS_GROWTH_LIMIT = 0.10

PROXY_HEADERS = {"X-Forwarded-Proto": "https"}
BENCH_FILE_TITLE = "Данные нагрузочного теста (benchmark), не публиковать"

# Representatives pages of several regions: the biggest, a middle one and the last in order.
REPRESENTATIVE_REGIONS = ("moscow", "perm-krai", "chechnya")
QUICK_REGIONS = ("moscow",)


@dataclass
class Page:
    name: str
    path: str
    kind: str = "html"  # html, css or download
    # A reference row (the lightest Django view), shown but not held to the ratio target.
    target: bool = True
    body: bytes = b""
    site: list = field(default_factory=list)
    bare: list = field(default_factory=list)
    ratios: list = field(default_factory=list)


def say(message: str) -> None:
    print(message, flush=True)


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if shutil.which("apt-get") and os.geteuid() == 0:
        say("wrk is missing: installing the Debian package")
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False)  # noqa: S607
        found = shutil.which("wrk")
        if found:
            return found
    sys.exit("bench: wrk is not installed. Install it (Debian: `sudo apt-get install wrk`).")


def manage(env: dict, *args: str) -> str:
    result = subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"bench: manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""


CREATE_BENCH_FILE = f"""
from django.core.files.base import ContentFile
from regions.models import Region, RegistryFile
rows = ["Регион;Код"] + [f"{{r.name}};{{r.code}}" for r in Region.objects.all()]
f = RegistryFile(title={BENCH_FILE_TITLE!r}, kind=RegistryFile.Kind.OTHER)
f.file.save("benchmark.csv", ContentFile(("\\n".join(rows * 4) + "\\n").encode("utf-8-sig")))
print(f.pk)
"""

DELETE_BENCH_FILES = f"""
from regions.models import RegistryFile
for f in RegistryFile.objects.filter(title={BENCH_FILE_TITLE!r}):
    f.file.delete(save=False)
    f.delete()
"""

HAS_REGIONS = "from regions.models import Region; print(Region.objects.exists())"


def prepare(tmp: Path) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "omsportal.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "STATIC_ROOT": str(tmp / "static"),
        "MEDIA_ROOT": str(tmp / "media"),
        "LOG_LEVEL": "WARNING",
    }
    env.setdefault("DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}")
    for name in ("SECURE_SSL_REDIRECT", "STATICFILES_BACKEND"):
        env.pop(name, None)  # production defaults: redirect to HTTPS, hashed compressed files
    database = env["DATABASE_URL"].split(":", 1)[0]
    say(f"database: {database}; cache: {env.get('CACHE_URL', 'locmemcache (default)')}")
    manage(env, "migrate", "--noinput")
    # A database that already has regions keeps them: never overwrite an operator's edits.
    if manage(env, "shell", "-c", HAS_REGIONS).strip() != "True":
        fixtures = sorted(str(p) for p in (ROOT / "fixtures").glob("*.json"))
        manage(env, "loaddata", *fixtures)
    manage(env, "collectstatic", "--noinput")
    manage(env, "shell", "-c", DELETE_BENCH_FILES)
    env["BENCH_FILE_ID"] = manage(env, "shell", "-c", CREATE_BENCH_FILE).strip()
    return env


def start_gunicorn(app: str, port: int, env: dict, extra: list[str] = ()) -> subprocess.Popen:
    # The same settings for both servers; a gunicorn.conf.py in the project root (production's)
    # is read by both, and these flags override only what makes the comparison fair.
    command = [
        PYTHON,
        "-m",
        "gunicorn",
        "--workers",
        str(WORKERS),
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        *extra,
        app,
    ]
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"bench: gunicorn for {app} exited with {process.returncode}")
        try:
            fetch(port, "/healthz")
            return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    sys.exit(f"bench: gunicorn for {app} did not answer on port {port}")


def fetch(port: int, path: str) -> tuple[int, str, list[tuple[str, str]], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=PROXY_HEADERS)
        response = connection.getresponse()
        return response.status, response.reason, response.getheaders(), response.read()
    finally:
        connection.close()


# gunicorn adds these to both servers' responses itself.
SERVER_HEADERS = {"date", "server", "connection", "transfer-encoding"}


def capture(port: int, pages: list[Page], target: Path) -> list[str]:
    problems, captured = [], {}
    for page in pages:
        status, reason, headers, body = fetch(port, page.path)
        if status != 200:
            problems.append(f"{page.name}: {page.path} answered {status}, not 200")
        page.body = body
        kept = [[name, value] for name, value in headers if name.lower() not in SERVER_HEADERS]
        captured[page.path] = [f"{status} {reason}", kept, body.decode("latin-1")]
    target.write_text(json.dumps(captured), encoding="utf-8")
    return problems


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def run_wrk(wrk: str, port: int, path: str, duration: int) -> dict:
    command = [wrk, f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{duration}s", "--latency"]
    for name, value in PROXY_HEADERS.items():
        command += ["-H", f"{name}: {value}"]
    command.append(f"http://127.0.0.1:{port}{path}")
    out = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=duration + 60
    ).stdout

    def latency(percentile: str) -> float:
        match = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(match[1]) * UNITS[match[2]] if match else float("nan")

    socket = re.search(r"connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1]),
        "p50": latency("50"),
        "p99": latency("99"),
        "errors": (int(non_2xx[1]) if non_2xx else 0)
        + (sum(int(n) for n in socket.groups()) if socket else 0),
    }


def run_count(port: int, paths: list[str], requests: int) -> None:
    """Exactly ``requests`` requests, cycling through the pages, over 4 connections at a time.

    (wrk counts by time, and its Lua stop leaves connections open that block sync workers.)
    """

    def send(share: range) -> int:
        failures = 0
        for number in share:
            status = fetch(port, paths[number % len(paths)])[0]
            failures += status >= HTTPStatus.BAD_REQUEST
        return failures

    with ThreadPoolExecutor(max_workers=4) as pool:
        failures = sum(pool.map(send, (range(i, requests, 4) for i in range(4))))
    if failures:
        say(f"  {failures} of {requests} requests failed")


def worker_rss(master: int) -> dict[int, int]:
    """Resident memory in bytes of each gunicorn worker (the master's children)."""
    workers = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":", 1) for line in status.read_text().splitlines() if ":" in line
            )
        except OSError:
            continue
        if int(fields.get("PPid", "0").strip()) == master:
            workers[int(status.parent.name)] = int(fields["VmRSS"].split()[0]) * 1024
    return workers


def linked(html: bytes, pattern: str) -> list[str]:
    return sorted(set(re.findall(pattern, html.decode("utf-8", "replace"))))


def check_weights(port: int, pages: list[Page]) -> tuple[list[str], list[str]]:
    lines, misses = [], []
    assets: dict[str, int] = {}
    for page in pages:
        if page.kind != "html":
            continue
        size = len(page.body)
        lines.append(f"  {page.name:<34} HTML {size / 1024:6.1f} KB")
        if size > HTML_LIMIT:
            misses.append(f"{page.name}: HTML {size} bytes > {HTML_LIMIT}")
        for kind, pattern, limit in (
            ("CSS", r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"', CSS_LIMIT),
            ("JS", r'<script[^>]+src="([^"]+)"', JS_LIMIT),
        ):
            total = 0
            for url in linked(page.body, pattern):
                if url not in assets:
                    assets[url] = len(fetch(port, url)[3]) if url.startswith("/") else 0
                total += assets[url]
            if total > limit:
                misses.append(f"{page.name}: {kind} {total} bytes > {limit}")
    for url, size in sorted(assets.items()):
        lines.append(f"  {url:<60} {size / 1024:6.1f} KB")
    return lines, misses


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> int:
    wrk = ensure_wrk()
    started = time.monotonic()
    misses: list[str] = []
    with tempfile.TemporaryDirectory(prefix="omsportal-bench-") as tmp_name:
        tmp = Path(tmp_name)
        env = prepare(tmp)
        regions = QUICK_REGIONS if QUICK else REPRESENTATIVE_REGIONS
        pages = [
            Page("home", "/"),
            Page("rights", "/zashchita-prav/"),
            Page("region list", "/regions/"),
            *(Page(f"representatives {s}", f"/regions/{s}/representatives/") for s in regions),
            Page("region moscow", "/regions/moscow/"),
            Page("files", "/files/"),
            Page("download", f"/files/{env['BENCH_FILE_ID']}/", kind="download"),
            Page("(healthz: Django's floor)", "/healthz", kind="text", target=False),
        ]
        site = start_gunicorn("omsportal.wsgi:application", PORT, env)
        bare = None
        try:
            misses += capture(PORT, pages[:1], tmp / "probe.json")
            # The hashed stylesheet, not /special.css (a view whose answer varies by cookie).
            css = linked(
                pages[0].body, r'<link[^>]+rel="stylesheet"[^>]+href="(/static/[^"]+\.css)"'
            )
            if css:
                pages.append(Page("static CSS", css[0], kind="css"))
            # Every page view revalidates it; it varies by cookie, so Django answers each time.
            pages.append(
                Page("(special.css: per visitor)", "/special.css", kind="css", target=False)
            )
            misses += capture(PORT, pages, tmp / "responses.json")
            bare = start_gunicorn(
                "bare_wsgi:application",
                PORT + 1,
                {**env, "BENCH_BARE_RESPONSES": str(tmp / "responses.json")},
                ["--pythonpath", str(ROOT / "scripts")],
            )

            say("\nWeights (uncompressed)")
            lines, weight_misses = check_weights(PORT, pages)
            say("\n".join(lines))
            misses += weight_misses

            first, last = MEMORY_CHECKPOINTS
            paths = [page.path for page in pages]
            say(f"\nMemory: {first} then {last} requests over all pages")
            run_count(PORT, paths, first)
            rss_first = worker_rss(site.pid)
            run_count(PORT, paths, last - first)
            rss_last = worker_rss(site.pid)
            for pid, rss in sorted(rss_last.items()):
                before = rss_first.get(pid)
                growth = (rss - before) / before if before else float("nan")
                say(
                    f"  worker {pid}: {before / 2**20 if before else 0:.1f} MB after {first}, "
                    f"{rss / 2**20:.1f} MB after {last} ({growth:+.1%})"
                )
                if rss > RSS_LIMIT:
                    misses.append(f"worker {pid}: RSS {rss / 2**20:.1f} MB > 120 MB")
                if before is None:
                    misses.append(f"worker {pid} restarted during the memory run")
                elif growth > RSS_GROWTH_LIMIT:
                    misses.append(f"worker {pid}: RSS grew {growth:.1%} from {first} to {last}")
            if len(rss_last) != WORKERS:
                misses.append(f"found {len(rss_last)} gunicorn workers, expected {WORKERS}")

            say(
                f"\nLoad: wrk -t{THREADS} -c{CONNECTIONS} -d{DURATION}s, {ROUNDS} round(s), "
                f"{WORKERS} sync workers each"
            )
            for round_number in range(ROUNDS):
                for page in pages:
                    # Alternate which server goes first so neither always gets the warmer CPU.
                    order = [(PORT + 1, page.bare), (PORT, page.site)]
                    if round_number % 2:
                        order.reverse()
                    for port, results in order:
                        results.append(run_wrk(wrk, port, page.path, DURATION))
                    page.ratios.append(page.site[-1]["rps"] / max(page.bare[-1]["rps"], 1e-9))
                say(f"  round {round_number + 1}/{ROUNDS} done")
        finally:
            for server in (site, bare):
                if server is not None:
                    server.terminate()
                    server.wait(timeout=30)
            manage(env, "shell", "-c", DELETE_BENCH_FILES)

    header = (
        f"{'page':<34} {'req/s':>8} {'bare':>8} {'ratio':>6} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'bare p50':>8} {'errors':>6}"
    )
    say("\n" + header)
    say("-" * len(header))
    for page in pages:
        ratio = median(page.ratios)
        errors = sum(r["errors"] for r in page.site)
        say(
            f"{page.name:<34} {median([r['rps'] for r in page.site]):>8.0f} "
            f"{median([r['rps'] for r in page.bare]):>8.0f} {ratio:>6.2f} "
            f"{median([r['p50'] for r in page.site]):>7.2f} "
            f"{median([r['p99'] for r in page.site]):>7.2f} "
            f"{median([r['p50'] for r in page.bare]):>8.2f} {errors:>6}"
        )
        if page.target and not ratio >= RATIO_TARGET:
            misses.append(f"{page.name}: {ratio:.2f} of the bare app < {RATIO_TARGET}")
        if errors:
            misses.append(f"{page.name}: {errors} errors")
        bare_errors = sum(r["errors"] for r in page.bare)
        if bare_errors:
            misses.append(f"{page.name}: the bare app had {bare_errors} errors")
    say(f"\n(ratios: median of the per-round site/bare ratios; {time.monotonic() - started:.0f} s)")
    if misses:
        say("\nTARGETS MISSED:\n" + "\n".join(f"  - {miss}" for miss in misses))
        return 1
    say("\nAll targets met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
