import contextlib
import errno
import re
import resource
import signal
from http import HTTPStatus
from pathlib import Path

import pytest
from django.contrib.admin.models import LogEntry
from django.utils import timezone
from django.utils.html import strip_tags

from company.models import Company
from legal.models import LegalAct
from regions.admin import not_stored_message
from regions.models import Region, RegistryFile, Subject
from representatives.models import Representative

from .factories import (
    PDF_BYTES,
    form_value,
    make_company,
    make_representative,
    management,
    region_form,
    registry_file,
    upload,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(admin_client):
    return admin_client


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/regions/region/",
        "/admin/regions/region/?q=Томская",
        "/admin/regions/region/?is_default__exact=1",
        "/admin/regions/registryfile/",
        "/admin/regions/registryfile/add/",
    ],
)
def test_admin_pages_load_for_staff(staff, regions, url):
    response = staff.get(url)
    assert response.status_code == HTTPStatus.OK


def test_region_admin_is_in_russian_and_searchable(staff, regions):
    page = staff.get("/admin/regions/region/?q=RU-TOM").content.decode()
    assert "Томская область" in page
    assert "Пермский край" not in page
    assert "регион" in page.lower()


def test_region_change_form_loads_and_saves_with_history(staff, regions, admin_user):
    region = regions.by_slug["tomsk-oblast"]
    url = f"/admin/regions/region/{region.pk}/change/"
    assert staff.get(url).status_code == HTTPStatus.OK
    data = region_form(region)
    data.update(tfoms_phone="8 (3822) 12-34-56", tfoms_name="ТФОМС (тест)")
    data.update(tfoms_source="Официальный сайт фонда (тест)", tfoms_source_url="")
    response = staff.post(url, data)
    assert response.status_code == HTTPStatus.FOUND, response.content.decode()[:2000]
    assert Region.objects.get(pk=region.pk).tfoms_phone == "8 (3822) 12-34-56"
    entry = LogEntry.objects.get(object_id=str(region.pk))
    assert entry.user == admin_user
    history = staff.get(f"/admin/regions/region/{region.pk}/history/").content.decode()
    assert admin_user.username in history


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tfoms_phone": "позвоните нам"}, "Неверный номер телефона"),
        # A foreign number typed by mistake was offered to citizens to call.
        ({"tfoms_phone": "+1 650 253 0000"}, "не российский"),
        ({"tfoms_phone": "+44 20 7946 0000"}, "не российский"),
        ({"is_default": "on"}, "Регион по умолчанию может быть только один"),
    ],
)
def test_region_admin_refuses_bad_values_and_saves_nothing(staff, regions, changes, message):
    region = regions.by_slug["tomsk-oblast"]
    response = staff.post(
        f"/admin/regions/region/{region.pk}/change/", region_form(region) | changes
    )
    assert response.status_code == HTTPStatus.OK
    assert message in response.content.decode()
    saved = Region.objects.get(pk=region.pk)
    assert (saved.tfoms_phone, saved.is_default) == ("", False)


def test_a_second_default_region_is_refused_naming_the_current_one(staff, regions):
    tomsk = regions.by_slug["tomsk-oblast"]
    url = f"/admin/regions/region/{tomsk.pk}/change/"
    page = staff.post(url, region_form(tomsk, is_default="on")).content.decode()
    assert (
        "Регион по умолчанию может быть только один, сейчас это «Город Москва». Снимите "
        "отметку у него, затем отметьте этот регион."
    ) in page
    assert page.count("Регион по умолчанию может быть только один") == 1
    moscow = regions.by_slug["moscow"]
    # Its own page saves with the mark kept.
    moscow_url = f"/admin/regions/region/{moscow.pk}/change/"
    assert staff.post(moscow_url, region_form(moscow)).status_code == HTTPStatus.FOUND
    assert Region.objects.get(is_default=True).slug == "moscow"


