"""Test data builders. Obviously fictitious values only."""

import io
import itertools
import zipfile
from datetime import date, time

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from company.models import Company
from regions.models import Region, RegistryFile
from representatives.models import ReceptionHours, Representative

_codes = itertools.count(1)


def make_representative(region, *, hours=(), **fields) -> Representative:
    """hours: (weekday, "09:00", "18:00") triples."""
    values = {
        "code": f"test-{next(_codes)}",
        "level": 2,
        "role": "Страховой представитель (тест)",
        "phones": "8 (342) 200-00-00",
    } | fields
    representative = Representative.objects.create(region=region, **values)
    ReceptionHours.objects.bulk_create(
        ReceptionHours(
            representative=representative,
            weekday=weekday,
            opens=time.fromisoformat(opens),
            closes=time.fromisoformat(closes),
        )
        for weekday, opens, closes in hours
    )
    return representative


# «Сведения о компании» filled in full; all-zero ИНН and ОГРН pass their check digits.
FICTITIOUS_COMPANY = {
    "name": "Пример-Мед",
    "legal_form": "акционерное общество",
    "licence_number": "ОС № 0000-00",
    "licence_date": date(2020, 1, 2),
    "inn": "0000000000",
    "ogrn": "0000000000000",
    "postal_address": "000000, г. Образцов, ул. Тестовая, д. 1",
    "email": "info@example.test",
    "hotline_hours": "круглосуточно",
    "disclosure_url": "https://company.example.test/raskrytie/",
    "request_log_days": 30,
}


def make_company(**fields) -> Company:
    # Saved over the empty record the migrations make (Company.save keeps the one key), or as
    # it where a test flushed the database.
    company = Company(**(FICTITIOUS_COMPANY | fields))
    company.save()
    return company


WORKDAYS = [(day, "09:00", "18:00") for day in range(1, 6)]


def management(prefix: str, *, total: int = 0, initial: int = 0) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def form_value(value) -> str:
    """A model value as a browser posts it in an admin form."""
    if value is None:
        return ""
    return value.strftime("%d.%m.%Y") if hasattr(value, "strftime") else value


def region_form(region: Region, **changes) -> dict:
    fields = [
        "name", "order", "code", "okato", "iso_code", "slug", "time_zone", "name_in", "name_of",
        "tfoms_name", "tfoms_phone", "tfoms_site", "tfoms_address",
        "tfoms_source", "tfoms_source_url", "tfoms_source_date",
        "health_name", "health_phone", "health_site", "health_address",
        "health_source", "health_source_url", "health_source_date", "hotline_phone",
    ]  # fmt: skip
    data = {field: form_value(getattr(region, field)) for field in fields}
    if region.is_default:
        data["is_default"] = "on"
    return data | management("representatives") | changes


PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def xlsx_bytes() -> bytes:
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
    item = RegistryFile(title=title, kind=kind, region=region, file=upload(name, content), **fields)
    item.full_clean()
    item.save()
    return item
