"""The representatives' spreadsheet: its columns, and reading and writing it as CSV or XLSX.

One row per contact. Every column must be present (an absent column would be ambiguous: empty
values or values to keep?). Rows whose first cell starts with «#» are comments, and empty rows
are skipped; row numbers are counted as a spreadsheet program shows them, header = 1.
"""

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path

from openpyxl import load_workbook

from regions import spreadsheets

from .hours import format_hours
from .models import Representative, split_phones

COLUMNS = {
    "region": "Регион",
    "code": "Код контакта",
    "level": "Уровень",
    "role": "Должность",
    "person": "ФИО",
    "phones": "Телефоны",
    "email": "Электронная почта",
    "address": "Адрес офиса",
    "hours": "Часы приёма",
    "notes": "Примечание",
    "order": "Порядок",
    "is_active": "Показывать",
}
YES, NO = "да", "нет"
COMMENT = "#"


class SpreadsheetError(Exception):
    """The file as a whole cannot be read: wrong format, no header."""


@dataclass(frozen=True)
class Table:
    header_row: int
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (row number, cells)


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | time):
        return f"{value:%H:%M}"
    return str(value).strip()


def _table(numbered_rows: Iterable[tuple[int, list[str]]]) -> Table:
    header_row, header, rows = 0, None, []
    for number, cells in numbered_rows:
        if not any(cells) or cells[0].startswith(COMMENT):
            continue
        if header is None:
            header_row, header = number, cells
        else:
            rows.append((number, cells))
    if header is None:
        raise SpreadsheetError("В файле нет строки заголовка со столбцами.")
    while header and not header[-1]:
        header.pop()
    return Table(header_row, header, rows)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # What Excel in a Russian locale writes when asked for plain «CSV».
        return data.decode("cp1251")


def _delimiter(text: str) -> str:
    # Column titles contain neither «;» nor «,», so the header line tells which one separates.
    for line in text.splitlines():
        if line.strip() and not line.lstrip('"').startswith(COMMENT):
            return ";" if line.count(";") >= line.count(",") else ","
    return ";"


def read_csv(data: bytes) -> Table:
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    return _table(
        (number, [spreadsheets.unneutralise(cell.strip()) for cell in cells])
        for number, cells in enumerate(reader, 1)
    )


def read_xlsx(path: Path) -> Table:
    try:
        # Formulas as written («=…»), not their last results: the import refuses them.
        workbook = load_workbook(path, read_only=True, data_only=False)
    except Exception as error:  # openpyxl raises many kinds for a damaged or foreign file
        raise SpreadsheetError(f"Не удалось прочитать файл XLSX: {error}") from error
    try:
        sheet = workbook.worksheets[0]
        return _table(
            (number, [_cell_text(value) for value in values])
            for number, values in enumerate(sheet.iter_rows(values_only=True), 1)
        )
    finally:
        workbook.close()


def read_table(path: Path) -> Table:
    with open(path, "rb") as handle:
        data = handle.read()
    if data.startswith(b"PK\x03\x04"):
        return read_xlsx(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        raise SpreadsheetError("Файл назван .xlsx, но это не таблица XLSX.")
    return read_csv(data)


def export_rows(representatives: Iterable[Representative]) -> Iterator[list]:
    """Rows for the file import_representatives reads back; hours must be prefetched."""
    for representative in representatives:
        yield [
            representative.region.code,
            representative.code,
            representative.level,
            representative.role,
            representative.person,
            "; ".join(split_phones(representative.phones)),
            representative.email,
            representative.address,
            format_hours(representative.intervals),
            representative.notes,
            representative.order,
            YES if representative.is_active else NO,
        ]


def write_csv(rows: Iterable[list], handle) -> None:
    spreadsheets.write_csv(handle, list(COLUMNS.values()), rows)


def write_xlsx(rows: Iterable[list], path) -> None:
    spreadsheets.write_xlsx(path, title="Представители", header=list(COLUMNS.values()), rows=rows)
