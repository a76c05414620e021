"""Admin's «История» of content says what each changed field was and what it became, so a value
cleared or mistyped by mistake can be seen and typed back."""

import html
import json
from http import HTTPStatus

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.utils.html import strip_tags

from company.models import Company
from legal.models import LegalAct
from regions.models import Region
from representatives.models import Representative

from .factories import (
    FICTITIOUS_COMPANY,
    PDF_BYTES,
    form_value,
    make_company,
    make_representative,
    management,
    region_form,
    registry_file,
    upload,
)
from .test_legal import act_form, change_url

pytestmark = pytest.mark.django_db


def history(client, obj) -> str:
    """The history page's table as staff read it."""
    opts = obj._meta
    page = client.get(f"/admin/{opts.app_label}/{opts.model_name}/{obj.pk}/history/")
    assert page.status_code == HTTPStatus.OK
    content = page.content.decode()
    start = content.index('id="change-history"')
    table = content[start : content.index("</table>", start)]
    return " ".join(html.unescape(strip_tags(table)).split())


def test_a_fund_site_changed_in_admin_shows_what_it_was_and_what_it_became(admin_client, regions):
    region = regions.by_slug["tomsk-oblast"]
    url = f"/admin/regions/region/{region.pk}/change/"
    # A new site needs its source named (regions.admin's source rule).
    source = {"tfoms_source": "Официальный сайт фонда (тест)", "tfoms_source_url": ""}
    data = region_form(region, tfoms_site="https://new.example/", **source)
    assert admin_client.post(url, data).status_code == HTTPStatus.FOUND

    told = history(admin_client, region)
    assert "admin" in told
    assert "ТФОМС: сайт: «https://www.ttfoms.tomsk.ru/» → «https://new.example/»" in told
    # The start page's «Последние действия» lists the entry by the region's name.
    recent = admin_client.get("/admin/").content.decode()
    assert f'<a href="/admin/regions/region/{region.pk}/change/">Томская область</a>' in recent


def test_a_cleared_field_shows_its_old_value_and_empty(admin_client, regions):
    region = regions.by_slug["perm-krai"]
    url = f"/admin/regions/region/{region.pk}/change/"
    data = region_form(region, tfoms_name="", tfoms_site="")
    assert admin_client.post(url, data).status_code == HTTPStatus.FOUND

    assert Region.objects.get(pk=region.pk).tfoms_site == ""
    assert (
        "Изменено: ТФОМС: название: «ТФОМС Пермского края» → (пусто); "
        "ТФОМС: сайт: «http://www.pofoms.ru/» → (пусто)."
    ) in history(admin_client, region)


def test_contacts_added_and_deleted_on_the_region_page_are_named(admin_client, regions):
    """Contacts are read-only on the region's page (edited on their own page), so what it can
    do to them is add and delete: the region's history names which one."""
    perm = regions.by_slug["perm-krai"]
    gone = make_representative(perm, role="Офис (тест)", person="Иванов И. И.")
    rows = {"representatives-0-id": gone.pk, "representatives-0-region": perm.pk}
    rows |= {"representatives-0-DELETE": "on"}
    new = {"level": "2", "code": "perm-new", "role": "Новый офис (тест)"}
    new |= {"phones": "8 (342) 200-00-01", "order": "0", "is_active": "on"}
    rows |= {f"representatives-1-{name}": value for name, value in new.items()}
    data = region_form(perm) | management("representatives", total=2, initial=1) | rows
    url = f"/admin/regions/region/{perm.pk}/change/"
    assert admin_client.post(url, data).status_code == HTTPStatus.FOUND

    assert list(Representative.objects.values_list("code", flat=True)) == ["perm-new"]
    told = history(admin_client, perm)
    assert "Добавлено: страховой представитель «Новый офис (тест)»." in told
    assert "Удалено: страховой представитель «Офис (тест) (Иванов И. И.)»." in told


def test_an_inline_row_changed_is_named_with_its_change(admin_client, regions):
    law = LegalAct.objects.get(slug="326-fz")
    provision = law.provisions.all()[1]
    response = admin_client.post(change_url(law), act_form(law, **{"provisions-1-text": "ст. 45"}))
    assert response.status_code == HTTPStatus.FOUND

    assert (
        f"Изменено: Положение: «{provision.text}» → «ст. 45» (положение акта «ст. 45»)."
        in history(admin_client, law)
    )


