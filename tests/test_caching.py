"""Caching done right: what is shared carries no cookie and says who may keep it; what staff
or operators change shows at once, whatever the cache backend."""

import re
from html.parser import HTMLParser
from http import HTTPStatus
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
import redis
from django.apps import apps as django_apps
from django.conf import settings
from django.core.cache import cache, caches
from django.core.management import call_command
from django.test import Client

from regions.caching import WATCHED, content_version, content_writes
from regions.models import ContentVersion, Region, RegistryFile
from tests.support import clear_caches

from .factories import WORKDAYS, make_representative
from .pages import PAGES, REGION, REGIONAL_PAGES, make_file
from .support import redis_caches

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry_file(regions):
    return make_file(region=Region.objects.get(slug=REGION))


@pytest.fixture
def visitor(regions):
    """A visitor who has answered the prompt: a session cookie on every request."""
    client = Client(headers={"Sec-Fetch-Site": "same-origin"})
    client.post("/regions/choose/", {"region": REGION, "next": "/"})
    assert set(client.cookies) == {"sessionid"}
    return client


def vary(response) -> set[str]:
    return {part.strip().lower() for part in response.get("Vary", "").split(",") if part}


PUBLIC = "public, max-age=0, s-maxage=60, stale-while-revalidate=300"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_newcomers_get_the_same_bytes_no_cookie_and_a_public_page(client, registry_file, page):
    url = page.url(registry_file)
    first, second = client.get(url), Client().get(url)  # rendered, then from Django's cache
    for response in (first, second):
        assert response.status_code == 200
        assert not response.cookies
        if page.name != "robots":  # robots.txt says a day itself
            assert response["Cache-Control"] == PUBLIC
            # One copy for every newcomer in a shared cache, whatever other cookies they carry.
            assert "cookie" not in vary(response)
    assert b"".join(first) == b"".join(second)


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_a_visitor_with_a_session_gets_private_pages_and_no_new_cookie(
    visitor, registry_file, page
):
    response = visitor.get(page.url(registry_file))
    assert response.status_code == 200
    assert not response.cookies
    if page.name != "robots":
        assert response["Cache-Control"] == "private, max-age=0"
    if page.regional:  # made from the session: a browser's copy is for this cookie only
        assert "cookie" in vary(response)


@pytest.mark.parametrize("page", REGIONAL_PAGES, ids=lambda page: page.name)
def test_a_visitors_region_never_reaches_a_newcomer(client, visitor, registry_file, page):
    url = page.url(registry_file)
    assert "Пермский край" in visitor.get(url).text
    newcomer = client.get(url).content
    clear_caches()
    assert Client().get(url).content == newcomer


@pytest.fixture
def redis_keys(settings, redis_server):
    """The real Redis as the cache; returns a function counting the keys it holds."""
    settings.CACHES = redis_caches(f"{redis_server}/10")
    server = redis.Redis.from_url(f"{redis_server}/10")
    server.flushdb()
    yield server.dbsize
    server.flushdb()


def test_no_header_or_query_a_client_sends_adds_keys(settings, regions, redis_keys):
    settings.ALLOWED_HOSTS = ["localhost"]
    client = Client(headers={"Host": "localhost"})
    client.get("/zashchita-prav/")
    client.get("/regions/?next=/zashchita-prav/")
    keys = redis_keys()
    for number in range(20):
        host = {"Host": f"localhost:{8000 + number}"}
        responses = [
            client.get("/zashchita-prav/", headers=host),
            client.get(f"/zashchita-prav/?utm={number}"),
            # As the site writes it (the one spelling): a made-up page to return to.
            client.get(
                "/regions/?" + urlencode({"next": f"/regions/{REGION}/?n={number}"}, safe="/")
            ),
        ]
        # The made-up query is sent to the page's one address.
        assert [response.status_code for response in responses] == [200, 301, 200]
        # Each from the one page kept in this process: a key per variant would render anew.
        assert [response.templates for response in responses] == [[]] * 3
        next_field = f'name="next" value="/regions/{REGION}/?n={number}"'
        assert next_field in responses[2].text
    assert redis_keys() == keys


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_a_query_string_a_page_does_not_read_leads_to_its_one_address(
    client, visitor, registry_file, page
):
    """Tracking tags or made-up values: each was another copy of the page in nginx's cache."""
    url = page.url(registry_file)
    for browser in (client, visitor):
        for method in (browser.get, browser.head):
            response = method(f"{url}?utm_source=vk&page=2")
            assert (response.status_code, response["Location"]) == (301, url)
        assert browser.get(f"{url}?utm_source=vk", follow=True).redirect_chain == [(url, 301)]
        # Nothing to read, but still another spelling of the address: another copy.
        for query in ("&", "&&", "=", "next="):
            response = browser.get(f"{url}?{query}")
            assert (response.status_code, response["Location"]) == (301, url), query


