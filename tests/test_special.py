"""The version for visually impaired people over HTTP: the settings cookie, the pages that
link its stylesheet only for a visitor who chose it, and the stylesheet named by its URL."""

import html
import re
from http import HTTPStatus

import pytest
from django.test import Client

from omsportal.special import SCHEMES, Choice, stylesheet_for
from tests.support import clear_caches

from .pages import LAYOUT_PAGES

pytestmark = pytest.mark.usefixtures("regions")

LARGEST_WHITE_ON_BLACK = "size:3.scheme:wb.spacing:normal.images:hide"


def post(client, data, **headers):
    return client.post("/special/", data, headers=headers)


def test_switching_on_sets_a_year_long_lax_secure_cookie_and_goes_back(client):
    response = post(client, {"mode": "on", "next": "/regions/tomsk-oblast/"})

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/regions/tomsk-oblast/"
    cookie = response.cookies["special"]
    assert cookie.value == "size:1.scheme:bw.spacing:normal.images:hide"
    assert cookie["max-age"] == 365 * 24 * 60 * 60
    assert cookie["samesite"] == "Lax"
    assert cookie["secure"] and cookie["httponly"]
    assert "sessionid" not in response.cookies


def test_each_setting_changes_only_itself_and_keeps_the_others(client):
    response = post(client, {"size": "3", "next": "/files/"})
    # Back to the panel, open, for the next choice.
    assert response["Location"] == "/files/#sv-settings"
    post(client, {"scheme": "wb", "next": "/"})
    response = post(client, {"spacing": "wide", "next": "/"})
    assert response.cookies["special"].value == "size:3.scheme:wb.spacing:wide.images:hide"

    response = post(client, {"images": "show", "next": "/"})
    assert response.cookies["special"].value == "size:3.scheme:wb.spacing:wide.images:show"


def test_switching_on_again_keeps_the_settings(client):
    client.cookies["special"] = LARGEST_WHITE_ON_BLACK
    response = post(client, {"mode": "on", "next": "/"})
    assert response.cookies["special"].value == LARGEST_WHITE_ON_BLACK


def test_switching_off_clears_the_cookie_in_one_step(client):
    client.cookies["special"] = LARGEST_WHITE_ON_BLACK
    response = post(client, {"mode": "off", "next": "/files/"})
    assert response["Location"] == "/files/"
    assert response.cookies["special"].value == ""
    assert response.cookies["special"]["max-age"] == 0


@pytest.mark.parametrize(
    "data",
    [
        {"mode": "maybe"},
        {"size": "4"},
        {"size": "100%"},
        {"scheme": "red"},
        {"scheme": "wb;}body{display:none"},
        {"spacing": "huge"},
        {"images": ""},
    ],
)
def test_a_value_not_offered_is_refused_and_changes_nothing(client, data):
    client.cookies["special"] = LARGEST_WHITE_ON_BLACK
    response = post(client, {**data, "next": "/"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Неверный запрос" in response.text
    assert "special" not in response.cookies


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_never_redirects_off_the_site(client, target):
    response = post(client, {"mode": "on", "next": target})
    assert response["Location"] == "/"


def test_needs_no_form_token_from_the_sites_own_pages():
    # Page HTML is the same for everyone, so the forms carry no per-visitor token.
    strict = Client(enforce_csrf_checks=True, headers={"Sec-Fetch-Site": "same-origin"})
    response = strict.post("/special/", {"scheme": "wb", "next": "/"})
    assert response.status_code == HTTPStatus.FOUND
    assert response.cookies["special"].value.startswith("size:1.scheme:wb.")


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://evil.example"},
        {"Referer": "https://evil.example/page"},
        {},
    ],
)
def test_a_cross_site_post_is_refused_and_changes_nothing(headers):
    strict = Client(enforce_csrf_checks=True, headers=headers)
    strict.cookies["special"] = LARGEST_WHITE_ON_BLACK
    for data in [{"scheme": "bw", "next": "/"}, {"mode": "off", "next": "/"}]:
        response = strict.post("/special/", data)
        assert response.status_code == HTTPStatus.FORBIDDEN
        assert "special" not in response.cookies
        assert "<html" in response.text and 'lang="ru"' in response.text


