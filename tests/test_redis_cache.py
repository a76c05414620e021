"""Redis as the shared cache, and the site when Redis is away."""

import time
from urllib.parse import urlsplit

import pytest
import redis
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django_redis.cache import RedisCache

from regions.models import Region
from tests.support import DEAD_REDIS, TcpProxy, redis_caches

pytestmark = pytest.mark.django_db


@pytest.fixture
def dead_redis(settings):
    settings.CACHES = redis_caches(DEAD_REDIS)
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"


@pytest.fixture
def live_redis(settings, redis_server):
    url = f"{redis_server}/5"
    settings.CACHES = redis_caches(url)
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
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
    # A refused connection costs nothing like a socket timeout per cache call.
    assert time.monotonic() - started < 2


def test_region_choice_works_while_redis_is_down(client, regions, dead_redis):
    response = client.post(reverse("regions:choose"), {"region": "saint-petersburg", "next": "/"})
    assert response.status_code == 302
    assert response["Location"] == "/"

    page = client.get("/").content.decode()
    assert "Ваш регион: <strong>Город Санкт-Петербург</strong>" in page
    assert "Да, верно" not in page


def test_pages_use_the_real_redis(client, regions, live_redis):
    client.get("/")
    assert any(b"regions:index" in key for key in live_redis.keys("omsportal-test:*"))


def test_two_instances_share_the_cache(redis_server):
    # Two backend objects with their own connection pools, as in two gunicorn processes.
    params = redis_caches(f"{redis_server}/5")["default"]
    first = RedisCache(params["LOCATION"], params)
    second = RedisCache(params["LOCATION"], params)
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


def test_a_save_made_while_redis_is_unreachable_shows_once_it_is_back(
    settings, regions, redis_server
):
    """The invalidation is the content version in the database: nothing to lose in Redis."""
    target = urlsplit(redis_server)
    proxy = TcpProxy(target.hostname, target.port or 6379)
    try:
        settings.CACHES = redis_caches(f"redis://127.0.0.1:{proxy.port}/5")
        cache.clear()
        client = Client()
        assert "Пермский край" in client.get("/regions/perm-krai/").text  # now cached in Redis

        proxy.cut()
        region = Region.objects.get(slug="perm-krai")
        region.name_of = "Пермского края (сохранено без Redis)"
        region.tfoms_name = "ТФОМС (сохранено без Redis)"
        region.save()
        assert "ТФОМС (сохранено без Redis)" in client.get("/regions/perm-krai/").text

        proxy.restore()
        assert "ТФОМС (сохранено без Redis)" in client.get("/regions/perm-krai/").text
        cache.clear()
    finally:
        proxy.close()