def test_a_name_for_sentences_without_its_preposition_is_refused(staff, client, regions):
    """«Белгородской области» saved, and pages said «Если ваш полис ОМС выдан Белгородской
    области»."""
    belgorod = regions.by_slug["belgorod-oblast"]
    url = f"/admin/regions/region/{belgorod.pk}/change/"
    for name_in in ("Белгородской области", "В Белгородской области", "вБелгородской области"):
        response = staff.post(url, region_form(belgorod, name_in=name_in))
        assert response.status_code == HTTPStatus.OK
        assert "Пишите с предлогом «в» или «во», со строчной буквы" in response.content.decode()
    page = client.get(belgorod.get_absolute_url()).content.decode().replace("\xa0", " ")
    assert "Если ваш полис ОМС выдан в Белгородской области," in page
    vladimir = regions.by_slug["vladimir-oblast"]
    url = f"/admin/regions/region/{vladimir.pk}/change/"
    assert staff.post(url, region_form(vladimir)).status_code == HTTPStatus.FOUND


def test_list_counts_take_the_form_the_number_asks_for(staff, regions, media_root):
    """«0 файлы для скачивания», «23 регионы» under admin's lists."""
    from omsportal.templatetags.admin_counts import COUNTED

    def count_line(url: str) -> str:
        page = staff.get(url).content.decode()
        return " ".join(strip_tags(page.split('<p class="paginator">')[1].split("</p>")[0]).split())

    assert count_line("/admin/regions/registryfile/") == "0 файлов для скачивания"
    registry_file(title="Реестр МО")
    assert count_line("/admin/regions/registryfile/") == "1 файл для скачивания"
    assert count_line("/admin/regions/region/") == "23 региона"
    assert count_line("/admin/regions/subject/") == "89 субъектов РФ"
    assert count_line("/admin/legal/legalact/") == "3 нормативных акта"
    # Every model staff see listed has its forms (the record of the company is never listed).
    from django.contrib import admin

    listed = {model._meta.label_lower for model in admin.site._registry} - {"company.company"}
    assert listed <= set(COUNTED)


def test_staff_uploads_a_registry_file(staff, regions, media_root):
    response = staff.post(
        "/admin/regions/registryfile/add/",
        {
            "title": "Реестр МО",
            "kind": "registry",
            "region": regions.by_slug["perm-krai"].pk,
            "file": upload("reestr.pdf", PDF_BYTES),
            "published_on": "2026-11-01",
        },
    )
    assert response.status_code == HTTPStatus.FOUND
    item = RegistryFile.objects.get()
    assert item.size == len(PDF_BYTES)
    assert item.region.slug == "perm-krai"


@pytest.mark.django_db(transaction=True)  # files go once the deletion commits
def test_a_deleted_or_replaced_file_leaves_the_disk(staff, regions, media_root):
    """A file uploaded by mistake may hold personal data: deleted in admin, it stayed in the
    media folder and its backups."""
    item = registry_file(title="Опубликован по ошибке")
    first = Path(item.file.path)
    assert first.exists()
    url = f"/admin/regions/registryfile/{item.pk}/change/"
    replaced = {
        "title": item.title, "kind": item.kind, "published_on": "01.11.2026",
        "file": upload("zamena.pdf", PDF_BYTES),
    }  # fmt: skip
    assert staff.post(url, replaced).status_code == HTTPStatus.FOUND
    item.refresh_from_db()
    assert not first.exists()
    second = Path(item.file.path)
    assert second.exists()
    delete = f"/admin/regions/registryfile/{item.pk}/delete/"
    assert staff.post(delete, {"post": "yes"}).status_code == HTTPStatus.FOUND
    assert not second.exists()


def test_a_publication_date_in_the_future_is_refused(staff, regions, media_root):
    """Shown as «опубликован 1 января 2030 г.» and listed first."""
    response = staff.post(
        "/admin/regions/registryfile/add/",
        {
            "title": "Реестр МО",
            "kind": "registry",
            "file": upload("reestr.pdf", PDF_BYTES),
            "published_on": "01.01.2099",
        },
    )
    assert response.status_code == HTTPStatus.OK
    assert "Дата публикации не может быть позже сегодняшней" in response.content.decode()
    assert not RegistryFile.objects.exists()


