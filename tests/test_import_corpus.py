"""Malformed files given to import_representatives: one clear Russian message each, exit code
1, nothing written. Encodings a spreadsheet program saves (UTF-8, UTF-16 with its byte order
mark, Windows-1251) are detected and imported. Damaged XLSX files and «zip bombs» are refused in
words too, the bombs before anything is unpacked."""

import csv
import functools
import io
import json
import os
import re
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from representatives.models import Representative
from representatives.spreadsheets import MAX_XLSX_UNPACKED

from .test_import_export import GOOD, HEADER, contact, import_, snapshot

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[1]


def table(rows=GOOD, *, delimiter=";") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(HEADER)
    writer.writerows([row[title] for title in HEADER] for row in rows)
    return buffer.getvalue()


def huge_file() -> bytes:
    rows = table([contact(**{"Код контакта": f"perm-{n}"}) for n in range(42_000)])
    assert len(rows.encode()) > 10 * 1024 * 1024
    return rows.encode()


SHEET = "xl/worksheets/sheet1.xml"
MB = 1024 * 1024
ROLE = GOOD[0]["Должность"].encode()  # the text of cell D2, the first contact's role
CELL_D2 = re.compile(rb'<c r="D2"[^>]*>.*?</c>', re.S)


def xlsx_bytes() -> bytes:
    workbook = Workbook()
    workbook.active.append(HEADER)
    for row in GOOD:
        workbook.active.append([row[title] for title in HEADER])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def with_sheet(write) -> bytes:
    """A good table whose sheet XML ``write(stream, xml)`` writes instead, a piece at a time:
    the test itself then holds no more than the small archive it makes."""
    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in source.infolist():
            if member.filename == SHEET:
                with archive.open(SHEET, "w") as stream:
                    write(stream, source.read(member))
            else:
                archive.writestr(member, source.read(member))
    return buffer.getvalue()


def with_cell_text(megabytes: int) -> bytes:
    """Cell D2 holds so many megabytes of «A»: they deflate about 1,000 times."""

    def write(stream, xml):
        head, tail = xml.split(ROLE, 1)
        stream.write(head)
        for _ in range(megabytes):
            stream.write(b"A" * MB)
        stream.write(tail)

    return with_sheet(write)


