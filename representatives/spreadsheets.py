"""The representatives' spreadsheet: its columns, and reading and writing it as CSV or XLSX.

One row per contact. Every column must be present (an absent column would be ambiguous: empty
values or values to keep?). Rows whose first cell starts with «#» are comments, and empty rows
are skipped; row numbers are counted as a spreadsheet program shows them, header = 1.

A file that cannot be read as a table is refused as a whole with one message that says what is
wrong and what to do: empty, too large, binary, an encoding other than UTF-8, UTF-16 (with its
byte order mark) or Windows-1251, a cell or a row count over the limits below, no contacts,
merged cells in an XLSX table (the cells of a merge but its first read as empty), a damaged
XLSX, or one that would unpack to far more than any table (a «zip bomb»).
"""

import bisect
import copy
import csv
import io
import posixpath
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import BinaryIO

from openpyxl import load_workbook
from openpyxl.utils.cell import range_boundaries

# The parser openpyxl reads the same file with: without lxml and defusedxml (neither is in
# the lock), xml.etree's expat. Expat (2.4 and later) refuses entity expansion past its input
# amplification limit («billion laughs») and fetches no external entities; the size of what it
# parses is bounded by _check_archive.
from openpyxl.xml.functions import fromstring, iterparse

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

# Far above the few thousand contacts of all regions together; these keep a wrong or hostile
# file from costing the server minutes and memory.
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000
MAX_CELL_CHARS = 10_000
# An XLSX sheet is read this wide, whatever it claims: openpyxl pads every row to the sheet's
# last used column, so one stray cell in column XFD made 20,000 rows cost 2.8 GB.
MAX_COLUMNS = 64
# What an XLSX may unpack to, all its parts together. 50,000 rows (MAX_ROWS) of ordinary contacts
# are 40 MB of sheet XML as openpyxl writes it (Excel's shared strings take less), and the whole
# country has a few thousand. Without a bound a 10 MB upload of highly compressible XML (a «zip
# bomb») unpacked to gigabytes: one of 1.5 MB took 3 GB of memory before its cell was refused.
MAX_XLSX_UNPACKED = 100 * 1024 * 1024
# Spreadsheet XML deflates about 12 times, a sheet with one long note repeated on every row
# about 50; deflate's own limit, about 1,000, is what bombs are made of.
MAX_PACKING_RATIO = 200
# Parts smaller than this cost nothing whatever their ratio (printer settings, mostly zeros).
RATIO_FROM_BYTES = 1024 * 1024
UNPACK_CHUNK = 64 * 1024
ENCRYPTED = 0x1  # a ZIP member's flag bit


def _number(value: int) -> str:
    return f"{value:,}".replace(",", "\u00a0")  # 50 000, as Russian text writes it


LIMITS = (
    f"Наибольший размер файла — {MAX_FILE_BYTES // (1024 * 1024)} МБ, строк — не больше "
    f"{_number(MAX_ROWS)}, ячейка — не длиннее {_number(MAX_CELL_CHARS)} знаков."
)
SAVE_AS = "Сохраните таблицу как «CSV UTF-8» или «Книга Excel (.xlsx)» и загрузите снова."
RESAVE = (
    "Откройте его в Excel или LibreOffice, сохраните заново как «Книга Excel (.xlsx)» и "
    "загрузите снова."
)
NOT_XLSX = f"Не удалось прочитать файл XLSX: он повреждён или это не таблица XLSX. {SAVE_AS}"
# What zipfile and zlib raise for a damaged archive: a bad directory or offset (BadZipFile,
# ValueError or OSError from a seek), a bad CRC, corrupt deflate data, data cut short, a
# feature zipfile lacks (NotImplementedError).
ARCHIVE_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    ValueError,
    OSError,
    NotImplementedError,
)
# What openpyxl and expat raise for damaged XML in an archive that is sound: ParseError (a
# SyntaxError: truncated XML, expat's entity expansion limit), IndexError or KeyError (a
# shared string or a style that is not there), ValueError (a number, a date or a cell
# reference that is none).
PARSE_ERRORS = (SyntaxError, LookupError, ValueError)
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
FORMULA = "f"  # openpyxl's data type of a formula cell
SHEET_XML = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RELATIONSHIP_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
SHOWN_MERGES = 5


class SpreadsheetError(Exception):
    """The file as a whole cannot be read: wrong format, no header."""


class NoContacts(SpreadsheetError):
    """Not one row under a header."""


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


def _xlsx_text(cell) -> str:
    """A cell's text; a text cell that starts like a formula gets the apostrophe a CSV cell
    would have, so that the import tells it from a formula cell, which stays «=…»."""
    if cell.data_type == FORMULA:
        # An array formula is an object whose str() is no formula: its text is.
        return getattr(cell.value, "text", None) or str(cell.value)
    text = _cell_text(cell.value)
    return spreadsheets.neutralise(text) if isinstance(cell.value, str) else text


