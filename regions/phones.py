"""Russian phone numbers as staff type them, and the tel: links made from them."""

import re

import phonenumbers
from django.core.exceptions import ValidationError

WRITTEN_FROM_PREFIX = re.compile(r"\s*(?:\+\s*7|8)[\s(\-]")


def _digits_as_typed(value: str, number: phonenumbers.PhoneNumber) -> str:
    digits = "".join(ch for ch in value if ch.isdigit())
    if number.extension and digits.endswith(number.extension):
        digits = digits[: -len(number.extension)]
    return digits


def parse_phone(value: str) -> phonenumbers.PhoneNumber:
    try:
        number = phonenumbers.parse(value, "RU")
    except phonenumbers.NumberParseException:
        number = None
    # A number written from a trunk or country prefix set apart («8 (342) …», «+7 912 …») has
    # 11 digits. With one missing, phonenumbers took the 8 for the first digit of the area
    # code: «8 (342) 200-00-0» dialled +7 834 220-00-00, in another region; a letter O for a
    # zero did the same. Ten digits from an area code of 8xx («(812) 710-00-00») are fine.
    if (
        number is not None
        and WRITTEN_FROM_PREFIX.match(value)
        and len(_digits_as_typed(value, number)) != 11
    ):
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            "Неверный номер телефона «%(value)s». Пример: 8 (800) 333-60-03.",
            code="invalid_phone",
            params={"value": value},
        )
    return number


def validate_phone(value: str) -> None:
    """A contact the site shows (a fund, a health authority, an insurer's office): a Russian
    number. «+1 650 …» or «+44 …» typed by mistake was saved and offered to citizens to call."""
    number = parse_phone(value)
    if phonenumbers.region_code_for_number(number) != "RU":
        raise ValidationError(
            "Номер «%(value)s» не российский: на сайте показываются телефоны организаций в"
            " России. Пример: 8 (800) 333-60-03.",
            code="not_russian_phone",
            params={"value": value},
        )


def phone_tel(value: str) -> str:
    """The E.164 form for a tel: link; empty when the number cannot be dialled.

    An extension («доб. 12») follows a comma, the pause phones' diallers (Android's, the
    iPhone's) wait at before sending the rest as tones: the citizen reaches the office itself,
    not the switchboard's menu. (RFC 3966's ";ext=12" is what diallers ignore.)
    """
    try:
        number = parse_phone(value)
    except ValidationError:
        return ""
    tel = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return f"{tel},{number.extension}" if number.extension else tel
