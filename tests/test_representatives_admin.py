import html
import json
import re

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse
from django.utils.html import strip_tags
from django.utils.timezone import now

from regions.phones import phone_tel
from representatives.admin import REGION_PAGE_CONTACTS
from representatives.models import Representative

from .factories import make_representative, management, region_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, django_user_model):
    user = django_user_model.objects.create_superuser("editor", "editor@example.com", "pw")
    client.force_login(user)
    return user


@pytest.fixture
def perm(regions):
    return regions.by_slug["perm-krai"]


def representative_form(representative, **changes) -> dict:
    data = {
        "region": representative.region_id,
        "level": representative.level,
        "code": representative.code,
        "role": representative.role,
        "person": representative.person,
        "phones": representative.phones,
        "email": representative.email,
        "address": representative.address,
        "notes": representative.notes,
        "order": representative.order,
        "is_active": "on" if representative.is_active else "",
        **management("hours"),
    }
    return data | changes


def new_contact_row(*, shown=(), **values) -> dict:
    """The region page's contact rows as a browser posts them: the ``shown`` contacts (read-only
    there: their ids only) and the empty row, filled in as staff fill it."""
    rows = {}
    for index, contact in enumerate(shown):
        rows |= {f"representatives-{index}-id": str(contact.pk)}
        rows |= {f"representatives-{index}-region": str(contact.region_id)}
    new = {
        "level": "2",
        "code": "perm-office",
        "role": "Страховой представитель (тест)",
        "phones": "8 (342) 200-00-00",
        "order": "0",
        "is_active": "on",
    } | values
    rows |= {f"representatives-{len(shown)}-{name}": value for name, value in new.items()}
    counts = management("representatives", total=len(shown) + 1, initial=len(shown))
    return counts | rows


def test_changelist_with_filters_and_search(client, staff, regions, perm):
    tomsk = regions.by_slug["tomsk-oblast"]
    make_representative(perm, level=2, role="Пермь, второй уровень")
    make_representative(perm, level=3, role="Пермь, третий уровень")
    make_representative(tomsk, level=2, role="Томск, второй уровень")
    url = reverse("admin:representatives_representative_changelist")

    html = client.get(url).content.decode()
    assert "Пермь, второй уровень" in html and "Томск, второй уровень" in html
    assert "?level__exact=2" in html  # the filter panel
    assert f"?region__id__exact={perm.pk}" in html
    filtered = client.get(url, {"region__id__exact": perm.pk, "level__exact": 2}).content.decode()
    assert "Пермь, второй уровень" in filtered
    assert "Пермь, третий уровень" not in filtered
    assert "Томск, второй уровень" not in filtered
    searched = client.get(url, {"q": "Томск"}).content.decode()
    assert "Томск, второй уровень" in searched and "Пермь" not in searched


