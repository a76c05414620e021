"""Malformed files given to import_representatives: one clear Russian message each, exit code
1, nothing written. Encodings a spreadsheet program saves (UTF-8, UTF-16 with its byte order
mark, Windows-1251) are detected and imported."""

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from representatives.models import Representative

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
    "damaged xlsx": ("contacts.xlsx", b"PK\x03\x04" + b"\x00" * 100, "Не удалось прочитать"),
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


def test_the_command_exits_1_with_the_message_and_no_traceback(tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_bytes(b"\x98\x00binary")
    env = {**os.environ, "DEBUG": "1"}
    result = subprocess.run(
        [sys.executable, "manage.py", "import_representatives", str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "в файле двоичные данные" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
