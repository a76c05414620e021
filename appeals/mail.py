from django.core.mail.backends.base import BaseEmailBackend


class NotConfiguredBackend(BaseEmailBackend):
    """Production without EMAIL_URL: refuses to send, so the outbox keeps the mails."""

    def send_messages(self, email_messages):
        raise ConnectionError("EMAIL_URL не задан: письма ждут в очереди")
