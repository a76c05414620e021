"""Importing the representatives' spreadsheet: validate every row, then write all or nothing.

A contact is identified by its region and its «Код контакта» (the natural key), so importing
the same file again changes nothing, and a changed role or phone updates the contact in place.
The whole import is a handful of queries per thousand rows, and raises the content version once.
"""

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone

from regions.caching import bump_content_version, content_writes
from regions.models import Region
from regions.spreadsheets import unneutralise
from regions.validators import starts_like_formula

from .hours import Interval, parse_hours
from .models import Level, ReceptionHours, Representative, validate_not_sample
from .spreadsheets import (
    COLUMNS,
    NO,
    SAVE_AS,
    YES,
    Table,
    cell_value,
    read_table,
    stored_value,
)

FIELDS = ("level", "role", "person", "phones", "email", "address", "notes", "order", "is_active")
# Every column but the region, as a row's value() gives them.
VALUES = tuple(key for key in COLUMNS if key != "region")
TEXT_FIELDS = ("role", "person", "phones", "email", "address", "notes")
# Columns whose values are checked strictly anyway (a phone may well start with «+»).
STRICT_COLUMNS = ("phones", "level", "order", "is_active")
# Columns admin lets start with «-» and the like (a list in a note, an address «-info@…»): such
# a value marked as text in the file (as the export writes it) is that text, not a formula.
# Names, roles and addresses are refused in admin too, so here as well, marked or not.
TEXT_COLUMNS = ("email", "notes")
SHOWN_ERRORS = 100  # a wrong column in 10,000 rows is one fix: the first hundred tell it
BATCH = 500
TRUE_WORDS = {YES, "1", "true", "yes", "+", ""}
FALSE_WORDS = {NO, "0", "false", "no", "-"}

Progress = Callable[[str, int, int], None]


def batched(iterable: Iterable, size: int) -> Iterator[tuple]:
    # itertools.batched arrives with Python 3.12.
    iterator = iter(iterable)
    while batch := tuple(islice(iterator, size)):
        yield batch


def _no_progress(stage: str, done: int, total: int) -> None:
    pass


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def __str__(self):
        return f"Строка {self.row}, столбец «{self.column}»: {self.message}"


class ImportFailed(Exception):
    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} ошибок")
        self.errors = errors

    def lines(self) -> list[str]:
        """The errors as the command prints them and the admin shows them, the first
        SHOWN_ERRORS of them and how many more."""
        lines = [str(error) for error in self.errors[:SHOWN_ERRORS]]
        if len(self.errors) > SHOWN_ERRORS:
            lines.append(f"… и ещё ошибок: {len(self.errors) - SHOWN_ERRORS}.")
        return lines

    @property
    def summary(self) -> str:
        return (
            f"Ошибок в файле: {len(self.errors)}. Ничего не записано: "
            "исправьте файл и загрузите его снова."
        )


class PlanChanged(Exception):
    """The contacts changed after the plan was shown: applying now would do something else."""

    def __init__(self, plan: "Plan"):
        super().__init__("the contacts changed since the plan was shown")
        self.plan = plan


@dataclass
class Row:
    number: int
    region: Region
    code: str
    values: dict
    intervals: list[Interval]

    @property
    def label(self) -> str:
        return f"{self.region.code} {self.code} — {self.values['role']}"

    def value(self, key: str):
        if key == "code":
            return self.code
        return self.intervals if key == "hours" else self.values[key]


@dataclass
class Change:
    representative: Representative
    row: Row
    fields: list[str]  # model field names, plus "hours"
    # (column, old, new) as the file writes them. Taken when the plan is made: applying it
    # writes the new values into ``representative``, and «История» records the old ones after.
    differences: list[tuple[str, str, str]] = field(init=False)

    def __post_init__(self):
        self.differences = [
            (
                COLUMNS[key],
                str(cell_value(key, stored_value(self.representative, key))),
                str(cell_value(key, self.row.value(key))),
            )
            for key in COLUMNS
            if key in self.fields
        ]


