from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils.encoding import punycode


class NotConfiguredBackend(BaseEmailBackend):
    """Production without EMAIL_URL: refuses to send, so the outbox keeps the mails."""

    def send_messages(self, email_messages):
        raise ConnectionError("EMAIL_URL не задан: письма ждут в очереди")


# What settings.py names when EMAIL_URL is not set.
NOT_CONFIGURED = f"{__name__}.{NotConfiguredBackend.__qualname__}"


def configured() -> bool:
    return settings.EMAIL_BACKEND != NOT_CONFIGURED


# The longest domain name DNS can carry (RFC 1035: 255 octets, counting the length bytes).
MAX_DOMAIN_LENGTH = 253


def ascii_domain(address: str) -> str:
    """The address's domain as the SMTP backend writes it (IDNA, Django's punycode()).

    UnicodeError if it cannot be written: a label empty or over 63 octets once encoded, a
    character IDNA forbids, or the whole name over 253 octets (which the codec lets through
    and every mail server refuses). No later attempt changes that.
    """
    encoded = punycode(address.rpartition("@")[2])
    if len(encoded.rstrip(".")) > MAX_DOMAIN_LENGTH:
        raise UnicodeError(f"domain name longer than {MAX_DOMAIN_LENGTH} octets once encoded")
    return encoded
