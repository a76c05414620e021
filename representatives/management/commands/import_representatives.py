from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from representatives.importer import ImportFailed, Plan, import_file
from representatives.spreadsheets import COLUMNS, SpreadsheetError

SHOWN_ITEMS = 20


class Command(BaseCommand):
    help = (
        "Загружает страховых представителей из таблицы CSV или XLSX (столбцы — в README). "
        "Сначала проверяет все строки; если хоть одна неверна, ничего не записывает."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="файл .csv или .xlsx")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="только проверить и показать, что изменится; ничего не записывать",
        )
        parser.add_argument(
            "--prune",
            action="store_true",
            help="удалить контакты регионов из файла, которых в файле нет",
        )

    def handle(self, *args, file: Path, dry_run: bool, prune: bool, verbosity: int, **options):
        if not file.is_file():
            raise CommandError(f"Нет такого файла: {file}")
        try:
            plan = import_file(file, dry_run=dry_run, prune=prune, progress=self.progress)
        except SpreadsheetError as error:
            raise CommandError(str(error)) from error
        except IntegrityError as error:
            # A contact the plan was to create was added meanwhile (another import running at
            # the same time, an edit in admin): the whole import was rolled back.
            raise CommandError(
                "Пока шёл импорт, контакты изменились: такой контакт уже добавили (другой "
                "импорт или правка в админке). Ничего не записано: запустите импорт ещё раз."
            ) from error
        except ImportFailed as failure:
            for line in failure.lines():
                self.stderr.write(line)
            raise CommandError(failure.summary) from failure
        self.report(plan, dry_run=dry_run, verbosity=verbosity)

    def progress(self, stage: str, done: int, total: int) -> None:
        self.stderr.write(f"{stage}: {done} из {total}")

    def report(self, plan: Plan, *, dry_run: bool, verbosity: int) -> None:
        shown = None if verbosity > 1 else SHOWN_ITEMS
        self.stdout.write(f"Контактов в файле: {plan.rows}.")
        self.section(
            "Будет создано" if dry_run else "Создано", [r.label for r in plan.create], shown
        )
        self.section(
            "Будет изменено" if dry_run else "Изменено",
            [
                f"{change.row.label} ({', '.join(COLUMNS[key] for key in change.fields)})"
                for change in plan.change
            ],
            shown,
        )
        self.stdout.write(f"Без изменений: {plan.unchanged}.")
        absent = [f"{r.region.code} {r.code} — {r.role}" for r in plan.absent]
        removed = "Будет удалено" if dry_run else "Удалено"
        self.section(removed, absent if plan.prune else [], shown)
        if absent and not plan.prune:
            self.section("Нет в файле, но останутся на сайте (удалить — с --prune)", absent, shown)
        if dry_run:
            self.stdout.write(self.style.WARNING("Пробный запуск: ничего не записано."))
        else:
            self.stdout.write(self.style.SUCCESS("Готово."))

    def section(self, title: str, items: list[str], shown: int | None) -> None:
        self.stdout.write(f"{title}: {len(items)}.")
        for item in items[:shown]:
            self.stdout.write(f"  {item}")
        if shown is not None and len(items) > shown:
            self.stdout.write(f"  … и ещё {len(items) - shown} (все — с -v 2)")
