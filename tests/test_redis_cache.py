"""Redis as the shared cache, and the site when Redis is away."""

import logging
import time
from urllib.parse import urlsplit

import pytest
import redis
from django.core.cache import cache
from django.urls import reverse

from omsportal.cache import ForgivingRedisCache
from tests.support import DEAD_REDIS, TcpProxy, redis_caches

pytestmark = pytest.mark.django_db


@pytest.fixture
def dead_redis(settings):
    settings.CACHES = redis_caches(DEAD_REDIS)


@pytest.fixture
def live_redis(settings, redis_server):
    url = f"{redis_server}/5"
    settings.CACHES = redis_caches(url)
    cache.clear()
    yield redis.Redis.from_url(url)
    cache.clear()


@pytest.mark.parametrize(
    ("url", "text"),
    [
        ("/", "Ваш регион Город Москва?"),
        ("/zashchita-prav/", "Ваш регион Город Москва?"),
        ("/regions/", "Город Санкт-Петербург"),
    ],
)
def test_pages_render_while_redis_is_down(client, regions, dead_redis, url, text):
    started = time.monotonic()
    response = client.get(url)
    assert response.status_code == 200
    assert text in response.content.decode()
    # One failed connection, then the cache is skipped: no socket timeout per cache call.
    assert time.monotonic() - started < 2


def test_region_choice_works_while_redis_is_down(client, regions, dead_redis):
    response = client.post(reverse("regions:choose"), {"region": "saint-petersburg", "next": "/"})
    assert response.status_code == 302
    assert response["Location"] == "/"

    page = client.get("/").content.decode()
    assert "Ваш регион: <strong>Город Санкт-Петербург</strong>" in page
    assert "Да, верно" not in page


def test_an_outage_is_logged_once_not_per_call(regions, dead_redis, caplog):
    with caplog.at_level(logging.WARNING, logger="omsportal.cache"):
        for _ in range(5):
            assert cache.get("anything", "fallback") == "fallback"
            cache.set("anything", 1)
    assert len([r for r in caplog.records if r.name == "omsportal.cache"]) == 1
    assert "unavailable" in caplog.records[0].getMessage()


def test_pages_use_the_real_redis(client, regions, live_redis):
    client.get("/")
    assert any(b"regions:index" in key for key in live_redis.keys("omsportal-test:*"))


def test_two_instances_share_the_cache(redis_server):
    # Two backend objects with their own connection pools, as in two gunicorn processes.
    params = redis_caches(f"{redis_server}/5")["default"]
    first = ForgivingRedisCache(params["LOCATION"], params)
    second = ForgivingRedisCache(params["LOCATION"], params)
    first.set("shared", {"region": "78"}, timeout=30)
    assert second.get("shared") == {"region": "78"}
    second.delete("shared")
    assert first.get("shared") is None


def test_session_survives_a_redis_restart(client, regions, live_redis):
    client.post(reverse("regions:choose"), {"region": "saint-petersburg", "next": "/"})
    assert live_redis.keys("omsportal-test:*django.contrib.sessions.cached_db*")

    live_redis.flushdb()  # what a restart without persistence leaves

    page = client.get("/").content.decode()
    assert "Ваш регион: <strong>Город Санкт-Петербург</strong>" in page


def test_writes_missed_during_an_outage_do_not_leave_stale_values(redis_server):
    target = urlsplit(redis_server)
    proxy = TcpProxy(target.hostname, target.port or 6379)
    try:
        params = redis_caches(f"redis://127.0.0.1:{proxy.port}/5")["default"]
        backend = ForgivingRedisCache(params["LOCATION"], params)
        backend.set("index", "old", timeout=60)

        proxy.cut()  # Redis keeps "old"; this instance can no longer reach it
        backend.set("index", "new", timeout=60)  # dropped
        assert backend.get("index", "miss") == "miss"

        proxy.restore()
        backend._down_until = 0  # skip the wait before retrying, as after RETRY_AFTER
        # The old value is gone rather than served as if it were current.
        assert backend.get("index", "miss") == "miss"
        backend.set("index", "new", timeout=60)
        assert backend.get("index") == "new"
        backend.delete("index")
    finally:
        proxy.close()