def test_only_superusers_change_what_regions_are_keyed_by(client, regions, django_user_model):
    """An editor changed Pskov's address and code: its page 404'd, the journey lost its
    contacts, visitors who had chosen it lost the choice."""
    from django.contrib.auth.models import Permission

    editor = django_user_model.objects.create_user("redaktor", password="pw", is_staff=True)
    editor.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_region", "change_region"])
    )
    client.force_login(editor)
    pskov = regions.by_slug["pskov-oblast"]
    url = f"/admin/regions/region/{pskov.pk}/change/"
    data = region_form(pskov, slug="pskov", code="96", tfoms_name="ТФОМС (тест)")
    data["tfoms_source"] = "Официальный сайт фонда (тест)"
    assert client.post(url, data).status_code == HTTPStatus.FOUND
    pskov.refresh_from_db()
    assert (pskov.slug, pskov.code, pskov.tfoms_name) == ("pskov-oblast", "60", "ТФОМС (тест)")
    page = client.get(url).content.decode()
    assert 'name="slug"' not in page and "pskov-oblast" in page


def opened_at(page: str) -> str:
    return re.search(r'name="opened_at" value="([^"]+)"', page)[1]


def test_a_form_opened_before_a_colleagues_save_cannot_undo_it(staff, regions):
    """Editor A opened the region, B saved the fund's name; A's save wrote every field of the
    page A had opened, and B's change was gone without a word."""
    region = regions.by_slug["vladimir-oblast"]
    url = f"/admin/regions/region/{region.pk}/change/"
    a_opened = opened_at(staff.get(url).content.decode())
    b_opened = opened_at(staff.get(url).content.decode())
    saved = region_form(region, tfoms_name="ТФОМС (правка Б)", opened_at=b_opened)
    saved["tfoms_source"] = "Официальный сайт фонда (тест)"
    assert staff.post(url, saved).status_code == HTTPStatus.FOUND
    late = region_form(region, health_name="Департамент (правка А)", opened_at=a_opened)
    response = staff.post(url, late)
    assert response.status_code == HTTPStatus.OK
    assert "её сохранил другой сотрудник" in response.content.decode()
    region.refresh_from_db()
    assert (region.tfoms_name, region.health_name) == ("ТФОМС (правка Б)", "")


def test_a_representative_opened_before_a_colleagues_save_is_not_saved_over(staff, regions):
    contact = make_representative(regions.by_slug["perm-krai"], level=2, role="Офис (тест)")
    url = f"/admin/representatives/representative/{contact.pk}/change/"
    a_opened = opened_at(staff.get(url).content.decode())
    Representative.objects.filter(pk=contact.pk).update(
        phones="8 (342) 200-00-09", updated_at=timezone.now()
    )  # an import, meanwhile
    data = {
        "region": contact.region_id, "level": "2", "code": contact.code, "role": "Офис (тест)",
        "phones": "8 (342) 200-00-00", "order": "0", "is_active": "on", "opened_at": a_opened,
        **management("hours"),
    }  # fmt: skip
    response = staff.post(url, data)
    assert response.status_code == HTTPStatus.OK
    assert "её сохранил другой сотрудник" in response.content.decode()
    assert Representative.objects.get(pk=contact.pk).phones == "8 (342) 200-00-09"


def test_bad_upload_in_admin_shows_an_error_and_saves_nothing(staff, regions, media_root):
    response = staff.post(
        "/admin/regions/registryfile/add/",
        {
            "title": "Подделка",
            "kind": "registry",
            "file": upload("reestr.pdf", b"MZ not a pdf"),
            "published_on": "2026-11-01",
        },
    )
    assert response.status_code == HTTPStatus.OK
    assert "не соответствует расширению .pdf" in response.content.decode()
    assert not RegistryFile.objects.exists()


