"""Test data builders. Obviously fictitious values only."""

import itertools
from datetime import time

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


WORKDAYS = [(day, "09:00", "18:00") for day in range(1, 6)]
