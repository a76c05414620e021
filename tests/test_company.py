"""Whose site this is: the «Сведения о компании» record in the footer, the titles and the privacy
page. Values here are obviously fictitious (all-zero ИНН and ОГРН pass the check digits)."""

import datetime
import importlib
import re
from http import HTTPStatus

import pytest
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from company.models import Company, days, validate_inn, validate_ogrn

from .factories import make_company

pytestmark = pytest.mark.django_db

PAGES = ["/", "/zashchita-prav/", "/regions/", "/regions/perm-krai/", "/files/", "/special/"]
COMPANY_PAGE = f"/admin/company/company/{Company.PK}/change/"


@pytest.fixture
def empty_record(db) -> Company:
    """The record as the migrations leave a new site, made again by the migration's own code
    where a test flushed the database."""
    importlib.import_module("company.migrations.0002_the_one_record").create_record(apps, None)
    return Company.objects.get()


def is_empty(company: Company) -> bool:
    filled = [f.name for f in Company._meta.concrete_fields if f.name not in ("id", "updated_at")]
    return not any(getattr(company, name) for name in filled)


def footer(client, url="/") -> str:
    page = client.get(url).content.decode().replace("\xa0", " ")
    return page[page.index('<footer class="site-footer">') :]


def title(client, url="/") -> str:
    return re.search(r"<title>([^<]*)</title>", client.get(url).content.decode()).group(1)


def test_no_fixture_invents_the_company(regions, empty_record):
    for fixture in sorted((settings.BASE_DIR / "fixtures").glob("*.json")):
        call_command("loaddata", fixture, verbosity=0)
    assert [is_empty(company) for company in Company.objects.all()] == [True]


@pytest.mark.parametrize("url", PAGES)
def test_an_empty_record_shows_nothing_but_the_privacy_link(client, regions, empty_record, url):
    part = footer(client, url)
    for word in ("Лицензия", "ИНН", "ОГРН", "Почтовый адрес", "Электронная почта", "Часы работы"):
        assert word not in part
    assert 'href="/konfidencialnost/">Политика конфиденциальности</a>' in part
    assert title(client, url).endswith(" — ОМС: защита прав застрахованных")


@pytest.mark.parametrize("url", PAGES)
def test_a_filled_record_appears_in_every_footer_and_title(client, regions, url):
    make_company()
    part = footer(client, url)
    assert "<p>Акционерное общество «Пример-Мед»</p>" in part
    assert "Лицензия ОС № 0000-00 от 2 января 2020 г." in part
    assert "ИНН 0000000000, ОГРН 0000000000000" in part
    assert "Почтовый адрес: 000000, г. Образцов, ул. Тестовая, д. 1" in part
    assert '<a href="mailto:info@example.test">info@example.test</a>' in part
    assert "333-60-03</span></span></a>. Часы работы: круглосуточно." in part
    assert 'href="https://company.example.test/raskrytie/">Раскрытие информации' in part
    assert title(client, url).endswith(" — Пример-Мед")


def test_each_field_vanishes_when_emptied(client, regions):
    company = make_company()
    client.get("/")  # cached with everything filled
    company.inn = ""
    company.email = ""
    company.disclosure_url = ""
    company.save()
    part = footer(client)
    assert "ИНН" not in part and "ОГРН 0000000000000" in part
    assert "mailto:" not in part and "Раскрытие информации" not in part


def test_the_appeal_forms_consent_names_the_company_that_processes_the_data(
    client, regions, empty_record
):
    """A person agreed to share health details with «the company that owns this site», never
    named, even once the record was filled in."""

    def consent() -> str:
        page = client.get("/obrashchenie/").content.decode().replace("\xa0", " ")
        return page.split("сведения о здоровье, — ")[1].split("</p>")[0]

    assert consent().startswith(
        "обрабатывает страховая медицинская организация, которой принадлежит этот сайт."
    )
    make_company()
    assert consent().startswith(
        "обрабатывает страховая медицинская организация «Пример-Мед», которой принадлежит"
    )


def test_footer_keeps_emergency_numbers_and_the_oms_hotline_apart(client, regions):
    part = footer(client)
    emergency, oms = part.split("Вопросы по ОМС")
    assert 'href="tel:103"' in emergency and 'href="tel:112"' in emergency
    assert "tel:+78003336003" not in emergency
    assert "tel:+78003336003" in oms and "tel:103" not in oms