def test_representative_form_has_the_hours_inline(client, staff, perm):
    representative = make_representative(perm)
    url = reverse("admin:representatives_representative_change", args=[representative.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert 'name="hours-TOTAL_FORMS"' in response.content.decode()


def test_a_repeated_reception_start_is_refused_in_russian(client, staff, perm):
    representative = make_representative(perm)
    url = reverse("admin:representatives_representative_change", args=[representative.pk])
    data = representative_form(representative) | management("hours", total=2)
    for row, closes in ((0, "12:00"), (1, "13:00")):
        data |= {f"hours-{row}-weekday": "1", f"hours-{row}-opens": "09:00"}
        data |= {f"hours-{row}-closes": closes}
    page = client.post(url, data).content.decode()
    assert "у двух строк совпадают «День недели» и «Начало приёма»" in page
    assert "weekday" not in page.split('class="errorlist')[1].split("</ul>")[0]


def test_region_form_has_the_representatives_inline(client, staff, perm):
    make_representative(perm, role="Виден в регионе")
    response = client.get(reverse("admin:regions_region_change", args=[perm.pk]))
    html = response.content.decode()
    assert 'name="representatives-TOTAL_FORMS"' in html
    assert "Виден в регионе" in html


def test_a_region_with_many_contacts_links_to_them_and_saves(client, staff, perm):
    """Every contact was a row of the region's page: at about 480 its form had more fields
    than Django accepts and the region could not be saved (400), and 20,000 made 148 MB."""
    url = reverse("admin:regions_region_change", args=[perm.pk])
    make_representative(perm)
    one_row = len(client.get(url).content)
    for _ in range(REGION_PAGE_CONTACTS):
        make_representative(perm)
    crowded = client.get(url).content.decode()
    assert len(crowded) < one_row  # the rows are not sent, however many
    assert 'name="representatives-' not in crowded
    line = " ".join(strip_tags(crowded.split('<div class="description">')[-1]).split())
    count = REGION_PAGE_CONTACTS + 1
    assert line.startswith(f"Контактов в регионе: {count} — слишком много, чтобы править их здесь.")
    listed = re.search(r'href="([^"]*)">Список контактов региона</a>', crowded)[1]
    assert client.get(html.unescape(listed)).context["cl"].result_count == count
    add = re.search(r'href="([^"]*)">Добавить контакт в регион</a>', crowded)[1]
    added = client.get(html.unescape(add)).content.decode()
    assert f'<option value="{perm.pk}" selected>' in added

    data = region_form(perm, name_of="Пермского края (правка)")
    data = {name: value for name, value in data.items() if not name.startswith("representatives")}
    response = client.post(url, data)  # the form as the page has it: no contact rows
    assert response.status_code == 302
    perm.refresh_from_db()
    assert perm.name_of == "Пермского края (правка)"
    assert Representative.objects.filter(region=perm).count() == count


def test_a_region_with_few_contacts_shows_them_and_adds_one(client, staff, perm):
    shown = [make_representative(perm) for _ in range(REGION_PAGE_CONTACTS)]
    url = reverse("admin:regions_region_change", args=[perm.pk])
    page = client.get(url).content.decode()
    assert f'name="representatives-{REGION_PAGE_CONTACTS - 1}-id"' in page
    assert "слишком много" not in page
    make_representative(perm)  # an import passes the limit before the page is saved
    data = region_form(perm) | new_contact_row(shown=shown, role="Добавлен на странице региона")
    assert client.post(url, data).status_code == 302
    assert Representative.objects.get(code="perm-office").role == "Добавлен на странице региона"


def test_a_change_is_recorded_with_who_and_what_and_shown_in_history(client, staff, perm):
    representative = make_representative(perm)
    url = reverse("admin:representatives_representative_change", args=[representative.pk])
    data = representative_form(representative, role="Новая роль")
    data |= {"hours-0-weekday": "1", "hours-0-opens": "09:00", "hours-0-closes": "18:00"}
    data |= management("hours", total=1)
    response = client.post(url, data)
    assert response.status_code == 302, response.context["errors"] if response.context else ""

    representative.refresh_from_db()
    assert representative.role == "Новая роль"
    assert representative.hour_groups[0].times == "09:00–18:00"
    entry = LogEntry.objects.get(
        content_type=ContentType.objects.get_for_model(Representative),
        object_id=str(representative.pk),
    )
    assert entry.user == staff
    assert entry.action_flag == CHANGE
    history = client.get(
        reverse("admin:representatives_representative_history", args=[representative.pk])
    ).content.decode()
    assert "editor" in history
    assert "Должность или роль" in history
    assert "Добавлено: часы приёма «" in entry.get_change_message()


def test_adding_a_representative_from_the_region_page_is_recorded(client, staff, perm):
    data = region_form(perm) | new_contact_row(role="Добавлен со страницы региона")
    response = client.post(reverse("admin:regions_region_change", args=[perm.pk]), data)
    assert response.status_code == 302
    assert Representative.objects.get(code="perm-office").region == perm
    entry = LogEntry.objects.filter(object_id=str(perm.pk)).latest("action_time")
    assert entry.user == staff
    assert "Добавлен со страницы региона" in entry.get_change_message()
    history = client.get(reverse("admin:regions_region_history", args=[perm.pk])).content.decode()
    assert "Добавлен со страницы региона" in history


def test_saving_the_region_keeps_what_an_import_wrote_meanwhile(client, staff, perm):
    """The browser sends a textarea's line breaks as CR LF: every contact with two phones read
    as changed, and the region's save wrote the phones shown when the page opened over the
    ones an import had written since (and logged a change of «Телефоны» nobody made)."""
    contact = make_representative(
        perm, level=2, role="Офис (тест)", phones="8 (342) 200-00-00\n8 (342) 200-00-01"
    )
    opened = Representative.objects.get(pk=contact.pk)
    Representative.objects.filter(pk=contact.pk).update(phones="8 (342) 200-00-09")  # the import
    prefix = "representatives-0-"
    row = {
        prefix + name: value
        for name, value in representative_form(opened).items()
        if name in ("level", "code", "role", "person", "email", "address", "notes", "order")
    }
    row |= {
        prefix + "id": str(contact.pk),
        prefix + "region": str(perm.pk),
        prefix + "is_active": "on",
        prefix + "phones": opened.phones.replace("\n", "\r\n"),  # as a browser sends it
    }
    data = region_form(perm, hotline_phone="") | management("representatives", total=1, initial=1)
    response = client.post(reverse("admin:regions_region_change", args=[perm.pk]), data | row)
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.phones == "8 (342) 200-00-09"


def test_a_save_without_changes_records_no_change_of_phones(client, staff, perm):
    contact = make_representative(
        perm, level=2, role="Офис (тест)", phones="8 (342) 200-00-00\n8 (342) 200-00-01"
    )
    url = reverse("admin:representatives_representative_change", args=[contact.pk])
    as_sent = representative_form(contact, phones=contact.phones.replace("\n", "\r\n"))
    assert client.post(url, as_sent).status_code == 302
    entry = LogEntry.objects.filter(object_id=str(contact.pk)).latest("action_time")
    assert "Телефоны" not in entry.get_change_message()


@pytest.mark.parametrize(
    ("written", "dialled"),
    [
        ("8 (342) 200-00-00", "+73422000000"),
        ("+7 912 345-67-89", "+79123456789"),
        ("8 800 333-60-03", "+78003336003"),
        # Ten digits from an area code of 8xx: St Petersburg, the hotline, Kazan.
        ("(812) 710-00-00", "+78127100000"),
        ("800 333-60-03", "+78003336003"),
        ("843 200-00-00", "+78432000000"),
        # The extension after the pause a dialler makes at a comma.
        ("8 (800) 000-00-01 доб. 12", "+78000000001,12"),
        ("+7 (342) 200-00-00, доб. 305", "+73422000000,305"),
    ],
)
def test_numbers_staff_write_are_dialled_as_written(written, dialled):
    assert phone_tel(written) == dialled


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"phones": "123"}, "Неверный номер телефона"),
        # One digit short, or a letter O for a zero: phonenumbers read a number in Mordovia.
        ({"phones": "8 (342) 200-00-0"}, "Неверный номер телефона"),
        ({"phones": "8 (342) 200-00-0O"}, "Неверный номер телефона"),
        ({"phones": "+7 (351) 123-45-6"}, "Неверный номер телефона"),
        ({"phones": "+1 650 253 0000"}, "не российский"),
        ({"email": "not-an-email"}, "адрес электронной почты"),
        (
            {
                **management("hours", total=2),
                "hours-0-weekday": "1",
                "hours-0-opens": "09:00",
                "hours-0-closes": "13:00",
                "hours-1-weekday": "1",
                "hours-1-opens": "12:00",
                "hours-1-closes": "18:00",
            },
            "пересекаются",
        ),
        (
            {
                **management("hours", total=1),
                "hours-0-weekday": "2",
                "hours-0-opens": "18:00",
                "hours-0-closes": "09:00",
            },
            "позже начала",
        ),
    ],
)
def test_bad_values_are_refused_in_admin(client, staff, perm, changes, message):
    representative = make_representative(perm)
    url = reverse("admin:representatives_representative_change", args=[representative.pk])
    response = client.post(url, representative_form(representative, **changes))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not LogEntry.objects.exists()


