"""The outbox and its sender against a real SMTP server (aiosmtpd on 127.0.0.1)."""

import contextlib
import json
import logging
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from appeals.models import Appeal, OutboxFailure, OutboxMail
from appeals.outbox import retry_delay, send_due

from .appeals_support import EMAIL, NAME, SmtpServer, form_data, make_appeal

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("subjects")]


@pytest.fixture
def smtp(settings):
    server = SmtpServer()
    server.start()
    server.configure(settings)
    yield server
    server.stop()


def send_outbox() -> None:
    call_command("send_mail_outbox", verbosity=0)


def test_a_confirmation_is_sent_through_smtp(client, regions, smtp, settings):
    settings.DEFAULT_FROM_EMAIL = "oms-sait@example.com"
    response = client.post("/obrashchenie/", form_data())
    token = response["Location"].split("?t=")[1]
    appeal = Appeal.objects.get()

    send_outbox()

    (message,) = smtp.messages
    assert message["To"] == EMAIL and message["From"] == "oms-sait@example.com"
    assert message["Subject"].strip() == f"Обращение {appeal.number} получено"
    body = message.get_content()
    assert f"{settings.SITE_URL}/obrashchenie/status/?t={token}" in body
    # Staff may answer by phone and close the appeal: the page shows no answer then.
    assert "а если ответ будет письменным, — и сам ответ" in body
    mail = OutboxMail.objects.get()
    assert mail.status == OutboxMail.Status.SENT and mail.sent_at and mail.attempts == 1
    # The link in the mail opens the status page.
    assert client.get(f"/obrashchenie/status/?t={token}").status_code == 200
    # Sent, the link is nowhere in the database (admin, backups): only its hash is.
    assert token not in mail.body
    assert mail.body.startswith("Текст письма удалён после отправки")
    dump = "\n".join(str(row) for row in OutboxMail.objects.values_list())
    assert token not in dump


def test_smtp_refusing_keeps_the_appeal_and_the_mail_waits_then_goes_once(client, regions, smtp):
    smtp.refuse = True
    assert client.post("/obrashchenie/", form_data()).status_code == 303
    # Nothing went: the pass exits 1 (CommandError), so that cron can alert.
    with pytest.raises(CommandError, match="Отправлено: 0, не удалось: 1: почтовый сервер"):
        send_outbox()

    assert Appeal.objects.count() == 1
    mail = OutboxMail.objects.get()
    assert mail.status == OutboxMail.Status.PENDING and mail.attempts == 1
    assert "451" in mail.last_error
    (failure,) = OutboxFailure.objects.filter(mail=mail)
    assert "451" in failure.error and EMAIL not in failure.error
    assert mail.next_attempt_at > timezone.now()
    assert smtp.messages == []

    smtp.refuse = False
    send_outbox()  # not due yet: backoff
    assert smtp.messages == []

    later = mail.next_attempt_at + timedelta(seconds=1)
    assert send_due(now=later).sent == 1
    assert send_due(now=later).sent == 0
    send_outbox()
    assert len(smtp.messages) == 1
    mail.refresh_from_db()
    assert mail.status == OutboxMail.Status.SENT and mail.attempts == 2


def test_a_pass_that_sent_some_mails_exits_0_though_others_failed(regions, smtp, settings):
    """Only a pass that sent nothing fails: one bad mail must not wake cron every minute."""
    make_appeal(email=EMAIL)
    make_appeal(email="drugoy.test@example.com")
    smtp.refuse_to = {EMAIL}
    call_command("send_mail_outbox", verbosity=0)
    assert [m["To"] for m in smtp.messages] == ["drugoy.test@example.com"]
    assert OutboxMail.objects.filter(status=OutboxMail.Status.PENDING, attempts=1).count() == 1


def test_smtp_down_is_recorded_and_retried_later_each_time(regions, settings):
    server = SmtpServer()  # never started: nothing listens on its port
    server.configure(settings)
    settings.OUTBOX_MAX_ATTEMPTS = 3
    make_appeal()
    mail = OutboxMail.objects.get()
    now = timezone.now()
    for attempt in (1, 2, 3):
        send_due(now=now)
        mail.refresh_from_db()
        assert mail.attempts == attempt
        if attempt < 3:
            assert mail.next_attempt_at >= now + retry_delay(attempt)
            now = mail.next_attempt_at
    assert mail.status == OutboxMail.Status.FAILED  # given up: staff see it in admin
    assert OutboxFailure.objects.filter(mail=mail).count() == 3
    assert "ConnectionRefusedError" in mail.last_error
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3)] == [60, 120, 240]