# The special version's two stylesheets, as base.html links them, side by side: the rules (a
# static file), then the values (the choice, and their bytes' hash).
LINK = re.compile(
    r'<link rel="stylesheet" href="/static/(?:next/)?css/special\.css">\n'
    r'<link rel="stylesheet" href="(/special\.css\?v=([^"&]+)&amp;h=[0-9a-f]{12})">\n'
)


def linked_stylesheet(page: str) -> tuple[str, str] | None:
    """The special stylesheet a page links, as (its URL, the choice it names); None if none."""
    found = LINK.findall(page)
    if not found:
        assert "special.css" not in page
        return None
    [(href, choice)] = found
    assert page.count("special.css") == 2
    return html.unescape(href), choice


def stylesheet_url(cookie: str) -> str:
    url, _ = linked_stylesheet(get("/", cookie).text)
    return url


def query_values(url: str) -> list[str]:
    """The values of v and h in a stylesheet's URL, in order."""
    return [part.partition("=")[2] for part in url.partition("?")[2].split("&")]


def get(path: str, cookie: str | None = None, **headers):
    client = Client()
    if cookie is not None:
        client.cookies["special"] = cookie
    return client.get(path, headers=headers)


def directives(response) -> set[str]:
    return {part.strip() for part in response["Cache-Control"].split(",")}


@pytest.mark.parametrize("path", LAYOUT_PAGES)
def test_a_newcomers_page_links_no_special_stylesheet_and_is_shared(path):
    response = get(path)
    assert response.status_code == HTTPStatus.OK
    assert "special.css" not in response.text
    assert '<link rel="stylesheet" href="/static/css/site' in response.text
    assert directives(response) >= {"public", "max-age=0"}
    assert not response.cookies


@pytest.mark.parametrize("path", LAYOUT_PAGES)
def test_a_visitor_with_a_choice_gets_a_private_page_linking_that_choices_stylesheet(path):
    clear_caches()
    # The choice's page first: it must not become the newcomers' one, nor the other way round.
    special = get(path, LARGEST_WHITE_ON_BLACK)
    normal = get(path)
    again = get(path, LARGEST_WHITE_ON_BLACK)

    for response in (special, again):
        assert response.status_code == HTTPStatus.OK
        assert linked_stylesheet(response.text)[1] == LARGEST_WHITE_ON_BLACK
        assert directives(response) == {"private", "max-age=0"}
        assert not response.cookies
    assert linked_stylesheet(normal.text) is None
    assert directives(normal) >= {"public"}
    # The link is all that differs (and /special/'s words for the version that is on): both
    # switches and the panel are in every page.
    on, off = (
        "включена <strong>версия для слабовидящих</strong>",
        "включена <strong>обычная версия</strong>",
    )
    assert LINK.sub("", special.text).replace(on, off) == normal.text
    assert special["ETag"] != normal["ETag"]


def test_a_choice_made_on_a_page_shows_on_the_next_page_at_once(client):
    path = "/regions/tomsk-oblast/"
    assert linked_stylesheet(client.get(path).text) is None

    post(client, {"mode": "on", "next": path})
    page = client.get(path)
    first, choice = linked_stylesheet(page.text)
    assert choice == "size:1.scheme:bw.spacing:normal.images:hide"

    post(client, {"size": "3", "next": path})
    post(client, {"scheme": "wb", "next": path})
    # What the browser does with the page it holds (max-age=0): asks whether it changed.
    changed = client.get(path, headers={"If-None-Match": page["ETag"]})
    assert changed.status_code == HTTPStatus.OK
    url, choice = linked_stylesheet(changed.text)
    assert choice == "size:3.scheme:wb.spacing:normal.images:hide"
    assert url != first
    assert "--sv-size: 200%;" in client.get(url).text

    post(client, {"mode": "off", "next": path})
    back = client.get(path, headers={"If-None-Match": changed["ETag"]})
    assert back.status_code == HTTPStatus.OK
    assert linked_stylesheet(back.text) is None
    assert directives(back) >= {"public"}


