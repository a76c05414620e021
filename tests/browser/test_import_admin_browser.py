"""«Загрузить из таблицы» in Chromium: the whole import without JavaScript, and axe-core on
each of its pages."""

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from representatives.models import Representative

from ..factories import make_representative
from ..test_import_export import GOOD, HEADER
from .test_accessibility import assert_no_axe_violations

PASSWORD = "пароль-для-браузера-2026"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def table(rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(HEADER)
    writer.writerows([row[title] for title in HEADER] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")


def logged_in(site, *, js: bool):
    get_user_model().objects.create_superuser("editor", "editor@example.ru", PASSWORD)
    page = site(js=js)
    page.goto("/admin/login/")
    page.get_by_label("Имя пользователя").fill("editor")
    page.get_by_label("Пароль").fill(PASSWORD)
    page.get_by_role("button", name="Войти").click()
    return page


def choose(page, name: str, data: bytes) -> None:
    page.get_by_label("Файл таблицы").set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": data}
    )
    page.get_by_role("button", name="Проверить файл").click()


def test_staff_import_a_spreadsheet_without_javascript(site, regions):
    make_representative(regions.by_slug["perm-krai"], code="perm-2", phones="8 (342) 299-99-99")
    page = logged_in(site, js=False)
    page.goto("/admin/representatives/representative/")
    page.get_by_role("link", name="Загрузить из таблицы").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Загрузка контактов из таблицы")

    choose(page, "contacts.csv", table(GOOD))
    expect(page.get_by_role("heading", level=1)).to_have_text("Проверка таблицы «contacts.csv»")
    expect(page.get_by_text("Телефоны: было «8 (342) 299-99-99»")).to_be_visible()
    assert Representative.objects.count() == 1

    page.get_by_role("button", name="Применить").click()
    expect(page.get_by_text("Изменено: 1, добавлено: 2, удалено: 0.")).to_be_visible()
    assert Representative.objects.count() == 3
    page.goto("/regions/perm-krai/representatives/")
    expect(page.locator('a[href="tel:+73422101010"]').first).to_be_visible()


def test_the_import_pages_have_no_axe_violations(site, regions):
    page = logged_in(site, js=True)
    page.goto("/admin/representatives/representative/import/")
    assert_no_axe_violations(page)

    page.get_by_role("button", name="Проверить файл").click()  # no file chosen
    expect(page.get_by_role("alert")).to_contain_text("Выберите файл таблицы.")
    assert_no_axe_violations(page)

    bad = [*GOOD, {**GOOD[0], "Код контакта": "perm-9", "Уровень": "7"}]
    choose(page, "contacts.csv", table(bad))
    expect(page.get_by_text("Строка 5, столбец «Уровень»")).to_be_visible()
    expect(page.get_by_role("button", name="Применить")).to_have_count(0)
    assert_no_axe_violations(page)

    choose(page, "contacts.csv", table(GOOD))
    expect(page.get_by_role("button", name="Применить")).to_be_visible()
    assert_no_axe_violations(page)
