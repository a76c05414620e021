"""Who may lock whom out, and how much one address may cost the site.

- The client's address is taken from the proxy we run only (TRUSTED_PROXIES), so nobody picks
  their own, and visitors behind the proxy are told apart.
- The admin lockout is per (user name, address): strangers cannot lock staff out; failed logins
  per user name from all addresses together are throttled, so many addresses buy an attacker
  little.
- Region choices (each one a session) are limited per address with a Russian 429 page.
- Staff sessions end after a few idle hours; visitors keep their region a year; expired
  sessions are deleted on a schedule.
"""

import os
import re
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from http import HTTPStatus
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client, RequestFactory
from django.utils import timezone

from appeals.models import Appeal
from omsportal.security import client_ip
from representatives.admin_import import PENDING_DIR
from tests.appeals_support import make_appeal
from tests.support import clear_caches

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "верный-пароль-редактора"
NGINX = "10.0.0.2"  # REMOTE_ADDR of every request nginx passes on


@pytest.fixture
def behind_nginx(settings):
    # What an operator sets: nginx's address. The header is the default, nginx's X-Real-IP.
    settings.TRUSTED_PROXIES = [NGINX]
    return settings


@pytest.fixture
def editor(django_user_model):
    return django_user_model.objects.create_superuser("editor", "editor@example.ru", PASSWORD)


def via_nginx(address: str) -> Client:
    """A browser at ``address``, whose requests reach Django through our nginx."""
    return Client(REMOTE_ADDR=NGINX, HTTP_X_REAL_IP=address)


def login(client: Client, password: str, username: str = "editor"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password, "next": "/admin/"},
        secure=True,
    )


def request_from(remote: str, **headers):
    return RequestFactory().get("/", REMOTE_ADDR=remote, **headers)


@pytest.mark.parametrize(
    ("remote", "headers", "expected"),
    [
        # From nginx: the address it saw.
        (NGINX, {"HTTP_X_REAL_IP": "198.51.100.7"}, "198.51.100.7"),
        # From anywhere else: what the client says about itself is ignored.
        ("203.0.113.9", {"HTTP_X_REAL_IP": "198.51.100.7"}, "203.0.113.9"),
        # From nginx without the header, or with garbage in it: nginx's own address.
        (NGINX, {}, NGINX),
        (NGINX, {"HTTP_X_REAL_IP": "not-an-address"}, NGINX),
    ],
)
def test_the_client_address_comes_from_our_proxy_only(behind_nginx, remote, headers, expected):
    assert client_ip(request_from(remote, **headers)) == expected


