"""Deadlines on waits for PostgreSQL that neither the server nor TCP can enforce.

A server that accepts connections but never answers (hung on its disk, stopped, or behind a
proxy that stopped forwarding) is not caught by statement_timeout, which the server itself
enforces, nor by TCP keepalives or tcp_user_timeout, since its kernel still acknowledges
every packet. libpq and psycopg then wait for a reply for ever, and each such wait holds one
of the few gunicorn threads of the instance until all are taken.

One watchdog thread per process shuts the socket down under a wait that outlived its
deadline: the waiting thread gets an ordinary OperationalError at once (a 500 page for the
visitor), and Django drops that connection at the end of the request.
"""

import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

POLL_SECONDS = 0.1


def shut_down(raw) -> None:
    """Makes every pending and future read on this psycopg connection fail at once."""
    try:
        fd = raw.fileno()
    except Exception:  # closed or broken already: nothing waits on it
        return
    # A duplicate of the descriptor: shutting it down ends the connection for its owner, and
    # closing the duplicate leaves the owner's descriptor for psycopg to close.
    with socket.socket(fileno=os.dup(fd)) as duplicate, suppress(OSError):
        duplicate.shutdown(socket.SHUT_RDWR)


class Watchdog:
    def __init__(self):
        self._lock = threading.Lock()
        self._armed: dict[int, Callable[[], object]] = {}
        self._deadlines: list[tuple[float, int]] = []
        self._tokens = itertools.count()
        self._thread: threading.Thread | None = None
        self._pid = 0

    @contextmanager
    def deadline(self, seconds: float, connection: Callable[[], object]) -> Iterator[None]:
        """Shut down ``connection()`` if the block still runs after ``seconds``."""
        if not seconds:
            yield
            return
        token = next(self._tokens)
        with self._lock:
            self._start()
            self._armed[token] = connection
            heapq.heappush(self._deadlines, (time.monotonic() + seconds, token))
        try:
            yield
        finally:
            with self._lock:
                self._armed.pop(token, None)

    def _start(self) -> None:
        # Lazily, and again in a forked child (gunicorn workers): threads do not survive fork.
        if self._thread is None or self._pid != os.getpid():
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="db-deadline", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(POLL_SECONDS)
            now = time.monotonic()
            with self._lock:
                while self._deadlines and self._deadlines[0][0] <= now:
                    _, token = heapq.heappop(self._deadlines)
                    connection = self._armed.pop(token, None)
                    # Under the lock: the block cannot end, and its thread reuse the connection
                    # for the next query, while the socket is being shut down.
                    if connection is not None and (raw := connection()) is not None:
                        shut_down(raw)


watchdog = Watchdog()
