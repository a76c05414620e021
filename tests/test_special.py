"""The version for visually impaired people over HTTP: the cookie, the stylesheet, caching."""

from http import HTTPStatus

import pytest

pytestmark = pytest.mark.usefixtures("regions")


def test_switching_on_sets_a_year_long_lax_secure_cookie_and_goes_back(client):
    response = client.post("/special/", {"mode": "on", "next": "/regions/tomsk-oblast/"})

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/regions/tomsk-oblast/"
    cookie = response.cookies["special"]
    assert cookie.value == "on"
    assert cookie["max-age"] == 365 * 24 * 60 * 60
    assert cookie["samesite"] == "Lax"
    assert cookie["secure"] and cookie["httponly"]
    assert "sessionid" not in response.cookies


def test_switching_off_clears_the_cookie(client):
    client.cookies["special"] = "on"
    response = client.post("/special/", {"mode": "off", "next": "/files/"})
    assert response["Location"] == "/files/"
    assert response.cookies["special"].value == ""
    assert response.cookies["special"]["max-age"] == 0


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_never_redirects_off_the_site(client, target):
    response = client.post("/special/", {"mode": "on", "next": target})
    assert response["Location"] == "/"


def test_switching_needs_the_form_token(client):
    client = type(client)(enforce_csrf_checks=True)
    response = client.post("/special/", {"mode": "on"})
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "special" not in response.cookies


def test_settings_page_says_which_version_is_on(client):
    assert "Сейчас включена <strong>обычная версия" in client.get("/special/").text
    client.cookies["special"] = "on"
    assert "Сейчас включена <strong>версия для слабовидящих" in client.get("/special/").text


def test_stylesheet_follows_the_cookie_and_is_private_and_revalidated(client):
    normal = client.get("/special.css")
    client.cookies["special"] = "on"
    special = client.get("/special.css")

    assert "@import" not in normal.text
    assert '@import url("/static/css/special.css");' in special.text
    for response in (normal, special):
        assert response["Content-Type"] == "text/css; charset=utf-8"
        assert response["Vary"] == "Cookie"
        assert response["Cache-Control"] == "private, no-cache"
    assert normal["ETag"] != special["ETag"]

    again = client.get("/special.css", headers={"If-None-Match": special["ETag"]})
    assert again.status_code == HTTPStatus.NOT_MODIFIED
    assert again["Cache-Control"] == "private, no-cache"
    assert again["Vary"] == "Cookie"


@pytest.mark.parametrize(
    "path", ["/regions/tomsk-oblast/", "/regions/tomsk-oblast/representatives/", "/files/"]
)
def test_region_pages_stay_cacheable_whatever_the_version(client, path):
    plain = client.get(path)
    client.cookies["special"] = "on"
    response = client.get(path)

    assert response.status_code == HTTPStatus.OK
    assert response.content == plain.content
    assert response["Cache-Control"].startswith("public")
    assert not response.cookies
    assert 'href="/special.css"' in response.text
    assert 'href="/special/?next=' in response.text
