"""Helpers for the production tests (real Redis, real sockets)."""

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.db import connection, transaction

from omsportal.rediscache import redis_cache, resume_all

# Nothing listens on port 1: connections are refused at once, as when Redis is stopped.
DEAD_REDIS = "redis://127.0.0.1:1/0"


def assert_in_order(text: str, pieces: list[str]) -> None:
    """Each piece is in the text, in the order a reader meets them."""
    positions = [text.find(piece) for piece in pieces]
    assert -1 not in positions, [p for p, at in zip(pieces, positions, strict=True) if at < 0]
    assert positions == sorted(positions)


# legal.md's steps for whoever is refused care, as the short form on every page gives them
# (templates/includes/_refused_steps.html): the written appeal comes after these.
REFUSED_STEPS = [
    "отказали в медицинской помощи",
    "к главному врачу",
    "на «горячую линию» страховой компании, которая выдала полис",
    # The typography filter binds the dash to the word before it.
    '(наша\u00a0— <a href="tel:+78003336003">',
    "в ТФОМС региона, где вы сейчас",
]


def clear_caches() -> None:
    """Forget what the site keeps between requests: the default cache (sessions, and with
    Redis the content version's copy) and this process's content cache (pages, data)."""
    for alias in settings.CACHES:
        caches[alias].clear()
    # A server stopped or stalled by an earlier test is asked again at once.
    resume_all()


def redis_caches(location: str) -> dict:
    """CACHES as settings.py builds it for a redis:// CACHE_URL."""
    return {
        "content": settings.CACHES["content"],
        "default": {
            **redis_cache(location, connect_timeout=0.3, timeout=0.5),
            "KEY_PREFIX": "omsportal-test",
        },
    }


def accepted(listener: socket.socket):
    """Each connection made to ``listener``, until it is closed."""
    while True:
        try:
            client, _ = listener.accept()
        except OSError:
            return
        yield client


class TcpProxy:
    """A TCP forwarder that a test can cut and restore: a network outage, Redis untouched.

    stall() keeps every connection open and accepts new ones but forwards nothing until
    resume(): a server that accepts connections but never answers. ``held`` counts what
    clients sent meanwhile (one count per command or pipeline, as redis-py sends them).
    """

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections: list[socket.socket] = []
        self.open = True
        self.flowing = threading.Event()
        self.flowing.set()
        self.held = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        for client in accepted(self.listener):
            if not self.open:
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            self.connections += [client, upstream]
            for source, sink, asks in ((client, upstream, True), (upstream, client, False)):
                threading.Thread(target=self._pipe, args=(source, sink, asks), daemon=True).start()

    def _pipe(self, source, sink, asks: bool):
        try:
            while data := source.recv(65536):
                if asks and not self.flowing.is_set():
                    self.held += 1
                self.flowing.wait()
                sink.sendall(data)
        except OSError:
            pass
        finally:
            source.close()
            sink.close()

    def cut(self):
        self.open = False
        for open_socket in self.connections:
            with contextlib.suppress(OSError):
                open_socket.shutdown(socket.SHUT_RDWR)
        self.connections.clear()

    def restore(self):
        self.open = True

    def stall(self):
        self.flowing.clear()

    def resume(self):
        self.flowing.set()

    def close(self):
        self.resume()
        self.cut()
        self.listener.close()


class GarbageServer:
    """A TCP server that answers whatever it is sent with ``reply`` and closes: what a
    redis:// CACHE_URL meets at another service's port (nginx, a TLS-only Redis)."""

    def __init__(self, reply: bytes):
        self.reply = reply
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.answered = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        for client in accepted(self.listener):
            with client, contextlib.suppress(OSError):
                client.settimeout(2)
                if client.recv(65536):
                    client.sendall(self.reply)
                    self.answered += 1

    def close(self):
        self.listener.close()


# Two connections racing on PostgreSQL's row locks: what two instances (or two members of
# staff) saving at the same moment look like to each other. Tests marked transaction=True.


@contextlib.contextmanager
def held_open(action: Callable[[], object]):
    """Runs ``action`` in a transaction of another connection, kept open (its row locks held)
    until the block ends: another save in progress."""
    ready, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                action()
                ready.set()
                release.wait(20)
        finally:
            connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    assert ready.wait(10), "the other transaction did not start"
    try:
        yield
    finally:
        release.set()
        thread.join(10)


class InBackground:
    """``action`` on a connection of its own; ``result`` or ``error`` once joined."""

    def __init__(self, action: Callable[[], object]):
        self.result, self.error = None, None

        def run():
            try:
                self.result = action()
            except Exception as error:  # handed to the test, which asserts on it
                self.error = error
            finally:
                connection.close()

        self.thread = threading.Thread(target=run)
        self.thread.start()

    def join(self) -> "InBackground":
        self.thread.join(20)
        return self


def wait_until_a_query_waits_on_a_lock() -> None:
    with connection.cursor() as cursor:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            if cursor.fetchone()[0]:
                return
            time.sleep(0.05)
    raise AssertionError("no query waited on the other transaction's lock")


def settings_json(statements: str, **env) -> object:
    """What ``statements`` print (JSON) once the real settings are loaded in a clean process,
    with a production-like environment plus ``env``."""
    code = (
        "import json, os; os.environ['DJANGO_SETTINGS_MODULE']='omsportal.settings';"
        f"from django.conf import settings; {statements}"
    )
    clean = {"PATH": os.environ["PATH"], "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "a.test"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=clean | env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def attempts_to_delete(client, changelist: str, pk: int) -> list:
    """Every way admin deletes one object: its delete page asked and confirmed, and the list's
    «Удалить выбранное: …» asked and confirmed. The responses, in that order."""
    delete = f"{changelist}{pk}/delete/"
    bulk = {"action": "delete_selected", "_selected_action": [pk]}
    return [
        client.get(delete),
        client.post(delete, {"post": "yes"}),
        client.post(changelist, bulk),
        client.post(changelist, bulk | {"post": "yes"}),
    ]


def server_error_while_the_database_is_away(request):
    """omsportal.views.server_error as Django calls it while it handles a database outage."""
    from django.db import OperationalError

    from omsportal.views import server_error

    try:
        raise OperationalError("connection refused")
    except OperationalError:
        return server_error(request)
