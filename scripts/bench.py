#!/usr/bin/env python3
"""`make bench`: the site as deployed, measured two ways side by side in one run.

1. **Newcomers through nginx**: gunicorn of the site in its production configuration behind
   nginx with deploy/nginx.conf (the shipped file, tests/proxy.py), against a second nginx
   serving the very same bytes as static files. Every public page a newcomer reaches must
   reach NGINX_TARGET of the static nginx. wrk sends a browser's Accept-Encoding to both: pages
   travel compressed, as nginx keeps them. A reference row, nginx's floor, sends home's body,
   compressed, through the same configuration with only the four headers a hit needs: the gap
   between it and the pages is what the headers every page carries cost each hit.
   nginx's own CPU per request (its workers' time) is shown for both sides too.
2. **Rendered by Django**: a visitor with a chosen region (session cookie), straight to
   gunicorn, no proxy cache, against Django's own floor: /healthz through the same middleware
   stack, in the same run. Every page must reach DJANGO_TARGET of it. The ratio to a bare WSGI
   app replaying the same bytes under the same gunicorn (scripts/bare_wsgi.py) is shown too,
   for comparison with earlier figures.

wrk loads each page and its yardstick back to back (the static file; /healthz and the bare app),
in turn first, several rounds; the tables give medians, and ratios of measurements made back
to back, because the machine is shared and absolute figures drift. The static nginx includes
deploy/nginx/files.conf, as the shipped nginx does: both send files alike. It also checks page
weights, errors and the memory of the gunicorn workers, and exits non-zero naming every target
missed.

Environment: DATABASE_URL (PostgreSQL when it points there: use a scratch database, the
benchmark adds a file row and removes it; SQLite in a temporary directory otherwise), CACHE_URL
(none unless set), BENCH_QUICK=1 (a smoke run of about a minute), BENCH_DURATION,
BENCH_ROUNDS, BENCH_CONNECTIONS, BENCH_PORT (the site; the bare app takes the next port).
"""

import gzip
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
from html import unescape
from http import HTTPStatus
from pathlib import Path

import brotli

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.proxy import Nginx, free_port  # noqa: E402 - the same nginx runner as the tests

PYTHON = sys.executable
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")