SAMPLE_ERROR = "«ОБРАЗЕЦ» — это данные из файла-образца, а не настоящий контакт."


def test_the_sample_files_values_are_refused_in_admin_as_in_the_import(client, staff, perm):
    """The import refuses any cell with the sample's «ОБРАЗЕЦ»; admin saved it, and the
    sample's fictitious contact reached the site."""
    data = region_form(perm) | new_contact_row(notes="Образец: приём по записи")
    response = client.post(reverse("admin:regions_region_change", args=[perm.pk]), data)
    assert response.status_code == 200
    assert SAMPLE_ERROR in response.content.decode()
    assert not Representative.objects.exists()

    representative = make_representative(perm, role="Страховой представитель (тест)")
    url = reverse("admin:representatives_representative_change", args=[representative.pk])
    sample = representative_form(representative, role="ОБРАЗЕЦ — страховой представитель")
    response = client.post(url, sample)
    assert response.status_code == 200
    assert SAMPLE_ERROR in response.content.decode()
    representative.refresh_from_db()
    assert representative.role == "Страховой представитель (тест)"


NO_CHANNEL_ERROR = (
    "Заполните хотя бы одно из полей «Телефоны», «Электронная почта» или «Адрес офиса»"
)


def test_a_contact_without_a_way_to_reach_it_is_refused_in_admin(client, staff, perm):
    data = {
        "region": perm.pk,
        "level": "2",
        "code": "perm-silent",
        "role": "Представитель без контактов",
        "person": "Тестов Тест Тестович",
        "phones": "",
        "email": "",
        "address": "  ",
        "notes": "Принимает по записи",
        "order": "0",
        "is_active": "on",
        **management("hours", total=1),
        "hours-0-weekday": "1",
        "hours-0-opens": "09:00",
        "hours-0-closes": "18:00",
    }
    response = client.post(reverse("admin:representatives_representative_add"), data)
    assert response.status_code == 200
    assert NO_CHANNEL_ERROR in response.content.decode()
    assert not Representative.objects.exists()
    assert not LogEntry.objects.exists()

    response = client.post(
        reverse("admin:representatives_representative_add"), data | {"email": "test@example.com"}
    )
    assert response.status_code == 302
    assert Representative.objects.get(code="perm-silent").email == "test@example.com"


