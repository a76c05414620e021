"""Slow clients cost nginx connections, never gunicorn threads (deploy/nginx.conf).

Forty connections that send one header line every couple of seconds and never finish, and
sixteen clients reading a 19 MB file a kilobyte at a time, are held by nginx: a gunicorn with
two threads behind it still answers everyone else within a second, and nginx drops the
clients that are too slow after its header timeout.
"""

import http.client
import socket
import threading
import time

import pytest

from .proxy import nginx_available, require_nginx
from .test_image import compose_services
from .test_instances import served, sqlite_site

pytestmark = [pytest.mark.server, pytest.mark.own_site]

if not nginx_available() and not require_nginx():
    pytest.skip("nginx is not installed (apt-get install nginx-light)", allow_module_level=True)

SLOW_SENDERS = 40
SLOW_READERS = 16
BIG = 19 * 1024 * 1024
HEADER_TIMEOUT = 10  # client_header_timeout in deploy/nginx.conf


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("slow")
    env = sqlite_site(
        workdir, "fixtures/regions.json", SECURE_SSL_REDIRECT="0", GUNICORN_THREADS="2"
    )
    # A large file gunicorn serves (whitenoise indexes the static root when it starts).
    (workdir / "static" / "big.bin").write_bytes(b"\0" * BIG)
    with served(env, workdir, behind_nginx=True) as nginx:
        yield nginx


def timed_get(port: int, path: str) -> tuple[int, float]:
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Host": "127.0.0.1"})
        response = conn.getresponse()
        response.read()
    finally:
        conn.close()
    return response.status, time.monotonic() - started


class SlowSender(threading.Thread):
    """Slowloris: a request whose headers never end, one line every two seconds."""

    def __init__(self, port: int, stop: threading.Event):
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        self.stop, self.dropped_after = stop, None
        self.started = time.monotonic()

    def run(self):
        n = 0
        try:
            while not self.stop.wait(2):
                n += 1
                self.sock.sendall(f"X-Slow-{n}: {n}\r\n".encode())
        except OSError:
            self.dropped_after = time.monotonic() - self.started
        finally:
            self.sock.close()


class SlowReader(threading.Thread):
    """Reads a large download a kilobyte at a time."""

    def __init__(self, port: int, stop: threading.Event):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect(("127.0.0.1", port))
        self.sock.sendall(b"GET /static/big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        self.stop, self.received = stop, 0

    def run(self):
        try:
            while not self.stop.wait(0.2):
                chunk = self.sock.recv(1024)
                if not chunk:
                    return
                self.received += len(chunk)
        except OSError:
            pass
        finally:
            self.sock.close()


def test_slow_clients_do_not_stop_other_answers(site):
    stop = threading.Event()
    senders = [SlowSender(site.port, stop) for _ in range(SLOW_SENDERS)]
    readers = [SlowReader(site.port, stop) for _ in range(SLOW_READERS)]
    for client in (*senders, *readers):
        client.start()
    try:
        time.sleep(1)  # every slow client is connected and stalling
        # Pages that always reach gunicorn (they set a cookie, so nginx never caches them),
        # and the probe, are answered at once, again and again.
        for _ in range(5):
            for path in ("/admin/login/", "/regions/?next=/fresh/", "/healthz"):
                status, seconds = timed_get(site.port, path)
                assert status == 200, path
                assert seconds < 1, (path, seconds)
            time.sleep(0.5)
        assert all(reader.received > 0 for reader in readers)
        assert all(reader.received < BIG for reader in readers)  # still reading

        # Slowloris connections are dropped by nginx once its header timeout has passed.
        for sender in senders:
            sender.join(timeout=HEADER_TIMEOUT + 8)
        assert all(sender.dropped_after is not None for sender in senders)
        assert max(sender.dropped_after for sender in senders) < HEADER_TIMEOUT + 6
    finally:
        stop.set()


def test_the_compose_file_publishes_nginx_only():
    published = {name for name, body in compose_services().items() if "ports:" in body}
    assert published == {"nginx"}
