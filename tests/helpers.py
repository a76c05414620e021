"""Small builders for test data; test data lives here, never in fixtures/."""

import io
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def xlsx_bytes() -> bytes:
    from openpyxl import Workbook

    buffer = io.BytesIO()
    Workbook().save(buffer)
    return buffer.getvalue()


def docx_like_zip(member: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(member, "<x/>")
    return buffer.getvalue()


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def registry_file(
    *,
    title="Реестр медицинских организаций",
    name="reestr.pdf",
    content=PDF_BYTES,
    kind="registry",
    region=None,
    **fields,
):
    from regions.models import RegistryFile

    item = RegistryFile(title=title, kind=kind, region=region, file=upload(name, content), **fields)
    item.full_clean()
    item.save()
    return item