def test_the_record_is_one_and_admin_opens_it_directly(admin_client, regions, empty_record):
    assert admin_client.get("/admin/company/company/")["Location"] == COMPANY_PAGE
    assert admin_client.get("/admin/company/company/add/").status_code == HTTPStatus.FORBIDDEN
    page = admin_client.get(COMPANY_PAGE).content.decode()
    assert "Сведения о компании" in page
    assert "deletelink" not in page
    Company(name="Второй").save()
    assert Company.objects.count() == 1
    # A database whose record is gone (restored from an old backup): the add form, once.
    Company.objects.all().delete()
    response = admin_client.get("/admin/company/company/")
    assert response["Location"] == "/admin/company/company/add/"


def test_admin_says_on_its_first_page_that_the_company_is_not_filled_in(
    admin_client, regions, empty_record
):
    """Nothing in the reference data names the company: staff must, before the site says who
    it belongs to."""
    page = admin_client.get("/admin/").content.decode()
    assert "Сведения о компании не заполнены" in page
    assert 'href="/admin/company/company/"' in page
    make_company()
    assert "Сведения о компании не заполнены" not in admin_client.get("/admin/").content.decode()


def test_an_editor_who_cannot_fill_the_company_in_is_not_sent_there(client, regions):
    """With change permission only, the link led to the add form: a 403 page. Where the
    record is missing (a database restored from an old backup), such an editor is not sent."""
    from django.contrib.auth.models import Permission, User

    Company.objects.all().delete()
    editor = User.objects.create_user("redaktor", password="pw", is_staff=True)
    editor.user_permissions.add(Permission.objects.get(codename="change_company"))
    client.force_login(editor)
    assert "Сведения о компании не заполнены" not in client.get("/admin/").content.decode()
    editor.user_permissions.add(Permission.objects.get(codename="add_company"))
    editor = User.objects.get(pk=editor.pk)  # permissions are cached on the user object
    client.force_login(editor)
    page = client.get("/admin/").content.decode()
    assert "Сведения о компании не заполнены" in page
    assert client.get("/admin/company/company/", follow=True).status_code == 200


def test_admin_refuses_a_mistyped_inn_or_ogrn(admin_client, regions, empty_record):
    data = {"name": "Пример-Мед", "inn": "0000000001", "ogrn": "123"}
    page = admin_client.post(COMPANY_PAGE, data).content.decode()
    assert "не сходится контрольная цифра" in page
    assert "ОГРН — 13 цифр." in page
    assert is_empty(Company.objects.get())


def test_a_licence_date_in_the_future_is_refused(admin_client, client, regions, empty_record):
    """01.01.2030 was printed in every footer as «Лицензия от 1 января 2030 г.»."""
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    data = {"name": "Пример-Мед", "licence_number": "ОС № 0000-00", "request_log_days": ""}
    response = admin_client.post(COMPANY_PAGE, data | {"licence_date": f"{tomorrow:%d.%m.%Y}"})
    assert response.status_code == HTTPStatus.OK
    assert "Дата лицензии не может быть позже сегодняшней." in response.content.decode()
    assert is_empty(Company.objects.get())
    assert "Лицензия" not in footer(client)
    response = admin_client.post(COMPANY_PAGE, data | {"licence_date": "02.01.2020"})
    assert response.status_code == HTTPStatus.FOUND
    assert "Лицензия ОС № 0000-00 от 2 января 2020 г." in footer(client)


@pytest.mark.django_db(transaction=True)
def test_a_content_editor_fills_the_company_in_on_a_new_site(
    content_editor, client, regions, migrate
):
    """On a new site nobody had added the record, and the role «Редакторы содержания» may
    change it, not add it: the start page's «Заполните сведения о компании» led to a bare 403.
    """
    # A new site: the record made by migrating, not by a test.
    Company.objects.all().delete()
    migrate(("company", "0001_initial"))
    migrate(("company", "0002_the_one_record"))
    editor = content_editor
    index = editor.get("/admin/").content.decode()
    assert "Сведения о компании не заполнены" in index
    response = editor.get("/admin/company/company/", follow=True)
    assert response.status_code == HTTPStatus.OK
    assert response.redirect_chain == [(COMPANY_PAGE, HTTPStatus.FOUND)]
    data = {"name": "Пример-Мед", "legal_form": "акционерное общество", "request_log_days": ""}
    assert editor.post(COMPANY_PAGE, data).status_code == HTTPStatus.FOUND
    assert "<p>Акционерное общество «Пример-Мед»</p>" in footer(client)
    assert "Сведения о компании не заполнены" not in editor.get("/admin/").content.decode()


@pytest.mark.parametrize("value", ["0000000000", "1234567894"])
def test_valid_inn(value):
    validate_inn(value)


@pytest.mark.parametrize("value", ["1234567895", "123456789", "12345678a4"])
def test_invalid_inn(value):
    with pytest.raises(ValidationError):
        validate_inn(value)


def test_ogrn_check_digit():
    validate_ogrn("1111111111110")
    with pytest.raises(ValidationError):
        validate_ogrn("1111111111111")


