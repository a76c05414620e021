"""Writes: an appeal received, an answer given, personal data removed. Each in one transaction."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.views.decorators.debug import sensitive_variables

from regions.models import Region

from . import outbox
from .models import Appeal, OutboxMail, new_token


@dataclass(frozen=True)
class Received:
    appeal: Appeal
    token: str  # shown once, on the confirmation page and in the confirmation mail


class AlreadyReceived(Exception):
    """The same filled-in form was sent before: this is the appeal it made."""

    def __init__(self, appeal: Appeal):
        super().__init__(appeal.number)
        self.appeal = appeal


# How long the same appeal sent again is taken for the first one sent again: its answer lost
# on a bad network, nginx's 503 page saying «go back and send it again», Back then «Отправить».
REPEAT_WINDOW = timedelta(days=1)


def form_key(fields: Mapping[str, str]) -> str:
    """One appeal, by all its person typed or chose (``fields``: the form's raw values), so
    that the same appeal sent again is known by its content.

    Not by the form's opening stamp, as it was: the form's page is ``no-store``, so Back
    fetches it anew with a fresh stamp while the browser restores what was typed, and the same
    appeal was stored twice. Keyed with SECRET_KEY, so the column tells nothing of the contacts
    or the text to anyone who reads it; cleared with the appeal's personal data.
    """
    value = "\0".join(str(fields.get(name, "")).strip() for name in TYPED_FIELDS)
    return salted_hmac("appeals.form_key", value, algorithm="sha256").hexdigest()


# What the form sends that the person typed or chose; the rest (token, stamp, trap) is ours.
TYPED_FIELDS = ("region", "place", "topic", "text", "name", "email", "phone")


def earlier_appeal(key: str, *, now=None) -> Appeal | None:
    """The appeal the same content made within REPEAT_WINDOW, if any."""
    since = (now or timezone.now()) - REPEAT_WINDOW
    return Appeal.objects.filter(form_key=key, created_at__gte=since).first()


@sensitive_variables("name", "email", "phone", "text")
def receive_appeal(
    *,
    region: Region,
    place_code: str,
    topic: str,
    text: str,
    name: str,
    email: str,
    phone: str,
    status_url: Callable[[str], str],
    admin_url: Callable[[Appeal], str],
    key: str | None = None,
) -> Received:
    """Saves the appeal and queues its mails, all or nothing.

    `status_url(token)` and `admin_url(appeal)` make the absolute links the mails carry.
    `key` (form_key()): AlreadyReceived if the same appeal was made within REPEAT_WINDOW (the
    view looks for one first; the unique key settles two sent at the same moment).
    """
    token, token_hash = new_token()
    now = timezone.now()
    appeal = Appeal(
        region=region,
        place_code=place_code,
        topic=topic,
        text=text,
        name=name,
        email=email,
        phone=phone,
        consent_at=now,
        created_at=now,
        deadline=timezone.localdate(now) + timedelta(days=settings.APPEALS_ANSWER_DAYS),
        token_hash=token_hash,
        form_key=key,
    )
    appeal.full_clean(exclude=["number", "form_key"])
    try:
        with transaction.atomic():
            if key:
                # The same appeal sent again after the window is a new one: the key moves to it.
                Appeal.objects.filter(form_key=key, created_at__lt=now - REPEAT_WINDOW).update(
                    form_key=None
                )
            appeal.save()
            appeal.number = f"О-{timezone.localdate(now).year}-{appeal.pk:06d}"
            Appeal.objects.filter(pk=appeal.pk).update(number=appeal.number)
            # The history row written by save() predates the number; give it the number too.
            appeal.history.filter(id=appeal.pk).update(number=appeal.number)
            if email:
                outbox.enqueue(
                    kind=OutboxMail.Kind.CONFIRMATION,
                    to=email,
                    template="appeals/mail/confirmation.txt",
                    context={"appeal": appeal, "status_url": status_url(token)},
                    appeal=appeal,
                )
            # Read now, not from the cached region index: a changed address counts at once.
            notify = Region.objects.filter(pk=region.pk).values_list("appeals_email", flat=True)
            if notify_to := notify.first():
                outbox.enqueue(
                    kind=OutboxMail.Kind.NOTIFICATION,
                    to=notify_to,
                    template="appeals/mail/notification.txt",
                    context={"appeal": appeal, "admin_url": admin_url(appeal)},
                    appeal=appeal,
                )
    except IntegrityError:
        # The same form sent again: another request saved it first.
        earlier = Appeal.objects.filter(form_key=key).first() if key else None
        if earlier is None:
            raise
        raise AlreadyReceived(earlier) from None
    return Received(appeal=appeal, token=token)


def answer_given(appeal: Appeal) -> None:
    """Called in the admin's save transaction when the answer text was written or changed."""
    appeal.answered_at = timezone.now()
    if appeal.status in {Appeal.Status.NEW, Appeal.Status.IN_PROGRESS}:
        appeal.status = Appeal.Status.ANSWERED
    if appeal.email:
        outbox.enqueue(
            kind=OutboxMail.Kind.ANSWER,
            to=appeal.email,
            template="appeals/mail/answer.txt",
            context={"appeal": appeal},
            appeal=appeal,
        )


def status_changed(appeal: Appeal) -> None:
    if appeal.status == Appeal.Status.CLOSED:
        appeal.closed_at = appeal.closed_at or timezone.now()
    else:
        appeal.closed_at = None


def purge_personal_data(*, days: int, now=None) -> list[str]:
    """Removes the person's data from appeals closed more than `days` days ago.

    Kept: number, dates, region, topic, status. The history rows and the mails of those
    appeals held the same data: history is blanked the same way, mails are deleted.
    """
    now = now or timezone.now()
    blank = dict.fromkeys(Appeal.PERSONAL_FIELDS, "")
    with transaction.atomic():
        appeals = Appeal.objects.purgeable(days=days, now=now).select_for_update()
        numbers = {pk: number for pk, number in appeals.values_list("pk", "number")}
        if not numbers:
            return []
        # updated_at too: an admin form opened before the purge must not write the data back.
        # form_key too: a hash of the text, whatever else it is made of.
        Appeal.objects.filter(pk__in=numbers).update(
            **blank, form_key=None, personal_data_removed_at=now, updated_at=now
        )
        Appeal.history.filter(id__in=numbers).update(**blank)
        OutboxMail.objects.filter(appeal__in=numbers).delete()
    return sorted(numbers.values())
