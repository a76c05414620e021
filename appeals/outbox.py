"""Mail leaves through a table: written in the transaction that needs it, sent later.

`send_due()` is what `manage.py send_mail_outbox` runs. Each mail is claimed under a row lock
(PostgreSQL: SELECT … FOR UPDATE SKIP LOCKED, so two senders never take the same mail) and a
conditional update (SQLite has no row locks: only one sender's update matches), sent, and
marked sent in the same transaction. A failure is recorded with its error and the mail waits
for its next attempt, later each time, up to OUTBOX_MAX_ATTEMPTS; a mail whose address cannot be
encoded (mail.ascii_domain) is given up at its first attempt. Without EMAIL_URL nothing is
claimed: a mail that could not have been sent keeps its attempts for when a server is set.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone

from . import mail as mail_settings
from .models import Appeal, OutboxFailure, OutboxMail

logger = logging.getLogger(__name__)


SENT_CONFIRMATION_BODY = (
    "Текст письма удалён после отправки: в нём была личная ссылка на страницу обращения."
)


def enqueue(*, kind: str, to: str, template: str, context: dict, appeal: Appeal | None) -> None:
    subject, _, body = render_to_string(template, context).partition("\n")
    OutboxMail.objects.create(
        appeal=appeal, kind=kind, to=to, subject=subject.strip(), body=body.lstrip("\n")
    )


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4, 8 … minutes after the first, second, third … failure, at most 6 hours."""
    base = settings.OUTBOX_RETRY_SECONDS
    return timedelta(seconds=min(base * 2 ** (attempts - 1), 6 * 3600))


@dataclass
class Result:
    sent: int = 0
    failed: int = 0


def _claim_next(now):
    due = OutboxMail.objects.filter(status=OutboxMail.Status.PENDING, next_attempt_at__lte=now)
    if connection.features.has_select_for_update_skip_locked:
        due = due.select_for_update(skip_locked=True)
    mail = due.order_by("next_attempt_at", "pk").first()
    if mail is None:
        return None
    claimed = OutboxMail.objects.filter(
        pk=mail.pk, status=OutboxMail.Status.PENDING, attempts=mail.attempts
    ).update(attempts=F("attempts") + 1)
    if not claimed:
        return False
    mail.attempts += 1
    return mail


class MailNotConfigured(Exception):
    pass


def send_due(*, limit: int = 100, now=None) -> Result:
    if not mail_settings.configured():
        # Each pass would count an attempt per mail: after OUTBOX_MAX_ATTEMPTS passes every
        # mail had given up, and setting EMAIL_URL later sent none of them.
        waiting = OutboxMail.objects.filter(status=OutboxMail.Status.PENDING).count()
        raise MailNotConfigured(
            f"EMAIL_URL не задан, письма не отправляются; в очереди ждут отправки: {waiting}."
            " Задайте EMAIL_URL (smtp://…:25, smtp+tls://…:587 или smtp+ssl://…:465) и"
            " запустите команду снова: ждущие письма уйдут, их попытки не потрачены."
        )
    result = Result()
    smtp = get_connection(fail_silently=False)
    skipped = 0
    try:
        while result.sent + result.failed < limit and skipped < limit:
            with transaction.atomic():
                current = now or timezone.now()
                mail = _claim_next(current)
                if mail is None:
                    break
                if mail is False:  # another sender took it between our read and our write
                    skipped += 1
                    continue
                try:
                    mail_settings.ascii_domain(mail.to)
                except UnicodeError as error:
                    # Stored before the form refused such addresses: every attempt would fail
                    # the same way, for a day of retries.
                    _record_failure(mail, error, now=current, final=True)
                    result.failed += 1
                    continue
                try:
                    EmailMessage(
                        mail.subject,
                        mail.body,
                        settings.DEFAULT_FROM_EMAIL,
                        [mail.to],
                        connection=smtp,
                    ).send()
                except Exception as error:  # any failure of any backend: record, retry later
                    _record_failure(mail, error, now=current)
                    result.failed += 1
                    # A broken connection is not reused for the next mail.
                    smtp.close()
                    continue
                mail.status = OutboxMail.Status.SENT
                mail.sent_at = timezone.now()
                mail.last_error = ""
                fields = ["status", "sent_at", "last_error", "attempts"]
                if mail.kind == OutboxMail.Kind.CONFIRMATION:
                    # Its status link opens the appeal and its answer; the database keeps the
                    # token only as a hash, so once sent the text must not stay readable in
                    # admin and in backups.
                    mail.body = SENT_CONFIRMATION_BODY
                    fields.append("body")
                mail.save(update_fields=fields)
                result.sent += 1
    finally:
        smtp.close()
    return result


UNSENDABLE_ADDRESS = "Адрес получателя нельзя записать для отправки, повторных попыток не будет."


def _record_failure(mail: OutboxMail, error: Exception, *, now, final: bool = False) -> None:
    """final: a failure no later attempt can change; the mail is given up at once."""
    # The error names the server's answer (or the codec's), never the mail's text or address.
    text = f"{type(error).__name__}: {error}"
    if final:
        text = f"{UNSENDABLE_ADDRESS} {text}"
    text = text[:2000]
    OutboxFailure.objects.create(mail=mail, at=now, error=text)
    mail.last_error = text
    if final:
        mail.status = OutboxMail.Status.FAILED
        logger.error("Outbox: mail %s given up: its address cannot be encoded", mail.pk)
    elif mail.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        mail.status = OutboxMail.Status.FAILED
        logger.error(
            "Outbox: mail %s not sent after %s attempts (%s)",
            mail.pk,
            mail.attempts,
            type(error).__name__,
        )
    else:
        mail.next_attempt_at = now + retry_delay(mail.attempts)
        # The error's class says what failed (SMTPDataError, a timeout, a refused login); its
        # text stays in admin («Исходящие письма»): a server's answer may quote the address.
        logger.warning(
            "Outbox: mail %s not sent (attempt %s): %s",
            mail.pk,
            mail.attempts,
            type(error).__name__,
        )
    mail.save(update_fields=["status", "last_error", "next_attempt_at", "attempts"])
