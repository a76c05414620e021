"""«Загрузить из таблицы» in admin: the representatives' spreadsheet uploaded, previewed and
applied by staff, through the same importer as manage.py import_representatives."""

import csv
import io
import os
import re
import time

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from regions.models import ContentVersion
from representatives import admin_import
from representatives.models import Representative
from representatives.spreadsheets import COLUMNS

from .factories import make_representative
from .test_import_corpus import DAMAGED_MESSAGE, RESAVE, XLSX_CORPUS
from .test_import_export import GOOD, HEADER, contact, perm_workbook, snapshot

pytestmark = pytest.mark.django_db

UPLOAD = reverse("admin:representatives_representative_import")
CHANGELIST = reverse("admin:representatives_representative_changelist")
PUBLIC = "/regions/perm-krai/representatives/"


def csv_file(rows, *, name="contacts.csv", header=HEADER) -> SimpleUploadedFile:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(header)
    writer.writerows([row.get(title, "") for title in header] for row in rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode("utf-8-sig"), "text/csv")


def xlsx_file(rows, *, name="contacts.xlsx") -> SimpleUploadedFile:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append([row[title] for title in HEADER])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), "application/octet-stream")


@pytest.fixture(autouse=True)
def _media_root(media_root):
    """Uploads wait in the default storage: each test sees only its own."""


@pytest.fixture
def staff(client, django_user_model):
    user = django_user_model.objects.create_superuser("editor", "editor@example.com", "pw")
    client.force_login(user)
    return user


def staff_with(django_user_model, *codenames) -> Client:
    user = django_user_model.objects.create_user("clerk", "clerk@example.com", "pw", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="representatives",
            codename__in=[f"{name}_representative" for name in codenames],
        )
    )
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def perm(regions):
    return regions.by_slug["perm-krai"]


def upload(client, file, *, prune=False):
    data = {"file": file}
    if prune:
        data["prune"] = "on"
    return client.post(UPLOAD, data)


def preview(client, file, *, prune=False):
    """The preview page of an accepted upload, and its «Применить» form's target and digest."""
    response = upload(client, file, prune=prune)
    assert response.status_code == 302, response.content.decode()
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    digest = re.search(r'name="digest" value="([0-9a-f]+)"', html)
    return html, response["Location"], digest and digest.group(1)


