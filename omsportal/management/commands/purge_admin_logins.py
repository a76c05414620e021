from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Удаляет записи о входах сотрудников в админку (IP-адрес, браузер, время; django-axes)"
        " старше ADMIN_ACCESS_LOG_DAYS дней: без этого они хранятся бессрочно."
    )

    def handle(self, *args, **options):
        # django-axes's own command, with the retention of the settings rather than its 30 days.
        call_command("axes_reset_logs", age=settings.ADMIN_ACCESS_LOG_DAYS, stdout=self.stdout)
