from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from regions.reference import subjects_fixture_text

DEFAULT_CSV = settings.BASE_DIR.parent / "shared" / "data" / "subjects.csv"
DEFAULT_OUTPUT = settings.BASE_DIR / "fixtures" / "subjects.json"


class Command(BaseCommand):
    help = "Пересобрать fixtures/subjects.json из таблицы субъектов РФ (subjects.csv)."

    def add_arguments(self, parser):
        parser.add_argument("csv", nargs="?", type=Path, default=DEFAULT_CSV)
        parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT)

    def handle(self, *args, csv, output, **options):
        output.write_text(subjects_fixture_text(csv), encoding="utf-8")
        self.stdout.write(f"{output}: из {csv}")