@functools.cache
def bomb() -> bytes:
    # Just past the bound: about 100 KB of archive, which the site must not unpack.
    return with_cell_text(MAX_XLSX_UNPACKED // MB + 1)


def absurdly_packed() -> bytes:
    # Well under the bound, but no spreadsheet program writes a part that packs so well.
    return with_cell_text(2)


def lying_about_its_size() -> bytes:
    """The sheet's data hold a megabyte more than the archive declares (its size and the CRC
    of what it declares): zipfile cuts the data there, but a part read whole (as openpyxl reads
    most parts) is unpacked entirely first."""
    declared = {}

    def write(stream, xml):
        declared.update(size=len(xml), crc=zlib.crc32(xml))
        stream.write(xml + b" " * MB)

    data = bytearray(with_sheet(write))
    # The sheet's entry in the central directory: signature, 42 bytes of fields, its name.
    entry = re.search(rb"PK\x01\x02.{42}" + re.escape(SHEET.encode()), data, re.S).start()
    struct.pack_into("<I", data, entry + 16, declared["crc"])
    struct.pack_into("<I", data, entry + 24, declared["size"])
    return bytes(data)


def damaged(change) -> bytes:
    return with_sheet(lambda stream, xml: stream.write(change(xml)))


def cell_d2(replacement: bytes):
    return lambda xml: CELL_D2.sub(replacement, xml, count=1)


# Entity expansion: expat refuses it past its amplification limit, with a ParseError.
LAUGHS = (
    b'<!DOCTYPE lolz [<!ENTITY lol "lollollollollollollollollollol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (n, (b"&lol;" if n == 1 else b"&lol%d;" % (n - 1)) * 10)
        for n in range(1, 10)
    )
    + b"]>"
)
DAMAGED = {
    "truncated xml": lambda xml: xml[: len(xml) // 2],
    "entity expansion": lambda xml: LAUGHS + xml.replace(ROLE, b"&lol9;", 1),
    "shared string out of range": cell_d2(b'<c r="D2" t="s"><v>99</v></c>'),
    "number that is none": cell_d2(b'<c r="D2" t="n"><v>abc</v></c>'),
    "date that is none": cell_d2(b'<c r="D2" t="d"><v>notadate</v></c>'),
    "cell reference past the last column": cell_d2(b'<c r="ZZZZZ2" t="n"><v>1</v></c>'),
}
DAMAGED_MESSAGE = "Файл XLSX повреждён: лист"
RESAVE = "Откройте его в Excel или LibreOffice, сохраните заново как «Книга Excel (.xlsx)»"
NOT_XLSX = "Не удалось прочитать файл XLSX: он повреждён или это не таблица XLSX."
BOMB_MESSAGE = "Файл XLSX в распакованном виде занимает 101,0 МБ, а таблица контактов — не"
# name, content, what the message says: what admin must show as well.
XLSX_CORPUS = {
    "xlsx bomb": (bomb, BOMB_MESSAGE),
    "xlsx packed absurdly": (
        absurdly_packed,
        "Файл XLSX не похож на таблицу: его часть «xl/worksheets/sheet1.xml» сжата в",
    ),
    "xlsx lying about its size": (lying_about_its_size, NOT_XLSX),
    "xlsx not a zip archive": (lambda: b"PK\x03\x04" + b"\x00" * 100, NOT_XLSX),
    **{
        f"xlsx {name}": (functools.partial(damaged, change), DAMAGED_MESSAGE)
        for name, change in DAMAGED.items()
    },
}

# name, content (bytes, or a callable for the large ones), what the message says.
CORPUS = {
    "binary": ("contacts.csv", os.urandom(2000) + b"\x00", "в файле двоичные данные"),
    "utf-16 without a byte order mark": (
        "contacts.csv",
        table().encode("utf-16-le"),
        "в файле двоичные данные",
    ),
    "neither utf-8 nor windows-1251": (
        "contacts.csv",
        table().encode("cp1251") + "Пермь".encode("cp1251") + b"\x98\n",
        "это не UTF-8 (байт 0xD0 в строке 1) и не Windows-1251 (байт 0x98 в строке 5)",
    ),
    "huge cell": (
        "contacts.csv",
        table([*GOOD, contact(**{"Примечание": "Ж" * 200_000})]).encode(),
        "Строка 5: файл CSV не читается",
    ),
    "long cell": (
        "contacts.csv",
        table([*GOOD, contact(**{"Примечание": "Ж" * 20_000})]).encode(),
        "Строка 5, столбец «Примечание»: длиннее 10\u00a0000 знаков",
    ),
    "huge file": ("contacts.csv", huge_file, "Файл слишком большой: 1"),
    "empty": ("contacts.csv", b"", "Файл пустой."),
    "blank lines only": ("contacts.csv", b"\r\n;;;\r\n", "В файле нет строки заголовка"),
    "header only": ("contacts.csv", table([]).encode("utf-8-sig"), "только строка заголовка"),
    "csv named xlsx": ("contacts.xlsx", table().encode(), "Файл назван .xlsx, но это не"),
    "old excel": ("contacts.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, ".xls"),
    **{
        name: ("contacts.xlsx", content, message)
        for name, (content, message) in XLSX_CORPUS.items()
    },
}


@pytest.mark.parametrize(("name", "content", "message"), CORPUS.values(), ids=CORPUS)
def test_a_malformed_file_gets_one_clear_message_and_nothing_is_written(
    tmp_path, regions, name, content, message
):
    path = tmp_path / name
    path.write_bytes(content() if callable(content) else content)
    before = snapshot()
    with pytest.raises(CommandError) as refusal:
        call_command("import_representatives", str(path), stdout=io.StringIO())
    assert message in str(refusal.value)
    assert snapshot() == before


def test_size_limits_are_stated(tmp_path, regions):
    path = tmp_path / "contacts.csv"
    path.write_bytes(huge_file())
    with pytest.raises(CommandError) as refusal:
        call_command("import_representatives", str(path))
    assert "Наибольший размер файла — 10 МБ, строк — не больше 50\u00a0000, ячейка — не" in str(
        refusal.value
    )


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8", ";"), ("utf-8-sig", ","), ("cp1251", ";"), ("utf-16", "\t"), ("utf-16", ";")],
)
def test_encodings_spreadsheet_programs_save_are_detected(tmp_path, regions, encoding, delimiter):
    path = tmp_path / "contacts.csv"
    path.write_bytes(table(delimiter=delimiter).encode(encoding))
    import_(path)
    assert Representative.objects.count() == len(GOOD)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("contacts.csv", lambda: b"\x98\x00binary", "в файле двоичные данные"),
        *(("contacts.xlsx", content, message) for content, message in XLSX_CORPUS.values()),
    ],
    ids=["binary csv", *XLSX_CORPUS],
)
def test_the_command_exits_1_with_the_message_and_no_traceback(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content())
    # Text logs: a person at a terminal (tests.settings, which the environment names, turns
    # DEBUG off, so the JSON logs would be the default).
    result = run_import(path, LOG_FORMAT="text")
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1


def run_import(path: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "import_representatives", str(path), "--dry-run"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )


def test_with_json_logs_the_message_is_one_json_line_without_a_traceback(tmp_path):
    """A CommandError was Django's plain «CommandError: …» among the JSON lines; it is the
    omsportal.commands failure line, with the message people read and no trace."""
    path = tmp_path / "contacts.csv"
    path.write_bytes(b"\x98\x00binary")
    result = run_import(path, LOG_FORMAT="json")
    assert result.returncode == 1
    assert result.stderr == ""
    (line,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert line["logger"] == "omsportal.commands"
    assert line["message"] == "manage.py import_representatives failed"
    assert "в файле двоичные данные" in line["exception"]
    assert "Traceback" not in line["exception"]