@pytest.mark.parametrize(
    "address",
    [
        "a@" + ".".join(["я" * 63] * 3) + ".рф",  # a label over 63 octets once encoded
        "a@" + ".".join(["обязательноемедицинскоестрахование"] * 6) + ".рф",  # 296 octets
    ],
)
def test_an_address_stored_before_the_form_refused_it_is_given_up_at_once(
    regions, smtp, settings, caplog, address
):
    # The form let such addresses through; each mail to one failed in the IDNA codec and was
    # tried again, OUTBOX_MAX_ATTEMPTS times over a day, and staff saw it «ждёт отправки».
    appeal, _ = make_appeal(email=EMAIL)
    OutboxMail.objects.filter(appeal=appeal).update(to=address)
    make_appeal(email="drugoy.test@example.com")  # another, to an address that works
    caplog.set_level(logging.INFO, logger="appeals.outbox")

    result = send_due()

    mail = OutboxMail.objects.get(appeal=appeal)
    assert mail.status == OutboxMail.Status.FAILED and mail.attempts == 1
    assert mail.last_error.startswith("Адрес получателя нельзя записать для отправки")
    assert OutboxFailure.objects.filter(mail=mail).count() == 1
    # Not claimed again, however much later the sender runs.
    assert send_due(now=timezone.now() + timedelta(days=30)).failed == 0
    mail.refresh_from_db()
    assert mail.attempts == 1
    # The other appeal's mail went as usual.
    assert result.sent == 1 and [m["To"] for m in smtp.messages] == ["drugoy.test@example.com"]
    (line,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert f"mail {mail.pk}" in line.getMessage()
    assert address.partition("@")[2][:20] not in caplog.text


def test_without_email_url_the_sender_says_so_and_the_mails_keep_their_attempts(
    regions, settings, smtp
):
    # Production without EMAIL_URL (the compose file's mailer by default). Each pass used to
    # count an attempt per mail, so after OUTBOX_MAX_ATTEMPTS passes (about 20 hours of
    # backoff) every confirmation had given up, and setting EMAIL_URL then sent none of them.
    settings.EMAIL_BACKEND = "appeals.mail.NotConfiguredBackend"
    settings.OUTBOX_MAX_ATTEMPTS = 2
    make_appeal()
    for _ in range(3):
        with pytest.raises(CommandError, match="EMAIL_URL не задан") as refused:
            send_outbox()
    assert "ждут отправки: 1" in str(refused.value)
    mail = OutboxMail.objects.get()
    assert mail.status == OutboxMail.Status.PENDING and mail.attempts == 0
    assert not OutboxFailure.objects.exists()

    smtp.configure(settings)  # EMAIL_URL set: the mail goes at the next pass
    send_outbox()
    assert len(smtp.messages) == 1


@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_send_each_mail_once(regions, smtp):
    if connection.vendor != "postgresql":
        pytest.skip("row locks (SKIP LOCKED) need PostgreSQL: run with DATABASE_URL=postgres://…")
    for n in range(20):
        make_appeal(email=f"test{n}@example.com")
    results = []

    def sender():
        results.append(send_due(limit=100))
        connection.close()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(result.sent for result in results) == 20
    assert sorted(m["To"] for m in smtp.messages) == sorted(
        f"test{n}@example.com" for n in range(20)
    )
    assert not OutboxMail.objects.exclude(status=OutboxMail.Status.SENT).exists()


MAILER_APP = "omsportal-test-mailer"


def wait_for(condition, what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {seconds} s"
        time.sleep(0.05)


@contextlib.contextmanager
def database_down():
    """PostgreSQL cut off for the sender: its connection ended by the server (as a restart or
    a failover ends it), and no new one accepted until the block ends."""
    name = connection.settings_dict["NAME"]
    # From the maintenance database: PostgreSQL lets no session close its own database.
    with connection._nodb_cursor() as cursor:
        cursor.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        try:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND application_name = %s AND pid <> pg_backend_pid()",
                [name, MAILER_APP],
            )
            yield
        finally:
            cursor.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


@pytest.mark.django_db(transaction=True)
def test_the_sender_as_a_service_outlives_a_database_outage(regions, smtp, tmp_path):
    """The compose file's mailer (`--loop`) ended for good at the first database error, with a
    traceback: appeals kept coming in, and their confirmations waited until someone noticed."""
    if connection.vendor != "postgresql":
        pytest.skip("the sender runs in a process of its own: run with DATABASE_URL=postgres://…")
    from tests.test_instances import ROOT, database_url, deployment_env

    env = deployment_env(
        tmp_path,
        database_url(),
        EMAIL_URL=smtp.email_url,
        DEFAULT_FROM_EMAIL="oms-sait@example.com",
        PGAPPNAME=MAILER_APP,  # libpq's name for the connection, to end it by
    )
    log_path = tmp_path / "mailer.log"
    with open(log_path, "wb") as log:
        mailer = subprocess.Popen(
            [sys.executable, "manage.py", "send_mail_outbox", "--loop", "0.2"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        make_appeal(email="pervyi.test@example.com")
        wait_for(lambda: len(smtp.messages) == 1, "the first mail sent")

        with database_down():
            wait_for(
                lambda: mailer.poll() is not None or "WARNING" in log_path.read_text(),
                "a warning in the log",
            )
            time.sleep(0.5)  # a few more passes meet the outage
            assert mailer.poll() is None, log_path.read_text()
        make_appeal(email=EMAIL)

        wait_for(lambda: len(smtp.messages) == 2, "the mail queued after the outage sent")
        assert mailer.poll() is None, log_path.read_text()
    finally:
        mailer.terminate()
        mailer.wait(10)
    assert [m["To"] for m in smtp.messages] == ["pervyi.test@example.com", EMAIL]
    text = log_path.read_text()
    assert "Traceback" not in text
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    warnings = [line for line in lines if line["level"] == "WARNING"]
    assert warnings, text
    for line in warnings:
        assert line["logger"] == "appeals.management.commands.send_mail_outbox"
        assert line["message"] == (
            "Outbox: the database failed (OperationalError); the mails wait, next pass in 0.2 s"
        )
        assert "exception" not in line
    assert EMAIL not in text and NAME not in text