def test_a_contact_saved_without_a_channel_earlier_does_not_block_the_list(client, staff, perm):
    # The list edits «порядок» and «показывать» only: hiding such a contact is one way to fix it.
    silent = make_representative(perm, role="Без контактов", phones="")
    url = reverse("admin:representatives_representative_changelist")
    data = management("form", total=1, initial=1) | {
        "form-0-id": str(silent.pk),
        "form-0-order": "5",
        "_save": "Сохранить",
    }
    response = client.post(url, data)
    assert response.status_code == 302
    silent.refresh_from_db()
    assert (silent.order, silent.is_active) == (5, False)


def list_form(page: str) -> dict:
    """The contacts' list as a browser posts it: every row's fields, ticked boxes only."""
    data = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'name="(form-[^"]+)"', tag)
        if name and ('type="checkbox"' not in tag or " checked" in tag):
            value = re.search(r'value="([^"]*)"', tag)
            data[name[1]] = html.unescape(value[1]) if value else "on"
    return data | {"_save": "Сохранить"}


def row(page: str, contact) -> str:
    """The prefix of a contact's row in the list's form."""
    return re.search(rf'name="(form-\d+-)id" value="{contact.pk}"', page)[1]


def test_the_list_does_not_undo_what_a_colleague_saved_since_it_was_opened(
    client, staff, perm, django_user_model
):
    """The editor opened the list, a colleague unticked «Показывать» of X, the editor changed
    only the order of Y and saved: X was shown again, and «Изменения сохранены: 2»."""
    x = make_representative(perm, role="Контакт X", order=1)
    y = make_representative(perm, role="Контакт Y", order=2)
    url = reverse("admin:representatives_representative_changelist")
    opened = client.get(url).content.decode()
    colleague = Client()
    colleague.force_login(django_user_model.objects.create_superuser("colleague", "c@e.ru", "pw"))
    x_page = reverse("admin:representatives_representative_change", args=[x.pk])
    assert colleague.post(x_page, representative_form(x, is_active="")).status_code == 302

    response = client.post(url, list_form(opened) | {f"{row(opened, y)}order": "7"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "этот контакт сохранил другой сотрудник. Список не сохранён" in page
    assert f'name="{row(opened, y)}order" value="7"' in page  # what the editor typed stays
    x.refresh_from_db()
    y.refresh_from_db()
    assert (x.is_active, y.order) == (False, 2)

    # Reopened, the list saves; a row saved by a colleague but not edited here is not written.
    reopened = client.get(url).content.decode()
    Representative.objects.filter(pk=x.pk).update(role="Контакт X (правка)", updated_at=now())
    x.refresh_from_db()
    response = client.post(url, list_form(reopened) | {f"{row(reopened, y)}order": "7"})
    assert response.status_code == 302
    assert "Изменения сохранены: 1 " in client.get(url).content.decode()
    assert Representative.objects.get(pk=y.pk).order == 7
    assert Representative.objects.get(pk=x.pk).updated_at == x.updated_at
    assert not LogEntry.objects.filter(object_id=str(x.pk), user=staff).exists()


def test_a_representative_is_added_without_javascript(client, staff, regions, perm):
    """The region was an autocomplete select that JavaScript fills: without it the select was
    empty, the region required, and no representative could be added at all."""
    html = client.get(reverse("admin:representatives_representative_add")).content.decode()
    select = re.search(r'<select name="region"[^>]*>(.*?)</select>', html, re.S)[1]
    assert select.count("<option") == 1 + len(regions.regions)
    # Two empty rows of hours: a day with a break is two intervals, and «Добавить ещё» is
    # JavaScript too.
    assert 'name="hours-1-weekday"' in html and 'name="hours-2-weekday"' not in html
    data = {
        "region": perm.pk,
        "level": "2",
        "code": "perm-no-js",
        "role": "Страховой представитель (без JavaScript)",
        "phones": "8 (342) 200-00-02",
        "order": "0",
        "is_active": "on",
        **management("hours", total=2),
    }
    for row, (opens, closes) in enumerate((("09:00", "13:00"), ("14:00", "18:00"))):
        data |= {f"hours-{row}-weekday": "1", f"hours-{row}-opens": opens}
        data |= {f"hours-{row}-closes": closes}
    response = client.post(reverse("admin:representatives_representative_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    added = Representative.objects.get(role="Страховой представитель (без JavaScript)")
    assert added.region == perm
    assert added.hour_groups[0].times == "09:00–13:00, 14:00–18:00"


def test_admin_names_representatives_without_bending_the_noun(client, staff, perm):
    """Django's Russian put the model's name into sentences in the nominative: «Выберите
    страховой представитель для изменения», «Добавить страховой представитель», «Вы уверены,
    что хотите удалить страховой представитель …?», «Добавлен часы приёма …»."""
    representative = make_representative(
        perm, role="Представитель (тест)", hours=[(1, "09:00", "18:00")]
    )
    changelist = reverse("admin:representatives_representative_changelist")
    listed = " ".join(strip_tags(client.get(changelist).content.decode()).split())
    assert "Выберите для изменения: страховой представитель" in listed
    assert "Добавить: страховой представитель" in listed
    assert "Удалить выбранное: страховые представители" in listed
    added = client.get(reverse("admin:representatives_representative_add")).content.decode()
    assert "<h1>Добавить: страховой представитель</h1>" in added
    inline = json.loads(html.unescape(re.search(r'data-inline-formset="([^"]*)"', added)[1]))
    assert inline["options"]["addText"] == "Добавить ещё: Часы приёма"  # JavaScript's link
    delete = reverse("admin:representatives_representative_delete", args=[representative.pk])
    asked = " ".join(strip_tags(client.get(delete).content.decode()).split())
    assert "Удалить запись (страховой представитель «Представитель (тест)»)?" in asked
    url = reverse("admin:representatives_representative_change", args=[representative.pk])
    data = representative_form(representative) | management("hours", total=2, initial=1)
    data |= {
        "hours-0-id": representative.hours.get().pk,
        "hours-0-representative": representative.pk,
    }
    data |= {"hours-0-weekday": "1", "hours-0-opens": "09:00", "hours-0-closes": "17:00"}
    data |= {"hours-1-weekday": "2", "hours-1-opens": "09:00", "hours-1-closes": "18:00"}
    assert client.post(url, data).status_code == 302
    history = reverse("admin:representatives_representative_history", args=[representative.pk])
    told = " ".join(strip_tags(client.get(history).content.decode()).split())
    # The inline row is named after its change, with the value it had and the one it got.
    assert "Изменено: Конец приёма: «18:00» → «17:00» (часы приёма «понедельник" in told
    assert "Добавлено: часы приёма «" in told
    for wrong in ("Выберите страховой", "Добавить страховой", "удалить страховой", "Добавлен "):
        assert wrong not in listed + added + asked + told