def test_registry_file_changelist_shows_all_russia(staff, regions, media_root):
    registry_file(title="Общий файл")
    page = staff.get("/admin/regions/registryfile/").content.decode()
    assert "Общий файл" in page and "Вся Россия" in page


def test_anonymous_visitors_are_sent_to_login(client, regions):
    response = client.get("/admin/regions/region/")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/admin/login/")


def messages_shown(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_save_and_delete_messages_are_plain_russian_whatever_the_noun(staff, regions, media_root):
    """Django's Russian wording is masculine for every model («Обращение … был успешно
    изменен», «Сведения о компании … был изменен») in mismatched quotes “…“."""
    Company.objects.all().delete()  # the migrations' empty record: the add message, as before
    response = staff.post(
        "/admin/company/company/add/",
        {"name": "Пример-Мед", "legal_form": "", "request_log_days": "", "_continue": "1"},
        follow=True,
    )
    assert messages_shown(response) == [
        'Добавлено: сведения о компании «<a href="/admin/company/company/1/change/">Сведения о'
        " компании</a>». Ниже можно изменить ещё раз."
    ]
    item = registry_file(title="Реестр МО")
    response = staff.post(
        f"/admin/regions/registryfile/{item.pk}/change/",
        {"title": "Реестр МО 2026", "kind": "registry", "region": "", "published_on": "01.11.2026"},
        follow=True,
    )
    shown = messages_shown(response)
    assert len(shown) == 1 and shown[0].startswith("Изменения сохранены: файл для скачивания «")
    assert "Реестр МО 2026</a>»." in shown[0]
    response = staff.post(
        f"/admin/regions/registryfile/{item.pk}/delete/", {"post": "yes"}, follow=True
    )
    assert messages_shown(response) == ["Удалено: файл для скачивания «Реестр МО 2026»."]


def test_bulk_delete_says_how_many_without_bending_the_noun(staff, regions):
    make_representative(regions.by_slug["perm-krai"], code="a")
    rep = make_representative(regions.by_slug["perm-krai"], code="b")
    response = staff.post(
        "/admin/representatives/representative/",
        {"action": "delete_selected", "_selected_action": [rep.pk], "post": "yes"},
        follow=True,
    )
    assert messages_shown(response) == ["Удалено записей: 1 (страховой представитель)."]


def select_options(html: str, name: str) -> list[str]:
    """The texts of a select's options, as a browser without JavaScript offers them."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no select {name}"
    return [text.strip() for text in re.findall(r"<option[^>]*>([^<]*)</option>", select[1])]


def test_registry_file_region_is_chosen_without_javascript(staff, regions, media_root):
    """The region was an autocomplete select that JavaScript fills: without it the add page
    offered only the empty choice, and a regional file was saved for all Russia; a file's page
    offered only its own region, so the file could not be moved."""
    added = select_options(staff.get("/admin/regions/registryfile/add/").content.decode(), "region")
    assert added[0] == "Вся Россия"
    assert len(added) == 1 + len(regions.regions) and "Томская область" in added
    item = registry_file(region=regions.by_slug["perm-krai"])
    url = f"/admin/regions/registryfile/{item.pk}/change/"
    assert "Томская область" in select_options(staff.get(url).content.decode(), "region")
    response = staff.post(
        url,
        {
            "title": item.title,
            "kind": item.kind,
            "region": regions.by_slug["tomsk-oblast"].pk,
            "published_on": form_value(item.published_on),
        },
    )
    assert response.status_code == HTTPStatus.FOUND
    assert RegistryFile.objects.get().region.slug == "tomsk-oblast"


def test_a_region_page_offers_an_empty_contact_row_without_javascript(staff, regions):
    """«Добавить ещё» is admin JavaScript: with no empty row, no contact could be added here."""
    region = regions.by_slug["perm-krai"]
    url = f"/admin/regions/region/{region.pk}/change/"
    page = staff.get(url).content.decode()
    assert 'name="representatives-0-role"' in page
    assert 'name="representatives-1-role"' not in page  # one row, not a wall of them


def test_a_content_editor_keeps_the_content(content_editor, regions, media_root):
    """The role the migrations create lets a staff member do the editors' work."""
    perm = regions.by_slug["perm-krai"]
    url = f"/admin/regions/region/{perm.pk}/change/"
    response = content_editor.post(url, region_form(perm, hotline_phone="8 (342) 200-00-09"))
    assert response.status_code == HTTPStatus.FOUND, response.content.decode()[:2000]
    assert Region.objects.get(pk=perm.pk).hotline_phone == "8 (342) 200-00-09"
    response = content_editor.post(
        "/admin/regions/registryfile/add/",
        {
            "title": "Реестр МО",
            "kind": "registry",
            "region": perm.pk,
            "file": upload("reestr.pdf", PDF_BYTES),
            "published_on": "01.11.2026",
        },
    )
    assert response.status_code == HTTPStatus.FOUND
    item = RegistryFile.objects.get()
    response = content_editor.post(
        f"/admin/regions/registryfile/{item.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == HTTPStatus.FOUND and not RegistryFile.objects.exists()
    representative = make_representative(perm)
    for page in (
        "/admin/representatives/representative/add/",
        f"/admin/representatives/representative/{representative.pk}/delete/",
        "/admin/representatives/representative/import/",
        "/admin/legal/legalact/add/",
        f"/admin/company/company/{make_company().pk}/change/",
    ):
        assert content_editor.get(page).status_code == HTTPStatus.OK, page
    index = content_editor.get("/admin/").content.decode()
    assert "Пользователи" not in index and "Обращения граждан" not in index


def test_a_content_editor_cannot_delete_regions_or_edit_reference_data(content_editor, regions):
    perm = regions.by_slug["perm-krai"]
    subject = Subject.objects.first()
    act = LegalAct.objects.first()
    refused = [
        content_editor.get(f"/admin/regions/region/{perm.pk}/delete/"),
        content_editor.post(f"/admin/regions/region/{perm.pk}/delete/", {"post": "yes"}),
        content_editor.get("/admin/regions/region/add/"),
        content_editor.post(f"/admin/regions/subject/{subject.pk}/change/", {"name": "Другое"}),
        content_editor.get(f"/admin/legal/legalact/{act.pk}/delete/"),
        content_editor.get("/admin/company/company/add/"),
        content_editor.get("/admin/auth/user/"),
    ]
    assert [response.status_code for response in refused] == [HTTPStatus.FORBIDDEN] * 7
    assert Region.objects.filter(pk=perm.pk).exists()
    assert Subject.objects.get(pk=subject.pk).name == subject.name


def test_only_staff_who_read_appeals_set_where_new_ones_are_announced(
    content_editor, staff, regions
):
    """The notification names the appeal, its topic and its admin link: a content editor could
    have sent it to any address, or stopped it, unseen by those who answer appeals."""
    perm = regions.by_slug["perm-krai"]
    Region.objects.filter(pk=perm.pk).update(appeals_email="obrashcheniya@example.ru")
    url = f"/admin/regions/region/{perm.pk}/change/"
    assert 'name="appeals_email"' not in content_editor.get(url).content.decode()
    forged = region_form(perm, appeals_email="attacker@example.com")
    assert content_editor.post(url, forged).status_code == HTTPStatus.FOUND  # the rest is saved
    assert Region.objects.get(pk=perm.pk).appeals_email == "obrashcheniya@example.ru"

    assert 'name="appeals_email"' in staff.get(url).content.decode()
    staff.post(url, region_form(perm, appeals_email="perm@example.ru"))
    assert Region.objects.get(pk=perm.pk).appeals_email == "perm@example.ru"


def test_admin_pages_label_nothing_in_english_and_say_what_files_are_taken(staff, regions):
    """The hidden «when the page was opened» field was labelled «Opened at:»; the file field
    said nothing of the formats and the size limit until an upload was refused."""
    perm = regions.by_slug["perm-krai"]
    representative = make_representative(perm)
    for url in (
        f"/admin/regions/region/{perm.pk}/change/",
        f"/admin/representatives/representative/{representative.pk}/change/",
    ):
        page = staff.get(url).content.decode()
        assert "Opened at" not in page and "Когда открыта страница" in page, url
    page = " ".join(
        strip_tags(staff.get("/admin/regions/registryfile/add/").content.decode()).split()
    )
    assert "Форматы: pdf, xlsx, xls, docx, doc, ods, odt, csv, zip." in page
    assert "Размер — не больше 20,0 МБ." in page  # split() took the no-break space


def registry_upload(content: bytes) -> dict:
    return {
        "title": "Реестр МО на декабрь",
        "kind": "registry",
        "region": "",
        "file": upload("reestr.pdf", content),
        "published_on": "01.11.2026",
    }


def files_under(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def test_an_upload_the_server_cannot_store_is_an_error_on_the_form(staff, regions, media_root):
    """A full or broken uploads disk was the public 500 page, the typed fields lost. A file
    where the uploads' folder must be fails for root too (tests run as root here)."""
    media_root.mkdir()
    (media_root / "registry").write_text("не папка")

    response = staff.post("/admin/regions/registryfile/add/", registry_upload(PDF_BYTES))

    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert (
        "Не удалось сохранить файл: сервер не смог записать его на диск (ошибка ENOTDIR)."
        " Сообщите администратору сайта." in page
    )
    assert 'value="Реестр МО на декабрь"' in page and 'value="01.11.2026"' in page
    assert not RegistryFile.objects.exists()
    assert files_under(media_root) == ["registry"]


@contextlib.contextmanager
def file_size_limit(limit: int):
    """Writes past ``limit`` bytes of a file fail (EFBIG) in this process, as writes to a disk
    that fills up fail part-way; root is held to it too."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    # Without this the kernel ends the process at the limit instead of failing the write.
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def test_an_upload_cut_off_part_way_leaves_no_truncated_file(staff, regions, media_root):
    """The first 64 KB were left under the file's own name, which no row named."""
    content = PDF_BYTES + b"0" * 300_000
    with file_size_limit(64 * 1024):
        response = staff.post("/admin/regions/registryfile/add/", registry_upload(content))

    assert response.status_code == HTTPStatus.OK
    assert "сервер не смог записать его на диск (ошибка EFBIG)" in response.content.decode()
    assert not RegistryFile.objects.exists()
    assert files_under(media_root) == []

    # The same upload once the disk has room again.
    response = staff.post("/admin/regions/registryfile/add/", registry_upload(content))
    assert response.status_code == HTTPStatus.FOUND
    item = RegistryFile.objects.get()
    assert files_under(media_root) == [item.file.name]
    assert Path(item.file.path).read_bytes() == content and item.size == len(content)


def test_a_full_disk_is_named_plainly():
    full = OSError(errno.ENOSPC, "No space left on device", "/app/var/media/registry/x.pdf")
    assert not_stored_message(full) == (
        "Не удалось сохранить файл: на сервере не хватает места. Сообщите администратору"
        " сайта и загрузите файл снова, когда место освободят."
    )
    assert "/app/var/media" not in not_stored_message(OSError(errno.EACCES, "Denied", "/app"))


def test_staff_refused_an_admin_page_are_told_who_grants_rights(content_editor, regions):
    """An editor may change regions, not add them: the refusal was the citizens' «Доступ
    запрещён», with no reason and nobody to ask."""
    response = content_editor.get("/admin/regions/region/add/")
    assert response.status_code == HTTPStatus.FORBIDDEN
    page = response.content.decode()
    assert "У вашей учётной записи нет права на это действие" in page
    assert "Права выдаёт администратор сайта" in page
    assert 'href="/admin/"' in page