def _table(numbered_rows: Iterable[tuple[int, list[str]]]) -> Table:
    header_row, header, rows = 0, None, []
    for number, cells in numbered_rows:
        if number > MAX_ROWS + 1:
            raise SpreadsheetError(f"В файле больше {_number(MAX_ROWS)} строк. {LIMITS}")
        for position, cell in enumerate(cells):
            if len(cell) > MAX_CELL_CHARS:
                column = (
                    f"столбец «{header[position]}»"
                    if header and position < len(header)
                    else f"ячейка {position + 1}"
                )
                raise SpreadsheetError(
                    f"Строка {number}, {column}: длиннее {_number(MAX_CELL_CHARS)} знаков. {LIMITS}"
                )
        if not any(cells) or cells[0].startswith(COMMENT):
            continue
        if header is None:
            header_row, header = number, cells
        else:
            rows.append((number, cells))
    if header is None:
        raise NoContacts("В файле нет строки заголовка со столбцами.")
    if not rows:
        raise NoContacts(
            "В файле только строка заголовка, контактов в нём нет. Ничего не изменено."
        )
    while header and not header[-1]:
        header.pop()
    return Table(header_row, header, rows)


def _position(data: bytes, offset: int) -> str:
    line = data.count(b"\n", 0, offset) + 1
    return f"байт 0x{data[offset]:02X} в строке {line}"


def _decode(data: bytes) -> str:
    """The text of a CSV file, in the encodings spreadsheet programs save, or a clear refusal."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's «Unicode text»: UTF-16 with a byte order mark.
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise SpreadsheetError(
                f"Файл в кодировке UTF-16 повреждён ({_position(data, error.start)}). {SAVE_AS}"
            ) from error
    if (nul := data.find(b"\x00")) >= 0:
        raise SpreadsheetError(
            f"Это не таблица CSV: в файле двоичные данные ({_position(data, nul)}). {SAVE_AS}"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as utf8_error:
        try:
            # What Excel in a Russian locale writes when asked for plain «CSV».
            text = data.decode("cp1251")
        except UnicodeDecodeError as error:
            raise SpreadsheetError(
                "Не удалось определить кодировку файла: это не UTF-8 "
                f"({_position(data, utf8_error.start)}) и не Windows-1251 "
                f"({_position(data, error.start)}). {SAVE_AS}"
            ) from error
    control = next((c for c in text if c < " " and c not in "\t\r\n"), None)
    if control is not None:
        raise SpreadsheetError(
            f"Это не таблица CSV: в файле управляющий символ 0x{ord(control):02X}. {SAVE_AS}"
        )
    return text


def _delimiter(text: str) -> str:
    # Column titles contain none of «;», «,» and tab, so the header line tells which one
    # separates (tab: Excel's «Unicode text»).
    for line in text.splitlines():
        if line.strip() and not line.lstrip('"').startswith(COMMENT):
            return max(";,\t", key=line.count)
    return ";"


def read_csv(data: bytes) -> Table:
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))

    def rows():
        try:
            for number, cells in enumerate(reader, 1):
                # The apostrophe stays: parse_row reads it as «this is text», as Excel does.
                yield number, [cell.strip() for cell in cells]
        except csv.Error as error:
            # The csv module's own limit on a cell (131 072 characters) is above ours.
            raise SpreadsheetError(
                f"Строка {reader.line_num}: файл CSV не читается ({error}). {LIMITS}"
            ) from error

    return _table(rows())


def read_xlsx(source: Path | BinaryIO) -> Table:
    _check_archive(source)
    try:
        # Formulas as written («=…»), not their last results: the import refuses them.
        workbook = load_workbook(source, read_only=True, data_only=False)
    except Exception as error:  # openpyxl raises many kinds for a damaged or foreign file
        raise SpreadsheetError(f"Не удалось прочитать файл XLSX: {error}") from error
    try:
        sheet = workbook.worksheets[0]
        table = _table(_xlsx_rows(sheet))
    except NoContacts as error:
        if len(workbook.sheetnames) > 1:
            raise NoContacts(
                f"{error} Сайт читает только первый лист книги («{sheet.title}»), а листов в "
                f"ней {len(workbook.sheetnames)}: перенесите контакты на первый лист."
            ) from error
        raise
    finally:
        workbook.close()
    try:
        ranges = _merged_ranges(source)
    except PARSE_ERRORS as error:
        raise SpreadsheetError(
            f"Файл XLSX повреждён: его лист не читается до конца. {RESAVE}"
        ) from error
    _refuse_merged_cells(table, ranges)
    return table


def _xlsx_rows(sheet) -> Iterator[tuple[int, list[str]]]:
    """The sheet's numbered rows; a row openpyxl cannot parse is a damaged file, not a 500."""
    rows = enumerate(sheet.iter_rows(max_col=MAX_COLUMNS), 1)
    number = 0
    while True:
        # Only openpyxl's parsing is guarded, not the checks of what it gives.
        try:
            number, cells = next(rows)
        except StopIteration:
            return
        except PARSE_ERRORS as error:
            # Expat parses the sheet some way ahead of the rows given: the damage is somewhere
            # after the last row read, not necessarily in the next one.
            where = f"после строки {number} " if number else ""
            raise SpreadsheetError(
                f"Файл XLSX повреждён: лист {where}не читается. {RESAVE}"
            ) from error
        yield number, [_xlsx_text(cell) for cell in cells]


