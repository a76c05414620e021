"""A PostgreSQL that accepts connections but never answers must not freeze an instance.

A TCP proxy in front of the real PostgreSQL stops forwarding (tests.support.TcpProxy.stall):
requests that need the database fail within seconds instead of holding gunicorn's threads for
good, /healthz never waits for the database, /readyz answers 503 within about two seconds,
and everything works again once the database answers.
"""

import http.client
import secrets
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus

import pytest
from django.db import connection

from tests.proxy import Nginx, nginx_available, require_nginx
from tests.support import TcpProxy
from tests.test_instances import Instance, database_url, production_env  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.server]

THREADS = 2


@pytest.fixture
def proxy():
    db = connection.settings_dict
    proxy = TcpProxy(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))
    yield proxy
    proxy.close()
    # The server ends the sessions the proxy carried a moment later; the test database can
    # be dropped only then.
    others = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) {others}")
            if cursor.fetchone()[0] == 0:
                break
        time.sleep(0.1)
    else:
        # A backend whose client vanished mid-wait may linger until TCP gives up on it, and the
        # test database could not be dropped at the end of the run (a warning in every CI run).
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT pg_terminate_backend(pid) {others}")


@pytest.fixture
def instance(production_env, proxy):  # noqa: F811
    env, workdir = production_env
    port = connection.settings_dict["PORT"] or 5432
    through_proxy = database_url().replace(f":{port}/", f":{proxy.port}/")
    assert through_proxy != database_url()
    instance = Instance(
        env
        | {
            "DATABASE_URL": through_proxy,
            "WEB_CONCURRENCY": "1",
            "GUNICORN_THREADS": str(THREADS),
            "DATABASE_STATEMENT_TIMEOUT": "1",
            "DATABASE_CLIENT_TIMEOUT": "2",
            "DATABASE_CONNECT_TIMEOUT": "2",
        },
        workdir / "web-database-hang.log",
    )
    try:
        instance.wait_until_healthy()
        yield instance
    finally:
        instance.stop()


def get(instance, path: str, *, session: bool = False, timeout: float = 60):
    """(status, seconds) of a GET; ``session``: an unknown session, looked up in the database."""
    headers = {"Host": "127.0.0.1", "X-Forwarded-Proto": "https"}
    if session:
        headers |= visitor_headers()
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", instance.port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
    finally:
        conn.close()
    return response.status, time.monotonic() - started


def test_a_hung_database_costs_requests_seconds_and_the_probes_nothing(instance, proxy):
    # Every thread keeps a connection for reuse, as after some traffic.
    with ThreadPoolExecutor(THREADS * 2) as pool:
        warm = list(pool.map(lambda _: get(instance, "/admin/", session=True), range(8)))
    assert {status for status, _ in warm} == {HTTPStatus.FOUND}
    assert get(instance, "/readyz")[0] == HTTPStatus.OK

    proxy.stall()
    # Twice as many requests needing the database as there are threads: each fails in
    # seconds (the kept connection is cut, a new one times out), so none waits for ever.
    with ThreadPoolExecutor(THREADS * 2) as pool:
        stuck = list(pool.map(lambda _: get(instance, "/admin/", session=True), range(4)))
    # An outage, not a fault of the page: 503, which nginx retries on another instance.
    assert {status for status, _ in stuck} == {HTTPStatus.SERVICE_UNAVAILABLE}
    assert max(seconds for _, seconds in stuck) < 20

    status, seconds = get(instance, "/healthz")
    assert status == HTTPStatus.OK
    assert seconds < 1
    status, seconds = get(instance, "/readyz")
    assert status == HTTPStatus.SERVICE_UNAVAILABLE
    assert seconds < 3

    proxy.resume()
    # Nothing stays stuck once the database answers again: every thread serves it at once.
    with ThreadPoolExecutor(THREADS * 2) as pool:
        back = list(pool.map(lambda _: get(instance, "/admin/", session=True), range(4)))
    assert {status for status, _ in back} == {HTTPStatus.FOUND}
    assert get(instance, "/readyz")[0] == HTTPStatus.OK
    log = instance.log_path.read_text()
    assert "WORKER TIMEOUT" not in log


def test_an_instance_cut_off_from_the_database_hands_its_visitors_to_the_other(
    production_env,  # noqa: F811
    instance,
    proxy,
):
    """One instance lost its database, the other had it: a visitor with a session got a 500
    from every other page through nginx, which kept sending them to the broken instance."""
    if not nginx_available() and not require_nginx():
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    env, workdir = production_env
    healthy = Instance(env | {"WEB_CONCURRENCY": "1"}, workdir / "web-healthy.log")
    nginx = None
    try:
        healthy.wait_until_healthy()
        nginx = Nginx([instance.port, healthy.port])
        proxy.cut()
        # Asked directly, the cut-off instance says it is an outage, in Russian, with a time.
        conn = http.client.HTTPConnection("127.0.0.1", instance.port, timeout=30)
        conn.request("GET", "/zashchita-prav/", headers=visitor_headers())
        response = conn.getresponse()
        page = response.read().decode()
        conn.close()
        assert response.status == HTTPStatus.SERVICE_UNAVAILABLE
        assert response.getheader("Retry-After") == "60"
        assert "Попробуйте открыть страницу через несколько минут" in page
        # Through nginx, every page a visitor with a session asks for is served.
        statuses = []
        for path in ["/zashchita-prav/", "/", "/regions/moscow/", "/regions/"] * 3:
            answer, _ = nginx.request("GET", path, headers=visitor_headers())
            statuses.append(answer.status)
        assert statuses == [HTTPStatus.OK] * 12
    finally:
        if nginx is not None:
            nginx.stop()
        healthy.stop()


def visitor_headers() -> dict:
    # A session cookie: never from nginx's cache, and looked up in the database.
    return {"X-Forwarded-Proto": "https", "Cookie": f"sessionid={secrets.token_hex(16)}"}


class Raw:
    """Stands for a psycopg connection: all the watchdog asks of one is its socket."""

    def __init__(self, sock):
        self.sock = sock

    def fileno(self):
        return self.sock.fileno()


def test_the_watchdog_cuts_only_a_wait_that_outlives_its_deadline():
    from omsportal.postgresql.deadline import watchdog

    client, server = socket.socketpair()
    with client, server:
        raw = Raw(client)
        with watchdog.deadline(5, lambda: raw):
            server.sendall(b"x")
            assert client.recv(1) == b"x"  # answered in time: untouched
        time.sleep(0.3)
        server.sendall(b"y")
        assert client.recv(1) == b"y"
        started = time.monotonic()
        with watchdog.deadline(0.3, lambda: raw):
            assert client.recv(1) == b""  # nobody answers: cut, the wait ends
        assert 0.2 < time.monotonic() - started < 2
