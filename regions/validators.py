"""Checks on files staff publish: a wrong extension, an oversized file or content that does not
match its extension never reaches citizens."""

import zipfile
import zlib
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MEMBERS = {
    "xlsx": "xl/workbook.xml",
    "docx": "word/document.xml",
}
OPENDOCUMENT_TYPES = {
    "ods": b"application/vnd.oasis.opendocument.spreadsheet",
    "odt": b"application/vnd.oasis.opendocument.text",
}
# The longest type above and one byte more: a member named «mimetype» is read no further, so
# a few hundred kilobytes that unpack to gigabytes (a zip bomb) cost the worker no memory.
MIMETYPE_READ_BYTES = max(map(len, OPENDOCUMENT_TYPES.values())) + 1
# What reading a member raises when it cannot be read: damaged (zlib.error, EOFError), an
# encryption (RuntimeError) or a compression (NotImplementedError) zipfile does not know.
UNREADABLE_ZIP = (
    zipfile.BadZipFile,
    OSError,
    KeyError,
    RuntimeError,
    NotImplementedError,
    EOFError,
    zlib.error,
)

ALLOWED_EXTENSIONS = ("pdf", "xlsx", "xls", "docx", "doc", "ods", "odt", "csv", "zip")


def _head(file, size: int) -> bytes:
    file.seek(0)
    data = file.read(size)
    file.seek(0)
    return data


def _zip_names(file) -> set[str] | None:
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            names = set(archive.namelist())
            mimetype = b""
            if "mimetype" in names:
                with archive.open("mimetype") as member:
                    mimetype = member.read(MIMETYPE_READ_BYTES)
    except UNREADABLE_ZIP:
        return None
    finally:
        file.seek(0)
    return names | {"mimetype:" + mimetype.decode("ascii", "replace")}


def _looks_like_text(data: bytes, *, truncated: bool) -> bool:
    if b"\x00" in data:
        return False
    # A cut inside the file may split a UTF-8 character: allow up to 3 trailing bytes then.
    cuts = range(4) if truncated else range(1)
    for encoding in ("utf-8-sig", "cp1251"):
        for cut in cuts:
            try:
                data[: len(data) - cut].decode(encoding)
            except UnicodeDecodeError:
                continue
            return True
    return False


def content_matches(extension: str, file) -> bool:
    if extension == "pdf":
        return _head(file, 5) == b"%PDF-"
    if extension in ("xls", "doc"):
        return _head(file, 8) == OLE2_MAGIC
    if extension == "csv":
        head_size = 65536
        data = _head(file, head_size)
        return bool(data) and _looks_like_text(data, truncated=len(data) == head_size)
    names = _zip_names(file)
    if names is None:
        return False
    if extension in ZIP_MEMBERS:
        return ZIP_MEMBERS[extension] in names
    if extension in OPENDOCUMENT_TYPES:
        return "mimetype:" + OPENDOCUMENT_TYPES[extension].decode() in names
    return extension == "zip"


def _sizes(size: int, limit: int) -> dict[str, str]:
    shown = {"size": filesizeformat(size), "limit": filesizeformat(limit)}
    if shown["size"] == shown["limit"]:  # «20,0 МБ» against «20,0 МБ»: say it in bytes
        shown = {
            key: f"{value:,} байт".replace(",", "\u00a0")
            for key, value in (("size", size), ("limit", limit))
        }
    return shown


def registry_file_rules() -> str:
    """What validate_registry_file lets through, said to staff before they upload."""
    limit = filesizeformat(settings.REGISTRY_MAX_UPLOAD_BYTES)
    return f"Форматы: {', '.join(ALLOWED_EXTENSIONS)}. Размер — не больше {limit}."


def validate_registry_file(file) -> None:
    extension = PurePosixPath(file.name or "").suffix.lower().lstrip(".")
    if extension not in ALLOWED_EXTENSIONS:
        raise ValidationError(
            "Такой тип файла нельзя опубликовать. Допустимые форматы: %(allowed)s.",
            code="extension",
            params={"allowed": ", ".join(ALLOWED_EXTENSIONS)},
        )
    limit = settings.REGISTRY_MAX_UPLOAD_BYTES
    if file.size > limit:
        raise ValidationError(
            "Файл слишком большой: %(size)s. Наибольший допустимый размер — %(limit)s.",
            code="size",
            params=_sizes(file.size, limit),
        )
    if file.size == 0:
        raise ValidationError("Файл пустой.", code="empty")
    if not content_matches(extension, file):
        raise ValidationError(
            "Содержимое файла не соответствует расширению .%(ext)s. "
            "Проверьте, что загружаете тот файл.",
            code="content",
            params={"ext": extension},
        )


# What makes Excel, LibreOffice or Google Sheets read a cell as a formula (OWASP, «CSV
# Injection»): the equals, plus, minus and at signs, and a tab or a carriage return before them.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def starts_like_formula(value: str) -> bool:
    return value.startswith(FORMULA_TRIGGERS)


def validate_not_formula(value: str) -> None:
    """Names and addresses go into the spreadsheets citizens download: never a formula."""
    if starts_like_formula(value or ""):
        raise ValidationError(
            "Значение не может начинаться со знаков =, +, -, @, табуляции или перевода строки: "
            "в таблицах Excel такое значение становится формулой.",
            code="formula",
        )


def validate_with_preposition(value: str) -> None:
    """Pages put the name straight after a verb («Полис выдан {name_in}», «вы {name_in}»):
    typed without its preposition, «Белгородской области» made «Полис выдан Белгородской
    области»."""
    if not value.startswith(("в ", "во ")):
        raise ValidationError(
            "Пишите с предлогом «в» или «во», со строчной буквы: «в Пермском крае», "
            "«во Владимирской области». Сайт ставит это название в середину фраз.",
            code="preposition",
        )
