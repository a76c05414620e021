"""The benchmark's yardstick: a WSGI app that replays responses captured from the real site.

scripts/bench.py fetches each measured page from the running site first and writes status,
headers and body to the JSON file named by BENCH_BARE_RESPONSES. This app answers each path
with those exact bytes and does nothing else, so under the same gunicorn settings it measures
what gunicorn, the kernel and wrk cost: the floor any Python page is compared with.
"""

import json
import os

with open(os.environ["BENCH_BARE_RESPONSES"], encoding="utf-8") as captured:
    RESPONSES = {
        path: (status, [tuple(header) for header in headers], body.encode("latin-1"))
        for path, (status, headers, body) in json.load(captured).items()
    }

NOT_CAPTURED = ("404 Not Found", [("Content-Type", "text/plain")], b"not captured\n")


def application(environ, start_response):
    status, headers, body = RESPONSES.get(environ["PATH_INFO"], NOT_CAPTURED)
    start_response(status, headers)
    return [body]
