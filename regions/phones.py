"""Russian phone numbers as staff type them, and the tel: links made from them."""

import phonenumbers
from django.core.exceptions import ValidationError


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
    # A number written from 8 or +7 has 11 digits. With one missing, phonenumbers took the 8
    # for the first digit of the area code: «8 (342) 200-00-0» dialled +7 834 220-00-00, in
    # another region; a letter O for a zero did the same.
    if number is not None and number.country_code == 7:
        typed = _digits_as_typed(value, number)
        if typed[:1] in ("7", "8") and len(typed) != 11:
            number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            "Неверный номер телефона «%(value)s». Пример: 8 (800) 333-60-03.",
            code="invalid_phone",
            params={"value": value},
        )
    return number


def validate_phone(value: str) -> None:
    parse_phone(value)


def phone_tel(value: str) -> str:
    """The E.164 form for a tel: link; empty when the number cannot be dialled."""
    try:
        number = parse_phone(value)
    except ValidationError:
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