def text(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_the_changelist_links_to_the_upload_for_who_may_import(client, staff, regions):
    assert f'href="{UPLOAD}"' in text(client.get(CHANGELIST))
    html = text(client.get(UPLOAD))
    assert "Загрузка из таблицы" in html
    assert 'enctype="multipart/form-data"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert '<label for="id_file"' in html and '<label for="id_prune"' in html
    assert 'aria-describedby="id_file_helptext"' in html


def test_staff_without_add_and_change_rights_get_403(django_user_model, regions):
    viewer = staff_with(django_user_model, "view", "change")
    assert f'href="{UPLOAD}"' not in text(viewer.get(CHANGELIST))
    assert viewer.get(UPLOAD).status_code == 403
    assert upload(viewer, csv_file(GOOD)).status_code == 403
    assert viewer.post(f"{UPLOAD}sometoken/", {"digest": "x"}).status_code == 403
    assert not Representative.objects.exists()


def test_pruning_needs_the_delete_right_too(django_user_model, regions):
    clerk = staff_with(django_user_model, "view", "add", "change")
    html = text(clerk.get(UPLOAD))
    assert 'name="prune"' not in html and "правом удалять" in html
    assert upload(clerk, csv_file(GOOD), prune=True).status_code == 403
    assert upload(clerk, csv_file(GOOD)).status_code == 302


def test_anonymous_visitors_are_sent_to_the_login(client, regions):
    response = client.get(UPLOAD)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_both_posts_need_the_csrf_token(django_user_model, regions):
    user = django_user_model.objects.create_superuser("editor", "editor@example.com", "pw")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    assert upload(browser, csv_file(GOOD)).status_code == 403
    token = browser.get(UPLOAD).context["csrf_token"]
    response = browser.post(UPLOAD, {"file": csv_file(GOOD), "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    page = browser.get(response["Location"])
    digest = re.search(r'name="digest" value="([0-9a-f]+)"', text(page)).group(1)
    assert browser.post(response["Location"], {"digest": digest}).status_code == 403
    assert not Representative.objects.exists()
    token = page.context["csrf_token"]
    applied = browser.post(response["Location"], {"digest": digest, "csrfmiddlewaretoken": token})
    assert applied.status_code == 302 and Representative.objects.count() == 3


@pytest.mark.parametrize(
    ("file", "message"),
    [
        (
            SimpleUploadedFile("contacts.pdf", b"%PDF-1.4 something"),
            "Загрузите таблицу CSV или XLSX: файлы .pdf сайт не читает",
        ),
        (SimpleUploadedFile("contacts.xls", b"\xd0\xcf\x11\xe0"), "файлы .xls сайт не читает"),
        (
            SimpleUploadedFile("contacts.xlsx", "Регион;Код контакта\n59;perm-2\n".encode()),
            "Это не таблица .xlsx: содержимое файла другое",
        ),
        (
            SimpleUploadedFile("contacts.csv", b"\x00\x01binary" * 10),
            "Это не таблица CSV: в файле двоичные данные (байт 0x00 в строке 1)",
        ),
        (
            SimpleUploadedFile("contacts.csv", b";".join(h.encode() for h in HEADER) + b"\n"),
            "В файле только строка заголовка, контактов в нём нет",
        ),
        (
            SimpleUploadedFile("contacts.csv", b"x" * (10 * 1024 * 1024 + 1)),
            "Файл слишком большой: 10,0 МБ. Наибольший размер файла — 10 МБ",
        ),
    ],
    ids=["pdf", "xls", "xlsx-not-zip", "binary-csv", "header-only", "oversized"],
)
def test_a_file_that_is_no_table_is_refused_in_words(client, staff, regions, file, message):
    response = upload(client, file)
    assert response.status_code == 200
    html = text(response)
    assert message in html
    assert 'role="alert"' in html and 'href="#id_file"' in html  # the error summary
    assert html.count(message) == 1  # said once: the summary, not again by the field
    assert 'aria-invalid="true"' in html
    assert admin_import.SESSION_KEY not in client.session
    assert not Representative.objects.exists()


# A file that is no ZIP archive at all is refused before it is read (content_matches, above).
ZIP_CORPUS = {name: case for name, case in XLSX_CORPUS.items() if "not a zip" not in name}


@pytest.mark.parametrize(("content", "message"), ZIP_CORPUS.values(), ids=ZIP_CORPUS)
def test_a_damaged_xlsx_or_a_zip_bomb_is_refused_in_words_not_with_a_500(
    client, staff, regions, content, message
):
    response = upload(client, SimpleUploadedFile("contacts.xlsx", content()))
    assert response.status_code == 200
    html = text(response)
    assert message in html
    if message == DAMAGED_MESSAGE:
        assert RESAVE in html
    assert 'role="alert"' in html and 'aria-invalid="true"' in html
    assert admin_import.SESSION_KEY not in client.session
    assert stored_uploads() == []
    assert not Representative.objects.exists()


def test_merged_cells_are_named_on_the_form_as_the_command_names_them(client, staff, perm):
    workbook = perm_workbook()
    workbook.active.merge_cells("A2:A4")
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = upload(client, SimpleUploadedFile("contacts.xlsx", buffer.getvalue()))
    assert response.status_code == 200
    html = text(response)
    assert "В таблице объединены ячейки: A2:A4 (строки 2–4, столбец «Регион»)" in html
    assert "Отмените объединение ячеек" in html and "нет такого региона" not in html
    assert admin_import.SESSION_KEY not in client.session


@pytest.mark.parametrize(
    ("encoding", "delimiter"), [("utf-16", "\t"), ("utf-16", ";"), ("cp1251", ";"), ("utf-8", ",")]
)
def test_every_encoding_the_command_reads_is_accepted_here_too(
    client, staff, perm, encoding, delimiter
):
    """Excel's «Unicode text» is UTF-16, whose NUL bytes are no sign of a binary file."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(HEADER)
    writer.writerows([row[title] for title in HEADER] for row in GOOD)
    file = SimpleUploadedFile("contacts.csv", buffer.getvalue().encode(encoding))
    html, _, digest = preview(client, file)
    assert f"Будет добавлено: {len(GOOD)}" in html and digest


def test_row_errors_are_shown_with_row_and_column_and_no_apply_button(client, staff, perm):
    make_representative(perm, code="perm-2", role="Было до загрузки")
    before, version = snapshot(), ContentVersion.objects.get().number
    bad = [*GOOD, contact(**{"Код контакта": "perm-9", "Телефоны": "8 (342) 200; 123"})]
    response = upload(client, csv_file(bad))
    assert response.status_code == 200
    html = text(response)
    # As the command prints it: «Строка 5, столбец «Телефоны»: …».
    assert "Строка 5, столбец «Телефоны»: Неверный номер телефона" in html
    assert "Ошибок в файле: 1. Ничего не записано" in html
    assert "Применить" not in html and 'name="digest"' not in html
    assert 'name="file"' in html  # the fixed file goes straight back
    assert snapshot() == before and ContentVersion.objects.get().number == version
    assert admin_import.SESSION_KEY not in client.session


def test_an_upload_left_unapplied_leaves_the_session_on_the_list(client, staff, perm, monkeypatch):
    """A preview read and left: its record leaves the session once it has expired."""
    preview(client, csv_file(GOOD))
    assert admin_import.SESSION_KEY in client.session
    client.get(CHANGELIST)
    assert admin_import.SESSION_KEY in client.session  # still within its time
    monkeypatch.setattr(admin_import, "PENDING_SECONDS", -1)
    client.get(CHANGELIST)
    assert admin_import.SESSION_KEY not in client.session


def test_the_preview_says_what_changes_per_region_and_writes_nothing(client, staff, regions, perm):
    make_representative(perm, code="perm-2", phones="8 (342) 299-99-99")
    make_representative(perm, code="perm-old", role="Представитель, которого нет в файле")
    before, version = snapshot(), ContentVersion.objects.get().number

    html, _, digest = preview(client, xlsx_file(GOOD))
    assert digest
    assert "Контактов в файле: 3. Пока ничего не записано." in html
    assert "Будет добавлено: 2" in html and "Будет изменено: 1" in html
    assert "Будет удалено: 0" in html
    assert html.index("Пермский край") < html.index("Томская область")
    assert "Телефоны: было «8 (342) 299-99-99», станет «8 (342) 200-00-00; +7 342 210-10-10»" in (
        html
    )
    assert "Примечание" not in html.split("Будут изменены")[1].split("</ul>")[0]
    assert "tomsk-2: Страховой представитель 2 уровня" in html
    assert "Нет в файле, но останутся на сайте (1)" in html
    assert "perm-old: Представитель, которого нет в файле" in html
    assert 'value="Применить"' in html
    assert snapshot() == before and ContentVersion.objects.get().number == version


def test_apply_writes_the_preview_and_the_public_page_shows_it_at_once(client, staff, perm):
    old = make_representative(perm, code="perm-2", phones="8 (342) 299-99-99")
    visitor = Client()
    assert 'href="tel:+73422999999"' in text(visitor.get(PUBLIC))  # now cached

    _, target, digest = preview(client, xlsx_file(GOOD))
    response = client.post(target, {"digest": digest})
    assert response.status_code == 302 and response["Location"] == CHANGELIST
    assert messages_of(response) == ["Изменено: 1, добавлено: 2, удалено: 0."]
    old.refresh_from_db()
    assert old.phones == "8 (342) 200-00-00\n+7 342 210-10-10"
    assert set(Representative.objects.values_list("code", flat=True)) == {
        "perm-2",
        "perm-3",
        "tomsk-2",
    }
    page = text(visitor.get(PUBLIC))
    assert 'href="tel:+73422999999"' not in page and 'href="tel:+73422101010"' in page

    # «История» of each contact names who loaded which file, and what each column was and
    # became: a phone an import overwrote by mistake can be typed back.
    entries = LogEntry.objects.filter(user=staff)
    assert entries.filter(action_flag=ADDITION).count() == 2
    changed = entries.get(action_flag=CHANGE, object_id=str(old.pk))
    assert changed.get_change_message() == (
        "Изменено загрузкой таблицы «contacts.xlsx»: "
        "Должность: «Страховой представитель (тест)» → «Страховой представитель 2 уровня»; "
        "Телефоны: «8 (342) 299-99-99» → «8 (342) 200-00-00; +7 342 210-10-10»; "
        "Электронная почта: (пусто) → «test@example.com»; "
        "Адрес офиса: (пусто) → «г. Тестовск, ул. Проверочная, д. 1»; "
        "Часы приёма: (пусто) → «пн-пт 09:00-13:00 14:00-18:00; сб 10:00-14:00»; "
        "Порядок: «0» → «1»."
    )
    history_url = reverse("admin:representatives_representative_history", args=[old.pk])
    history = text(client.get(history_url))
    assert "загрузкой таблицы «contacts.xlsx»" in history and "editor" in history
    assert "Телефоны: «8 (342) 299-99-99» → «8 (342) 200-00-00; +7 342 210-10-10»" in history

    # The preview is used up: applying it again changes nothing.
    again = client.post(target, {"digest": digest})
    assert again.status_code == 302 and again["Location"] == CHANGELIST
    assert messages_of(again) == ["Эта таблица уже загружена: повторно ничего не записано."]


def stored_uploads() -> list[str]:
    try:
        return default_storage.listdir(admin_import.PENDING_DIR)[1]
    except FileNotFoundError:
        return []


def session_size(client) -> int:
    """How many bytes the session store keeps for it (and loads on every admin page)."""
    session = client.session
    return len(session.encode(dict(session.items())))


def test_the_uploaded_file_waits_on_disk_not_in_the_session(client, staff, perm):
    # Comment rows make the file large and change nothing else.
    padding = [{HEADER[0]: "# " + "x" * 9000} for _ in range(50)]
    file = csv_file([*padding, *GOOD], name="большая таблица.csv")
    assert file.size > 450_000
    html, target, digest = preview(client, file)
    assert "Будет добавлено: 3" in html
    assert session_size(client) < 600  # a login and the record of the upload
    [stored] = stored_uploads()
    assert re.fullmatch(r"[0-9a-f]{32}", stored)  # not the staff member's file name
    assert "большая" not in str(client.session[admin_import.SESSION_KEY]["file"])

    response = client.post(target, {"digest": digest})
    assert messages_of(response) == ["Изменено: 0, добавлено: 3, удалено: 0."]
    assert stored_uploads() == []


def test_a_replaced_upload_leaves_the_disk(client, staff, perm):
    preview(client, csv_file(GOOD))
    first = stored_uploads()
    preview(client, csv_file(GOOD[:1]))
    assert len(stored_uploads()) == 1 and stored_uploads() != first


def test_an_expired_upload_leaves_the_disk_when_the_list_drops_it(client, staff, perm, monkeypatch):
    preview(client, csv_file(GOOD))
    assert len(stored_uploads()) == 1
    monkeypatch.setattr(admin_import, "PENDING_SECONDS", -1)
    client.get(CHANGELIST)
    assert admin_import.SESSION_KEY not in client.session
    assert stored_uploads() == []


def test_an_upload_left_by_another_session_is_removed_by_the_next_upload(
    client, staff, django_user_model, media_root, perm
):
    _, target, digest = preview(client, csv_file(GOOD))
    [left] = stored_uploads()
    long_ago = time.time() - admin_import.PENDING_SECONDS - 60
    os.utime(media_root / admin_import.PENDING_DIR / left, (long_ago, long_ago))

    other = Client()
    other.force_login(django_user_model.objects.create_superuser("other", "o@example.com", "pw"))
    preview(other, csv_file(GOOD[:1]))
    assert left not in stored_uploads() and len(stored_uploads()) == 1

    # Its session still holds the record: the preview says what an expired one says.
    response = client.post(target, {"digest": digest})
    assert response["Location"] == UPLOAD
    assert "устарела или уже применена" in messages_of(response)[0]
    assert admin_import.SESSION_KEY not in client.session
    assert not Representative.objects.exists()


def test_uploads_left_unapplied_are_removed_by_the_daily_command(
    client, staff, django_user_model, media_root, perm
):
    """Staff who upload and leave, with nobody uploading after them: the daily job clears it."""
    preview(client, csv_file(GOOD))
    [left] = stored_uploads()
    other = Client()
    other.force_login(django_user_model.objects.create_superuser("other", "o@example.com", "pw"))
    preview(other, csv_file(GOOD[:1]))
    [waiting] = [name for name in stored_uploads() if name != left]
    long_ago = time.time() - admin_import.PENDING_SECONDS - 60
    os.utime(media_root / admin_import.PENDING_DIR / left, (long_ago, long_ago))

    call_command("clear_import_uploads")
    assert stored_uploads() == [waiting]


def test_a_second_apply_says_the_table_is_loaded_and_writes_nothing(client, staff, perm):
    _, target, digest = preview(client, csv_file(GOOD))
    applied = client.post(target, {"digest": digest}, follow=True)
    assert "Изменено: 0, добавлено: 3, удалено: 0." in text(applied)
    before, version = snapshot(), ContentVersion.objects.get().number
    for method in (client.post, client.get):  # a double click, a reload of either page
        again = method(target, {"digest": digest}, follow=True)
        assert again.redirect_chain == [(CHANGELIST, 302)]
        html = text(again)
        assert "Эта таблица уже загружена: повторно ничего не записано." in html
        assert "Загрузите файл снова" not in html and "Изменено:" not in html
    assert snapshot() == before and ContentVersion.objects.get().number == version
    assert LogEntry.objects.count() == 3  # the first apply's only


def test_a_record_that_holds_the_bytes_themselves_is_dropped(client, staff, perm):
    """Sessions saved before the bytes moved to the disk: no error, and their bytes go."""
    session = client.session
    session[admin_import.SESSION_KEY] = {
        "token": "old-token",
        "name": "contacts.csv",
        "data": "YQ==",
        "prune": False,
        "at": time.time(),
    }
    session.save()
    assert client.get(f"{UPLOAD}old-token/")["Location"] == UPLOAD
    assert admin_import.SESSION_KEY not in client.session
    preview(client, csv_file(GOOD))


def test_a_plan_changed_since_the_preview_is_refused_and_shown_again(client, staff, perm):
    edited = make_representative(perm, code="perm-2", phones="8 (342) 299-99-99")
    _, target, digest = preview(client, csv_file(GOOD))

    # A colleague saves the contact in admin meanwhile.
    edited.phones = "8 (342) 277-77-77"
    edited.save()
    before = snapshot()
    response = client.post(target, {"digest": digest})
    assert response.status_code == 409
    html = text(response)
    assert "Пока вы смотрели на проверку, контакты изменились" in html
    assert "было «8 (342) 277-77-77»" in html  # the plan as it is now
    assert snapshot() == before

    fresh = re.search(r'name="digest" value="([0-9a-f]+)"', html).group(1)
    assert fresh != digest
    assert client.post(target, {"digest": fresh}).status_code == 302
    edited.refresh_from_db()
    assert edited.phones == "8 (342) 200-00-00\n+7 342 210-10-10"


def test_a_contact_added_meanwhile_makes_the_plan_stale(client, staff, perm):
    _, target, digest = preview(client, csv_file(GOOD))
    make_representative(perm, code="perm-2")
    response = client.post(target, {"digest": digest})
    assert response.status_code == 409
    assert Representative.objects.count() == 1


def test_prune_only_when_ticked(client, staff, regions, perm):
    gone = make_representative(perm, code="perm-old", role="Нет в файле")
    elsewhere = make_representative(regions.by_code["77"], code="moscow-kept")

    _, target, digest = preview(client, csv_file(GOOD))
    response = client.post(target, {"digest": digest})
    assert messages_of(response) == ["Изменено: 0, добавлено: 3, удалено: 0."]
    assert Representative.objects.filter(pk=gone.pk).exists()

    html, target, digest = preview(client, csv_file(GOOD), prune=True)
    assert "Будут удалены: их нет в файле (1)" in html and "perm-old: Нет в файле" in html
    assert "Будет удалено: 1" in html
    response = client.post(target, {"digest": digest})
    assert messages_of(response) == ["Изменено: 0, добавлено: 0, удалено: 1."]
    assert not Representative.objects.filter(pk=gone.pk).exists()
    assert Representative.objects.filter(pk=elsewhere.pk).exists()
    deleted = LogEntry.objects.get(action_flag=DELETION)
    assert deleted.object_id == str(gone.pk) and "его не было в файле" in deleted.change_message


def test_a_file_like_the_site_offers_nothing_to_apply(client, staff, perm):
    _, target, digest = preview(client, csv_file(GOOD))
    client.post(target, {"digest": digest})
    html, _, digest = preview(client, csv_file(GOOD))
    assert digest is None and "менять нечего" in html and "Без изменений: 3" in html


def test_only_the_last_upload_of_the_session_can_be_applied(client, staff, perm):
    _, first, first_digest = preview(client, csv_file(GOOD))
    _, second, _ = preview(client, csv_file(GOOD[:1]))
    response = client.post(first, {"digest": first_digest})
    assert response.status_code == 302 and response["Location"] == UPLOAD
    assert not Representative.objects.exists()
    assert client.get(second).status_code == 200


def test_another_session_cannot_apply_an_upload(client, staff, django_user_model, perm):
    _, target, digest = preview(client, csv_file(GOOD))
    other = Client()
    other.force_login(django_user_model.objects.create_superuser("other", "o@example.com", "pw"))
    assert other.post(target, {"digest": digest})["Location"] == UPLOAD
    assert not Representative.objects.exists()


def test_a_token_that_is_no_slug_is_no_import(client, staff, perm):
    preview(client, csv_file(GOOD))
    # Not a 500: it is left to admin's own URLs (an object id, which does not exist).
    response = client.post(f"{UPLOAD}токен/", {"digest": "x"}, follow=True)
    assert response.status_code == 200
    assert not Representative.objects.exists()


def test_an_old_upload_expires(client, staff, perm, monkeypatch):
    _, target, digest = preview(client, csv_file(GOOD))
    monkeypatch.setattr(admin_import, "PENDING_SECONDS", -1)
    assert client.post(target, {"digest": digest})["Location"] == UPLOAD
    assert not Representative.objects.exists()
    assert admin_import.SESSION_KEY not in client.session


@pytest.mark.parametrize("count", [3, 30])
def test_pages_make_a_bounded_number_of_queries(
    client, staff, perm, django_assert_max_num_queries, count
):
    for n in range(count):
        make_representative(perm, code=f"perm-{n}", phones="8 (342) 299-99-99")
    rows = [contact(**{"Код контакта": f"perm-{n}"}) for n in range(count)]
    with django_assert_max_num_queries(12):
        client.get(UPLOAD)
    with django_assert_max_num_queries(12):
        response = upload(client, csv_file(rows))
    with django_assert_max_num_queries(12):
        page = client.get(response["Location"])
    digest = re.search(r'name="digest" value="([0-9a-f]+)"', text(page)).group(1)
    # Applying grows only by the batches SQLite cuts its bulk inserts into.
    with django_assert_max_num_queries(22):
        assert client.post(response["Location"], {"digest": digest}).status_code == 302


def test_long_lists_are_cut_on_the_page_but_applied_whole(client, staff, perm, monkeypatch):
    monkeypatch.setattr(admin_import, "SHOWN_ITEMS", 2)
    rows = [contact(**{"Код контакта": f"perm-{n}"}) for n in range(5)]
    html, target, digest = preview(client, csv_file(rows))
    assert "Будут добавлены (5)" in html and "… и ещё 3" in html
    assert "perm-1:" in html and "perm-2:" not in html
    assert messages_of(client.post(target, {"digest": digest})) == [
        "Изменено: 0, добавлено: 5, удалено: 0."
    ]


EXPORT = reverse("admin:representatives_representative_export")


def test_staff_download_the_table_edit_it_and_load_it_back(client, staff, perm, regions):
    """The table «Скачать таблицу» gives is the one «Загрузить из таблицы» reads: loaded back
    unchanged it changes nothing; with one phone edited, only that contact changes."""
    make_representative(perm, code="perm-2", hours=[(1, "09:00", "18:00")])
    make_representative(regions.by_slug["tomsk-oblast"], code="tomsk-2", level=1)
    assert f'href="{EXPORT}">Скачать таблицу</a>' in text(client.get(CHANGELIST))

    response = client.get(EXPORT)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert re.fullmatch(
        r'attachment; filename="predstaviteli-\d{4}-\d{2}-\d{2}\.xlsx"',
        response["Content-Disposition"],
    )
    assert "private" in response["Cache-Control"]  # contacts of staff, never in a shared cache
    downloaded = load_workbook(io.BytesIO(response.content)).active
    rows = list(downloaded.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER
    exported = [dict(zip(HEADER, row, strict=True)) for row in rows[1:]]
    assert sorted(row[HEADER[1]] for row in exported) == ["perm-2", "tomsk-2"]

    html, _, _ = preview(client, SimpleUploadedFile("predstaviteli.xlsx", response.content))
    assert "Без изменений: 2" in html and "Будет изменено: 0" in html
    assert "Будут изменены" not in html

    phones = HEADER[list(COLUMNS).index("phones")]
    for row in exported:
        if row[HEADER[1]] == "perm-2":
            row[phones] = "8 (342) 233-33-33"
    _, target, digest = preview(client, xlsx_file(exported, name="predstaviteli.xlsx"))
    assert client.post(target, {"digest": digest}).status_code == 302
    assert Representative.objects.get(code="perm-2").phones == "8 (342) 233-33-33"
    assert Representative.objects.get(code="tomsk-2").level == 1


def test_the_table_is_for_staff_who_may_see_the_contacts(django_user_model, client, regions):
    assert client.get(EXPORT).status_code == 302  # to the login
    user = django_user_model.objects.create_user("other", "o@example.com", "pw", is_staff=True)
    outsider = Client()
    outsider.force_login(user)
    assert outsider.get(EXPORT).status_code == 403
    assert staff_with(django_user_model, "view").get(EXPORT).status_code == 200
