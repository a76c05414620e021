from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from representatives.spreadsheets import exported, write_csv, write_xlsx


class Command(BaseCommand):
    help = (
        "Выгружает всех страховых представителей в таблицу того же вида, "
        "что читает import_representatives."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=("csv", "xlsx"), help="по умолчанию — по -o")
        parser.add_argument("-o", "--output", type=Path, help="файл; без него CSV идёт в stdout")

    def handle(self, *args, format: str | None, output: Path | None, **options):
        kind = format or (output.suffix.lower().lstrip(".") if output else "csv")
        if kind not in ("csv", "xlsx"):
            raise CommandError("Укажите --format csv или xlsx.")
        rows = exported()
        if kind == "xlsx":
            if output is None:
                raise CommandError("Таблицу XLSX нельзя вывести на экран: укажите -o ФАЙЛ.")
            write_xlsx(rows, output)
        elif output is None:
            write_csv(rows, self.stdout)
        else:
            with open(output, "w", encoding="utf-8-sig", newline="") as handle:
                write_csv(rows, handle)