DURATION = int(os.environ.get("BENCH_DURATION", "1" if QUICK else "2"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "1" if QUICK else "4"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
THREADS = 2
WORKERS = 2
PORT = int(os.environ.get("BENCH_PORT", "18010"))
# Memory is read after this many requests, then again after the second figure.
MEMORY_CHECKPOINTS = (200, 2_000) if QUICK else (1_000, 20_000)

NGINX_TARGET = 0.8
DJANGO_TARGET = 0.6
HTML_LIMIT = 30 * 1024
CSS_LIMIT = 20 * 1024
JS_LIMIT = 10 * 1024
RSS_LIMIT = 120 * 1024 * 1024
RSS_GROWTH_LIMIT = 0.10

PROXY_HEADERS = {"X-Forwarded-Proto": "https"}
# What a newcomer's browser says it takes: nginx's cache keeps pages compressed, and sends them
# as kept to such a browser (a client that takes no gzip gets them unpacked, at a cost).
BROWSER_HEADERS = {"Accept-Encoding": "gzip, deflate, br"}
UNPACK = {"gzip": gzip.decompress, "br": brotli.decompress}
BENCH_FILE_TITLE = "Данные нагрузочного теста (benchmark), не публиковать"

# Representatives pages of several regions: the biggest, a middle one and the last in order.
REPRESENTATIVE_REGIONS = ("moscow", "perm-krai", "chechnya")
QUICK_REGIONS = ("moscow",)


@dataclass
class Page:
    name: str
    path: str
    kind: str = "html"  # html, css, text or download
    # Reference rows (the floor itself, the special version's stylesheet): shown, not held to a
    # target.
    target: bool = True
    # Also measured for a visitor with a session, rendered by Django.
    django: bool = True
    # The nginx that serves it to newcomers: the site's, or (nginx's floor) the bare app's.
    proxy_port: int = 0
    body: bytes = b""
    # What nginx sends a newcomer's browser (compressed, with these headers): the static
    # nginx's file.
    served: bytes = b""
    headers: list = field(default_factory=list)
    # Per round: the two sides of each comparison and their ratios.
    proxied: list = field(default_factory=list)
    static: list = field(default_factory=list)
    rendered: list = field(default_factory=list)
    floor: list = field(default_factory=list)
    bare: list = field(default_factory=list)

    def ratios(self, mine: str, yardstick: str) -> list[float]:
        return [
            a["rps"] / max(b["rps"], 1e-9)
            for a, b in zip(getattr(self, mine), getattr(self, yardstick), strict=False)
        ]


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
    try:
        fetch(port, "/healthz")
    except OSError:
        pass  # nothing answers there: the port is free for this gunicorn
    else:
        # Another server (a leftover of an interrupted run) would be measured in its place.
        sys.exit(f"bench: port {port} is in use; stop what listens there or set BENCH_PORT")
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


def fetch(
    port: int, path: str, headers: dict | None = None, method: str = "GET", body: str | None = None
) -> tuple[int, str, list[tuple[str, str]], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    data = body.encode() if body is not None else None
    try:
        # The headers wrk sends and no others: http.client's own "Accept-Encoding: identity"
        # would make nginx keep another variant of what varies by it (static files), and wrk's
        # first requests would wait for it.
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in {**PROXY_HEADERS, **(headers or {})}.items():
            connection.putheader(name, value)
        if data is not None:
            connection.putheader("Content-Length", str(len(data)))
        connection.endheaders(data)
        response = connection.getresponse()
        return response.status, response.reason, response.getheaders(), response.read()
    finally:
        connection.close()


# gunicorn adds these to both servers' responses itself.
SERVER_HEADERS = {"date", "server", "connection", "transfer-encoding"}


def capture(port: int, pages: list[Page], target: Path, headers: dict) -> list[str]:
    problems, captured = [], {}
    for page in pages:
        status, reason, response_headers, body = fetch(port, page.path, headers)
        if status != 200:
            problems.append(f"{page.name}: {page.path} answered {status}, not 200")
        page.body = body
        kept = [
            [name, value] for name, value in response_headers if name.lower() not in SERVER_HEADERS
        ]
        captured[page.path] = [f"{status} {reason}", kept, body.decode("latin-1")]
    target.write_text(json.dumps(captured), encoding="utf-8")
    return problems


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def run_wrk(wrk: str, port: int, path: str, duration: int, headers: dict | None = None) -> dict:
    command = [wrk, f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{duration}s", "--latency"]
    for name, value in {**PROXY_HEADERS, **(headers or {})}.items():
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
        "requests": int(re.search(r"(\d+) requests in", out)[1]),
        "p50": latency("50"),
        "p99": latency("99"),
        "errors": (int(non_2xx[1]) if non_2xx else 0)
        + (sum(int(n) for n in socket.groups()) if socket else 0),
    }


def run_count(port: int, paths: list[str], requests: int, headers: dict) -> None:
    """Exactly ``requests`` requests, cycling through the pages, over 4 connections at a time.

    (wrk counts by time, and its Lua stop leaves connections open that block sync workers.)
    """

    def send(share: range) -> int:
        failures = 0
        for number in share:
            status = fetch(port, paths[number % len(paths)], headers)[0]
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


def workers_cpu(master: int) -> float:
    """CPU seconds (user and system) the master's children, nginx's workers, have used."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name in parentheses may hold spaces: count fields after it.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def run_wrk_on_nginx(wrk: str, master: int, port: int, path: str) -> dict:
    """run_wrk, and what nginx's workers spent per request: wrk shares the cores, so this
    says what a hit costs nginx itself, apart from the load generator."""
    before = workers_cpu(master)
    result = run_wrk(wrk, port, path, DURATION, BROWSER_HEADERS)
    result["cpu_us"] = (workers_cpu(master) - before) / max(result["requests"], 1) * 1e6
    return result


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


STATIC_NGINX = """worker_processes auto;
pid nginx.pid;
error_log stderr warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    server_tokens off;
    include {files_conf};
    access_log off;
    client_body_temp_path client_body_temp;
    proxy_temp_path proxy_temp;
    fastcgi_temp_path fastcgi_temp;
    uwsgi_temp_path uwsgi_temp;
    scgi_temp_path scgi_temp;
    server {{
        listen 127.0.0.1:{port};
        root {root};
{locations}
    }}
}}
"""

# Headers the static nginx makes itself: the connection's, and ETag / Last-Modified / ranges
# from the file, as the cache makes its own Accept-Ranges. Content-Type is its default_type.
OWN_HEADERS = {
    *SERVER_HEADERS,
    "content-length",
    "content-type",
    "etag",
    "last-modified",
    "accept-ranges",
    "x-cache-status",
}


def static_location(number: int, page: Page) -> str:
    """Serve the page's file with the very headers nginx sends from its cache."""

    def quoted(value: str) -> str:
        if "$" in value or "\\" in value:
            sys.exit(f"bench: cannot repeat the header value {value!r} in nginx's configuration")
        return '"' + value.replace('"', '\\"') + '"'

    content_type = next(v for k, v in page.headers if k.lower() == "content-type")
    lines = [
        f"        location = /{number}.html {{",
        "            types { }",
        f"            default_type {quoted(content_type)};",
        *(
            f"            add_header {name} {quoted(value)};"
            for name, value in page.headers
            if name.lower() not in OWN_HEADERS
        ),
        "            add_header X-Cache-Status HIT;",
        "        }",
    ]
    return "\n".join(lines)


# nginx's own floor, as /healthz is Django's: home's body through the same deploy/nginx.conf
# with only the four headers a compressed hit needs, answered by the bare app. Against the
# pages, it shows what the headers every page carries (security policies, ETag, Vary) cost each
# cache hit: nginx parses them from the stored entry on every hit, where the static nginx sends
# them as configured strings.
NGINX_FLOOR_NAME = "(home, 4 headers: nginx's floor)"
FLOOR_HEADERS = ("content-type", "cache-control")
NGINX_FLOOR_PATH = "/bench-nginx-floor"


def add_nginx_floor(newcomer: Path, responses: Path, home: Page) -> None:
    """The bare app's answer for the floor: home as a newcomer gets it, compressed as Django
    compresses it for nginx's cache, with four headers."""
    status, headers, body = json.loads(newcomer.read_text(encoding="utf-8"))[home.path]
    packed = gzip.compress(body.encode("latin-1"), mtime=0)
    # Content-Length too: without it nginx would send the hit chunked.
    kept = [[n, v] for n, v in headers if n.lower() in FLOOR_HEADERS]
    kept += [["Content-Encoding", "gzip"], ["Content-Length", str(len(packed))]]
    captured = json.loads(responses.read_text(encoding="utf-8"))
    captured[NGINX_FLOOR_PATH] = [status, kept, packed.decode("latin-1")]
    responses.write_text(json.dumps(captured), encoding="utf-8")


def start_static_nginx(pages: list[Page]) -> tuple[subprocess.Popen, int, Path]:
    """nginx answering each page from a file, with the headers and body nginx sends from its
    cache: the same bytes, what the cached site is measured against."""
    workdir = Path(tempfile.mkdtemp(prefix="omsportal-bench-static-"))
    workdir.chmod(0o755)  # nginx's workers run as nobody
    root = workdir / "root"
    root.mkdir()
    root.chmod(0o755)
    for number, page in enumerate(pages):
        (root / f"{number}.html").write_bytes(page.served)
    port = free_port()
    (workdir / "nginx.conf").write_text(
        STATIC_NGINX.format(
            port=port,
            root=root,
            files_conf=ROOT / "deploy" / "nginx" / "files.conf",
            locations="\n".join(static_location(n, page) for n, page in enumerate(pages)),
        )
    )
    process = subprocess.Popen(
        ["nginx", "-p", f"{workdir}/", "-c", str(workdir / "nginx.conf"), "-g", "daemon off;"]  # noqa: S607
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            fetch(port, "/0.html")
            return process, port, workdir
        except OSError:
            time.sleep(0.1)
    process.terminate()
    sys.exit("bench: the static nginx did not start")


def session_cookie(port: int) -> dict:
    """A visitor who chose a region: the cookie of the session the choice made."""
    status, _, headers, _ = fetch(
        port,
        "/regions/choose/",
        {"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin"},
        method="POST",
        body="region=perm-krai&next=/",
    )
    cookie = next((v for k, v in headers if k.lower() == "set-cookie"), "")
    if status != HTTPStatus.FOUND or not cookie.startswith("sessionid="):
        sys.exit(f"bench: choosing a region answered {status} without a session")
    return {"Cookie": cookie.split(";")[0]}


def measure_memory(port: int, master: int, paths: list[str], headers: dict) -> list[str]:
    misses = []
    first, last = MEMORY_CHECKPOINTS
    say(f"\nMemory: {first} then {last} requests over all pages, to gunicorn")
    run_count(port, paths, first, headers)
    rss_first = worker_rss(master)
    run_count(port, paths, last - first, headers)
    rss_last = worker_rss(master)
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
    return misses


def table(title: str, pages: list[Page], columns: tuple, target: float) -> list[str]:
    """One table: a page a row; columns are (label, attribute) pairs, the first two compared."""
    (mine_label, mine), (yard_label, yard), *extra = columns
    misses = []
    header = (
        f"{'page':<34} {mine_label:>9} {yard_label:>9} {'ratio':>6}"
        + "".join(f" {label:>9} {'ratio':>6}" for label, _ in extra)
        + f" {'p99 ms':>7} {'errors':>6}"
    )
    say(f"\n{title}\n{header}\n{'-' * len(header)}")
    for page in pages:
        results = getattr(page, mine)
        if not results:
            continue
        ratio = median(page.ratios(mine, yard))
        row = (
            f"{page.name:<34} {median([r['rps'] for r in results]):>9.0f} "
            f"{median([r['rps'] for r in getattr(page, yard)]):>9.0f} {ratio:>6.2f}"
        )
        for _, attribute in extra:
            row += (
                f" {median([r['rps'] for r in getattr(page, attribute)]):>9.0f}"
                f" {median(page.ratios(mine, attribute)):>6.2f}"
            )
        errors = sum(r["errors"] for r in results)
        row += f" {median([r['p99'] for r in results]):>7.2f} {errors:>6}"
        say(row)
        if page.target and not ratio >= target:
            misses.append(f"{title.split(':')[0]}: {page.name}: {ratio:.2f} < {target}")
        if errors:
            misses.append(f"{title.split(':')[0]}: {page.name}: {errors} errors")
    return misses


def cpu_table(pages: list[Page]) -> None:
    """nginx's own CPU per request, hit against static file: the cost the ratio above shows
    through wrk's share of the same cores."""
    header = f"{'page':<34} {'hit us':>9} {'file us':>9} {'ratio':>6}"
    say(
        "\nnginx's CPU per request (its workers, user + system; microseconds, medians)"
        f"\n{header}\n{'-' * len(header)}"
    )
    for page in pages:
        hit = median([r["cpu_us"] for r in page.proxied])
        static = median([r["cpu_us"] for r in page.static])
        say(f"{page.name:<34} {hit:>9.1f} {static:>9.1f} {static / max(hit, 1e-9):>6.2f}")


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
            Page("region list ?next=", "/regions/?next=/zashchita-prav/"),
            *(Page(f"representatives {s}", f"/regions/{s}/representatives/") for s in regions),
            Page("region moscow", "/regions/moscow/"),
            Page("journey form", "/v-drugom-regione/"),
            Page("journey answer", "/v-drugom-regione/moscow/tomsk-oblast/"),
            Page("files", "/files/"),
            Page("download", f"/files/{env['BENCH_FILE_ID']}/", kind="download"),
            Page("(healthz: Django's floor)", "/healthz", kind="text", target=False),
        ]
        site = start_gunicorn("omsportal.wsgi:application", PORT, env)
        proxy = floor_proxy = bare = static = static_dir = None
        try:
            cookie = session_cookie(PORT)
            misses += capture(PORT, pages[:1], tmp / "probe.json", {})
            css = linked(
                pages[0].body, r'<link[^>]+rel="stylesheet"[^>]+href="(/static/[^"]+\.css)"'
            )
            if css:
                pages.append(Page("static CSS", css[0], kind="css", django=False))
            # The special version's stylesheet, as its page links it: a visitor with the cookie
            # bypasses nginx, so Django answers it, but once per choice and browser (it is
            # immutable), hence a reference row. Newcomers' pages link none.
            special = linked(
                fetch(PORT, "/", {"Cookie": "special=on"})[3],
                r'<link[^>]+rel="stylesheet"[^>]+href="(/special\.css\?[^"]+)"',
            )
            if special:
                path = unescape(special[0])
                pages.append(
                    Page("(special.css?v=: once per choice)", path, kind="css", target=False)
                )
            else:
                misses.append("a special version visitor's page links no special stylesheet")
            floor = next(page for page in pages if page.path == "/healthz")
            newcomer_pages = [p for p in pages if p.target]
            django_pages = [p for p in pages if p.django and p.target]

            # What the bare app replays: what the visitor with a session is sent.
            misses += capture(PORT, pages, tmp / "responses.json", cookie)
            add_nginx_floor(tmp / "probe.json", tmp / "responses.json", pages[0])
            bare = start_gunicorn(
                "bare_wsgi:application",
                PORT + 1,
                {**env, "BENCH_BARE_RESPONSES": str(tmp / "responses.json")},
                ["--pythonpath", str(ROOT / "scripts")],
            )
            proxy = Nginx([PORT])
            floor_proxy = Nginx([PORT + 1])
            nginx_floor = Page(NGINX_FLOOR_NAME, NGINX_FLOOR_PATH, target=False, django=False)
            nginx_floor.proxy_port = floor_proxy.port
            for page in newcomer_pages:
                page.proxy_port = proxy.port
            nginx_pages = [*newcomer_pages, nginx_floor]
            # What nginx sends newcomers from its cache, and the static nginx serves as files:
            # the first request fills the cache, the second is answered from it.
            for page in nginx_pages:
                fetch(page.proxy_port, page.path, BROWSER_HEADERS)
                status, _, page.headers, page.served = fetch(
                    page.proxy_port, page.path, BROWSER_HEADERS
                )
                packed = dict((k.lower(), v) for k, v in page.headers).get("content-encoding")
                page.body = UNPACK.get(packed, bytes)(page.served)
                if status != HTTPStatus.OK:
                    misses.append(f"{page.name}: nginx answered {status}")
            static, static_port, static_dir = start_static_nginx(nginx_pages)
            for page in nginx_pages:
                answer = fetch(page.proxy_port, page.path, BROWSER_HEADERS)
                cache_status = dict(answer[2]).get("X-Cache-Status")
                if cache_status != "HIT":
                    misses.append(f"{page.name}: nginx said {cache_status}, not HIT")

            say("\nWeights (uncompressed)")
            lines, weight_misses = check_weights(PORT, newcomer_pages)
            say("\n".join(lines))
            misses += weight_misses

            misses += measure_memory(PORT, site.pid, [p.path for p in pages], cookie)

            say(
                f"\nLoad: wrk -t{THREADS} -c{CONNECTIONS} -d{DURATION}s, {ROUNDS} round(s), "
                f"gunicorn with {WORKERS} sync workers"
            )
            for round_number in range(ROUNDS):
                for number, page in enumerate(nginx_pages):
                    proxy_master = (floor_proxy if page is nginx_floor else proxy).process.pid
                    pair = [
                        (proxy_master, page.proxy_port, page.path, page.proxied),
                        (static.pid, static_port, f"/{number}.html", page.static),
                    ]
                    for master, port, path, results in pair[:: 1 if round_number % 2 else -1]:
                        results.append(run_wrk_on_nginx(wrk, master, port, path))
                for page in [*django_pages, *(p for p in pages if not p.target)]:
                    # The page, the floor and the bare app back to back, in turn first: the
                    # machine is shared, and only measurements close in time compare.
                    trio = [
                        (PORT, page.path, page.rendered, cookie),
                        (PORT, floor.path, page.floor, cookie),
                        (PORT + 1, page.path, page.bare, {}),
                    ]
                    shift = round_number % len(trio)
                    for port, path, results, headers in trio[shift:] + trio[:shift]:
                        results.append(run_wrk(wrk, port, path, DURATION, headers))
                say(f"  round {round_number + 1}/{ROUNDS} done")
        finally:
            for server in (site, bare, static):
                if server is not None:
                    server.terminate()
                    server.wait(timeout=30)
            for nginx in (proxy, floor_proxy):
                if nginx is not None:
                    nginx.stop()
            if static_dir is not None:
                shutil.rmtree(static_dir, ignore_errors=True)
            manage(env, "shell", "-c", DELETE_BENCH_FILES)

    misses += table(
        "Newcomers through nginx: req/s against the same bytes as static files",
        nginx_pages,
        (("nginx", "proxied"), ("static", "static")),
        NGINX_TARGET,
    )
    cpu_table(nginx_pages)
    misses += table(
        "Rendered by Django for a visitor with a session: req/s against /healthz",
        [*django_pages, *(p for p in pages if not p.target)],
        (("django", "rendered"), ("healthz", "floor"), ("bare", "bare")),
        DJANGO_TARGET,
    )
    say(f"\n(ratios: medians of the per-round ratios; {time.monotonic() - started:.0f} s)")
    if misses:
        say("\nTARGETS MISSED:\n" + "\n".join(f"  - {miss}" for miss in misses))
        return 1
    say("\nAll targets met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