def test_forwarded_for_lists_are_read_from_the_right(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    settings.CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    # The client wrote the first entry; nginx (10.0.0.2) appended what it saw.
    request = request_from(NGINX, HTTP_X_FORWARDED_FOR="1.1.1.1, 198.51.100.7, 10.0.0.3")
    assert client_ip(request) == "198.51.100.7"


def test_with_no_trusted_proxy_headers_are_never_read(settings):
    settings.TRUSTED_PROXIES = []
    settings.CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    assert client_ip(request_from("203.0.113.9", HTTP_X_FORWARDED_FOR="1.1.1.1")) == "203.0.113.9"


def test_strangers_behind_the_proxy_cannot_lock_staff_out(behind_nginx, editor, settings):
    attacker = via_nginx("198.51.100.66")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(attacker, "угадываю")
    assert login(attacker, PASSWORD).status_code == HTTPStatus.TOO_MANY_REQUESTS  # locked

    response = login(via_nginx("192.0.2.10"), PASSWORD)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/admin/"


def test_a_client_reaching_gunicorn_directly_cannot_pick_its_address(editor, settings):
    settings.TRUSTED_PROXIES = [NGINX]
    settings.CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    for n in range(settings.AXES_FAILURE_LIMIT):
        client = Client(REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
        login(client, "угадываю")
    direct = Client(REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="192.0.2.200")
    response = login(direct, PASSWORD)
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "Вход временно закрыт" in response.content.decode()


def test_failed_logins_per_user_name_are_throttled_across_addresses(behind_nginx, editor):
    behind_nginx.ADMIN_LOGIN_FAILURES_RATE = "6/d"  # a window that ends mid-test is rarer still
    # Six addresses, one guess each: none of them is locked by django-axes.
    for n in range(6):
        assert login(via_nginx(f"198.51.100.{n}"), "угадываю").status_code == HTTPStatus.OK
    response = login(via_nginx("198.51.100.99"), "угадываю")
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "Подождите минуту" in response.content.decode()
    # Other user names are not slowed.
    assert login(via_nginx("198.51.100.99"), "x", username="другой").status_code == HTTPStatus.OK
    # Staff are slowed too while it lasts, but never locked: once the minute has passed (the
    # counts are in the cache), the real password works from their own address.
    assert login(via_nginx("192.0.2.10"), PASSWORD).status_code == HTTPStatus.TOO_MANY_REQUESTS
    clear_caches()
    assert login(via_nginx("192.0.2.10"), PASSWORD).status_code == HTTPStatus.FOUND


def test_one_address_guessing_on_after_its_lockout_does_not_hold_the_name(behind_nginx, editor):
    behind_nginx.ADMIN_LOGIN_FAILURES_RATE = "6/d"
    attacker = via_nginx("203.0.113.7")
    for _ in range(3 * 6):
        login(attacker, "угадываю")
    assert login(attacker, PASSWORD).status_code == HTTPStatus.TOO_MANY_REQUESTS  # axes: locked
    # Only the guesses before the lockout count for the name: staff get in from elsewhere.
    response = login(via_nginx("192.0.2.10"), PASSWORD)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/admin/"


def choose(client: Client, region: str = "tomsk-oblast"):
    return client.post(
        "/regions/choose/",
        {"region": region, "next": "/"},
        HTTP_SEC_FETCH_SITE="same-origin",
    )


def test_region_choices_are_limited_per_address(behind_nginx, regions):
    behind_nginx.REGION_CHOICE_RATE = "5/m"
    for _ in range(5):
        assert choose(via_nginx("198.51.100.7")).status_code == HTTPStatus.FOUND
    refused = choose(via_nginx("198.51.100.7"))
    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    page = refused.content.decode()
    assert "Слишком много запросов" in page
    assert '<html lang="ru">' in page
    assert refused["Retry-After"] == "60"
    assert not refused.cookies
    assert Session.objects.count() == 5
    # Another visitor behind the same proxy is not affected.
    assert choose(via_nginx("192.0.2.10")).status_code == HTTPStatus.FOUND


def test_the_default_limit_stops_a_flood_of_sessions(regions):
    flood = Client()
    statuses = [choose(flood).status_code for _ in range(60)]
    # 20 a minute. django-ratelimit's windows are fixed (offset per key), and the flood, well
    # under a minute, may straddle the end of one: then a few more pass in the next one.
    accepted = statuses.count(HTTPStatus.FOUND)
    assert 20 <= accepted <= 40, statuses
    assert statuses.count(HTTPStatus.TOO_MANY_REQUESTS) == 60 - accepted
    assert statuses[:20] == [HTTPStatus.FOUND] * 20
    assert Session.objects.count() <= 20


def test_staff_sessions_expire_after_idle_hours_visitors_keep_a_year(regions, editor, settings):
    staff = Client()
    assert login(staff, PASSWORD).status_code == HTTPStatus.FOUND
    staff_session = Session.objects.get(session_key=staff.cookies["sessionid"].value)
    assert staff.cookies["sessionid"]["max-age"] == settings.ADMIN_SESSION_IDLE == 4 * 3600
    assert staff_session.expire_date < timezone.now() + timedelta(hours=4, minutes=1)

    visitor = Client()
    choose(visitor)
    visitor_session = Session.objects.get(session_key=visitor.cookies["sessionid"].value)
    assert visitor_session.expire_date > timezone.now() + timedelta(days=364)


def test_using_the_admin_keeps_a_staff_session_alive(regions, editor, settings):
    staff = Client()
    login(staff, PASSWORD)
    key = staff.cookies["sessionid"].value
    # Hours later, but within the idle limit: the session is pushed back on the next page.
    session = Session.objects.get(session_key=key)
    data = session.get_decoded() | {"_staff_seen": 0}
    Session.objects.filter(session_key=key).update(
        session_data=Session.objects.encode(data),
        expire_date=timezone.now() + timedelta(minutes=10),
    )
    clear_caches()
    assert staff.get("/admin/", secure=True).status_code == HTTPStatus.OK
    assert Session.objects.get(session_key=key).expire_date > timezone.now() + timedelta(hours=3)


def test_expired_sessions_are_deleted_on_a_schedule():
    compose = (ROOT / "docker-compose.yml").read_text()
    service = re.search(r"^  clearsessions:\n((?:    .*\n)+)", compose, re.M)
    assert service, "docker-compose.yml has a clearsessions service"
    assert 'command: ["scripts/clear-sessions"]' in service.group(1)
    assert "restart: unless-stopped" in service.group(1)
    script = (ROOT / "scripts" / "clear-sessions").read_text()
    assert "python manage.py clearsessions" in script
    assert "python manage.py clear_import_uploads" in script
    assert "python manage.py purge_appeals" in script  # what the privacy page promises
    assert "python manage.py purge_admin_logins" in script  # staff logins' addresses
    assert 'interval="${CLEARSESSIONS_INTERVAL:-86400}"' in script  # once a day


def leave_an_upload_unapplied(env: dict) -> Path:
    """A contact table uploaded in admin an hour ago and never applied; its folder."""
    pending = Path(env["MEDIA_ROOT"]) / PENDING_DIR
    pending.mkdir(parents=True)
    left = pending / ("0" * 32)
    left.write_bytes("Регион;Код контакта\n".encode())
    hour_ago = time.time() - 3600
    os.utime(left, (hour_ago, hour_ago))
    return pending


@pytest.mark.django_db(transaction=True)
def test_the_scheduled_command_deletes_expired_sessions_only(regions, editor, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("the script runs in a process of its own: run with DATABASE_URL=postgres://…")
    from tests.test_instances import database_url, deployment_env

    staff, visitor = Client(), Client()
    login(staff, PASSWORD)
    choose(visitor)
    # The staff member left the admin open five idle hours ago.
    Session.objects.filter(session_key=staff.cookies["sessionid"].value).update(
        expire_date=timezone.now() - timedelta(hours=1)
    )
    env = deployment_env(tmp_path, database_url(), CLEARSESSIONS_INTERVAL="0")
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    # And a contact table uploaded in admin an hour ago and never applied.
    pending = leave_an_upload_unapplied(env)
    # And two closed appeals: one long enough ago for its personal data to go, one not.
    old, _ = make_appeal()
    recent, _ = make_appeal(email="recent@example.com")
    closed = timezone.now() - timedelta(days=settings.APPEALS_PURGE_AFTER_DAYS)
    Appeal.objects.filter(pk=old.pk).update(
        status=Appeal.Status.CLOSED, closed_at=closed - timedelta(days=1)
    )
    Appeal.objects.filter(pk=recent.pk).update(
        status=Appeal.Status.CLOSED, closed_at=closed + timedelta(days=1)
    )
    subprocess.run([str(ROOT / "scripts" / "clear-sessions")], env=env, check=True, timeout=60)
    assert list(Session.objects.values_list("session_key", flat=True)) == [
        visitor.cookies["sessionid"].value
    ]
    assert list(pending.iterdir()) == []
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.name, old.email, old.text) == ("", "", "")
    assert old.personal_data_removed_at is not None
    assert recent.email == "recent@example.com" and recent.personal_data_removed_at is None


def test_every_clean_up_step_runs_though_one_fails_and_the_run_exits_1(tmp_path):
    """With `set -e`, a failing clearsessions skipped the purge of appeals' personal data (the
    privacy page's promise) and everything after it. Here the sessions table is gone."""
    from tests.test_instances import deployment_env, manage

    env = deployment_env(
        tmp_path, f"sqlite:///{tmp_path / 'db.sqlite3'}", CLEARSESSIONS_INTERVAL="0"
    )
    manage(env, "migrate", "--noinput", "-v0")
    pending = leave_an_upload_unapplied(env)
    # As Django writes times into SQLite: UTC, no offset.
    now = timezone.now().replace(tzinfo=None)
    logins = [now - timedelta(days=settings.ADMIN_ACCESS_LOG_DAYS + 1), now - timedelta(days=1)]
    with sqlite3.connect(tmp_path / "db.sqlite3") as database:
        database.execute("DROP TABLE django_session")
        database.executemany(
            "INSERT INTO axes_accesslog (user_agent, ip_address, username, http_accept,"
            " path_info, session_hash, attempt_time) VALUES ('Firefox', '203.0.113.7',"
            " 'editor', '*/*', '/admin/login/', '', ?)",
            [(str(at),) for at in logins],
        )

    result = subprocess.run(
        [str(ROOT / "scripts" / "clear-sessions")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1
    assert "clear-sessions: failed: clearsessions" in result.stderr
    assert list(pending.iterdir()) == []  # the steps after it ran
    assert "Очищено обращений: 0" in result.stdout
    with sqlite3.connect(tmp_path / "db.sqlite3") as database:
        kept = database.execute("SELECT attempt_time FROM axes_accesslog").fetchall()
    assert [at for (at,) in kept] == [str(logins[1])]
