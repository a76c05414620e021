import re
from html import unescape
from http import HTTPStatus

import pytest
from django.contrib.sessions.models import Session
from django.test import Client, RequestFactory

from regions.middleware import SESSION_KEY, RegionMiddleware
from regions.models import Region

pytestmark = pytest.mark.django_db

PROMPT = "Ваш регион\u00a0— город Москва?"
# In the page's text, besides the banner every page has.
HOTLINE_IN_TEXT = 'позвоните на единую «горячую линию» <a href="tel:+78003336003">'


def choose(client, slug, next_url="/zashchita-prav/"):
    return client.post("/regions/choose/", {"region": slug, "next": next_url})


def test_first_visit_asks_about_the_default_region(client, regions):
    page = client.get("/zashchita-prav/").content.decode()
    assert PROMPT in page
    assert "Да, верно" in page
    assert 'href="/regions/?next=/zashchita-prav/"' in page
    assert "Выбрать другой" in page


@pytest.mark.parametrize("url", ["/", "/zashchita-prav/"])
def test_prompt_on_visitor_pages(client, regions, url):
    assert PROMPT in client.get(url).content.decode()


def test_confirming_keeps_the_region_and_hides_the_prompt(client, regions):
    response = choose(client, "moscow")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/zashchita-prav/"
    page = client.get("/").content.decode()
    assert PROMPT not in page
    assert "Ваш регион: <strong>Город Москва</strong>" in page


def test_choosing_another_region_returns_to_the_same_page(client, regions):
    response = choose(client, "tomsk-oblast", "/zashchita-prav/?from=prompt")
    assert response["Location"] == "/zashchita-prav/?from=prompt"
    page = client.get("/zashchita-prav/").content.decode()
    assert "Ваш регион: <strong>Томская область</strong>" in page
    assert 'href="/regions/tomsk-oblast/representatives/"' in page
    assert PROMPT not in page


def test_region_list_offers_every_region_as_a_button_of_one_form(client, regions):
    page = client.get("/regions/?next=/zashchita-prav/").content.decode()
    assert page.count('<form method="post" action="/regions/choose/">') == 1
    assert page.count('name="next" value="/zashchita-prav/"') == 1
    assert "csrfmiddlewaretoken" not in page
    for region in regions.regions:
        assert f'name="region" value="{region.slug}"' in page
        assert f">{region.name}</button>" in page
        assert f'href="/regions/{region.slug}/representatives/"' in page


@pytest.mark.parametrize(
    "bad_next",
    [
        "//evil.example",
        "/\\evil.example",
        "https:evil.example",
        "https://evil.example/",
        "http:/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "",
    ],
)
def test_next_never_leaves_the_site(client, regions, bad_next):
    response = choose(client, "tomsk-oblast", bad_next)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/"


@pytest.mark.parametrize("value", ["atlantis", "", "77", "<script>", "tomsk-oblast/../moscow"])
def test_unknown_region_is_a_clear_400_and_changes_nothing(client, regions, value):
    choose(client, "perm-krai")
    response = choose(client, value)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    page = response.content.decode()
    assert "Такого региона нет в списке" in page
    assert "ничего не изменили" in page
    assert client.session[SESSION_KEY] == "59"


def test_the_unknown_region_page_keeps_the_page_to_return_to(client, regions):
    # A region list kept from before staff renamed a region sends a slug that is gone.
    response = choose(client, "atlantis", "/v-drugom-regione/")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    page = response.content.decode()
    assert 'class="button" href="/regions/?next=/v-drugom-regione/"' in page
    assert 'class="region-current"><a href="/regions/?next=/v-drugom-regione/"' in page
    # Whoever cannot choose is offered a call, as on every other error page.
    assert HOTLINE_IN_TEXT in page


@pytest.mark.parametrize("url", ["/files/", "/konfidencialnost/"])
def test_choosing_a_region_from_a_page_without_the_prompt_comes_back_to_it(client, regions, url):
    link = re.search(r'class="region-current"><a href="([^"]+)">', client.get(url).text)[1]
    region_list = client.get(unescape(link)).text
    form = next(f for f in re.findall(r"<form.*?</form>", region_list, re.S) if "perm-krai" in f)
    next_url = re.search(r'name="next" value="([^"]*)"', form)[1]
    assert choose(client, "perm-krai", unescape(next_url))["Location"] == url


