"""Caching done right: what is shared carries no cookie, what staff change shows at once."""

import io
import re
import sys
from html.parser import HTMLParser

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.middleware.csrf import CSRF_ALLOWED_CHARS, _unmask_cipher_token
from django.test import Client

from omsportal.caching import content_version, csrf_token, forget_local_copies
from regions.models import Region, RegistryFile

from .factories import WORKDAYS, make_representative
from .pages import REGION, REGIONAL_PAGES, SHARED_PAGES, make_file

pytestmark = pytest.mark.django_db

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture
def registry_file(regions):
    return make_file(region=Region.objects.get(slug=REGION))


@pytest.fixture
def visitor(regions):
    """A visitor who has answered the prompt: session and CSRF cookies on every request."""
    client = Client()
    client.get("/")
    client.post("/regions/choose/", {"region": REGION, "next": "/"})
    assert {"sessionid", "csrftoken"} <= set(client.cookies)
    return client


def vary(response) -> set[str]:
    return {part.strip().lower() for part in response.get("Vary", "").split(",") if part}


@pytest.mark.parametrize("page", SHARED_PAGES, ids=lambda page: page.name)
@pytest.mark.parametrize("who", ["anonymous", "visitor"])
def test_shared_pages_set_no_cookie_and_do_not_vary_on_it(
    request, client, registry_file, page, who
):
    browser = request.getfixturevalue("visitor") if who == "visitor" else client
    for _ in range(2):  # rendered, then from the cache
        response = browser.get(page.url(registry_file))
        assert response.status_code == 200
        assert "cookie" not in vary(response)
        assert not response.cookies
        assert response.has_header("ETag")


@pytest.mark.parametrize("page", SHARED_PAGES, ids=lambda page: page.name)
def test_shared_pages_answer_304_to_a_matching_if_none_match(client, registry_file, page):
    url = page.url(registry_file)
    etag = client.get(url)["ETag"]
    response = client.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response["ETag"] == etag
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_download_answers_304_to_if_modified_since(client, registry_file):
    url = registry_file.get_absolute_url()
    first = client.get(url)
    assert first["Content-Disposition"].startswith("attachment")
    again = client.get(url, headers={"If-Modified-Since": first["Last-Modified"]})
    assert again.status_code == 304


@pytest.mark.parametrize("page", REGIONAL_PAGES, ids=lambda page: page.name)
def test_prompt_pages_give_each_response_its_own_working_csrf_token(regions, page):
    browser = Client(enforce_csrf_checks=True)
    tokens = []
    for _ in range(2):  # rendered, then from the cache
        response = browser.get(page.path)
        assert "cookie" in vary(response)
        tokens.append(CSRF_INPUT.search(response.text)[1])
    assert tokens[0] != tokens[1]  # masked afresh, as Django does against BREACH
    chosen = browser.post(
        "/regions/choose/", {"region": REGION, "next": "/", "csrfmiddlewaretoken": tokens[1]}
    )
    assert chosen.status_code == 302
    assert "Пермский край" in browser.get(page.path).text


def test_prompt_pages_are_cached_per_region(regions, visitor):
    newcomer = Client()
    assert "Ваш регион Город Москва?" in newcomer.get("/").text
    assert "Ваш регион: <strong>Пермский край</strong>" in visitor.get("/").text
    assert "Ваш регион Город Москва?" in newcomer.get("/").text


def test_forged_csrf_token_is_refused(regions):
    browser = Client(enforce_csrf_checks=True)
    browser.get("/")
    forged = browser.post(
        "/regions/choose/", {"region": REGION, "next": "/", "csrfmiddlewaretoken": "x" * 64}
    )
    assert forged.status_code == 403


def test_csrf_token_is_django_format_and_unmasks_to_the_cookie_secret(rf):
    request = rf.get("/")
    token = csrf_token(request)
    assert len(token) == 64
    assert set(token) <= set(CSRF_ALLOWED_CHARS)
    assert _unmask_cipher_token(token) == request.META["CSRF_COOKIE"]
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"]
    assert _unmask_cipher_token(csrf_token(request)) == request.META["CSRF_COOKIE"]


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
        staff, f"/admin/regions/region/{region.pk}/change/", tfoms_phone="8 (342) 217-79-00"
    )
    for url in pages:
        assert "217-79-00" in client.get(url).content.decode("utf-8-sig")


def test_registry_file_renamed_in_admin_shows_at_once(client, staff, visitor, registry_file):
    shown_on = [(client, "/files/"), (client, f"/regions/{REGION}/"), (visitor, "/zashchita-prav/")]
    for browser, url in shown_on:
        assert registry_file.title in browser.get(url).text
    admin_change(
        staff,
        f"/admin/regions/registryfile/{registry_file.pk}/change/",
        title="Реестр медицинских организаций, 2027",
    )
    for browser, url in shown_on:
        assert "Реестр медицинских организаций, 2027" in browser.get(url).text


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


def wsgi_get(application, path: str, **headers) -> tuple[str, dict, bytes]:
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "SERVER_PROTOCOL": "HTTP/1.1",
        **{"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()},
    }
    sent = {}

    def start_response(status, headers, exc_info=None):
        sent.update(status=status, headers=dict(headers))

    result = application(environ, start_response)
    body = b"".join(result)
    if hasattr(result, "close"):
        result.close()
    return sent["status"], sent["headers"], body


