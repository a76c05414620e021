"""The version for visually impaired people over HTTP: the settings cookie, the stylesheet it
drives, and pages that stay the same for everyone."""

from http import HTTPStatus

import pytest
from django.test import Client

from omsportal.special import SCHEMES, Choice, stylesheet_for

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


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/zashchita-prav/",
        "/regions/",
        "/regions/tomsk-oblast/",
        "/regions/tomsk-oblast/representatives/",
        "/files/",
        "/special/",
    ],
)
def test_page_html_is_the_same_whatever_the_settings_and_stays_public(path):
    pages = []
    for value in [None, "on", LARGEST_WHITE_ON_BLACK, "garbage"]:
        client = Client()
        if value:
            client.cookies["special"] = value
        response = client.get(path)
        assert response.status_code == HTTPStatus.OK
        assert response["Cache-Control"].startswith("public")
        assert not response.cookies
        pages.append(response.content)
    assert len(set(pages)) == 1


def test_every_page_carries_both_switches_and_the_panel_with_its_own_path(client):
    page = client.get("/regions/tomsk-oblast/representatives/").text
    assert 'href="/special.css"' in page
    assert ">Версия для слабовидящих</button>" in page
    assert ">Обычная версия</button>" in page
    assert '<details class="sv-panel">' in page
    assert page.count('<input type="hidden" name="next" value="/regions/tomsk-oblast/') == 3
    for name, values in Choice.FIELDS.items():
        for value in values:
            assert f'name="{name}" value="{value}"' in page


def test_stylesheet_follows_the_cookie_and_is_private_and_revalidated(client):
    normal = client.get("/special.css")
    client.cookies["special"] = LARGEST_WHITE_ON_BLACK
    special = client.get("/special.css")

    assert "@import" not in normal.text
    assert '@import url("/static/css/special.css");' in special.text
    assert "--sv-size: 200%;" in special.text
    assert "--ink: #fff; --paper: #000;" in special.text
    assert "img, svg" in special.text
    assert '.sv-option[name="scheme"][value="wb"]::before' in special.text
    # The mark shows in browsers that drop a content with alternative text, too.
    assert '{ content: "✓\\a0"; content: "✓\\a0" / "выбрано: "; }' in special.text
    assert len(special.content) < 1024
    for response in (normal, special):
        assert response["Content-Type"] == "text/css; charset=utf-8"
        assert response["Vary"] == "Cookie"
        assert response["Cache-Control"] == "private, no-cache"
    assert normal["ETag"] != special["ETag"]

    again = client.get("/special.css", headers={"If-None-Match": special["ETag"]})
    assert again.status_code == HTTPStatus.NOT_MODIFIED
    assert not again.content
    assert again["Cache-Control"] == "private, no-cache"
    assert again["Vary"] == "Cookie"

    client.cookies["special"] = "size:2.scheme:wb.spacing:normal.images:hide"
    changed = client.get("/special.css", headers={"If-None-Match": special["ETag"]})
    assert changed.status_code == HTTPStatus.OK
    assert "--sv-size: 150%;" in changed.text


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
def test_a_cookie_that_is_not_ours_gives_the_normal_version(client, value):
    client.cookies["special"] = value
    response = client.get("/special.css")
    assert response.text == stylesheet_for(None)


def test_the_first_versions_cookie_still_means_the_version_is_on(client):
    client.cookies["special"] = "on"
    assert client.get("/special.css").text == stylesheet_for(Choice())


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


def test_settings_page_shows_both_states_for_the_stylesheet_to_choose(client):
    page = client.get("/special/").text
    assert 'class="sv-state sv-state--off">обычная версия' in page
    assert 'class="sv-state sv-state--on">версия для слабовидящих' in page