@pytest.mark.parametrize(
    ("url", "landing"),
    [
        ("/regions/moscow/representatives/", "/regions/perm-krai/representatives/"),
        ("/regions/moscow/", "/regions/perm-krai/"),
    ],
)
def test_choosing_ones_region_from_a_regions_page_shows_the_same_page_of_it(
    client, regions, url, landing
):
    """«Выбрать свой регион» on Moscow's representatives led a Perm visitor, once they chose,
    to the home page: they want Perm's representatives."""
    link = re.search(
        r'class="region-current"><a href="([^"]+)">Выбрать свой регион', client.get(url).text
    )[1]
    region_list = client.get(unescape(link)).text
    form = next(f for f in re.findall(r"<form.*?</form>", region_list, re.S) if "perm-krai" in f)
    next_url = re.search(r'name="next" value="([^"]*)"', form)[1]
    assert choose(client, "perm-krai", unescape(next_url))["Location"] == landing
    assert "Ваш регион: <strong>Пермский край</strong>" in client.get("/").text


@pytest.mark.parametrize(
    "bad_next",
    [
        "//evil.example/regions/moscow/representatives/",
        "https://evil.example/regions/moscow/representatives/",
        "/\\evil.example/regions/moscow/",
    ],
)
def test_a_regions_page_as_next_never_leaves_the_site(client, regions, bad_next):
    assert choose(client, "perm-krai", bad_next)["Location"] == "/"


def test_other_pages_as_next_are_returned_to_as_they_were(client, regions):
    for next_url in ("/zashchita-prav/", "/obrashchenie/?mesto=70", "/regions/", "/nowhere/"):
        assert choose(client, "perm-krai", next_url)["Location"] == next_url


def test_missing_region_field_is_400(client, regions):
    response = client.post("/regions/choose/", {"next": "/"})
    assert response.status_code == HTTPStatus.BAD_REQUEST


def test_opening_the_choice_address_leads_to_the_list_and_chooses_nothing(client, regions):
    # A GET never writes: someone who reloads or shares the form's address gets the list.
    response = client.get("/regions/choose/?region=perm-krai&next=/zashchita-prav/")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/regions/?next=/zashchita-prav/"
    assert "sessionid" not in response.cookies
    assert client.get("/regions/choose/?next=//evil.example/")["Location"] == "/regions/?next=/"
    assert PROMPT in client.get("/zashchita-prav/").content.decode()


def test_pages_carry_no_per_visitor_token_and_set_no_cookie(regions):
    client = Client(enforce_csrf_checks=True)
    for url in ["/", "/zashchita-prav/", "/regions/", "/regions/?next=/zashchita-prav/"]:
        response = client.get(url)
        assert "csrfmiddlewaretoken" not in response.text
        assert not response.cookies


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/page"},
        # As a browser reads it, evil.example's; urlsplit() alone found testserver.
        {"Referer": "http://evil.example\\@testserver/"},
        {},
    ],
    ids=[
        "fetch-cross-site",
        "fetch-same-site",
        "origin",
        "null-origin",
        "referer",
        "referer-backslash",
        "nothing",
    ],
)
def test_cross_site_choice_is_a_403_in_russian_and_changes_nothing(regions, headers):
    client = Client(enforce_csrf_checks=True, headers=headers)
    response = client.post("/regions/choose/", {"region": "tomsk-oblast", "next": "/"})
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "Запрос отклонён" in response.text
    assert "Ничего не изменилось" in response.text
    # Only a browser that named another site is told so; one that named none is told that.
    said_elsewhere = "Форма была отправлена с другого сайта" in response.text
    assert said_elsewhere == bool(headers)
    assert ("не сообщил, с какой страницы" in response.text) == (not headers)
    assert HOTLINE_IN_TEXT in response.text
    assert not response.cookies
    assert Session.objects.count() == 0


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Site": "none"},
        {"Origin": "http://testserver"},
        {"Referer": "http://testserver/regions/"},
    ],
    ids=["fetch-same-origin", "fetch-none", "origin", "referer"],
)
def test_same_origin_choice_needs_no_token(regions, headers):
    client = Client(enforce_csrf_checks=True, headers=headers)
    response = client.post("/regions/choose/", {"region": "tomsk-oblast", "next": "/"})
    assert response.status_code == HTTPStatus.FOUND
    assert client.session[SESSION_KEY] == "70"


def test_configured_site_origin_is_trusted_behind_a_proxy(regions, settings):
    settings.SITE_URL = "https://oms.example.ru"
    client = Client(enforce_csrf_checks=True, headers={"Origin": "https://oms.example.ru"})
    response = client.post("/regions/choose/", {"region": "tomsk-oblast", "next": "/"})
    assert response.status_code == HTTPStatus.FOUND