@dataclass
class Plan:
    rows: int = 0
    create: list[Row] = field(default_factory=list)
    change: list[Change] = field(default_factory=list)
    unchanged: int = 0
    absent: list[Representative] = field(default_factory=list)  # in the file's regions only
    prune: bool = False
    created: list[Representative] = field(default_factory=list)  # once applied

    @property
    def remove(self) -> list[Representative]:
        return self.absent if self.prune else []

    @property
    def digest(self) -> str:
        """Names what applying the plan would do, to the old values and the last save of each
        contact it changes or leaves out: the same digest later means the same plan."""
        described = {
            "create": [
                [row.region.code, *(str(cell_value(key, row.value(key))) for key in VALUES)]
                for row in self.create
            ],
            "change": [
                [change.representative.pk, change.representative.updated_at.isoformat()]
                + [list(difference) for difference in change.differences]
                for change in self.change
            ],
            "unchanged": self.unchanged,
            "absent": [[r.pk, r.updated_at.isoformat()] for r in self.absent],
            "prune": self.prune,
        }
        text = json.dumps(described, ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


def _region_lookup() -> dict[str, Region]:
    index = Region.objects.index()
    lookup = {region.name.lower(): region for region in index.regions}
    lookup |= {slug.lower(): region for slug, region in index.by_slug.items()}
    lookup |= index.by_code
    return lookup


def _level(text: str) -> int:
    if not re.fullmatch(r"\d+", text) or int(text) not in Level.values:
        raise ValidationError(f"уровень — это 1, 2 или 3, а не «{text}».")
    return int(text)


def _order(text: str) -> int:
    if not text:
        return 0
    if not re.fullmatch(r"\d{1,5}", text) or int(text) > 32767:
        raise ValidationError(f"порядок — целое число от 0 до 32767, а не «{text}».")
    return int(text)


def _active(text: str) -> bool:
    word = text.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValidationError(f"пишите «{YES}» или «{NO}», а не «{text}».")


def _messages(error: ValidationError) -> str:
    return " ".join(error.messages)


def parse_row(number: int, cells: dict[str, str], regions: dict[str, Region]) -> Row | list:
    """A valid Row, or the list of RowErrors of this row."""
    errors: list[RowError] = []

    def fail(key: str, message: str) -> None:
        errors.append(RowError(number, COLUMNS.get(key, "—"), message))

    for key, marked in list(cells.items()):
        text = cells[key] = unneutralise(marked)
        as_text = text != marked and key in TEXT_COLUMNS
        try:
            validate_not_sample(text)
        except ValidationError as error:
            fail(key, _messages(error))
            continue
        if key not in STRICT_COLUMNS and not as_text and starts_like_formula(text):
            fail(
                key,
                "значение начинается со знака =, +, -, @, табуляции или перевода строки: "
                "в таблицах, которые скачивают граждане, оно стало бы формулой. "
                "Уберите этот знак в начале.",
            )

    region_text = cells["region"]
    region = regions.get(region_text.lower()) or regions.get(region_text.zfill(2))
    if region is None:
        fail(
            "region",
            (f"нет такого региона «{region_text}»." if region_text else "ячейка пустая.")
            + " Укажите код субъекта (59), адрес страницы (perm-krai) или название, как на сайте.",
        )
    values: dict = {key: cells[key] for key in TEXT_FIELDS}
    intervals: list[Interval] = []
    for key, parse in (("level", _level), ("order", _order), ("is_active", _active)):
        try:
            values[key] = parse(cells[key])
        except ValidationError as error:
            fail(key, _messages(error))
    try:
        intervals = parse_hours(cells["hours"])
    except ValidationError as error:
        fail("hours", _messages(error))

    representative = Representative(region=region, code=cells["code"], **values)
    failed = {key for key in COLUMNS if any(e.column == COLUMNS[key] for e in errors)}
    try:
        representative.full_clean(
            exclude=["region", *failed], validate_unique=False, validate_constraints=False
        )
    except ValidationError as error:
        for key, messages in error.message_dict.items():
            fail("" if key == NON_FIELD_ERRORS else key, " ".join(messages))
    if errors:
        return errors
    values = {key: getattr(representative, key) for key in FIELDS}
    return Row(number, region, representative.code, values, intervals)


def parse_table(table: Table, progress: Progress = _no_progress) -> list[Row]:
    titles = {title.lower().replace("ё", "е"): key for key, title in COLUMNS.items()}
    positions: dict[str, int] = {}
    errors: list[RowError] = []
    for position, title in enumerate(table.header):
        key = titles.get(title.lower().replace("ё", "е"))
        if key is None:
            errors.append(RowError(table.header_row, title, "неизвестный столбец."))
        elif key in positions:
            errors.append(RowError(table.header_row, title, "столбец повторяется."))
        else:
            positions[key] = position
    if not positions:
        # Not one title known: a file saved in another encoding (KOI8-R, Mac Cyrillic: read as
        # Windows-1251, every title garbled) or another table. One reason, not 24 lines.
        raise ImportFailed(
            [
                RowError(
                    table.header_row,
                    table.header[0] if table.header else "",
                    "ни одно название столбца не узнано. Это не таблица контактов или она "
                    f"сохранена в другой кодировке. {SAVE_AS}",
                )
            ]
        )
    for key, title in COLUMNS.items():
        if key not in positions:
            errors.append(RowError(table.header_row, title, "нет такого столбца в заголовке."))
    if errors:
        raise ImportFailed(errors)

    regions = _region_lookup()
    rows: list[Row] = []
    seen: dict[tuple[str, str], int] = {}
    total = len(table.rows)
    for done, (number, cells) in enumerate(table.rows, 1):
        if done % 1000 == 0 or done == total:
            progress("проверка строк", done, total)
        if any(cells[len(table.header) :]):
            errors.append(
                RowError(
                    number,
                    f"после «{table.header[-1]}»",
                    "лишние ячейки. Если в ячейке есть «;» или «,», возьмите её в кавычки.",
                )
            )
            continue
        padded = cells + [""] * (len(table.header) - len(cells))
        result = parse_row(number, {key: padded[pos] for key, pos in positions.items()}, regions)
        if isinstance(result, list):
            errors.extend(result)
        elif (result.region.code, result.code) in seen:
            first = seen[(result.region.code, result.code)]
            errors.append(
                RowError(number, COLUMNS["code"], f"этот контакт уже есть в строке {first}.")
            )
        else:
            seen[(result.region.code, result.code)] = number
            rows.append(result)
    if errors:
        raise ImportFailed(errors)
    return rows


def make_plan(rows: list[Row], *, prune: bool = False, lock: bool = False) -> Plan:
    plan = Plan(rows=len(rows), prune=prune)
    current = Representative.objects.filter(region__in={row.region.pk for row in rows})
    if lock:
        current = current.select_for_update(of=("self",))
    existing = {
        (representative.region.code, representative.code): representative
        for representative in current.select_related("region").prefetch_related("hours")
    }
    for row in rows:
        representative = existing.pop((row.region.code, row.code), None)
        if representative is None:
            plan.create.append(row)
            continue
        changed = [key for key in FIELDS if getattr(representative, key) != row.values[key]]
        if representative.intervals != row.intervals:
            changed.append("hours")
        if changed:
            plan.change.append(Change(representative, row, changed))
        else:
            plan.unchanged += 1
    plan.absent = sorted(existing.values(), key=lambda r: (r.region.order, r.level, r.order))
    return plan


def _hours(representative: Representative, intervals: list[Interval]) -> list[ReceptionHours]:
    return [
        ReceptionHours(representative=representative, weekday=day, opens=opens, closes=closes)
        for day, opens, closes in intervals
    ]


@transaction.atomic
def apply_plan(plan: Plan, progress: Progress = _no_progress) -> None:
    # Deletes send a signal per row: the content version is raised once, at the end.
    with content_writes():
        _apply(plan, progress)


def _apply(plan: Plan, progress: Progress) -> None:
    now = timezone.now()
    created = [
        Representative(region=row.region, code=row.code, **row.values) for row in plan.create
    ]
    Representative.objects.bulk_create(created, batch_size=BATCH)
    if any(representative.pk is None for representative in created):
        # Databases that cannot return ids from a bulk insert: fetch them by natural key.
        ids = {
            (code, region_id): pk
            for code, region_id, pk in Representative.objects.filter(
                region__in={representative.region_id for representative in created}
            ).values_list("code", "region_id", "pk")
        }
        for representative in created:
            representative.pk = ids[(representative.code, representative.region_id)]
    plan.created = created
    progress("создано контактов", len(created), len(created))

    changed = []
    for change in plan.change:
        for key in FIELDS:
            setattr(change.representative, key, change.row.values[key])
        change.representative.updated_at = now
        changed.append(change.representative)
    fields = sorted({key for change in plan.change for key in change.fields} - {"hours"})
    Representative.objects.bulk_update(changed, [*fields, "updated_at"], batch_size=BATCH)
    progress("изменено контактов", len(changed), len(changed))

    rehoured = [change for change in plan.change if "hours" in change.fields]
    for batch in batched((change.representative.pk for change in rehoured), BATCH):
        ReceptionHours.objects.filter(representative__in=batch).delete()
    hours = [
        interval
        for representative, row in [
            *zip(created, plan.create, strict=True),
            *((change.representative, change.row) for change in rehoured),
        ]
        for interval in _hours(representative, row.intervals)
    ]
    ReceptionHours.objects.bulk_create(hours, batch_size=BATCH)

    for batch in batched((representative.pk for representative in plan.remove), BATCH):
        Representative.objects.filter(pk__in=batch).delete()
    # Bulk writes send no signals: drop what pages cached from the old rows, in this transaction.
    bump_content_version()


def import_rows(
    rows: list[Row],
    *,
    dry_run: bool = False,
    prune: bool = False,
    expect: str | None = None,
    progress: Progress = _no_progress,
) -> Plan:
    """Plans the rows and, unless dry_run, applies the plan; with expect (a plan's digest),
    only if the plan is still that one, else PlanChanged and nothing is written."""
    if dry_run:
        return make_plan(rows, prune=prune)
    # The contacts the plan compares with stay locked until it is applied, so an edit made in
    # admin meanwhile waits rather than being silently overwritten.
    with transaction.atomic():
        plan = make_plan(rows, prune=prune, lock=True)
        if expect is not None and plan.digest != expect:
            raise PlanChanged(plan)
        apply_plan(plan, progress)
    return plan


def import_file(
    path: Path, *, dry_run: bool = False, prune: bool = False, progress: Progress = _no_progress
) -> Plan:
    rows = parse_table(read_table(path), progress)
    return import_rows(rows, dry_run=dry_run, prune=prune, progress=progress)
