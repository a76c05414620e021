"""The admin in Chromium under the site's strict Content-Security-Policy.

The HTML scan in test_security.py shows the admin's pages carry no inline script or style; this
shows the admin's JavaScript still works and the browser reports no policy violation (or
unknown Permissions-Policy feature) while staff log in, open pages and add an inline row.
"""

import pytest
from django.contrib.auth import get_user_model

from regions.models import RegistryFile
from representatives.models import Representative

from ..factories import PDF_BYTES

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


def test_staff_without_javascript_choose_regions_and_add_rows(
    live_server, regions, editor, chromium
):
    """Autocomplete selects are filled by JavaScript: without it a registry file went to all
    Russia and no representative could be added (the region required, its select empty)."""
    context = chromium.new_context(java_script_enabled=False, base_url=live_server.url)
    page = context.new_page()
    page.goto("/admin/login/")
    page.fill("#id_username", "editor")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")

    page.goto("/admin/representatives/representative/add/")
    page.select_option("select[name=region]", label="Пермский край")
    page.select_option("select[name=level]", "2")
    page.fill("input[name=code]", "perm-no-js")
    page.fill("input[name=role]", "Страховой представитель (без JavaScript)")
    page.fill("textarea[name=phones]", "8 (342) 200-00-03")
    for row, (opens, closes) in enumerate((("09:00", "13:00"), ("14:00", "18:00"))):
        page.select_option(f"select[name='hours-{row}-weekday']", "1")
        page.fill(f"input[name='hours-{row}-opens']", opens)
        page.fill(f"input[name='hours-{row}-closes']", closes)
    page.click("input[name=_save]")
    assert "Добавлено" in page.locator(".messagelist").inner_text()

    tomsk = regions.by_slug["tomsk-oblast"]
    page.goto(f"/admin/regions/region/{tomsk.pk}/change/")
    page.select_option("select[name='representatives-0-level']", "3")
    page.fill("input[name='representatives-0-code']", "tomsk-no-js")
    page.fill("input[name='representatives-0-role']", "Добавлен на странице региона без JS")
    page.fill("textarea[name='representatives-0-phones']", "8 (3822) 20-00-04")
    page.click("input[name=_continue]")
    assert "Изменения сохранены" in page.locator(".messagelist").inner_text()

    page.goto("/admin/regions/registryfile/add/")
    page.fill("input[name=title]", "Реестр МО Томской области")
    page.select_option("select[name=region]", label="Томская область")
    page.set_input_files(
        "input[name=file]",
        {"name": "reestr.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES},
    )
    page.click("input[name=_save]")
    assert "Добавлено" in page.locator(".messagelist").inner_text()
    context.close()

    added = Representative.objects.get(code="perm-no-js")
    assert added.region.slug == "perm-krai"
    assert added.hour_groups[0].times == "09:00–13:00, 14:00–18:00"
    assert Representative.objects.get(code="tomsk-no-js").region == tomsk
    assert RegistryFile.objects.get().region == tomsk
