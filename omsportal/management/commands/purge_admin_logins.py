import io
import logging

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from appeals.commandlog import say

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Удаляет записи о входах сотрудников в админку (IP-адрес, браузер, время; django-axes)"
        " старше ADMIN_ACCESS_LOG_DAYS дней: без этого они хранятся бессрочно."
    )

    def handle(self, *args, **options):
        # django-axes's own command, with the retention of the settings rather than its 30 days.
        # It prints «3 logs removed.»: taken here, so that with JSON logs it is a log line too.
        said = io.StringIO()
        call_command("axes_reset_logs", age=settings.ADMIN_ACCESS_LOG_DAYS, stdout=said)
        for line in said.getvalue().splitlines():
            if line.strip():
                say(self, logger, f"Staff login records: {line.strip()}")
