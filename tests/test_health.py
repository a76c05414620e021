"""/healthz (is the process up) and /readyz (can it serve: the database answers; the cache is
reported)."""

import logging
from http import HTTPStatus

import pytest
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client

from tests.support import DEAD_REDIS, clear_caches, redis_caches

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("method", ["get", "head"])
def test_healthz_touches_no_database_session_or_cookie(client, django_assert_num_queries, method):
    with django_assert_num_queries(0):
        response = getattr(client, method)("/healthz")
    assert response.status_code == HTTPStatus.OK
    assert "Set-Cookie" not in response
    assert not response.cookies
    assert "Vary" not in response


@pytest.mark.parametrize("url", ["/healthz", "/readyz"])
def test_probes_over_plain_http_are_not_redirected(client, settings, url):
    # Load balancers probe instances directly, without TLS.
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/").status_code == HTTPStatus.MOVED_PERMANENTLY
    assert client.get(url).status_code == HTTPStatus.OK


def test_readyz_when_database_and_cache_answer(client):
    response = client.get("/readyz")
    assert response.status_code == HTTPStatus.OK
    assert response.content.decode() == "database: ok\nschema: ok\nstatic: ok\ncache: ok\n"
    assert response["Cache-Control"] == "no-store"
    assert not response.cookies


def test_readyz_with_the_real_redis(client, settings, redis_server):
    settings.CACHES = redis_caches(f"{redis_server}/11")
    assert client.get("/readyz").status_code == HTTPStatus.OK


def test_readyz_stays_200_and_says_so_when_redis_is_not_there(client, settings, caplog):
    # Every instance shares the one Redis: "not ready" would have the balancer take them all
    # out, where every page still renders from the database.
    settings.CACHES = redis_caches(DEAD_REDIS)
    response = client.get("/readyz")
    assert response.status_code == HTTPStatus.OK
    assert response.content.decode().endswith("cache: unavailable\n")
    # The outage shows in the log, as a warning: django-redis itself logs nothing per call.
    assert any(
        r.name == "omsportal.views" and r.levelname == "WARNING" and "cache" in r.getMessage()
        for r in caplog.records
    )


def test_readyz_says_why_the_database_does_not_answer(client, caplog, monkeypatch):
    # The balancer takes a failing instance out, so no page request reaches it and logs a
    # trace: the probe's warning is all the operator has. «OperationalError» alone is the same
    # for a server down, a wrong password, a missing database and a full max_connections.
    if connection.vendor != "postgresql":
        pytest.skip(
            "the probe's own connection is PostgreSQL's: run with DATABASE_URL=postgres://…"
        )
    monkeypatch.setitem(connection.settings_dict, "NAME", "h3_no_such_database")
    response = client.get("/readyz")
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    (line,) = [r for r in caplog.records if r.name == "omsportal.views"]
    message = line.getMessage()
    assert line.levelname == "WARNING" and "\n" not in message
    assert 'database "h3_no_such_database" does not exist' in message
    password = connection.settings_dict["PASSWORD"]
    assert not password or password not in message
    # That warning, not also Django's ERROR «Service Unavailable: /readyz» at every probe.
    assert not [r for r in caplog.records if r.name == "django.request"]


def test_healthz_stays_200_when_redis_is_not_there(client, settings):
    # The process is alive: restarting it would not bring Redis back.
    settings.CACHES = redis_caches(DEAD_REDIS)
    assert client.get("/healthz").status_code == HTTPStatus.OK


def test_probes_are_not_in_the_request_log(client, caplog):
    with caplog.at_level(logging.INFO, logger="omsportal.request"):
        client.get("/healthz")
        client.get("/readyz")
    assert not [r for r in caplog.records if r.name == "omsportal.request"]


def test_a_flood_of_readiness_probes_costs_the_database_one(client, django_assert_num_queries):
    # /readyz is public (nginx passes it) and not in the request log; on PostgreSQL each probe
    # opened a connection of its own, a new server process, which no query count sees.
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL probes on a connection of its own: counted on SQLite")
    # One probe: "SELECT 1", then the applied migrations.
    with django_assert_num_queries(2):
        for _ in range(20):
            assert client.get("/readyz").status_code == HTTPStatus.OK


@pytest.mark.django_db(transaction=True)
def test_readyz_fails_on_a_database_without_this_releases_migrations():
    """An instance of a new release started before ``migrate`` (or on the wrong database): the
    database answers, and every page that reads a new column is the 500 page. It answered 200."""
    last = max(
        MigrationRecorder.Migration.objects.filter(app="regions").values_list("name", flat=True)
    )
    MigrationRecorder.Migration.objects.filter(app="regions", name=last).delete()
    try:
        response = Client().get("/readyz")
    finally:
        MigrationRecorder.Migration.objects.create(app="regions", name=last)
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert f"schema: not migrated (regions.{last})\n" in response.text
    assert "database: ok\n" in response.text
    clear_caches()
    assert Client().get("/readyz").status_code == HTTPStatus.OK


def test_readyz_fails_when_static_files_were_not_collected(client, uncollected_static, caplog):
    response = client.get("/readyz")
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "static: missing (run collectstatic)\n" in response.text
    assert any("manifest" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")
