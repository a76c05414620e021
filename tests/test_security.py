"""Security headers, cookies and the admin login, as a browser and an attacker see them."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "верный-пароль-2026"
PAGES = {
    "public page": "/",
    "download": "/files/contacts.csv",
    "error page": "/no-such-page/",
}


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_superuser("editor", "editor@example.ru", PASSWORD)


@pytest.mark.parametrize("url", PAGES.values(), ids=PAGES.keys())
def test_every_response_carries_the_security_headers(client, regions, url):
    response = client.get(url, secure=True)
    assert response.status_code == (404 if "no-such" in url else 200)

    csp = response["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert directives["frame-ancestors"] == "'none'"
    assert response["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["X-Frame-Options"] == "DENY"
    policy = response["Permissions-Policy"]
    for feature in ("camera=()", "geolocation=()", "microphone=()", "payment=()", "usb=()"):
        assert feature in policy


def test_no_hsts_over_plain_http(client, regions):
    # Browsers ignore it there, and a proxy misconfiguration must not pin the wrong host.
    assert "Strict-Transport-Security" not in client.get("/")


def test_cookies_are_secure_httponly_and_samesite(client, regions):
    client.get("/admin/login/", secure=True)  # the login form sets the CSRF cookie
    client.post(reverse("regions:choose"), {"region": "saint-petersburg", "next": "/"}, secure=True)
    session, csrf = client.cookies["sessionid"], client.cookies["csrftoken"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"
    assert csrf["secure"] and csrf["samesite"] == "Lax"


def login(client, password, username="editor"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password, "next": "/admin/"},
        secure=True,
    )


def test_admin_login_locks_after_repeated_failures(client, staff, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(client, "угадываю").status_code == 200  # the form again, with an error
    assert login(client, "угадываю").status_code == 429

    locked = login(client, PASSWORD)
    assert locked.status_code == 429
    assert "Вход временно закрыт" in locked.content.decode()
    assert client.get("/admin/", secure=True).status_code == 302  # still not logged in


def test_lockout_is_per_user_name_so_staff_cannot_be_locked_out_by_others(client, staff):
    for _ in range(5):
        login(client, "угадываю", username="someone-else")
    assert login(client, PASSWORD).status_code == 302


def test_correct_password_logs_in_and_changes_the_session_key(client, regions, staff):
    client.post(reverse("regions:choose"), {"region": "saint-petersburg", "next": "/"}, secure=True)
    before = client.cookies["sessionid"].value

    response = login(client, PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/admin/"
    after = client.cookies["sessionid"].value
    assert after != before  # a session fixed by someone else is useless after login
    assert client.get("/admin/", secure=True).status_code == 200
    # The visitor's own answers survive the new key.
    assert "Город Санкт-Петербург</strong>" in client.get("/", secure=True).content.decode()


INLINE = [
    re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    re.compile(r"<style\b", re.I),
    re.compile(r"\sstyle=", re.I),
    re.compile(r"\son[a-z]+=", re.I),
    re.compile(r"javascript:", re.I),
]


@pytest.mark.parametrize(
    "url",
    [
        "/admin/login/",
        "/admin/",
        "/admin/regions/region/",
        "/admin/regions/region/add/",
        "/admin/auth/user/",
        "/admin/representatives/representative/",
        "/admin/representatives/representative/add/",
        "/admin/representatives/representative/import/",
        "/admin/regions/registryfile/add/",
    ],
)
def test_admin_pages_need_nothing_the_strict_policy_forbids(client, regions, staff, url):
    if url != "/admin/login/":
        client.force_login(staff)
    response = client.get(url, secure=True)
    assert response.status_code == 200
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    html = response.content.decode()
    for pattern in INLINE:
        assert not pattern.search(html), f"{url}: {pattern.search(html).group(0)}"


def test_admin_change_form_works_under_the_policy(client, regions, staff):
    client.force_login(staff)
    region = regions.regions[0]
    response = client.get(f"/admin/regions/region/{region.pk}/change/", secure=True)
    assert response.status_code == 200
    html = response.content.decode()
    for pattern in INLINE:
        assert not pattern.search(html), pattern.search(html).group(0)
