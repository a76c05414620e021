"""/healthz (is the process up) and /readyz (can it serve: database and cache answer)."""

import logging
from http import HTTPStatus

import pytest

from tests.support import DEAD_REDIS, redis_caches

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
    assert response.content.decode() == "database: ok\ncache: ok\n"
    assert response["Cache-Control"] == "no-store"
    assert not response.cookies


def test_readyz_with_the_real_redis(client, settings, redis_server):
    settings.CACHES = redis_caches(f"{redis_server}/11")
    assert client.get("/readyz").status_code == HTTPStatus.OK


def test_readyz_is_503_when_redis_is_not_there(client, settings, caplog):
    settings.CACHES = redis_caches(DEAD_REDIS)
    response = client.get("/readyz")
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "cache: unavailable" in response.content.decode()
    assert "database: ok" in response.content.decode()
    # Failed probes are worth a line; successful ones are not (see test_logs).
    assert any(r.name == "omsportal.request" and r.status == 503 for r in caplog.records)


def test_healthz_stays_200_when_redis_is_not_there(client, settings):
    # The process is alive: restarting it would not bring Redis back.
    settings.CACHES = redis_caches(DEAD_REDIS)
    assert client.get("/healthz").status_code == HTTPStatus.OK


def test_probes_are_not_in_the_request_log(client, caplog):
    with caplog.at_level(logging.INFO, logger="omsportal.request"):
        client.get("/healthz")
        client.get("/readyz")
    assert not [r for r in caplog.records if r.name == "omsportal.request"]
