"""Written appeals in Chromium, JavaScript on and off: a person writes, staff answer in admin,
the person reads the answer. axe-core and the Nu HTML checker on the three public pages."""

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from playwright.sync_api import expect

from appeals.models import GROUP_NAME, Appeal

from ..appeals_support import form_data, make_appeal
from .test_accessibility import assert_no_axe_violations
from .test_html_valid import checker, nu_errors

PASSWORD = "пароль-для-браузера-2026"
TEXT = "Тест: в поликлинике Томска отказали в приёме, сказали, что полис не местный."


def scan(page, js: bool) -> None:
    # axe-core is itself a script: it scans the pages of the run with JavaScript on (the HTML
    # is the same either way).
    if js:
        assert_no_axe_violations(page)


def staff(username: str, *, member: bool) -> User:
    user = User.objects.create_user(username, password=PASSWORD, is_staff=True)
    if member:
        user.groups.add(Group.objects.get_or_create(name=GROUP_NAME)[0])
    return user


def log_in(page, username: str) -> None:
    page.goto("/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")


@pytest.mark.browser
def test_a_refused_person_writes_staff_answer_and_the_person_reads_it(site, subjects, settings, js):
    settings.APPEALS_MIN_FILL_SECONDS = 0  # the robot below types faster than people do
    member = staff("obrashcheniya-test", member=True)
    staff("redaktor-test", member=False)

    # The person starts from their region's representatives page.
    page = site(js=js)
    page.goto("/regions/tomsk-oblast/representatives/")
    page.get_by_role("main").get_by_role("link", name="Написать обращение").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Письменное обращение")
    expect(page.get_by_label("Регион, где выдан ваш полис ОМС")).to_have_value("tomsk-oblast")
    scan(page, js)

    page.get_by_label("Где это случилось").select_option(label="Томская область")
    page.get_by_label("Отказали в медицинской помощи").check()
    page.get_by_label("Что случилось").fill(TEXT)
    page.get_by_label("Как к вам обращаться").fill("Тестова Проверка")
    page.get_by_label("Я согласен (согласна)").check()
    # The mistake: no e-mail and no phone.
    page.get_by_role("button", name="Отправить").click()

    expect(page).to_have_title(re.compile("^Ошибка: "))
    expect(page.get_by_role("alert")).to_contain_text("Укажите электронную почту или телефон")
    expect(page.get_by_label("Что случилось")).to_have_value(TEXT)
    expect(page.get_by_label("Я согласен (согласна)")).to_be_checked()
    scan(page, js)
    assert Appeal.objects.count() == 0

    page.get_by_label("Электронная почта").fill("zayavitel.test@example.com")
    page.get_by_role("button", name="Отправить").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Обращение отправлено")
    appeal = Appeal.objects.get()
    expect(page.get_by_text(appeal.number)).to_be_visible()
    assert (appeal.place_name, appeal.region.slug, appeal.text) == (
        "Томская область", "tomsk-oblast", TEXT,
    )  # fmt: skip
    scan(page, js)

    page.get_by_role("link", name=re.compile(r"obrashchenie.status.+t=")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Обращение {appeal.number}")
    expect(page.get_by_text("Ответа пока нет")).to_be_visible()
    status_url = page.url
    scan(page, js)

    # A member of «Обращения» answers in admin.
    desk = site(js=js)
    log_in(desk, member.username)
    desk.goto("/admin/appeals/appeal/")
    desk.get_by_role("link", name=appeal.number).click()
    expect(desk.get_by_text(TEXT)).to_be_visible()
    desk.get_by_label("Ответ:").fill("Ответ (тест): вас обязаны принять, полис действует везде.")
    desk.get_by_role("button", name="Сохранить", exact=True).click()
    expect(desk.locator(".messagelist")).to_contain_text("поставлен в очередь писем")

    page.goto(status_url)
    expect(page.get_by_text("Дан ответ")).to_be_visible()
    expect(page.get_by_text("вас обязаны принять, полис действует везде")).to_be_visible()
    scan(page, js)

    # Another staff member, outside the group, is refused the appeal.
    other = site(js=js)
    log_in(other, "redaktor-test")
    response = other.goto(f"/admin/appeals/appeal/{appeal.pk}/change/")
    assert response.status == 403
    assert "вас обязаны принять" not in other.content()


@pytest.mark.django_db
def test_the_appeal_pages_are_valid_html(subjects, tmp_path, settings):
    command = checker()
    settings.APPEALS_MIN_FILL_SECONDS = 0
    client = Client()
    rendered = {
        "form": client.get("/obrashchenie/"),
        "form-errors": client.post("/obrashchenie/", form_data(email="", text="", topic="")),
    }
    sent = client.post("/obrashchenie/", form_data())
    rendered["sent"] = client.get(sent["Location"])
    # The same content from another browser: received already, no number.
    rendered["already-received"] = Client().post("/obrashchenie/", form_data())
    assert "Это обращение уже получено" in rendered["already-received"].text
    appeal, token = make_appeal()
    Appeal.objects.filter(pk=appeal.pk).update(status="answered", answer="Ответ (тест).\n\nДа.")
    rendered["status"] = client.get(f"/obrashchenie/status/?t={token}")
    rendered["too-many"] = client.get("/obrashchenie/")  # replaced below
    settings.APPEALS_RATE_PER_ADDRESS = "0/m"
    # Another appeal: the same one sent again is shown as sent, not limited.
    rendered["too-many"] = client.post("/obrashchenie/", form_data(text="Другое обращение (тест)."))
    rendered["too-large"] = client.post("/obrashchenie/", form_data(text="я" * 100_000))
    for name, response in rendered.items():
        assert response.status_code in {200, 413, 429}, name
        (tmp_path / f"{name}.html").write_bytes(response.content)
    css = Path(__file__).resolve().parents[2] / "static" / "css" / "site.css"
    errors = nu_errors(command, [*sorted(tmp_path.glob("*.html")), css])
    assert errors == [], "\n".join(errors)