def test_the_region_list_keeps_only_the_page_to_return_to(client, regions):
    back = f"/regions/{REGION}/"
    assert f'name="next" value="{back}"' in client.get(f"/regions/?next={back}").text
    response = client.get(f"/regions/?utm_source=vk&next={back}&x=1")
    assert (response.status_code, response["Location"]) == (301, f"/regions/?next={back}")
    response = client.get("/regions/?utm_source=vk")
    assert (response.status_code, response["Location"]) == (301, "/regions/")
    # The one spelling the site writes (its links, the redirect) and no other.
    for query in (f"next={back}&", f"&next={back}", f"next=%2Fregions%2F{REGION}%2F"):
        response = client.get(f"/regions/?{query}")
        assert (response.status_code, response["Location"]) == (301, f"/regions/?next={back}")


def test_pages_are_keyed_by_the_release_and_sessions_are_not(settings):
    """Pages link the release's hashed static files; a session must be the same session on the
    old and the new instances of a rolling deploy (a logout on one ends it on the other)."""
    assert settings.RELEASE in caches["content"].make_key("anything")
    assert settings.RELEASE not in cache.make_key("anything")


@pytest.mark.parametrize(
    "request_kind",
    [
        ("post", "/regions/choose/", {"region": "atlantis"}),
        ("get", "/regions/atlantis/", {}),
        ("get", "/admin/", {}),
        ("get", "/admin/login/", {}),
    ],
    ids=["POST answer", "404", "admin", "admin login"],
)
def test_error_pages_post_answers_and_admin_are_never_stored(client, regions, request_kind):
    method, url, data = request_kind
    response = getattr(client, method)(url, data)
    cache_control = response["Cache-Control"]
    assert "no-store" in cache_control or "no-cache" in cache_control
    assert "public" not in cache_control


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_pages_answer_304_to_a_matching_if_none_match(client, registry_file, page):
    url = page.url(registry_file)
    first = client.get(url)
    etag = first["ETag"]
    response = client.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response["ETag"] == etag
    assert response["Cache-Control"] == first["Cache-Control"]
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_the_region_list_has_one_etag_per_return_path(client, regions):
    """The list is kept once and the return path put in per request: a browser's copy for one
    path must never be confirmed (304) for another."""
    rights = client.get("/regions/?next=/zashchita-prav/")
    again = client.get("/regions/?next=/zashchita-prav/")
    journey = client.get("/regions/?next=/v-drugom-regione/")
    assert rights["ETag"] == again["ETag"] and rights.content == again.content
    assert journey["ETag"] != rights["ETag"]
    assert 'name="next" value="/v-drugom-regione/"' in journey.text
    assert (
        client.get(
            "/regions/?next=/zashchita-prav/", headers={"If-None-Match": rights["ETag"]}
        ).status_code
        == 304
    )
    assert (
        client.get(
            "/regions/?next=/v-drugom-regione/", headers={"If-None-Match": rights["ETag"]}
        ).status_code
        == 200
    )


def test_download_answers_304_to_if_modified_since(client, registry_file):
    url = registry_file.get_absolute_url()
    first = client.get(url)
    assert first["Content-Disposition"].startswith("attachment")
    again = client.get(url, headers={"If-Modified-Since": first["Last-Modified"]})
    assert again.status_code == 304


def test_the_content_version_lives_in_the_database(regions):
    """Cleared, unreachable or per-process caches cannot lose an invalidation."""
    before = content_version()
    Region.objects.get(slug=REGION).save()
    clear_caches()
    assert ContentVersion.objects.get().number == content_version() > before


def test_next_is_escaped_where_it_is_put_back(client, regions):
    # Written by hand, the query is first sent to its one spelling (the test client's own
    # following would encode it again, "/" too).
    moved = client.get('/regions/?next=/"><script>alert(1)</script>')
    assert moved.status_code == HTTPStatus.MOVED_PERMANENTLY
    page = client.get(moved["Location"]).text
    assert "<script>alert(1)</script>" not in page
    assert 'value="/&quot;&gt;&lt;script&gt;' in page


@pytest.mark.parametrize("refused", ["//evil.example", "https://evil.example/", "javascript:x"])
def test_a_return_path_the_page_refuses_is_not_another_copy_of_it(client, regions, refused):
    """Each ``?next=//…`` was answered 200 and public, one more copy on nginx's disk of a page
    that returns to the home page anyway: it is sent to the list's one address."""
    moved = client.get("/regions/", {"next": refused})
    assert moved.status_code == HTTPStatus.MOVED_PERMANENTLY
    assert moved["Location"] == "/regions/"
    assert 'name="next" value="/"' in client.get("/regions/").text