@pytest.fixture
def django_runs():
    """Counts the requests that reach Django; keeps the test's database connection open."""
    calls = []

    def count(**kwargs):
        calls.append(1)

    # As Django's test client does: the handler would close the connection the test runs in.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    request_started.connect(count)
    yield calls
    request_started.disconnect(count)
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_front_cache_answers_shared_pages_without_django(regions, registry_file, django_runs):
    from omsportal.wsgi import application

    for url in [f"/regions/{REGION}/", registry_file.get_absolute_url()]:
        django_runs.clear()
        first = wsgi_get(application, url)
        second = wsgi_get(application, url)
        assert first[1].pop("X-Request-ID") != second[1].pop("X-Request-ID")
        assert first == second
        assert first[0].startswith("200")
        assert len(django_runs) == 1
        not_modified = wsgi_get(application, url, if_none_match=first[1]["ETag"])
        assert not_modified[0].startswith("304")
        assert not_modified[2] == b""


def test_front_cache_hits_are_logged_with_their_own_request_id(regions, django_runs, caplog):
    from omsportal.wsgi import application

    url = f"/regions/{REGION}/"
    wsgi_get(application, url)
    caplog.clear()
    with caplog.at_level("INFO", logger="omsportal.request"):
        _, headers, _ = wsgi_get(application, url, x_request_id="probe-42")
    assert len(django_runs) == 1
    assert headers["X-Request-ID"] == "probe-42"
    [line] = [r for r in caplog.records if r.name == "omsportal.request"]
    assert (line.method, line.path, line.status) == ("GET", url, 200)
    assert line.request_id == "probe-42"


def test_front_cache_gives_newcomers_the_prompt_with_their_own_csrf_cookie(regions, django_runs):
    from omsportal.wsgi import application

    answers = [wsgi_get(application, "/") for _ in range(3)]
    assert len(django_runs) == 1
    secrets = set()
    for status, headers, body in answers:
        assert status.startswith("200")
        assert "Ваш регион Город Москва?" in body.decode()
        assert int(headers["Content-Length"]) == len(body)
        assert "cookie" in {part.strip().lower() for part in headers["Vary"].split(",")}
        cookie = headers["Set-Cookie"].strip()
        assert re.match(
            r"csrftoken=\w{32}; expires=.+; Max-Age=31449600; Path=/; SameSite=Lax", cookie
        )
        secret = cookie.split(";")[0].split("=")[1]
        assert _unmask_cipher_token(CSRF_INPUT.search(body.decode())[1]) == secret
        secrets.add(secret)
    assert len(secrets) == 3  # never one visitor's secret for another
    # The page is Django's page, but for the token.
    strip = lambda body: CSRF_INPUT.sub("", body.decode())  # noqa: E731
    assert strip(answers[0][2]) == strip(answers[2][2])


def test_front_cache_token_passes_django_csrf_check(regions, django_runs):
    from omsportal.wsgi import application

    wsgi_get(application, "/")
    _, headers, body = wsgi_get(application, "/")
    assert len(django_runs) == 1
    browser = Client(enforce_csrf_checks=True)
    browser.cookies["csrftoken"] = headers["Set-Cookie"].strip().split(";")[0].split("=")[1]
    token = CSRF_INPUT.search(body.decode())[1]
    answer = browser.post("/regions/choose/", {"region": REGION, "csrfmiddlewaretoken": token})
    assert answer.status_code == 302


def test_front_cache_sends_visitors_with_cookies_to_django(regions, django_runs):
    from omsportal.wsgi import application

    wsgi_get(application, "/")
    wsgi_get(application, "/", cookie="csrftoken=" + "a" * 32)
    assert len(django_runs) == 2


def test_front_cache_is_dropped_when_content_changes(regions, django_runs):
    from omsportal.wsgi import application

    url = f"/regions/{REGION}/"
    wsgi_get(application, url)
    Region.objects.filter(slug=REGION).get().save()
    wsgi_get(application, url)
    assert len(django_runs) == 2
    cache.clear()
    forget_local_copies()
    wsgi_get(application, url)
    assert len(django_runs) == 3


def test_other_processes_see_a_new_version_within_a_second(regions, django_runs, monkeypatch):
    from omsportal import caching
    from omsportal.wsgi import application

    url = f"/regions/{REGION}/"
    wsgi_get(application, url)
    wsgi_get(application, url)
    assert len(django_runs) == 1
    cache.set(caching.VERSION_KEY, "set-by-another-instance")  # as a save elsewhere does
    monotonic = caching.time.monotonic() + caching.VERSION_TRUST
    monkeypatch.setattr(caching.time, "monotonic", lambda: monotonic)
    wsgi_get(application, url)
    assert len(django_runs) == 2


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


def test_front_cache_keeps_immutable_static_files_per_encoding(collected_static, django_runs):
    from django.core.handlers.wsgi import WSGIHandler

    from omsportal.caching import FrontCache

    application = FrontCache(WSGIHandler())  # whitenoise reads the STATIC_ROOT just collected
    for encoding in ("br", "gzip", ""):
        django_runs.clear()
        first = wsgi_get(application, collected_static, accept_encoding=encoding)
        second = wsgi_get(application, collected_static, accept_encoding=encoding)
        assert first[1].pop("X-Request-ID") != second[1].pop("X-Request-ID")
        assert first == second
        assert len(django_runs) == 1
        assert first[1].get("Content-Encoding", "") == encoding
        assert first[1]["X-Content-Type-Options"] == "nosniff"  # Django's headers kept


def test_front_cache_stops_looking_up_paths_that_are_not_for_every_visitor(regions, django_runs):
    from django.core.handlers.wsgi import WSGIHandler

    from omsportal.caching import FrontCache

    application = FrontCache(WSGIHandler())
    for _ in range(2):
        wsgi_get(application, "/healthz")
        wsgi_get(application, "/")
    assert len(application.passed) == 1  # /healthz; / is kept for newcomers
    assert len(django_runs) == 3