@pytest.mark.parametrize(
    "value",
    [
        "size:9.scheme:wb.spacing:normal.images:hide",
        "size:3.scheme:wb;}*{color:red.spacing:normal.images:hide",
        "size:3.scheme:wb.spacing:normal",
        "size:3.scheme:wb.spacing:normal.images:hide.images:show",
        "size:3.scheme:wb.spacing:normal.images:hide.extra:1",
        "</style>",
        "",
    ],
)
def test_a_cookie_that_is_not_ours_gets_the_newcomers_page(value):
    newcomer = get("/zashchita-prav/")
    response = get("/zashchita-prav/", value)
    assert response.content == newcomer.content
    assert linked_stylesheet(response.text) is None
    assert directives(response) >= {"public"}


def test_the_first_versions_cookie_still_means_the_version_is_on():
    page = get("/", "on").text
    assert linked_stylesheet(page)[1] == Choice().to_cookie()


def test_every_page_carries_both_switches_and_the_panel_with_its_own_path(client):
    page = client.get("/regions/tomsk-oblast/representatives/").text
    assert ">Версия для слабовидящих</button>" in page
    assert ">Обычная версия</button>" in page
    assert '<details class="sv-panel">' in page
    assert page.count('<input type="hidden" name="next" value="/regions/tomsk-oblast/') == 3
    for name, values in Choice.FIELDS.items():
        for value in values:
            assert f'name="{name}" value="{value}"' in page


def test_the_stylesheet_is_what_its_url_names_whatever_the_cookies_and_kept_for_good():
    url = stylesheet_url(LARGEST_WHITE_ON_BLACK)
    # Whoever asks, and with the parameters in either order (a CDN may sort them).
    v, h = query_values(url)
    with_a_session = Client(headers={"Sec-Fetch-Site": "same-origin"})
    with_a_session.post("/regions/choose/", {"region": "perm-krai", "next": "/"})
    assert with_a_session.cookies["sessionid"].value
    with_a_session.cookies["special"] = "garbage"
    answers = [
        get(url),
        get(url, LARGEST_WHITE_ON_BLACK),
        get(url, "size:1.scheme:blue.spacing:wide.images:show"),
        with_a_session.get(url),
        get(f"/special.css?h={h}&v={v}"),
    ]
    special = answers[0]
    # Nothing to fetch after it: the rules are linked beside it, fetched at the same time (an
    # @import was a third request, one round trip later: 6.5 s to first paint on slow 3G).
    assert "@import" not in special.text and "url(" not in special.text
    assert "--sv-size: 200%;" in special.text
    assert "--ink: #fff; --paper: #000;" in special.text
    assert "img, svg" in special.text
    assert '.sv-option[name="scheme"][value="wb"]::before' in special.text
    # The mark shows in browsers that drop a content with alternative text, too.
    assert '{ content: "✓\\a0"; content: "✓\\a0" / "выбрано: "; }' in special.text
    assert len(special.content) < 1024
    assert special.text == stylesheet_for(Choice.from_cookie(LARGEST_WHITE_ON_BLACK))
    for response in answers:
        assert response.status_code == HTTPStatus.OK
        assert response.content == special.content
        assert response["Content-Type"] == "text/css; charset=utf-8"
        assert directives(response) == {"public", "max-age=31536000", "immutable"}
        assert "Cookie" not in response.get("Vary", "")
        assert not response.cookies

    other = get(stylesheet_url("size:2.scheme:blue.spacing:wide.images:show")).text
    assert "--sv-size: 150%;" in other
    assert "--sv-letter: 0.12em;" in other
    assert "img, svg" not in other


