import argparse
import logging

from django.conf import settings
from django.core.management.base import BaseCommand

from appeals.commandlog import say
from appeals.models import Appeal
from appeals.services import purge_personal_data

logger = logging.getLogger(__name__)


def days_count(value: str) -> int:
    # 0 or less would erase appeals closed a minute ago (or all of them): a typo, not a choice.
    try:
        days = int(value)
    except ValueError:
        days = 0
    if days < 1:
        raise argparse.ArgumentTypeError(f"число дней — целое число от 1, а не «{value}»")
    return days


class Command(BaseCommand):
    help = (
        "Удаляет персональные данные (имя, контакты, текст, ответ, место) из обращений, закрытых"
        " больше APPEALS_PURGE_AFTER_DAYS дней назад. Остаются номер, даты, регион, тема и"
        " статус — для статистики."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=days_count,
            default=None,
            help=f"вместо APPEALS_PURGE_AFTER_DAYS (сейчас {settings.APPEALS_PURGE_AFTER_DAYS})",
        )
        parser.add_argument("--dry-run", action="store_true", help="только показать, что удалится")

    def handle(self, *args, days, dry_run, **options):
        days = settings.APPEALS_PURGE_AFTER_DAYS if days is None else days
        if dry_run:
            numbers = sorted(Appeal.objects.purgeable(days=days).values_list("number", flat=True))
            self.stdout.write(f"Будут очищены ({len(numbers)}): {', '.join(numbers) or '—'}")
            return
        numbers = purge_personal_data(days=days)
        summary = f"Очищено обращений: {len(numbers)}. {', '.join(numbers)}".rstrip(". ")
        say(self, logger, summary)