def test_a_contact_edit_shows_lines_choices_and_yes_or_no_as_admin_shows_them(
    admin_client, regions
):
    contact = make_representative(
        regions.by_slug["perm-krai"], level=2, phones="8 (342) 200-00-00\n8 (342) 200-00-01"
    )
    data = {
        "region": contact.region_id, "level": "3", "code": contact.code, "role": contact.role,
        "phones": "8 (342) 200-00-00", "order": "0", "is_active": "", **management("hours"),
    }  # fmt: skip
    url = f"/admin/representatives/representative/{contact.pk}/change/"
    assert admin_client.post(url, data).status_code == HTTPStatus.FOUND

    told = history(admin_client, contact)
    assert (
        "Уровень: «Второй уровень — информирование и сопровождение, профилактика, обращения» → "
        "«Третий уровень — жалобы, экспертиза, защита прав»"
    ) in told
    assert "Телефоны: «8 (342) 200-00-00; 8 (342) 200-00-01» → «8 (342) 200-00-00»" in told
    assert "Показывать на сайте: «да» → «нет»" in told


def test_a_registry_file_shows_labels_dates_and_file_names(admin_client, regions, media_root):
    item = registry_file(title="Реестр", name="reestr.pdf", region=regions.by_slug["perm-krai"])
    data = {
        "title": item.title, "kind": "programme", "region": "", "published_on": "02.11.2026",
        "file": upload("zamena.pdf", PDF_BYTES),
    }  # fmt: skip
    url = f"/admin/regions/registryfile/{item.pk}/change/"
    assert admin_client.post(url, data).status_code == HTTPStatus.FOUND

    told = history(admin_client, item)
    assert "Вид: «Реестр медицинских организаций» → «Базовая программа ОМС»" in told
    assert "Регион: «Пермский край» → «Вся Россия»" in told  # as its select names it
    assert f"Дата публикации: «{item.published_on:%d.%m.%Y}» → «02.11.2026»" in told
    assert "Файл: «reestr.pdf» → «zamena.pdf»" in told


def test_long_values_are_shortened(admin_client, regions):
    company = make_company()
    long = "д. 1, " * 60  # 360 characters
    data = {name: form_value(value) for name, value in FICTITIOUS_COMPANY.items()}
    assert (
        admin_client.post(
            f"/admin/company/company/{Company.PK}/change/", data | {"postal_address": long}
        ).status_code
        == HTTPStatus.FOUND
    )

    message = LogEntry.objects.get(object_id=str(company.pk)).get_change_message()
    new = message.split(" → ")[1]
    assert new == f"«{long[:200].rstrip()}…»."
    assert "Почтовый адрес: «000000, г. Образцов, ул. Тестовая, д. 1» → «д. 1" in message


def test_a_list_edit_of_contacts_shows_the_values_too(admin_client, regions):
    contact = make_representative(regions.by_slug["perm-krai"], order=0)
    data = management("form", total=1, initial=1) | {
        "form-0-id": contact.pk, "form-0-order": "5", "form-0-is_active": "on",
        "_save": "Сохранить",
    }  # fmt: skip
    response = admin_client.post("/admin/representatives/representative/", data)
    assert response.status_code == HTTPStatus.FOUND
    assert "Изменено: Порядок: «0» → «5»." in history(admin_client, contact)


def test_an_edit_that_changes_nothing_says_so(admin_client, regions):
    region = regions.by_slug["tomsk-oblast"]
    url = f"/admin/regions/region/{region.pk}/change/"
    assert admin_client.post(url, region_form(region)).status_code == HTTPStatus.FOUND
    assert "Ни одно поле не изменено." in history(admin_client, region)


def test_entries_written_before_still_read_as_before(admin_client, admin_user, regions):
    """Entries Django wrote as JSON (field names only) are still shown, in the locale's words."""
    region = regions.by_slug["tomsk-oblast"]
    old = [
        {"changed": {"fields": ["ТФОМС: сайт", "ТФОМС: телефон"]}},
        {"added": {"name": "страховой представитель", "object": "Офис (тест)"}},
        {
            "changed": {
                "name": "страховой представитель",
                "object": "Офис (тест)",
                "fields": ["ФИО"],
            }
        },
    ]
    LogEntry.objects.log_actions(
        admin_user.pk, [region], CHANGE, json.dumps(old), single_object=True
    )
    told = history(admin_client, region)
    assert "Изменено: ТФОМС: сайт и ТФОМС: телефон." in told
    assert "Добавлено: страховой представитель «Офис (тест)»." in told
    assert "Изменено: ФИО (страховой представитель «Офис (тест)»)." in told
