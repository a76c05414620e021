"""The admin in Chromium under the site's strict Content-Security-Policy.

The HTML scan in test_security.py shows the admin's pages carry no inline script or style; this
shows the admin's JavaScript still works and the browser reports no policy violation (or
unknown Permissions-Policy feature) while staff log in, open pages and add an inline row.
"""

import pytest
from django.contrib.auth import get_user_model

PASSWORD = "пароль-для-браузера-2026"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def editor(db):
    return get_user_model().objects.create_superuser("editor", "editor@example.ru", PASSWORD)


@pytest.fixture
def chromium(browser):
    # pytest-playwright's session browser, launched from /usr/bin/chromium by conftest.py: the
    # sync API allows one Playwright per thread. Still requested last by the test.
    return browser


def test_admin_works_under_the_strict_policy(live_server, regions, editor, chromium):
    context = chromium.new_context()
    page = context.new_page()
    complaints = []
    page.on("console", lambda m: m.type in {"error", "warning"} and complaints.append(m.text))
    page.on("pageerror", lambda error: complaints.append(str(error)))

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "editor")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    assert page.title().startswith("Содержание сайта")

    tomsk = regions.by_slug["tomsk-oblast"]
    for path in (
        "/admin/regions/region/",
        "/admin/representatives/representative/add/",
        "/admin/regions/registryfile/add/",
        f"/admin/regions/region/{tomsk.pk}/change/",
    ):
        assert page.goto(live_server.url + path).status == 200

    # The change form's inline «Добавить ещё» is admin JavaScript (inlines.js).
    rows = page.locator(".inline-related, tr.form-row")
    before = rows.count()
    page.locator(".add-row a").first.click()
    assert rows.count() == before + 1
    context.close()
    assert complaints == []
