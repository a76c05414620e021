import csv
import datetime
import io
import re
import tracemalloc
import zipfile
from http import HTTPStatus
from urllib.parse import quote

import pytest
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from openpyxl import load_workbook

from regions.models import SMALL_DOWNLOAD, Region, RegistryFile
from tests.support import clear_caches

from .factories import PDF_BYTES, docx_like_zip, registry_file, upload, xlsx_bytes

pytestmark = pytest.mark.django_db


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_a_slash_in_the_title_does_not_cut_the_files_name(client, regions, media_root):
    item = registry_file(title="Реестр МО 2026/2027")
    disposition = client.get(f"/files/{item.pk}/")["Content-Disposition"]
    assert f"filename*=utf-8''{quote('Реестр МО 2026-2027.pdf')}" in disposition


def test_download_is_an_attachment_with_its_cyrillic_name(client, regions, media_root):
    item = registry_file(title="Реестр медицинских организаций Томской области")
    response = client.get(f"/files/{item.pk}/")
    assert response.status_code == HTTPStatus.OK
    assert body(response) == PDF_BYTES
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Length"] == str(len(PDF_BYTES))
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    expected = quote("Реестр медицинских организаций Томской области.pdf")
    assert f"filename*=utf-8''{expected}" in disposition


SENT_HEADERS = ("Content-Type", "Content-Length", "Content-Disposition", "ETag", "Last-Modified")


def test_a_small_file_and_a_big_one_are_downloaded_alike(client, regions, media_root):
    # A file no bigger than a page is sent from memory, a bigger one streamed from storage
    # (so a worker never holds a large file): the visitor gets the same bytes and headers.
    big_bytes = PDF_BYTES + b"%" + b"0" * (SMALL_DOWNLOAD + 1)
    small = registry_file(title="Реестр (короткий)")
    big = registry_file(title="Реестр (длинный)", content=big_bytes)
    sent = {item: client.get(f"/files/{item.pk}/") for item in (small, big)}
    assert [sent[small].streaming, sent[big].streaming] == [False, True]
    for item, content in [(small, PDF_BYTES), (big, big_bytes)]:
        response = sent[item]
        assert body(response) == content
        assert {name for name in SENT_HEADERS if response.has_header(name)} == set(SENT_HEADERS)
        assert response["Content-Length"] == str(len(content))
        assert response["Content-Disposition"] == (
            f"attachment; filename*=utf-8''{quote(item.title + '.pdf')}"
        )


def test_a_file_uploaded_again_is_downloaded_new_at_once(client, regions, media_root):
    item = registry_file()
    assert body(client.get(f"/files/{item.pk}/")) == PDF_BYTES
    corrected = PDF_BYTES.replace(b"1.4", b"1.7")
    item.file = upload("reestr.pdf", corrected)
    item.save()
    assert body(client.get(f"/files/{item.pk}/")) == corrected
    item.delete()
    assert client.get(f"/files/{item.pk}/").status_code == HTTPStatus.NOT_FOUND


def test_xlsx_download_has_the_spreadsheet_type(client, regions, media_root):
    item = registry_file(title="Контакты", name="k.xlsx", content=xlsx_bytes(), kind="contacts")
    response = client.get(f"/files/{item.pk}/")
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )


def test_unknown_file_is_404(client, regions):
    assert client.get("/files/999999/").status_code == HTTPStatus.NOT_FOUND


def assert_says_the_file_is_gone(response) -> None:
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response["Cache-Control"] == "no-store"
    page = response.content.decode()
    assert "<h1>Файл больше не опубликован</h1>" in page
    assert "<title>Файл больше не опубликован" in page
    assert '<a class="button" href="/files/">Все файлы для скачивания</a>' in page
    assert "Страница не найдена" not in page


def test_a_removed_files_link_says_it_is_no_longer_published(client, regions, media_root):
    """A link kept in a bookmark or an e-mail after staff removed the file: the generic «Страница
    не найдена» left the person guessing where the file went."""
    item = registry_file()
    url = f"/files/{item.pk}/"
    assert client.get(url).status_code == HTTPStatus.OK
    item.delete()
    assert_says_the_file_is_gone(client.get(url))