class FormFields(HTMLParser):
    """The values a browser would submit from the admin change form, unchanged."""

    def __init__(self):
        super().__init__()
        self.data, self._textarea, self._select = {}, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "file"):
            if attrs.get("type") != "checkbox":
                self.data[name] = attrs.get("value") or ""
            elif "checked" in attrs:
                self.data[name] = attrs.get("value") or "on"
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = ""
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.data[self._select] = attrs.get("value", "")

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None


def admin_change(client, url: str, **changes) -> None:
    fields = FormFields()
    fields.feed(client.get(url).text)
    response = client.post(url, {**fields.data, **changes})
    errors = response.context["adminform"].form.errors if response.context else None
    assert response.status_code == 302, errors


@pytest.fixture
def staff(regions, admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


def test_region_edited_in_admin_shows_at_once(client, staff):
    region = Region.objects.get(slug=REGION)
    pages = [f"/regions/{REGION}/", f"/regions/{REGION}/representatives/", "/files/contacts.csv"]
    for url in pages:
        assert "217-79-00" not in client.get(url).content.decode("utf-8-sig")
    admin_change(
        staff,
        f"/admin/regions/region/{region.pk}/change/",
        tfoms_phone="8 (342) 217-79-00",
        mark_checked="on",  # checked on the fund's site: the phone is not the compilation's
    )
    for url in pages:
        assert "217-79-00" in client.get(url).content.decode("utf-8-sig")


def test_registry_file_renamed_in_admin_shows_at_once(client, staff, visitor, registry_file):
    shown_on = [(client, "/files/"), (client, f"/regions/{REGION}/"), (visitor, "/zashchita-prav/")]
    for browser, url in shown_on:
        assert registry_file.title in browser.get(url).text
    download = client.get(registry_file.get_absolute_url())
    admin_change(
        staff,
        f"/admin/regions/registryfile/{registry_file.pk}/change/",
        title="Реестр медицинских организаций, 2027",
    )
    for browser, url in shown_on:
        assert "Реестр медицинских организаций, 2027" in browser.get(url).text
    # The download's name and validator are kept per content version too: the file is saved
    # under its new title, and a browser's copy under the old one is not taken as current.
    renamed = client.get(registry_file.get_absolute_url())
    assert quote("Реестр медицинских организаций, 2027.csv") in renamed["Content-Disposition"]
    assert renamed["ETag"] != download["ETag"]
    stale_copy = client.get(
        registry_file.get_absolute_url(), headers={"If-None-Match": download["ETag"]}
    )
    assert stale_copy.status_code == HTTPStatus.OK


def test_representative_edited_in_admin_shows_at_once(client, staff):
    representative = make_representative(
        Region.objects.get(slug=REGION), role="Страховой представитель (тест)", hours=WORKDAYS
    )
    url = f"/regions/{REGION}/representatives/"
    assert "Страховой представитель (тест)" in client.get(url).text
    admin_change(
        staff,
        f"/admin/representatives/representative/{representative.pk}/change/",
        role="Эксперт по защите прав (тест)",
        **{"hours-0-closes": "17:00"},
    )
    page = client.get(url).text
    assert "Эксперт по защите прав (тест)" in page
    assert "Страховой представитель (тест)" not in page
    assert "17:00" in page


def test_saving_a_region_drops_the_region_index(regions):
    version = content_version()
    region = Region.objects.get(slug=REGION)
    region.name_of = "Пермского края (изменено)"
    region.save()
    assert content_version() != version
    assert Region.objects.index().by_slug[REGION].name_of == "Пермского края (изменено)"


def test_deleting_a_file_drops_it_from_the_cache(client, registry_file):
    url = registry_file.get_absolute_url()
    assert client.get(url).status_code == 200
    RegistryFile.objects.get(pk=registry_file.pk).delete()
    assert client.get(url).status_code == 404


def test_only_a_newcomers_page_is_compressed_by_django(client, visitor):
    """nginx asks for gzip only for what it may keep, and reads the session cookie its own way:
    with ``sessionid=; sessionid=…`` it took the first, empty value and asked, and Django, which
    takes the last, compressed a page showing the visitor's region. A visitor's page is
    compressed by nginx as it is sent; Django's workers compress only the newcomers' one."""
    gzip = {"Accept-Encoding": "gzip"}
    newcomer = client.get("/", headers=gzip)
    assert newcomer["Content-Encoding"] == "gzip"
    assert newcomer["Cache-Control"].startswith("public")
    own = visitor.get("/", headers=gzip)
    assert not own.has_header("Content-Encoding")
    assert "Пермский край" in own.text and own["Cache-Control"].startswith("private")
    session = visitor.cookies["sessionid"].value
    both = Client().get("/", headers={**gzip, "Cookie": f"sessionid=; sessionid={session}"})
    assert "Пермский край" in both.text and not both.has_header("Content-Encoding")


@pytest.fixture
def collected_static(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    # Only the site's own files: compressing the admin's takes seconds and proves nothing more.
    call_command("collectstatic", "--noinput", "--ignore", "admin", verbosity=0)
    from django.contrib.staticfiles.storage import staticfiles_storage

    return staticfiles_storage.url("css/site.css")


def test_static_files_are_hashed_compressed_and_cached_for_a_year(collected_static):
    assert re.fullmatch(r"/static/css/site\.[0-9a-f]{12}\.css", collected_static)
    for encoding in ("br", "gzip"):
        response = Client().get(collected_static, headers={"Accept-Encoding": encoding})
        assert response.status_code == 200
        assert response["Content-Encoding"] == encoding
        assert "accept-encoding" in vary(response)
        cache_control = response["Cache-Control"]
        assert "immutable" in cache_control
        assert int(re.search(r"max-age=(\d+)", cache_control)[1]) >= 365 * 24 * 3600
        assert not response.cookies
        assert "cookie" not in vary(response)


@pytest.mark.django_db(transaction=True)
def test_content_writes_refuses_to_run_outside_a_transaction():
    with pytest.raises(RuntimeError, match=r"transaction\.atomic"), content_writes():
        pass


def test_loaddata_drops_what_was_cached(client, regions, settings):
    Region.objects.filter(slug=REGION).update(name="Пермский край (до загрузки)")
    clear_caches()  # update() sends no signal
    assert "(до загрузки)" in client.get(f"/regions/{REGION}/").text  # kept with this name
    # Loading the fixture saves every row (raw saves send signals too): the kept page goes.
    call_command("loaddata", settings.BASE_DIR / "fixtures" / "regions.json", verbosity=0)
    page = client.get(f"/regions/{REGION}/").text
    assert "(до загрузки)" not in page and "Пермский край" in page


def test_import_command_drops_what_was_cached(client, regions, tmp_path):
    url = f"/regions/{REGION}/representatives/"
    make_representative(Region.objects.get(slug=REGION), role="Представитель (тест)", code="t1")
    assert "Представитель (тест)" in client.get(url).text
    export = tmp_path / "export.csv"
    call_command("export_representatives", output=export, verbosity=0)
    changed = export.read_text(encoding="utf-8-sig").replace(
        "Представитель (тест)", "Представитель (после импорта)"
    )
    export.write_text(changed, encoding="utf-8-sig")
    call_command("import_representatives", str(export), verbosity=0)
    assert "Представитель (после импорта)" in client.get(url).text


def test_a_template_slip_cannot_leak_a_visitors_region(client, visitor, settings, tmp_path):
    """A page about a region that shows the visitor's region by mistake is still kept per
    visitor's region: a newcomer never gets a Perm visitor's copy."""
    slipped = tmp_path / "regions" / "region_detail.html"
    slipped.parent.mkdir()
    slipped.write_text(
        '{% extends "base.html" %}{% block content %}<h1>{{ region.name }}</h1>{% endblock %}'
    )
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    url = "/regions/tomsk-oblast/"
    assert "Ваш регион: <strong>Пермский край</strong>" in visitor.get(url).text
    newcomer = client.get(url).text
    assert "Пермский край</strong>" not in newcomer
    assert "Ваш регион\u00a0— город Москва?" in newcomer


PROJECT_APPS = [
    config.name
    for config in django_apps.get_app_configs()
    if Path(config.path).parent == settings.BASE_DIR and config.name != "omsportal"
]


def test_every_content_model_is_watched():
    """A model a page shows but no save of which drops the cached pages: staff's edits would
    stay unseen for CONTENT_TIMEOUT in every process. Call regions.caching.watch() for it."""
    from tests.test_operations import content_models

    unwatched = {model._meta.label for model in content_models()} - WATCHED
    assert not unwatched, f"call regions.caching.watch() in the app's ready() for {unwatched}"


@pytest.mark.parametrize("app", PROJECT_APPS)
def test_apps_do_not_import_the_project_package(settings, app):
    sources = (settings.BASE_DIR / app).rglob("*.py")
    offenders = [
        str(path.relative_to(settings.BASE_DIR))
        for path in sources
        if re.search(r"^\s*(from|import) omsportal\b", path.read_text(), re.M)
    ]
    assert offenders == []
