"""The 89 federal subjects, for «где это случилось».

Read from the reference file shipped with the app (a copy of shared/data/subjects.csv) until a
model of the subjects exists; the appeal stores the two-digit subject code, so switching to a
foreign key later is a data migration keyed by that code.
"""

import csv
from functools import cache
from pathlib import Path

from django.core.exceptions import ValidationError

SUBJECTS_CSV = Path(__file__).resolve().parent / "data" / "subjects.csv"


@cache
def subjects() -> dict[str, str]:
    """Subject code → official name, ordered by code."""
    with SUBJECTS_CSV.open(encoding="utf-8", newline="") as file:
        return {row["subject_code"]: row["name"] for row in csv.DictReader(file)}


def subject_name(code: str) -> str:
    return subjects().get(code, "")


def subject_choices() -> list[tuple[str, str]]:
    return sorted(subjects().items(), key=lambda item: item[1])


def validate_subject_code(value: str) -> None:
    if value not in subjects():
        raise ValidationError(
            "Неизвестный код субъекта РФ «%(value)s».", code="subject", params={"value": value}
        )