def test_file_missing_from_storage_is_404(client, regions, media_root):
    item = registry_file()
    item.file.storage.delete(item.file.name)
    assert_says_the_file_is_gone(client.get(f"/files/{item.pk}/"))


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "registry/../../secret.pdf"])
def test_name_that_leaves_the_media_folder_is_404(client, regions, media_root, name):
    item = registry_file()
    RegistryFile.objects.filter(pk=item.pk).update(file=name)
    response = client.get(f"/files/{item.pk}/")
    assert response.status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("virus.exe", b"MZ\x90\x00", "Такой тип файла нельзя опубликовать"),
        ("page.html", b"<html></html>", "Такой тип файла нельзя опубликовать"),
        ("fake.pdf", b"MZ\x90\x00 not a pdf", "не соответствует расширению .pdf"),
        ("fake.xlsx", PDF_BYTES, "не соответствует расширению .xlsx"),
        ("word.xlsx", docx_like_zip("word/document.xml"), "не соответствует расширению .xlsx"),
        ("binary.csv", b"a;b\x00\x01\x02", "не соответствует расширению .csv"),
        ("empty.pdf", b"", "Файл пустой"),
    ],
)
def test_bad_uploads_are_refused(regions, media_root, name, content, message):
    item = RegistryFile(title="Файл", kind="other", file=upload(name, content))
    with pytest.raises(ValidationError) as error:
        item.full_clean()
    assert message in str(error.value)


def zip_with_mimetype(content: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", content)
        archive.writestr("content.xml", "<x/>")
    return buffer.getvalue()


def damaged(data: bytes) -> bytes:
    # The compressed bytes of the first member scrambled: its header still reads.
    start = data.index(b"mimetype") + len("mimetype")
    return data[:start] + bytes(b ^ 0x5A for b in data[start : start + 16]) + data[start + 16 :]


def encrypted(data: bytes) -> bytes:
    # The «encrypted» flag in the member's local and central headers, as a password tool sets.
    data = bytearray(data)
    data[6] |= 1
    data[data.index(b"PK\x01\x02") + 8] |= 1
    return bytes(data)


ODS_TYPE = b"application/vnd.oasis.opendocument.spreadsheet"


@pytest.mark.parametrize(
    "content",
    [damaged(zip_with_mimetype(ODS_TYPE * 4)), encrypted(zip_with_mimetype(ODS_TYPE))],
    ids=["damaged", "encrypted"],
)
def test_an_unreadable_spreadsheet_is_refused_in_words(regions, media_root, content):
    # It was a 500 page in admin: zipfile's own errors were not caught.
    item = RegistryFile(title="Файл", kind="other", file=upload("table.ods", content))
    with pytest.raises(ValidationError, match=r"не соответствует расширению \.ods"):
        item.full_clean()


def test_a_zip_bomb_is_refused_without_unpacking_it(regions, media_root):
    # 64 KB that unpack to 64 MB: the check read the whole member into memory, so a file
    # within the upload limit (20 MB, some 20 GB unpacked) took the worker down.
    bomb = zip_with_mimetype(b"\0" * (64 * 1024 * 1024))
    assert len(bomb) < 128 * 1024
    item = RegistryFile(title="Файл", kind="other", file=upload("table.ods", bomb))
    tracemalloc.start()
    try:
        with pytest.raises(ValidationError, match=r"не соответствует расширению \.ods"):
            item.full_clean()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024


def test_an_opendocument_spreadsheet_is_accepted(regions, media_root):
    item = registry_file(name="table.ods", content=zip_with_mimetype(ODS_TYPE))
    assert item.format_label == "ODS"


def test_oversized_upload_is_refused(regions, media_root, settings):
    settings.REGISTRY_MAX_UPLOAD_BYTES = 1024
    item = RegistryFile(title="Файл", file=upload("big.pdf", PDF_BYTES + b"0" * 2048))
    with pytest.raises(ValidationError, match="Файл слишком большой"):
        item.full_clean()


def test_a_file_just_over_the_limit_is_told_in_bytes(regions, media_root, settings):
    # «20,0 МБ» against «20,0 МБ» would read as a refusal without a reason.
    settings.REGISTRY_MAX_UPLOAD_BYTES = 20 * 1024 * 1024
    content = PDF_BYTES + b"0" * (20 * 1024 * 1024 + 9 - len(PDF_BYTES))
    item = RegistryFile(title="Файл", file=upload("big.pdf", content))
    with pytest.raises(ValidationError) as refused:
        item.full_clean()
    message = " ".join(refused.value.messages).replace("\xa0", " ")
    assert "20 971 529 байт. Наибольший допустимый размер — 20 971 520 байт" in message


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("ok.pdf", PDF_BYTES),
        ("ok.xlsx", None),
        ("ok.docx", docx_like_zip("word/document.xml")),
        ("ok.csv", "Регион;Телефон\nТомская область;нет\n".encode()),
        ("ok-1251.csv", "Регион;Телефон\n".encode("cp1251")),
        ("ok.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100),
    ],
)
def test_good_uploads_are_accepted(regions, media_root, name, content):
    item = registry_file(name=name, content=content or xlsx_bytes())
    assert item.size > 0
    assert item.format_label == name.rsplit(".", 1)[1].upper()