def _check_archive(source: Path | BinaryIO) -> None:
    """Refuses, before openpyxl unpacks and parses it, an XLSX that is no sound ZIP archive or
    that would unpack to far more than any table of contacts."""
    try:
        with zipfile.ZipFile(source) as archive:
            members = archive.infolist()
            # First what the archive declares, which costs nothing to read: a bomb that tells
            # the truth is refused before anything is unpacked.
            unpacked = sum(member.file_size for member in members)
            if unpacked > MAX_XLSX_UNPACKED:
                raise SpreadsheetError(
                    f"Файл XLSX в распакованном виде занимает {_megabytes(unpacked)} МБ, а "
                    f"таблица контактов — не больше {MAX_XLSX_UNPACKED // (1024 * 1024)} МБ. "
                    f"Проверьте, что выбрали тот файл. {LIMITS}"
                )
            for member in members:
                if (
                    member.file_size > RATIO_FROM_BYTES
                    and member.file_size > MAX_PACKING_RATIO * member.compress_size
                ):
                    ratio = member.file_size // max(member.compress_size, 1)
                    raise SpreadsheetError(
                        f"Файл XLSX не похож на таблицу: его часть «{member.filename}» сжата в "
                        f"{_number(ratio)} раз, а таблицы сжимаются в десятки раз. Если это и "
                        f"правда таблица контактов, {RESAVE[0].lower()}{RESAVE[1:]}"
                    )
            for member in members:
                if not _unpacks_as_declared(archive, member):
                    raise SpreadsheetError(NOT_XLSX)
    except ARCHIVE_ERRORS as error:
        raise SpreadsheetError(NOT_XLSX) from error


