import contextlib
import logging
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, InterfaceError, close_old_connections, connection

from appeals.commandlog import say
from appeals.outbox import MailNotConfigured, send_due

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Отправляет письма из очереди (подтверждения, ответы, уведомления). Неудачные попытки"
        " записываются, письмо ждёт следующей попытки. Запускайте по расписанию (cron) или с"
        " --loop как постоянный процесс; несколько копий одновременно не отправят письмо дважды."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=100, help="писем за один проход")
        parser.add_argument(
            "--loop",
            type=float,
            metavar="SECONDS",
            help="не завершаться: новый проход через столько секунд после предыдущего",
        )

    def handle(self, *args, limit, loop, **options):
        said = None
        while True:
            try:
                said = self.one_pass(limit=limit, loop=loop, said=said, **options)
            except (DatabaseError, InterfaceError) as error:
                if loop is None:
                    raise  # cron sees the exit status and the trace
                # A database restarted, failed over or cut off for a moment ended the service
                # for good (only a restart policy brought it back). The error's kind only: its
                # text may quote the values of a row, a person's address among them.
                logger.warning(
                    "Outbox: the database failed (%s); the mails wait, next pass in %g s",
                    type(error).__name__,
                    loop,
                )
                # The next pass connects afresh; closing what is left of this one may fail too.
                with contextlib.suppress(DatabaseError, InterfaceError):
                    connection.close()
            if loop is None:
                return
            time.sleep(loop)
            # As between requests: a connection the server dropped meanwhile is replaced.
            close_old_connections()

    def one_pass(self, *, limit: int, loop: float | None, said: str | None, **options) -> str:
        """Sends what is due; returns what the service last said of a missing EMAIL_URL."""
        try:
            result = send_due(limit=limit)
        except MailNotConfigured as error:
            if loop is None:
                raise CommandError(str(error)) from None
            # A service keeps running (a restart changes nothing); it says so again only
            # when more mails wait, not every pass.
            if str(error) != said:
                say(self, logger, str(error), level=logging.WARNING)
            return str(error)
        said_sent = f"Отправлено: {result.sent}, не удалось: {result.failed}"
        # A single pass (cron) exits 1 when mails failed and none went: the server or its
        # account is the likely cause, and cron alerts only on an exit status. One mail failing
        # among others sent is its own matter (admin, the error log): it is retried, and cron
        # is not woken every minute for it.
        if loop is None and result.failed and not result.sent:
            raise CommandError(
                f"{said_sent}: почтовый сервер не принял ни одного письма"
                " (ошибки — в «Исходящих письмах» в админке)"
            )
        if result.sent or result.failed or options["verbosity"] > 1:
            say(self, logger, said_sent)
        return said
