"""Two gunicorn instances over one PostgreSQL and one Redis, as behind a load balancer.

Each instance is started with scripts/start-web, the Docker image's own command, in the
production configuration (DEBUG off, manifest static files, JSON logs, Redis cache). The test
talks plain HTTP to the instances with the X-Forwarded-Proto header a TLS proxy adds; cookies
are therefore kept by hand (they are Secure, and a cookie jar would not send them over HTTP).
"""

import contextlib
import http.client
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
import redis
from django.db import connection

from .proxy import free_port

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "пароль-для-двух-копий"

# Asks pytest-django for the test database; the test process itself writes nothing to it.
pytestmark = [pytest.mark.django_db, pytest.mark.server]


def database_url() -> str:
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    return (
        f"postgres://{quote(db['USER'], safe='')}{password}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


class Instance:
    def __init__(self, env: dict, log_path: Path):
        self.port = free_port()
        self.env = {**env, "PORT": str(self.port)}
        self.log_path = log_path
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(
                [str(ROOT / "scripts" / "start-web")],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_until_healthy(self):
        # The image's HEALTHCHECK command, run against this instance.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log_path.read_text()
            check = subprocess.run(
                [sys.executable, str(ROOT / "scripts" / "healthcheck.py")],
                env=self.env,
                capture_output=True,
            )
            if check.returncode == 0:
                break
            time.sleep(0.3)
        else:
            raise AssertionError(f"not healthy in 30 s:\n{self.log_path.read_text()}")
        # Then the README's deploy step before the next instance: ready to serve pages.
        ready = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "healthcheck.py"), "/readyz"],
            env=self.env,
            capture_output=True,
            text=True,
        )
        assert ready.returncode == 0, ready.stderr

    def stop(self) -> int | None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # what docker stop sends
            try:
                return self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def log_lines(self) -> list[dict]:
        return [json.loads(line) for line in self.log_path.read_text().splitlines()]


class Visitor:
    """One browser: its cookies, sent to whichever instance the balancer picks.

    ``address``: the loopback address it connects from (127.0.0.0/8 is all local on Linux),
    so that tests can tell clients apart by address.
    """

    def __init__(self, address: str = "127.0.0.1"):
        self.cookies: dict[str, str] = {}
        self.set_cookie_headers: list[str] = []
        self.address = address
        self.spoofed: dict[str, str] = {}  # headers a client may send about itself

    def request(
        self,
        instance: Instance,
        method: str,
        path: str,
        form: dict | None = None,
        *,
        host: str | None = None,
    ):
        origin = f"https://127.0.0.1:{instance.port}"
        host = host or f"127.0.0.1:{instance.port}"
        headers = {"X-Forwarded-Proto": "https", "Host": host, **self.spoofed}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers |= {
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": origin,
                "Referer": origin + path,
            }
        conn = http.client.HTTPConnection(
            "127.0.0.1", instance.port, timeout=15, source_address=(self.address, 0)
        )
        try:
            conn.request(method, path, body, headers)
            response = conn.getresponse()
            text = response.read().decode()
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            self.set_cookie_headers.append(header)
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response, text

    def get(self, instance, path):
        return self.request(instance, "GET", path)

    def submit(self, instance, path, form: dict):
        return self.request(instance, "POST", path, form)


