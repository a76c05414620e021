#!/usr/bin/env python3
"""Profile one page the way a gunicorn worker serves it: `python scripts/profile_page.py /path`.

Calls the WSGI application in process (no server, no network), warm: the first requests fill
the caches, then N requests run under pyinstrument and the report shows where the time goes.
Production-like settings (DEBUG off, HTTPS from the proxy) on the database and cache the
environment names; by default var/db.sqlite3, as `make run` leaves it. Options:
-n N (requests, default 500); --html FILE (pyinstrument's HTML report instead of text);
--region CODE (e.g. 77: as a visitor who chose that region, with a session holding it and its
cookie); --against PATH (no profiler: time the page and PATH, e.g. /healthz, in turn, 3 rounds
of N requests each).
"""

import argparse
import io
import os
import secrets
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omsportal.settings")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")


def environ_for(path: str, cookie: str = "") -> dict:
    return {
        "HTTP_COOKIE": cookie,
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_X_FORWARDED_PROTO": "https",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "SERVER_PROTOCOL": "HTTP/1.1",
    }


@contextmanager
def visitor_cookie(region: str | None):
    """The Cookie header of a visitor who chose ``region`` (none without one); the session is
    deleted afterwards."""
    if not region:
        yield ""
        return
    from django.conf import settings
    from django.contrib.sessions.backends.base import SessionBase
    from django.utils.module_loading import import_string

    from regions.middleware import SESSION_KEY

    store: SessionBase = import_string(f"{settings.SESSION_ENGINE}.SessionStore")()
    store[SESSION_KEY] = region
    store.save()
    try:
        yield f"{settings.SESSION_COOKIE_NAME}={store.session_key}"
    finally:
        store.delete()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("-n", type=int, default=500)
    parser.add_argument("--html")
    parser.add_argument("--region")
    parser.add_argument("--against")
    args = parser.parse_args()

    from pyinstrument import Profiler

    from omsportal.wsgi import application

    status = []

    def start_response(line, headers, exc_info=None):
        status.append(line)

    with visitor_cookie(args.region) as cookie:

        def get(path: str = args.path) -> None:
            result = application(environ_for(path, cookie), start_response)
            b"".join(result)
            if hasattr(result, "close"):
                result.close()

        for path in filter(None, (args.path, args.against)):
            for _ in range(20):
                get(path)
            print(f"{path}: {status[-1]}")
        if args.against:
            for _ in range(3):
                for path in (args.path, args.against):
                    started = time.perf_counter()
                    for _ in range(args.n):
                        get(path)
                    print(f"{path}: {(time.perf_counter() - started) / args.n * 1e6:.0f} µs")
            return 0
        started = time.perf_counter()
        with Profiler(interval=0.0002) as profiler:
            for _ in range(args.n):
                get()
        elapsed = time.perf_counter() - started
    print(f"{args.n} requests, {elapsed / args.n * 1e6:.0f} µs each under the profiler")
    if args.html:
        Path(args.html).write_text(profiler.output_html(), encoding="utf-8")
    else:
        print(profiler.output_text(unicode=True, color=False, show_all=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