def _unpacks_as_declared(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bool:
    """Whether the member unpacks to just the size the archive declares for it.

    The declared size may lie. zipfile cuts a member's data at its declared size, but reading
    a whole member at once (openpyxl's way with every part but the sheet and shared strings)
    unpacks all the data first, up to 2 GB, and only then cuts it. So the member is unpacked
    here once, a small piece at a time, allowed one byte past its declared size: if it gives
    that byte, it holds more than it says. With the sizes true, MAX_XLSX_UNPACKED bounds
    what openpyxl unpacks and parses after.
    """
    if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        # Excel and LibreOffice deflate; bzip2 and lzma are unpacked in pieces of no bound.
        return False
    if member.flag_bits & ENCRYPTED:
        return False  # a password-protected workbook is no ZIP archive but an OLE2 file
    allowed = copy.copy(member)
    allowed.file_size = member.file_size + 1
    unpacked = 0
    with archive.open(allowed) as stream:
        while chunk := stream.read(UNPACK_CHUNK):
            unpacked += len(chunk)
            if unpacked > member.file_size:
                return False
    return unpacked == member.file_size


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".replace(".", ",")


def _merged_ranges(source: Path | BinaryIO) -> list[str]:
    """The merged ranges of the first sheet («A3:A5»): openpyxl's read-only mode reads no
    merges, and gives the cells of one but its first as empty."""
    with zipfile.ZipFile(source) as archive:
        try:
            workbook = fromstring(archive.read("xl/workbook.xml"))
            relationships = fromstring(archive.read("xl/_rels/workbook.xml.rels"))
            sheet_id = workbook.find(f"{SHEET_XML}sheets/{SHEET_XML}sheet").get(RELATIONSHIP_ID)
            target = next(r.get("Target") for r in relationships if r.get("Id") == sheet_id)
            # Excel writes the target relative to xl/, openpyxl from the archive's root.
            path = posixpath.normpath(posixpath.join("xl", target)).lstrip("/")
            archive.getinfo(path)
        except (KeyError, AttributeError, StopIteration):
            return []  # laid out otherwise: the rows are checked all the same
        with archive.open(path) as sheet:
            # Parsing the sheet again costs a fifth of reading it: a quick look first.
            if not _contains(sheet, b"mergeCell"):
                return []
        ranges = []
        with archive.open(path) as sheet:
            for _, element in iterparse(sheet):
                if element.tag == f"{SHEET_XML}mergeCell":
                    ranges.append(element.get("ref", ""))
                element.clear()
        return ranges


def _contains(stream: BinaryIO, word: bytes, chunk: int = 1 << 20) -> bool:
    tail = b""
    while block := stream.read(chunk):
        if word in tail + block[: len(word)] or word in block:
            return True
        tail = block[-len(word) :]
    return False


def _refuse_merged_cells(table: Table, ranges: list[str]) -> None:
    used = [table.header_row, *(number for number, _ in table.rows)]  # in order
    merged = []
    for ref in ranges:
        try:
            bounds = range_boundaries(ref)
        except ValueError:
            continue
        if None in bounds:
            continue  # «A:A»: spreadsheet programs write a merge as its cells, «A1:A5»
        first_column, first_row, last_column, last_row = bounds
        index = bisect.bisect_left(used, first_row)
        if first_column > len(table.header) or index == len(used) or used[index] > last_row:
            continue  # beside the table, or in rows it skips (a title, a comment)
        rows = f"строка {first_row}" if first_row == last_row else f"строки {first_row}–{last_row}"
        titles = table.header[first_column - 1 : last_column]
        columns = (
            f"столбец «{titles[0]}»"
            if len(titles) == 1
            else f"столбцы «{titles[0]}»–«{titles[-1]}»"
        )
        merged.append(f"{ref} ({rows}, {columns})")
    if merged:
        more = f" и ещё {len(merged) - SHOWN_MERGES}" if len(merged) > SHOWN_MERGES else ""
        raise SpreadsheetError(
            f"В таблице объединены ячейки: {', '.join(merged[:SHOWN_MERGES])}{more}. Из "
            "объединённых ячеек читается только первая, а в каждой строке должны быть все её "
            "значения, регион тоже. Отмените объединение ячеек и заполните каждую строку."
        )


def check_size(size: int) -> None:
    if size == 0:
        raise SpreadsheetError("Файл пустой.")
    if size > MAX_FILE_BYTES:
        raise SpreadsheetError(
            f"Файл слишком большой: {size / (1024 * 1024):.1f} МБ. {LIMITS}".replace(".", ",", 1)
        )


def read_bytes(data: bytes, *, suffix: str) -> Table:
    """The table of a file's content; suffix: its name's extension (``.xlsx``), which only
    words the refusal of a file whose content is no XLSX."""
    check_size(len(data))
    if data.startswith(ZIP_MAGIC):
        return read_xlsx(io.BytesIO(data))
    if data.startswith(OLE2_MAGIC):
        raise SpreadsheetError(f"Это файл старого формата Excel (.xls). {SAVE_AS}")
    if suffix.lower() in (".xlsx", ".xlsm"):
        raise SpreadsheetError(f"Файл назван .xlsx, но это не таблица XLSX. {SAVE_AS}")
    return read_csv(data)


def read_table(path: Path) -> Table:
    check_size(path.stat().st_size)  # before reading: a huge file never reaches memory
    return read_bytes(path.read_bytes(), suffix=path.suffix)


def stored_value(representative: Representative, key: str):
    """The value a column holds for a saved contact (hours: prefetched, as intervals)."""
    return representative.intervals if key == "hours" else getattr(representative, key)


def cell_value(key: str, value):
    """A contact's value as its column writes it; numbers stay numbers for XLSX."""
    if key == "phones":
        return "; ".join(split_phones(value))
    if key == "hours":
        return format_hours(value)
    if key == "is_active":
        return YES if value else NO
    return value


def exported() -> Iterator[list]:
    """Every representative's row, in the order of the site's pages."""
    representatives = (
        Representative.objects.select_related("region")
        .prefetch_related("hours")
        .order_by("region__order", "level", "order", "code")
    )
    return export_rows(representatives.iterator(chunk_size=2000))


def export_rows(representatives: Iterable[Representative]) -> Iterator[list]:
    """Rows for the file import_representatives reads back; hours must be prefetched."""
    for representative in representatives:
        yield [
            representative.region.code,
            *(cell_value(key, stored_value(representative, key)) for key in list(COLUMNS)[1:]),
        ]


def write_csv(rows: Iterable[list], handle) -> None:
    spreadsheets.write_csv(handle, list(COLUMNS.values()), rows)


def write_xlsx(rows: Iterable[list], path) -> None:
    spreadsheets.write_xlsx(path, title="Представители", header=list(COLUMNS.values()), rows=rows)
