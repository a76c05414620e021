from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend


class NotConfiguredBackend(BaseEmailBackend):
    """Production without EMAIL_URL: refuses to send, so the outbox keeps the mails."""

    def send_messages(self, email_messages):
        raise ConnectionError("EMAIL_URL не задан: письма ждут в очереди")


# What settings.py names when EMAIL_URL is not set.
NOT_CONFIGURED = f"{__name__}.{NotConfiguredBackend.__qualname__}"


def configured() -> bool:
    return settings.EMAIL_BACKEND != NOT_CONFIGURED