class FormFields(HTMLParser):
    """The fields a browser would submit from the page's forms (inputs, selects, textareas)."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}
        self._select = self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in {"submit", "file", "button"}:
            if attrs.get("type") != "checkbox" or "checked" in attrs:
                self.fields[name] = attrs.get("value") or ("on" if "checked" in attrs else "")
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.fields[self._select] = attrs.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data


def form_fields(html: str) -> dict[str, str]:
    parser = FormFields()
    parser.feed(html)
    return parser.fields


def deployment_env(workdir: Path, database: str, **overrides: str) -> dict[str, str]:
    """What a deployment sets, for processes started by a test on this machine."""
    return {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "DATABASE_URL": database,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "STATIC_ROOT": str(workdir / "static"),
        "MEDIA_ROOT": str(workdir / "media"),
        "HOST": "127.0.0.1",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "2",
    } | overrides


def sqlite_site(
    workdir: Path, *fixtures: str, editor_password: str = "", **overrides: str
) -> dict[str, str]:
    """A deployment on a SQLite file of its own, prepared as an operator would: migrated, static
    files collected, the fixtures loaded and, given a password, an «editor» superuser."""
    env = deployment_env(
        workdir,
        f"sqlite:///{workdir / 'db.sqlite3'}",
        LOG_FORMAT="text",
        GUNICORN_LOGLEVEL="warning",
        **overrides,
    )
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "collectstatic", "--noinput", "-v0")
    manage(env, "loaddata", *fixtures, "-v0")
    if editor_password:
        manage(
            env | {"DJANGO_SUPERUSER_PASSWORD": editor_password},
            *("createsuperuser", "--noinput", "--username=editor", "--email=editor@example.ru"),
        )
    return env


@contextlib.contextmanager
def served(env: dict, workdir: Path, *, behind_nginx: bool = False):
    """One gunicorn of the site, healthy, and optionally nginx with deploy/nginx.conf in front;
    yields what clients should talk to."""
    from .proxy import Nginx

    web = Instance(env, workdir / "web.log")
    try:
        web.wait_until_healthy()
        if not behind_nginx:
            yield web
            return
        nginx = Nginx([web.port])
        try:
            yield nginx
        finally:
            nginx.stop()
    finally:
        web.stop()


def log_in_as_editor(server, password: str) -> "Visitor":
    editor = Visitor()
    _, page = editor.get(server, "/admin/login/?next=/admin/")
    response, _ = editor.submit(
        server,
        "/admin/login/?next=/admin/",
        {**form_fields(page), "username": "editor", "password": password},
    )
    assert response.status == 302
    return editor


# A fund's new name needs its source named (regions/admin.py): the one edits give.
FUND_SITE = "Официальный сайт фонда (тест)"


def edit_region_in_admin(editor: "Visitor", server, search: str, **changes: str) -> None:
    """Changes fields of the region admin's search finds, as staff would in the form."""
    _, changelist = editor.get(server, "/admin/regions/region/?" + urlencode({"q": search}))
    change_url = re.search(r'href="(/admin/regions/region/\d+/change/)', changelist).group(1)
    _, form_page = editor.get(server, change_url)
    fields = form_fields(form_page) | changes
    for button in ("_addanother", "_continue"):
        fields.pop(button, None)
    response, page = editor.submit(server, change_url, fields)
    assert response.status == 302, page[:2000]