@pytest.mark.parametrize(
    "query",
    [
        # What pages linked before the stylesheet was named by its URL: it read the cookie.
        "",
        "?v={v}",
        "?v=&h={h}",
        "?v=on&h={h}",
        "?v=size:9.scheme:wb.spacing:normal.images:hide&h={h}",
        "?v=size:3.scheme:wb;}*{color:red.spacing:normal.images:hide&h={h}",
        "?v=size:3.scheme:wb.spacing:normal&h={h}",
        "?v=size:3.scheme:wb.spacing:normal.images:hide.extra:1&h={h}",
        "?v=%3C/style%3E%3Cscript%3Ealert(1)%3C/script%3E&h={h}",
        # Ours, but not as a page links it: one URL per stylesheet.
        "?v=scheme:wb.size:3.spacing:normal.images:hide&h={h}",
        "?v={v}&h=000000000000",
        "?v={v}&h=<script>alert(1)</script>",
        "?v={v}&v=size:1.scheme:bw.spacing:normal.images:hide&h={h}",
        "?v={v}&h={h}&h={h}",
        "?v={v}&h={h}&x=1",
        "?V={v}&h={h}",
        # Each spelling would be another copy in a shared cache, kept for a year.
        "?v={v}&h={h}&",
        "?&v={v}&h={h}",
        "?v={v_encoded}&h={h}",
    ],
)
def test_a_stylesheet_url_that_is_not_ours_is_not_found_and_echoes_nothing(query):
    v, h = query_values(stylesheet_url(LARGEST_WHITE_ON_BLACK))
    # With a valid cookie too: the stylesheet never falls back on it.
    url = "/special.css" + query.replace("{v}", v).replace("{h}", h)
    url = url.replace("{v_encoded}", v.replace(":", "%3A"))
    response = get(url, LARGEST_WHITE_ON_BLACK)
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response["Content-Type"].startswith("text/html")
    assert "no-store" in directives(response)
    for needle in ("color:red", "alert", "extra", "x=1", "</style>", "000000000000"):
        assert needle not in response.text


def test_a_release_that_changes_the_stylesheets_links_new_urls(settings, monkeypatch):
    """Browsers keep both stylesheets for a year without asking: new bytes need a new URL."""
    # The rules: a hashed static file, moved as a release that changes it would move it.
    settings.STATIC_URL = "/static/next/"
    clear_caches()  # what a new release starts with (pages are kept per release)
    page = get("/", LARGEST_WHITE_ON_BLACK).text
    assert '<link rel="stylesheet" href="/static/next/css/special.css">' in page
    # The values: a scheme's colour changed.
    before = stylesheet_url(LARGEST_WHITE_ON_BLACK)
    monkeypatch.setitem(SCHEMES, "wb", SCHEMES["wb"] | {"soft": "#111"})
    clear_caches()
    after = stylesheet_url(LARGEST_WHITE_ON_BLACK)
    assert after != before
    assert "--soft: #111;" in get(after).text
    # The old URL is not answered with the new bytes, which would then be kept under it.
    assert get(before).status_code == HTTPStatus.NOT_FOUND


def test_settings_round_trip_through_the_cookie():
    for size in ("1", "2", "3"):
        for scheme in SCHEMES:
            for spacing in ("normal", "wide"):
                for images in ("show", "hide"):
                    choice = Choice(size=size, scheme=scheme, spacing=spacing, images=images)
                    assert Choice.from_cookie(choice.to_cookie()) == choice


def _luminance(colour: str) -> float:
    hexes = colour.lstrip("#")
    if len(hexes) == 3:
        hexes = "".join(c * 2 for c in hexes)
    channels = [int(hexes[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_every_scheme_has_at_least_7_to_1_contrast(scheme):
    colours = SCHEMES[scheme]
    assert contrast(colours["ink"], colours["paper"]) >= 7
    assert contrast(colours["ink"], colours["soft"]) >= 7
    assert contrast(colours["bar_ink"], colours["bar"]) >= 7


def test_settings_page_says_which_version_is_on_in_its_text(client):
    # In the text itself, not shown or hidden by a stylesheet: a reader mode, a text browser or
    # a page saved without its styles read «обычная версияверсия для слабовидящих».
    page = client.get("/special/").text
    assert "Сейчас включена <strong>обычная версия</strong>." in page
    assert "версия для слабовидящих</strong>" not in page
    post(client, {"mode": "on", "next": "/"})
    page = client.get("/special/").text
    assert "Сейчас включена <strong>версия для слабовидящих</strong>." in page
    assert "обычная версия</strong>" not in page
