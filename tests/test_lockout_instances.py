"""The admin lockout with two instances behind nginx (deploy/nginx.conf), as deployed.

nginx tells the instances the address it saw (X-Real-IP); they believe it from nginx only
(TRUSTED_PROXIES). Clients are told apart by the loopback address they connect from.
"""

import pytest
import redis

from .proxy import Nginx, nginx_available, require_nginx
from .test_instances import PASSWORD, Instance, Visitor, form_fields, production_env  # noqa: F401

if not nginx_available() and not require_nginx():
    pytest.skip("nginx is not installed (apt-get install nginx-light)", allow_module_level=True)

pytestmark = [pytest.mark.django_db, pytest.mark.server]

FAILURE_LIMIT = 3
NAME_FAILURES = 8
# tests/test_instances.py uses 7; the modules may run at the same time.
REDIS_DB = 9


@pytest.fixture(scope="module")
def site(production_env):  # noqa: F811
    env, workdir = production_env
    env = env | {
        "TRUSTED_PROXIES": "127.0.0.1",  # nginx connects to the instances from here
        "AXES_FAILURE_LIMIT": str(FAILURE_LIMIT),
        # Per day: django-ratelimit's windows end at a time of their own per key, and an hourly
        # one ended in the middle of the test in a CI run (a 200 where the 429 was due).
        "ADMIN_LOGIN_FAILURES_RATE": f"{NAME_FAILURES}/d",
    }
    instances = [Instance(env, workdir / f"web-lockout-{n}.log") for n in (1, 2)]
    try:
        for instance in instances:
            instance.wait_until_healthy()
        nginx = Nginx([instance.port for instance in instances])
        try:
            yield nginx, instances, env
        finally:
            nginx.stop()
    finally:
        for instance in instances:
            instance.stop()


@pytest.fixture(autouse=True)
def _fresh_counts(site):
    """Each test counts its own failures: the per-name counts live in the shared cache."""
    redis.Redis.from_url(site[2]["CACHE_URL"]).flushdb()


def log_in(visitor: Visitor, server, password: str, username: str = "editor"):
    _, page = visitor.get(server, "/admin/login/?next=/admin/")
    fields = form_fields(page) | {"username": username, "password": password}
    response, text = visitor.submit(server, "/admin/login/?next=/admin/", fields)
    return response.status, text


def test_a_stranger_cannot_lock_staff_out_through_nginx(site):
    nginx, instances, _ = site
    attacker = Visitor("127.0.0.66")
    for _ in range(FAILURE_LIMIT - 1):
        assert log_in(attacker, nginx, "угадываю")[0] == 200
    assert log_in(attacker, nginx, "угадываю")[0] == 429  # the last allowed failure locks
    status, page = log_in(attacker, nginx, PASSWORD)
    assert status == 429
    assert "Вход временно закрыт" in page

    editor = Visitor("127.0.0.10")
    assert log_in(editor, nginx, PASSWORD)[0] == 302
    # Logged in on whichever instance nginx chose, and on both.
    for instance in instances:
        response, page = editor.get(instance, "/admin/")
        assert response.status == 200
        assert "Содержание сайта" in page


def test_a_client_reaching_an_instance_directly_cannot_pick_its_address(site):
    nginx, instances, _ = site
    direct = Visitor("127.0.0.77")
    for n in range(FAILURE_LIMIT):
        # X-Real-IP and X-Forwarded-For from the client itself, new each time: ignored.
        direct.spoofed = {"X-Real-IP": f"192.0.2.{n}", "X-Forwarded-For": f"192.0.2.{n}"}
        log_in(direct, instances[n % 2], "угадываю")
    status, page = log_in(direct, instances[0], PASSWORD)
    assert status == 429
    assert "Вход временно закрыт" in page
    # The real editor, through nginx, is not affected.
    assert log_in(Visitor("127.0.0.11"), nginx, PASSWORD)[0] == 302


def test_guesses_from_many_addresses_are_throttled_per_name(site):
    nginx, _, _ = site
    for n in range(NAME_FAILURES):
        assert log_in(Visitor(f"127.0.1.{n + 1}"), nginx, "угадываю", "auditor")[0] == 200
    status, page = log_in(Visitor("127.0.1.200"), nginx, "угадываю", "auditor")
    assert status == 429
    assert "Подождите минуту" in page
    # Other names are not slowed.
    assert log_in(Visitor("127.0.1.200"), nginx, PASSWORD)[0] == 302