def manage(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


@pytest.fixture(scope="module")
def production_env(request, django_db_setup, django_db_blocker, redis_server, tmp_path_factory):
    """The environment of a deployment over the test database, prepared as an operator would.

    The data is written by manage.py in other processes and committed, so the tests of this
    module use no test transaction; the database is flushed again at the end. Each module using
    it names its own Redis database (REDIS_DB), since modules run at once under pytest-xdist.
    """
    if connection.vendor != "postgresql":
        pytest.skip("several instances share PostgreSQL: run with DATABASE_URL=postgres://…")
    workdir = tmp_path_factory.mktemp("instances")
    cache_url = f"{redis_server}/{getattr(request.module, 'REDIS_DB', 7)}"
    # A module may add settings of its own (DEPLOYMENT_ENV).
    extra = getattr(request.module, "DEPLOYMENT_ENV", {})
    env = deployment_env(workdir, database_url(), CACHE_URL=cache_url, **extra)
    redis.Redis.from_url(cache_url).flushdb()
    # What the image build does (the manifest storage needs it before the site can start),
    # then what the README tells an operator to do on a new database.
    manage(env, "collectstatic", "--noinput", "-v0")
    manage(env, "loaddata", "fixtures/regions.json", "fixtures/subjects.json", "-v0")
    manage(
        env | {"DJANGO_SUPERUSER_PASSWORD": PASSWORD},
        *("createsuperuser", "--noinput", "--username=editor", "--email=editor@example.ru"),
    )
    try:
        yield env, workdir
    finally:
        manage(env, "flush", "--noinput", "-v0")
        redis.Redis.from_url(cache_url).flushdb()


@pytest.fixture(scope="module")
def instances(production_env):
    env, workdir = production_env
    started = [Instance(env, workdir / f"web-{n}.log") for n in (1, 2)]
    try:
        for instance in started:
            instance.wait_until_healthy()
        yield started
    finally:
        for instance in started:
            instance.stop()


def test_a_visitor_chooses_a_region_on_one_instance_and_keeps_it_on_the_other(instances):
    first, second = instances
    visitor = Visitor()

    response, page = visitor.get(first, "/")
    assert response.status == 200
    assert "Ваш регион\u00a0— город Москва?" in page
    assert "csrfmiddlewaretoken" not in page
    assert not visitor.cookies  # a newcomer's page sets no cookie

    response, _ = visitor.submit(
        first, "/regions/choose/", {"region": "tomsk-oblast", "next": "/zashchita-prav/"}
    )
    assert response.status == 302
    assert response.getheader("Location") == "/zashchita-prav/"
    session_cookie = next(h for h in visitor.set_cookie_headers if h.startswith("sessionid="))
    assert "Secure" in session_cookie and "HttpOnly" in session_cookie
    assert "SameSite=Lax" in session_cookie

    response, page = visitor.get(second, "/zashchita-prav/")
    assert response.status == 200
    assert "Ваш регион: <strong>Томская область</strong>" in page
    assert "Да, верно" not in page
    assert response.getheader("Strict-Transport-Security").startswith("max-age=63072000")

    for instance in instances:
        assert Visitor().get(instance, "/readyz")[0].status == 200


def test_staff_logs_in_on_one_instance_and_edits_through_the_other(instances):
    first, second = instances
    editor = Visitor()

    _, page = editor.get(first, "/admin/login/?next=/admin/")
    response, page = editor.submit(
        first,
        "/admin/login/?next=/admin/",
        {**form_fields(page), "username": "editor", "password": PASSWORD},
    )
    assert response.status == 302
    assert response.getheader("Location") == "/admin/"

    response, page = editor.get(second, "/admin/")
    assert response.status == 200
    assert "Содержание сайта" in page

    # An edit saved through one instance is what the other shows next: the content version
    # both read from PostgreSQL changes with it (regions/caching.py).
    region_page = "/regions/tomsk-oblast/"
    assert "ТФОМС Томской области (проверка)" not in Visitor().get(first, region_page)[1]
    renamed = {"tfoms_name": "ТФОМС Томской области (проверка)", "tfoms_source": FUND_SITE}
    edit_region_in_admin(editor, second, "Томская", **renamed)
    assert "ТФОМС Томской области (проверка)" in Visitor().get(first, region_page)[1]


def test_an_instance_logs_json_and_stops_gracefully(production_env):
    env, workdir = production_env
    instance = Instance(env, workdir / "web-stopped.log")
    try:
        instance.wait_until_healthy()
        visitor = Visitor()
        visitor.get(instance, "/?phone=89161234567")
        visitor.get(instance, "/healthz")
    finally:
        assert instance.stop() == 0  # SIGTERM: finishes requests in flight, exits cleanly

    lines = instance.log_lines()  # every line parses as JSON
    requests = [line for line in lines if line["logger"] == "omsportal.request"]
    # The page sends a query string it does not read to its one address.
    assert [(r["method"], r["path"], r["status"]) for r in requests] == [("GET", "/", 301)]
    assert requests[0]["request_id"]
    assert "89161234567" not in instance.log_path.read_text()
    assert any(line["logger"] == "gunicorn.error" for line in lines)


def test_an_instance_reconnects_after_the_database_drops_its_connection(production_env):
    # A PostgreSQL restart or failover kills the connection kept for reuse (CONN_MAX_AGE).
    # One worker with one thread, so that the next request meets that very connection.
    # Choosing a region stores a session row: a request that always uses the kept connection
    # (/readyz opens one of its own, and cached pages need none with Redis).
    env, workdir = production_env
    instance = Instance(env | {"GUNICORN_THREADS": "1"}, workdir / "web-reconnect.log")
    choice = {"region": "tomsk-oblast", "next": "/"}
    try:
        instance.wait_until_healthy()
        assert Visitor().submit(instance, "/regions/choose/", choice)[0].status == 302
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            assert cursor.fetchone()[0] >= 1
        # CONN_HEALTH_CHECKS: the dead connection is noticed before use and replaced.
        visitor = Visitor()
        response, page = visitor.submit(instance, "/regions/choose/", choice)
        assert response.status == 302, page
        assert "Ваш регион: <strong>Томская область</strong>" in visitor.get(instance, "/")[1]
    finally:
        instance.stop()