def test_a_long_cyrillic_file_name_is_stored_shortened(client, regions, media_root):
    # 146 letters, 267 bytes: over the 255 bytes a file system allows a name.
    name = (
        "Реестр медицинских организаций, осуществляющих деятельность в сфере обязательного "
        "медицинского страхования в Белгородской области, на 2026 год.pdf"
    )
    assert len(name.encode()) > 255
    first, second = registry_file(name=name), registry_file(name=name)
    for item in (first, second):
        stored = item.file.name.rsplit("/", 1)[1]
        assert len(stored.encode()) <= 255 and stored.endswith(".pdf")
        assert stored.startswith("Реестр_медицинских_организаций_осуществляющих")
        assert body(client.get(f"/files/{item.pk}/")) == PDF_BYTES
    assert first.file.name != second.file.name


def test_admins_link_to_an_uploaded_file_opens_its_download(admin_client, regions, media_root):
    item = registry_file(title="Реестр (тест)")
    page = admin_client.get(f"/admin/regions/registryfile/{item.pk}/change/").content.decode()
    assert f'href="{item.file.url}"' in page
    # Nothing is served by its stored path: it leads to the download, named after the title.
    response = admin_client.get(item.file.url)
    assert (response.status_code, response["Location"]) == (302, f"/files/{item.pk}/")
    assert not response.content
    assert admin_client.get("/media/registry/../../etc/passwd").status_code == 404
    assert admin_client.get("/media/registry/2026/01/none.pdf").status_code == 404


def give_contacts(region):
    region.tfoms_name = "ТФОМС (тестовые данные)"
    region.tfoms_phone = "8 (3822) 12-34-56"
    region.health_site = "https://health.example.test/"
    region.health_source = "Сайт органа здравоохранения (тест)"
    region.health_source_date = datetime.date(2026, 3, 2)
    region.save()


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))


def region_row(rows: list[list[str]], name: str) -> dict[str, str]:
    """The row of one region, by column title."""
    return dict(zip(rows[0], next(row for row in rows if row[0] == name), strict=True))


def test_contacts_csv_matches_the_database(client, regions):
    give_contacts(regions.by_slug["tomsk-oblast"])
    response = client.get("/files/contacts.csv")
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Length"] == str(len(response.content))
    assert response.content.startswith("\ufeff".encode())
    rows = csv_rows(response)
    assert rows[0][:4] == ["Регион", "Код субъекта", "ТФОМС", "Телефон ТФОМС"]
    assert len(rows) == 24
    tomsk = region_row(rows, "Томская область")
    assert tomsk["Код субъекта"] == "70"
    assert tomsk["ТФОМС"] == "ТФОМС (тестовые данные)"
    assert tomsk["Телефон ТФОМС"] == "8 (3822) 12-34-56"
    assert tomsk["Сайт органа здравоохранения"] == "https://health.example.test/"
    # Its own source and date, not the fund's.
    assert tomsk["Источник сведений об органе здравоохранения"] == (
        "Сайт органа здравоохранения (тест)"
    )
    assert tomsk["Сведения об органе здравоохранения на дату"] == "02.03.2026"
    assert tomsk["Сведения о ТФОМС на дату"] == "14.05.2026"
    moscow = region_row(rows, "Город Москва")
    assert moscow["Сайт ТФОМС"] == "https://mgfoms.ru/"
    assert moscow["Сведения о ТФОМС на дату"] == "14.05.2026"
    assert moscow["Телефон ТФОМС"] == ""  # a column another region fills


def test_contacts_downloads_carry_only_known_columns_and_the_date(client, regions):
    """The shipped data: names and sites of the funds, with their source and its date."""
    rows = csv_rows(client.get("/files/contacts.csv"))
    assert rows[0] == [
        "Регион",
        "Код субъекта",
        "ТФОМС",
        "Сайт ТФОМС",
        "Источник сведений о ТФОМС",
        "Ссылка на источник",
        "Сведения о ТФОМС на дату",
    ]
    assert len(rows) == 24
    assert all(all(row) for row in rows[1:])  # no empty cell anywhere
    assert {row[6] for row in rows[1:]} == {"14.05.2026"}

    sheet = load_workbook(io.BytesIO(client.get("/files/contacts.xlsx").content)).active
    assert [[cell or "" for cell in row] for row in sheet.iter_rows(values_only=True)] == rows