def test_visitors_who_never_answer_get_no_session_row(client, regions):
    for url in ["/", "/zashchita-prav/", "/regions/", "/regions/moscow/"]:
        client.get(url)
    assert Session.objects.count() == 0
    assert "sessionid" not in client.cookies


@pytest.mark.parametrize(
    "url",
    [
        "/regions/tomsk-oblast/",
        "/regions/tomsk-oblast/representatives/",
        "/files/",
        "/files/contacts.csv",
        "/sitemap.xml",
    ],
)
def test_public_pages_set_no_cookie_for_a_visitor_with_a_session(client, regions, url):
    choose(client, "tomsk-oblast")
    response = client.get(url)
    assert response.status_code == HTTPStatus.OK
    assert not response.cookies
    assert response["Cache-Control"] == "private, max-age=0"


def test_trusted_header_suggests_a_region(client, regions, settings):
    settings.REGION_HEADER = "HTTP_X_GEO_REGION"
    page = client.get("/", HTTP_X_GEO_REGION="RU-TOM").content.decode()
    assert "Ваш регион\u00a0— Томская область?" in page


def test_header_is_ignored_unless_configured(client, regions, settings):
    settings.REGION_HEADER = ""
    page = client.get("/", HTTP_X_GEO_REGION="RU-TOM").content.decode()
    assert PROMPT in page


def test_unknown_header_value_falls_back_to_the_default(client, regions, settings):
    settings.REGION_HEADER = "HTTP_X_GEO_REGION"
    assert PROMPT in client.get("/", HTTP_X_GEO_REGION="XX-??").content.decode()


def test_made_up_header_values_share_the_page_of_no_value(client, regions, settings):
    # Were each value a page of its own, a client varying the header would fill the cache
    # and have every request rendered; the proxy that sets it is trusted, a client is not.
    settings.REGION_HEADER = "HTTP_X_GEO_REGION"
    assert client.get("/").templates  # rendered once, then kept
    for made_up in ("RU-ZZZ", "RU-QQ", "xx-??"):
        response = client.get("/", HTTP_X_GEO_REGION=made_up)
        assert response.templates == [], made_up  # the kept page: nothing rendered
        assert PROMPT in response.content.decode()
    assert client.get("/", HTTP_X_GEO_REGION="RU-TOM").templates  # a real place: its own page


def test_session_choice_wins_over_the_header(client, regions, settings):
    settings.REGION_HEADER = "HTTP_X_GEO_REGION"
    choose(client, "perm-krai")
    page = client.get("/", HTTP_X_GEO_REGION="RU-TOM").content.decode()
    assert "Ваш регион: <strong>Пермский край</strong>" in page


def test_default_region_is_set_in_admin_data(client, regions):
    Region.objects.filter(is_default=True).update(is_default=False)
    Region.objects.get(slug="tomsk-oblast").save()  # saving drops the cached index
    Region.objects.filter(slug="tomsk-oblast").update(is_default=True)
    Region.objects.get(slug="tomsk-oblast").save()
    assert "Ваш регион\u00a0— Томская область?" in client.get("/").content.decode()


class FakeSession(dict):
    pass


def resolve(session=None, **meta):
    request = RequestFactory().get("/", **meta)
    request.session = FakeSession(session or {})
    return RegionMiddleware.resolve(request)


def test_resolve_defaults_and_session(regions):
    assert resolve() == (regions.by_code["77"], False)
    assert resolve({SESSION_KEY: "70"}) == (regions.by_code["70"], True)
    assert resolve({SESSION_KEY: "99"}) == (regions.by_code["77"], False)


def test_resolve_with_no_regions_at_all(db):
    assert resolve() == (None, False)


def test_the_region_list_names_a_choice_only_once_there_is_one(client, regions):
    # A newcomer has chosen nothing: the default region is a question, not «выбран».
    newcomer = client.get("/regions/").content.decode()
    assert "Сейчас выбран" not in newcomer and "aria-current" not in newcomer
    choose(client, "perm-krai")
    chosen = client.get("/regions/").content.decode()
    assert "Сейчас выбран: <strong>Пермский край</strong>" in chosen
    assert chosen.count('aria-current="true"') == 1
    assert 'value="perm-krai" class="region-list__choose" aria-current="true"' in chosen
