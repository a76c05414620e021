"""The 89 federal subjects, for «где это случилось»: the regions app's Subject rows.

The appeal keeps the two-digit subject code as written, so that purging personal data or a
change to the subjects never rewrites an appeal's statistics.
"""

from django.core.exceptions import ValidationError

from regions.models import Subject


def subjects() -> dict[str, str]:
    """Subject code → official name, in the order people look for them."""
    return {subject.code: subject.name for subject in Subject.objects.index().subjects}


def subject_name(code: str) -> str:
    return subjects().get(code, "")


def subject_choices() -> list[tuple[str, str]]:
    return list(subjects().items())


def validate_subject_code(value: str) -> None:
    if value not in subjects():
        raise ValidationError(
            "Неизвестный код субъекта РФ «%(value)s».", code="subject", params={"value": value}
        )