def test_contacts_downloads_are_named_with_the_date_of_their_data(client, regions):
    """Not the day of the download: a file saved today says how old what it holds is."""
    for extension in ("csv", "xlsx"):
        disposition = client.get(f"/files/contacts.{extension}")["Content-Disposition"]
        assert disposition == f'attachment; filename="contacts-tfoms-2026-05-14.{extension}"'
    give_contacts(regions.by_slug["tomsk-oblast"])  # health contacts as of 02.03.2026
    disposition = client.get("/files/contacts.csv")["Content-Disposition"]
    assert disposition == 'attachment; filename="contacts-tfoms-2026-03-02.csv"'
    page = client.get("/files/").content.decode().replace("\xa0", " ")
    assert "по данным на 02.03.2026" in page


def test_contacts_downloads_leave_out_regions_with_nothing_known(client, regions):
    Region.objects.exclude(slug="tomsk-oblast").update(tfoms_name="", tfoms_site="")
    clear_caches()  # a bulk update sends no signal
    rows = csv_rows(client.get("/files/contacts.csv"))
    assert [row[0] for row in rows[1:]] == ["Томская область"]


def test_contacts_downloads_say_when_staff_checked_a_fund(client, regions, admin_user):
    tomsk = regions.by_slug["tomsk-oblast"]
    tomsk.checked_on = datetime.date(2026, 11, 20)
    tomsk.checked_by = admin_user
    tomsk.save()
    rows = csv_rows(client.get("/files/contacts.csv"))
    row = region_row(rows, "Томская область")
    assert row["Сверено с сайтом ТФОМС"] == "20.11.2026"


def test_contacts_xlsx_matches_the_database(client, regions):
    give_contacts(regions.by_slug["tomsk-oblast"])
    response = client.get("/files/contacts.xlsx")
    assert response.status_code == HTTPStatus.OK
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [[cell or "" for cell in row] for row in sheet.iter_rows(values_only=True)]
    assert len(rows) == 24
    tomsk = region_row(rows, "Томская область")
    assert tomsk["Телефон ТФОМС"] == "8 (3822) 12-34-56"


def test_contacts_downloads_follow_a_change_at_once(client, regions):
    client.get("/files/contacts.csv")
    give_contacts(regions.by_slug["perm-krai"])
    assert "ТФОМС (тестовые данные)" in client.get("/files/contacts.csv").content.decode(
        "utf-8-sig"
    )


def test_contacts_downloads_are_offered_once_contacts_are_known(client, regions):
    give_contacts(regions.by_slug["tomsk-oblast"])
    for url in ["/zashchita-prav/", "/files/"]:
        page = client.get(url).content.decode()
        assert 'href="/files/contacts.csv"' in page
        assert 'href="/files/contacts.xlsx"' in page


def test_files_page_lists_all_files_with_region(client, regions, media_root):
    registry_file(title="Общий реестр")
    registry_file(title="Реестр Перми", region=regions.by_slug["perm-krai"])
    page = client.get("/files/").content.decode()
    assert "Общий реестр" in page
    assert "Реестр Перми" in page
    assert "Пермский край" in page


def test_a_download_has_no_second_address_with_leading_zeros(client, regions, media_root):
    """``/files/01/`` was the same file, another copy in nginx's cache, and one that the
    README's withdrawal of ``/files/1/`` left in place."""
    item = registry_file()
    assert client.get(f"/files/{item.pk}/").status_code == HTTPStatus.OK
    for spelling in (f"0{item.pk}", f"00{item.pk}"):
        assert client.get(f"/files/{spelling}/").status_code == HTTPStatus.NOT_FOUND
    assert reverse("regions:download", args=[item.pk]) == f"/files/{item.pk}/"


def test_a_download_with_a_query_string_is_sent_to_its_one_address(client, regions, media_root):
    # A shared cache keys by path and query: any other address would be another stored copy.
    item = registry_file()
    response = client.get(f"/files/{item.pk}/?utm_source=vk")
    assert response.status_code == HTTPStatus.MOVED_PERMANENTLY
    assert response["Location"] == f"/files/{item.pk}/"
    assert "public" not in response.get("Cache-Control", "")


def test_the_pages_say_how_big_each_contacts_download_is(client, regions):
    """On a slow connection a person decides by the size: registry files had theirs, the two
    contacts downloads none, under the same name."""

    def stated(url: str) -> list[str]:
        page = client.get(url).content.decode().replace("\xa0", " ")
        return re.findall(r'files__meta">(?:XLSX|CSV)[^<]*?(\d[\d,]* КБ)', page)

    def sizes() -> list[str]:
        return [
            filesizeformat(len(client.get(f"/files/contacts.{extension}").content)).replace(
                "\xa0", " "
            )
            for extension in ("xlsx", "csv")
        ]

    assert stated("/files/") == stated("/zashchita-prav/") == sizes()
    give_contacts(regions.by_slug["tomsk-oblast"])  # more columns: bigger files
    assert stated("/files/") == stated("/zashchita-prav/") == sizes()
