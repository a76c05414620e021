"""Helpers for the appeals tests: form data, appeals, a real SMTP server. Fictitious people."""

import secrets
import time
from email import message_from_bytes
from email.policy import default as default_policy

import environ
from aiosmtpd.controller import Controller
from django.core import signing

from appeals.forms import STARTED_SALT
from appeals.services import receive_appeal
from regions.models import Region

from .proxy import free_port

TEXT = "Тестовое обращение: в поликлинике отказали в приёме без прикрепления."
NAME = "Тестова Проверка Ивановна"
EMAIL = "zayavitel.test@example.com"
PHONE = "+7 900 000-00-00"


def started(seconds_ago: float = 60) -> str:
    """A form opened that long ago, as appeals.forms.started_stamp() makes it."""
    return signing.dumps([time.time() - seconds_ago, secrets.token_hex(8)], salt=STARTED_SALT)


def form_data(**overrides) -> dict:
    return {
        "region": "tomsk-oblast",
        "place": "70",
        "topic": "refused",
        "text": TEXT,
        "name": NAME,
        "email": EMAIL,
        "phone": "",
        "consent": "on",
        "website": "",
        "started": started(),
    } | overrides


def make_appeal(region_slug: str = "tomsk-oblast", **fields):
    """An appeal as the form would save it; returns (appeal, status token)."""
    values = {
        "place_code": "70",
        "topic": "refused",
        "text": TEXT,
        "name": NAME,
        "email": EMAIL,
        "phone": "",
    } | fields
    received = receive_appeal(
        region=Region.objects.get(slug=region_slug),
        status_url=lambda token: f"http://testserver/obrashchenie/status/?t={token}",
        admin_url=lambda appeal: f"http://testserver/admin/appeals/appeal/{appeal.pk}/change/",
        **values,
    )
    return received.appeal, received.token


class SmtpServer:
    """aiosmtpd on 127.0.0.1: records what it accepts; `refuse` makes it answer 451, to every
    mail or (`refuse_to`) to those for these addresses."""

    def __init__(self):
        self.messages = []
        self.refuse = False
        self.refuse_to: set[str] = set()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):
        if self.refuse or self.refuse_to & set(envelope.rcpt_tos):
            return "451 4.3.0 Mailbox temporarily unavailable, try again later"
        self.messages.append(message_from_bytes(envelope.content, policy=default_policy))
        return "250 OK"

    @property
    def email_url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def configure(self, settings) -> None:
        """Points Django at this server the way EMAIL_URL does in production."""
        for name, value in environ.Env.email_url_config(self.email_url).items():
            setattr(settings, name, value)
        settings.EMAIL_TIMEOUT = 5

    def start(self):
        self.controller.start()

    def stop(self):
        self.controller.stop()
