"""Russian phone numbers as staff type them, and the tel: links made from them."""

import phonenumbers
from django.core.exceptions import ValidationError


def parse_phone(value: str) -> phonenumbers.PhoneNumber:
    try:
        number = phonenumbers.parse(value, "RU")
    except phonenumbers.NumberParseException:
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