@pytest.mark.parametrize(
    ("count", "label"),
    [(1, "1 день"), (3, "3 дня"), (11, "11 дней"), (21, "21 день"), (30, "30 дней")],
)
def test_days(count, label):
    assert days(count) == label


# The privacy page


def privacy(client) -> str:
    response = client.get("/konfidencialnost/")
    assert response.status_code == HTTPStatus.OK
    return response.content.decode().replace("\xa0", " ")


def cookie(name: str) -> str:
    """«cookie «sessionid»» as the page marks it: English words, read out in English."""
    return f'<span lang="en">cookie</span> «<span lang="en">{name}</span>»'


def test_privacy_page_says_what_is_kept_how_long_and_why(client, regions):
    page = privacy(client)
    assert "<h1>Политика конфиденциальности</h1>" in page
    # The chosen region: in the session, for as long as the settings keep it.
    assert cookie(settings.SESSION_COOKIE_NAME) in page
    assert f"Срок хранения — {settings.SESSION_COOKIE_AGE // 86400} дней со дня ответа" in page
    assert "чтобы показывать страховых представителей и файлы вашего региона" in page
    # The version for visually impaired people: a cookie of its own.
    assert cookie("special") in page
    assert "размер шрифта, цветовую схему, интервалы и показ изображений" in page
    assert "Срок хранения — 365 дней; вернитесь к обычной версии" in page
    # Request logs, without addresses.
    assert 'IP-адрес, <span lang="en">cookie</span> и то, что вы ввели в формы' in page
    assert "чтобы находить и исправлять ошибки" in page
    assert "Журналы хранятся" not in page  # not said until the company says it


def test_every_cookie_the_site_sets_a_visitor_is_on_the_privacy_page(client, regions):
    same_origin = {"Sec-Fetch-Site": "same-origin"}
    answers = [
        client.get("/obrashchenie/"),
        client.post("/regions/choose/", {"region": "perm-krai"}, headers=same_origin),
        client.post("/special/", {"mode": "on"}, headers=same_origin),
    ]
    cookies = {name: morsel for answer in answers for name, morsel in answer.cookies.items()}
    assert set(cookies) == {
        settings.SESSION_COOKIE_NAME,
        settings.CSRF_COOKIE_NAME,
        "special",
    }
    page = privacy(client)
    for name, morsel in cookies.items():
        assert cookie(name) in page
        lifetime = int(morsel["max-age"]) // 86400
        kept = rf"{re.escape(cookie(name))}.*?Срок хранения — {lifetime} (день|дня|дней)"
        assert re.search(kept, page)


def test_english_words_on_the_privacy_page_are_read_out_in_english(client, regions):
    """A screen reader in Russian spelled «cookie», «sessionid» and «csrftoken» out letter by
    letter, or read them as Russian."""
    page = privacy(client)
    main = page[page.index("<main") : page.index("</main>")]
    unmarked = re.sub(r"<[^>]+>", "", re.sub(r'<span lang="en">[^<]*</span>', "", main))
    assert re.findall(r"cookie|sessionid|csrftoken|special", unmarked, re.I) == []
    assert len(re.findall(r'<span lang="en">', main)) >= 9


def test_privacy_page_is_made_from_the_company_record(client, regions):
    make_company()
    page = privacy(client)
    assert "Журналы хранятся 30 дней, затем удаляются." in page
    assert '<a href="mailto:info@example.test">' in page
    assert "Оператор сайта: Акционерное общество «Пример-Мед», ИНН 0000000000" in page


def test_privacy_page_is_a_public_page_without_a_cookie(client, regions):
    response = client.get("/konfidencialnost/")
    assert not response.cookies
    assert "public" in response["Cache-Control"]


@pytest.mark.parametrize(
    "name", ["«Пример-Мед»", '"Пример-Мед"', "АО «Пример-Мед»", "“Пример-Мед”"]
)
def test_admin_refuses_a_name_in_quotes_and_keeps_what_was_typed(
    admin_client, regions, empty_record, name
):
    """The site puts the name in «» itself: a name typed with its quotes, as the charter prints
    it, was shown in every footer as «Акционерное общество ««Пример-Мед»»»."""
    data = {"name": name, "legal_form": "акционерное общество", "request_log_days": ""}
    response = admin_client.post(COMPANY_PAGE, data)
    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert "Название пишите без кавычек" in page
    assert 'value="акционерное общество"' in page
    assert is_empty(Company.objects.get())
    admin_client.post(COMPANY_PAGE, data | {"name": "Пример-Мед"})
    assert "<p>Акционерное общество «Пример-Мед»</p>" in footer(admin_client)
