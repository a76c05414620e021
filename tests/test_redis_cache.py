"""Redis as the shared cache, and the site when Redis is away."""

import time
import uuid
from urllib.parse import urlsplit

import pytest
import redis
from django.conf import settings
from django.contrib.sessions.backends import db
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_redis.cache import RedisCache

from regions.middleware import SESSION_KEY
from regions.models import Region
from regions.sessions import SessionStore
from tests.support import DEAD_REDIS, GarbageServer, TcpProxy, clear_caches, redis_caches

pytestmark = pytest.mark.django_db


@pytest.fixture
def dead_redis(settings):
    settings.CACHES = redis_caches(DEAD_REDIS)
    settings.SESSION_ENGINE = "regions.sessions"


@pytest.fixture
def live_redis(settings, redis_server):
    url = f"{redis_server}/5"
    settings.CACHES = redis_caches(url)
    settings.SESSION_ENGINE = "regions.sessions"
    clear_caches()
    yield redis.Redis.from_url(url)
    clear_caches()


@pytest.mark.parametrize(
    ("url", "text"),
    [
        ("/", "Ваш регион\u00a0— город Москва?"),
        ("/zashchita-prav/", "Ваш регион\u00a0— город Москва?"),
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


# What a redis:// CACHE_URL gets from a server that is not Redis: nginx's answer to a
# request it cannot parse, a TLS alert, a line that is no reply at all.
NOT_REDIS = {
    "nginx": b"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nConnection: close\r\n\r\n",
    "tls": b"\x15\x03\x01\x00\x02\x02\x46",
    "garbage": b"garbage\r\n",
}


@pytest.mark.parametrize("reply", NOT_REDIS.values(), ids=NOT_REDIS.keys())
def test_pages_render_when_the_cache_url_is_not_a_redis(client, regions, settings, caplog, reply):
    """Garbage in place of Redis replies is a broken cache like a stopped Redis: pages come
    from the database, the failure is logged once per pause, and /readyz names the cache."""
    server = GarbageServer(reply)
    try:
        settings.CACHES = redis_caches(f"redis://127.0.0.1:{server.port}/5")
        settings.SESSION_ENGINE = "regions.sessions"
        settings.CACHE_FAILURE_PAUSE = 60
        home = client.get("/")
        choice = client.post(reverse("regions:choose"), {"region": "perm-krai", "next": "/"})
        chosen = client.get("/zashchita-prav/")
        ready = client.get("/readyz")
    finally:
        server.close()
    assert home.status_code == 200
    assert "Ваш регион\u00a0— город Москва?" in home.text
    assert choice.status_code == 302
    assert "Ваш регион: <strong>Пермский край</strong>" in chosen.text
    assert ready.content.decode() == "database: ok\nschema: ok\nstatic: ok\ncache: unavailable\n"
    assert server.answered >= 1
    # The first garbage starts the pause; the other pages did not ask the server again.
    [warning] = [r for r in caplog.records if r.name == "omsportal.rediscache"]
    assert "skipped for 60" in warning.getMessage()


def test_region_choice_works_while_redis_is_down(client, regions, dead_redis):
    response = client.post(reverse("regions:choose"), {"region": "saint-petersburg", "next": "/"})
    assert response.status_code == 302
    assert response["Location"] == "/"

    page = client.get("/").content.decode()
    assert "Ваш регион: <strong>Город Санкт-Петербург</strong>" in page
    assert "Да, верно" not in page


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


def test_a_session_written_where_redis_was_unreachable_shows_within_the_copy_timeout(
    client, regions, live_redis, settings
):
    """Another instance, cut off from Redis, changes a session and ends another in the database
    only (what cached_db does there): the copies other instances read end within
    SESSION_COPY_TIMEOUT, not with the session a year later."""
    settings.SESSION_COPY_TIMEOUT = 1
    client.post(reverse("regions:choose"), {"region": "saint-petersburg", "next": "/"})
    [key] = live_redis.keys("omsportal-test:*django.contrib.sessions.cached_db*")
    assert 0 < live_redis.ttl(key) <= 1

    elsewhere = db.SessionStore(client.cookies[settings.SESSION_COOKIE_NAME].value)
    elsewhere[SESSION_KEY] = "70"  # Томская область, chosen on the instance without Redis
    elsewhere.save()
    time.sleep(1.2)
    assert "Ваш регион: <strong>Томская область</strong>" in client.get("/").content.decode()

    # A logout there: this instance's copy (read again from the database above) ends too.
    elsewhere.delete()
    time.sleep(1.2)
    assert "Ваш регион\u00a0— город Москва?" in client.get("/").content.decode()


@pytest.fixture
def shared_redis(settings, live_redis):
    """Redis as the site's shared cache, outside a test transaction, as a running site has it:
    the content version is read from Redis's copy (regions/caching.py)."""
    settings.SHARED_CACHE = True
    settings.CONTENT_VERSION_TIMEOUT = 1
    return live_redis


def show_name_on_perm_page(name: str) -> None:
    region = Region.objects.get(slug="perm-krai")
    region.tfoms_name = name
    region.save()


@pytest.mark.django_db(transaction=True)
def test_a_cached_page_costs_no_query_on_redis(client, regions, shared_redis):
    client.post(reverse("regions:choose"), {"region": "perm-krai", "next": "/"})
    client.get("/zashchita-prav/")
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/zashchita-prav/").text
    assert "Ваш регион: <strong>Пермский край</strong>" in page
    assert queries.captured_queries == []


@pytest.mark.django_db(transaction=True)
def test_sessions_and_the_content_version_live_in_the_real_redis(client, regions, shared_redis):
    client.post(reverse("regions:choose"), {"region": "saint-petersburg", "next": "/"})
    client.get("/")
    keys = shared_redis.keys("omsportal-test:*")
    assert any(b"django.contrib.sessions.cached_db" in key for key in keys)
    assert any(key.endswith(b":content-version") for key in keys)
    # Pages stay in each process, used only under the shared version: none in Redis.
    assert not any(b":page:" in key for key in keys)


def redis_commands(server: redis.Redis, prefix: str, action) -> list[str]:
    """The commands Redis receives for keys under ``prefix`` while ``action()`` runs."""
    end = f"{prefix}:end-of-action"
    with server.monitor() as monitor:
        action()
        server.echo(end)
        commands = []
        for seen in monitor.listen():
            if end in seen["command"]:
                return commands
            if prefix in seen["command"]:
                commands.append(seen["command"].split()[0])
    return commands


@pytest.mark.django_db(transaction=True)
def test_a_cached_page_for_a_visitor_with_a_session_is_one_round_trip_to_redis(
    settings, client, regions, shared_redis
):
    # A prefix of this test's own: other test processes may use the same Redis database.
    prefix = f"one-trip-{uuid.uuid4().hex}"
    settings.CACHES = {**settings.CACHES, "default": {**settings.CACHES["default"]}}
    settings.CACHES["default"]["KEY_PREFIX"] = prefix
    # The version's copy must outlive the test on a busy machine: expired, it is read again.
    settings.CONTENT_VERSION_TIMEOUT = 60
    client.post(reverse("regions:choose"), {"region": "perm-krai", "next": "/"})
    client.get("/zashchita-prav/")
    pages = []

    commands = redis_commands(
        shared_redis, prefix, lambda: pages.append(client.get("/zashchita-prav/").text)
    )

    assert "Ваш регион: <strong>Пермский край</strong>" in pages[0]
    # The session and the content version together; the page itself from this process.
    assert commands == ["MGET"]


@pytest.mark.django_db(transaction=True)
def test_a_save_is_seen_at_once_through_redis(client, regions, shared_redis):
    assert "ТФОМС (до правки)" not in client.get("/regions/perm-krai/").text
    show_name_on_perm_page("ТФОМС (до правки)")
    assert "ТФОМС (до правки)" in client.get("/regions/perm-krai/").text


@pytest.mark.django_db(transaction=True)
def test_a_save_made_while_redis_is_unreachable_shows_once_it_is_back(
    settings, regions, redis_server
):
    """Redis misses the writer's new content version: its copy is trusted only
    CONTENT_VERSION_TIMEOUT seconds, then the number is read from the database again."""
    target = urlsplit(redis_server)
    proxy = TcpProxy(target.hostname, target.port or 6379)
    try:
        settings.CACHES = redis_caches(f"redis://127.0.0.1:{proxy.port}/5")
        settings.SHARED_CACHE = True
        settings.CONTENT_VERSION_TIMEOUT = 1
        clear_caches()
        client = Client()
        assert "Пермский край" in client.get("/regions/perm-krai/").text  # version copied to Redis

        proxy.cut()
        show_name_on_perm_page("ТФОМС (сохранено без Redis)")
        assert "ТФОМС (сохранено без Redis)" in client.get("/regions/perm-krai/").text

        proxy.restore()
        saved = time.monotonic()
        while "ТФОМС (сохранено без Redis)" not in client.get("/regions/perm-krai/").text:
            assert time.monotonic() - saved < settings.CONTENT_VERSION_TIMEOUT + 2
            time.sleep(0.1)
        clear_caches()
    finally:
        proxy.close()


def test_readyz_waits_for_a_hung_redis_once(client, settings, redis_server):
    """A Redis that accepts connections but never answers: the probe makes one call, so it
    costs one socket timeout (0.5 s), not three, and says so in a second or two at most, as
    balancers expect."""
    target = urlsplit(redis_server)
    proxy = TcpProxy(target.hostname, target.port or 6379)
    try:
        settings.CACHES = redis_caches(f"redis://127.0.0.1:{proxy.port}/5")
        proxy.stall()
        started = time.monotonic()
        response = client.get("/readyz")
        waited = time.monotonic() - started
        proxy.resume()
    finally:
        proxy.close()
    assert response.status_code == 200
    assert response.content.decode() == "database: ok\nschema: ok\nstatic: ok\ncache: unavailable\n"
    assert waited < 1.2  # three calls would be 1.5 s


@pytest.fixture
def stalled_redis(settings, redis_server):
    """Redis behind a proxy that the test stalls: a server that accepts but never answers."""
    target = urlsplit(redis_server)
    proxy = TcpProxy(target.hostname, target.port or 6379)
    settings.CACHES = redis_caches(f"redis://127.0.0.1:{proxy.port}/5")
    settings.SESSION_ENGINE = "regions.sessions"
    try:
        yield proxy
    finally:
        proxy.close()


def test_a_hung_redis_is_waited_for_once_then_left_alone_for_a_while(
    client, regions, stalled_redis, settings, caplog
):
    """Without the pause, every cache call waited its 0.5 s timeout: 1 s for a newcomer's page,
    2 s for a page of a visitor with a session (omsportal/rediscache.py)."""
    settings.CACHE_FAILURE_PAUSE = 60
    client.post(reverse("regions:choose"), {"region": "perm-krai", "next": "/"})
    newcomer = Client()

    stalled_redis.stall()
    started = time.monotonic()
    pages = [c.get(url) for url in ("/", "/zashchita-prav/") for c in (newcomer, client) * 3]
    waited = time.monotonic() - started

    assert [page.status_code for page in pages] == [200] * 12
    assert all("Ваш регион\u00a0— город Москва?" in page.text for page in pages[::2])
    assert all("Ваш регион: <strong>Пермский край</strong>" in page.text for page in pages[1::2])
    # One command reached the hung server; the other pages did not ask it.
    assert stalled_redis.held == 1
    assert waited < 12 * 0.5
    [warning] = [r for r in caplog.records if r.name == "omsportal.rediscache"]
    assert "skipped for 60" in warning.getMessage()


def test_redis_is_asked_again_after_the_pause(client, regions, stalled_redis, settings):
    settings.CACHE_FAILURE_PAUSE = 0.5
    client.post(reverse("regions:choose"), {"region": "perm-krai", "next": "/"})
    stalled_redis.stall()
    client.get("/")  # waits for the timeout, then the pause begins
    client.get("/")
    assert stalled_redis.held == 1

    stalled_redis.resume()
    time.sleep(0.6)
    cache.set("asked-again", "yes")
    assert cache.get("asked-again") == "yes"


def made_up_session_key() -> str:
    """A cookie value shaped like Django's keys that no session ever had."""
    return uuid.uuid4().hex


def get_with_session_cookie(key: str, url: str = "/zashchita-prav/"):
    """A GET carrying ``key`` as the session cookie, as a flood sends it: a browser would drop
    it once told to (the first answer deletes it), a script does not."""
    flood = Client()
    flood.cookies[settings.SESSION_COOKIE_NAME] = key
    return flood.get(url)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("url", ["/", "/regions/", "/zashchita-prav/"])
def test_a_made_up_session_cookie_costs_no_query_once_found_missing(
    regions, shared_redis, django_assert_num_queries, url
):
    """nginx serves newcomers' pages only to requests without the session cookie, so any
    invented ``sessionid`` reaches Django: asking the database for it on every request let a
    one-header flood cost PostgreSQL a query per page."""
    Client().get(url)  # the newcomer's page and the content version, kept
    key = made_up_session_key()
    get_with_session_cookie(key, url)  # the database is asked once

    with django_assert_num_queries(0):
        response = get_with_session_cookie(key, url)

    assert response.status_code == 200
    if url != "/regions/":
        assert "Ваш регион\u00a0— город Москва?" in response.text
    # As when the database said so: the browser is told to drop the cookie.
    assert response.cookies[settings.SESSION_COOKIE_NAME].value == ""


@pytest.mark.django_db(transaction=True)
def test_a_long_made_up_session_cookie_costs_no_query_and_nothing_in_redis(
    regions, shared_redis, django_assert_num_queries
):
    """Each such cookie was remembered as missing, 7 KB of Redis a request: a flood of them
    evicted the rate limits' counters (docker-compose's Redis evicts the least used keys)."""
    Client().get("/zashchita-prav/")  # the newcomer's page and the content version, kept
    keys_before = shared_redis.dbsize()
    with django_assert_num_queries(0):
        for n in range(20):
            response = get_with_session_cookie(f"{n:02}" + "f" * 7000)
            assert "Ваш регион\u00a0— город Москва?" in response.text
    assert shared_redis.dbsize() == keys_before
    # As for a key the database lacks: the browser is told to drop the cookie.
    assert response.cookies[settings.SESSION_COOKIE_NAME].value == ""


@pytest.mark.django_db(transaction=True)
def test_a_session_saved_under_a_key_found_missing_is_shown_at_once(
    regions, shared_redis, django_assert_num_queries
):
    """Django never saves a session under a key a client sent that the database lacked (it
    makes a new random one), but should one be saved there, the remembered miss must not hide
    it."""
    key = made_up_session_key()
    get_with_session_cookie(key)
    with django_assert_num_queries(0):
        assert "Ваш регион\u00a0— город Москва?" in get_with_session_cookie(key).text

    saved = SessionStore(key)
    saved.save(must_create=True)  # under this very key: created without reading it first
    saved[SESSION_KEY] = "59"  # Пермский край
    saved.save()

    assert "Ваш регион: <strong>Пермский край</strong>" in get_with_session_cookie(key).text
    # The save dropped the miss, not only covered it: once the copy is gone (its time up, or
    # evicted), the session is read from the database again.
    cache.delete(saved.cache_key)
    assert "Ваш регион: <strong>Пермский край</strong>" in get_with_session_cookie(key).text


@pytest.mark.django_db(transaction=True)
def test_a_visitor_with_a_made_up_cookie_chooses_a_region_in_a_new_session(
    client, regions, shared_redis, django_assert_num_queries
):
    returning = Client(headers={"Sec-Fetch-Site": "same-origin"})  # a real session, unaffected
    returning.post(reverse("regions:choose"), {"region": "saint-petersburg", "next": "/"})
    key = made_up_session_key()
    get_with_session_cookie(key)
    with django_assert_num_queries(0):
        get_with_session_cookie(key)

    client.cookies[settings.SESSION_COOKIE_NAME] = key
    response = client.post(reverse("regions:choose"), {"region": "perm-krai", "next": "/"})

    assert response.status_code == 302
    assert client.cookies[settings.SESSION_COOKIE_NAME].value not in {"", key}
    assert "Ваш регион: <strong>Пермский край</strong>" in client.get("/zashchita-prav/").text
    page = returning.get("/zashchita-prav/").text
    assert "Ваш регион: <strong>Город Санкт-Петербург</strong>" in page
    # The made-up key is still no one's session.
    assert "Ваш регион\u00a0— город Москва?" in get_with_session_cookie(key).text
