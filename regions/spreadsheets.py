"""Every spreadsheet the site writes (CSV and XLSX), safe to open in Excel.

Values come from admin and imports, so a name like «=HYPERLINK(…)» must reach a citizen's
spreadsheet program as text, never as a formula (OWASP, «CSV Injection»):
- CSV has no cell types: a text value starting with =, +, -, @, a tab or a carriage return
  gets a leading apostrophe, which spreadsheet programs read as «this is text».
- XLSX has them: every text cell is written as a string, and such a value also carries
  Excel's own «quote prefix» mark, so it stays text when someone edits the cell, without a
  visible apostrophe.
CSV files use semicolons and a BOM (written by the caller's encoding): what Excel in a Russian
locale opens correctly by double-click.

The public contacts download (CONTACT_COLUMNS, contact_table) and representatives/spreadsheets.py
both write through here.
"""

import csv
import datetime
import io
from collections.abc import Iterable, Sequence

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from .caching import cached_content
from .models import Region
from .validators import starts_like_formula

QUOTE = "'"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralise(value):
    """A CSV cell value that no spreadsheet program runs as a formula."""
    if isinstance(value, str) and starts_like_formula(value):
        return QUOTE + value
    return value


def unneutralise(text: str) -> str:
    """The value a neutralised CSV cell stands for (files this site wrote, read back)."""
    if text.startswith(QUOTE) and starts_like_formula(text[1:]):
        return text[1:]
    return text


def write_csv(handle, header: Sequence[str], rows: Iterable[Sequence]) -> None:
    writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([neutralise(value) for value in row] for row in rows)


def write_xlsx(target, *, title: str, header: Sequence[str], rows: Iterable[Sequence]) -> None:
    """Writes the workbook to ``target``, a path or a binary file."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    sheet.append([_xlsx_cell(sheet, value) for value in header])
    for row in rows:
        sheet.append([_xlsx_cell(sheet, value) for value in row])
    workbook.save(target)


def _xlsx_cell(sheet, value):
    if not isinstance(value, str):
        return value
    cell = WriteOnlyCell(sheet)
    # Set after the value: openpyxl itself types a string starting with «=» as a formula.
    cell.value = value
    cell.data_type = "s"
    if starts_like_formula(value):
        cell.quotePrefix = True
    return cell


# The public download of every region's ТФОМС and health authority contacts, each with where it
# comes from and its date.
CONTACT_COLUMNS = (
    ("Регион", "name"),
    ("Код субъекта", "code"),
    ("ТФОМС", "tfoms_name"),
    ("Телефон ТФОМС", "tfoms_phone"),
    ("Сайт ТФОМС", "tfoms_site"),
    ("Адрес ТФОМС", "tfoms_address"),
    ("Источник сведений о ТФОМС", "tfoms_source"),
    ("Ссылка на источник", "tfoms_source_url"),
    ("Сведения о ТФОМС на дату", "tfoms_source_date"),
    ("Сверено с сайтом ТФОМС", "checked_on"),
    ("Орган здравоохранения", "health_name"),
    ("Телефон органа здравоохранения", "health_phone"),
    ("Сайт органа здравоохранения", "health_site"),
    ("Адрес органа здравоохранения", "health_address"),
    ("Источник сведений об органе здравоохранения", "health_source"),
    ("Ссылка на источник сведений об органе здравоохранения", "health_source_url"),
    ("Сведения об органе здравоохранения на дату", "health_source_date"),
)
# Always there, so that a row says which region it is.
KEY_COLUMNS = 2


def _cell(value) -> str:
    return f"{value:%d.%m.%Y}" if isinstance(value, datetime.date) else value or ""


def contact_table() -> tuple[list[str], list[list[str]]]:
    """Header and rows of the contacts download: only regions with something known, and only
    the columns where some region has a value; dates as people write them."""
    regions = [r for r in Region.objects.index().regions if r.has_tfoms or r.has_health]
    table = [[_cell(getattr(region, attr)) for _, attr in CONTACT_COLUMNS] for region in regions]
    keep = [
        index
        for index in range(len(CONTACT_COLUMNS))
        if index < KEY_COLUMNS or any(row[index] for row in table)
    ]
    header = [CONTACT_COLUMNS[index][0] for index in keep]
    return header, [[row[index] for index in keep] for row in table]


def contacts_csv() -> bytes:
    buffer = io.StringIO()
    write_csv(buffer, *contact_table())
    return buffer.getvalue().encode("utf-8-sig")


def contacts_sizes() -> dict[str, int]:
    """Bytes of each contacts download, as the pages that offer them say: on a slow connection
    a person decides by them. Built once per content version, not once per page kept."""
    return cached_content(
        "contacts-sizes", build=lambda: {"xlsx": len(contacts_xlsx()), "csv": len(contacts_csv())}
    )


def contacts_xlsx() -> bytes:
    header, rows = contact_table()
    buffer = io.BytesIO()
    write_xlsx(buffer, title="Контакты", header=header, rows=rows)
    return buffer.getvalue()
