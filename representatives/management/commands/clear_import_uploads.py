from django.core.management.base import BaseCommand

from representatives.admin_import import PENDING_SECONDS, remove_expired_uploads


class Command(BaseCommand):
    help = (
        f"Удаляет таблицы, загруженные в админке и не применённые за {PENDING_SECONDS // 60} "
        "минут: их иначе удалила бы только следующая загрузка."
    )

    def handle(self, *args, **options):
        remove_expired_uploads()
