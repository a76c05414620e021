"""Reception hours as a line of text, for spreadsheets and for the page.

Spreadsheets carry one contact per row, so a week of hours has to fit in one cell:
``пн-пт 09:00-13:00 14:00-18:00; сб 10:00-14:00``. The same grouping of days with equal hours
makes the page short and readable.
"""

import itertools
import re
from collections.abc import Iterable
from datetime import time
from typing import NamedTuple

from django.core.exceptions import ValidationError

SHORT_DAYS = ("пн", "вт", "ср", "чт", "пт", "сб", "вс")
LONG_DAYS = ("понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье")
DAY_NUMBERS = {name: number for number, name in enumerate(SHORT_DAYS, 1)} | {
    name: number for number, name in enumerate(LONG_DAYS, 1)
}

INTERVAL = re.compile(r"(\d{1,2})[:.](\d{2})\s*[-–—]\s*(\d{1,2})[:.](\d{2})")
DAY_RANGE = re.compile(r"^([а-яё]+)\.?\s*(?:[-–—]\s*([а-яё]+)\.?)?$")


class Interval(NamedTuple):
    weekday: int  # 1 = Monday, as ISO 8601 counts
    opens: time
    closes: time


class DayGroup(NamedTuple):
    short: str  # «пн-пт»
    long: str  # «понедельник — пятница»
    times: str  # «09:00–13:00, 14:00–18:00»
    spans: tuple[tuple[time, time], ...] = ()  # the same times, for shifting to another zone


def check_intervals(intervals: Iterable[Interval]) -> None:
    """Each interval ends after it starts, and the intervals of a day do not overlap."""
    by_day: dict[int, list[Interval]] = {}
    for interval in intervals:
        if interval.closes <= interval.opens:
            raise ValidationError(
                "Время окончания приёма (%(closes)s) должно быть позже начала (%(opens)s).",
                code="interval_order",
                params={"opens": f"{interval.opens:%H:%M}", "closes": f"{interval.closes:%H:%M}"},
            )
        by_day.setdefault(interval.weekday, []).append(interval)
    for day, day_intervals in by_day.items():
        day_intervals.sort()
        for earlier, later in itertools.pairwise(day_intervals):
            if later.opens < earlier.closes:
                raise ValidationError(
                    "Часы приёма в день «%(day)s» пересекаются.",
                    code="interval_overlap",
                    params={"day": LONG_DAYS[day - 1]},
                )


def _day(name: str) -> int:
    number = DAY_NUMBERS.get(name)
    if number is None:
        raise ValidationError(
            "Непонятный день недели «%(name)s». Пишите пн, вт, ср, чт, пт, сб, вс.",
            code="weekday",
            params={"name": name},
        )
    return number


def _days(text: str) -> list[int]:
    days: list[int] = []
    for part in text.split(","):
        match = DAY_RANGE.match(part.strip())
        if match is None:
            raise ValidationError(
                "Непонятные дни недели «%(text)s». Пример: «пн-пт 09:00-18:00; сб 10:00-14:00».",
                code="weekday",
                params={"text": text.strip()},
            )
        first = _day(match[1])
        last = _day(match[2]) if match[2] else first
        if last < first:
            raise ValidationError(
                "Дни недели «%(text)s» идут не по порядку.", code="weekday", params={"text": part}
            )
        days.extend(range(first, last + 1))
    return days


def _time(hours: str, minutes: str) -> time:
    try:
        return time(int(hours), int(minutes))
    except ValueError:
        raise ValidationError(
            "Неверное время «%(value)s».", code="time", params={"value": f"{hours}:{minutes}"}
        ) from None


def parse_hours(text: str) -> list[Interval]:
    """``пн-пт 09:00-13:00 14:00-18:00; сб 10:00-14:00`` → intervals by weekday."""
    intervals: list[Interval] = []
    for item in filter(None, (part.strip() for part in re.split(r"[;\n]", text.lower()))):
        first = INTERVAL.search(item)
        if first is None or not item[: first.start()].strip():
            raise ValidationError(
                "Часы приёма не распознаны: «%(item)s». "
                "Пример: «пн-пт 09:00-18:00; сб 10:00-14:00».",
                code="hours",
                params={"item": item},
            )
        rest = INTERVAL.sub("", item[first.start() :])
        if rest.strip(" ,"):
            raise ValidationError(
                "Лишний текст «%(rest)s» в часах приёма «%(item)s».",
                code="hours",
                params={"rest": rest.strip(" ,"), "item": item},
            )
        times = [
            (_time(m[1], m[2]), _time(m[3], m[4])) for m in INTERVAL.finditer(item[first.start() :])
        ]
        for day in _days(item[: first.start()]):
            intervals.extend(Interval(day, opens, closes) for opens, closes in times)
    intervals.sort()
    check_intervals(intervals)
    if len(set(intervals)) != len(intervals):
        raise ValidationError("Одни и те же часы приёма указаны дважды.", code="hours_repeated")
    return intervals


def group_days(intervals: Iterable[Interval]) -> list[DayGroup]:
    """Runs of consecutive days with the same hours, Monday first."""
    by_day: dict[int, list[tuple[time, time]]] = {}
    for interval in sorted(intervals):
        by_day.setdefault(interval.weekday, []).append((interval.opens, interval.closes))
    runs: list[list[int]] = []
    for day in sorted(by_day):
        if runs and runs[-1][-1] == day - 1 and by_day[runs[-1][-1]] == by_day[day]:
            runs[-1].append(day)
        else:
            runs.append([day])
    groups = []
    for run in runs:
        first, last = run[0] - 1, run[-1] - 1
        short = SHORT_DAYS[first] + (f"-{SHORT_DAYS[last]}" if last != first else "")
        long = LONG_DAYS[first] + (f" — {LONG_DAYS[last]}" if last != first else "")
        times = ", ".join(f"{opens:%H:%M}–{closes:%H:%M}" for opens, closes in by_day[run[0]])
        groups.append(DayGroup(short, long, times, tuple(by_day[run[0]])))
    return groups


# How a shifted time says that it falls on another day than the day it is listed under.
OTHER_DAY = {-1: " предыдущего дня", 0: "", 1: " следующего дня"}


def _shifted(moment: time, minutes: int) -> tuple[str, str]:
    days, rest = divmod(moment.hour * 60 + moment.minute + minutes, 24 * 60)
    return f"{rest // 60:02d}:{rest % 60:02d}", OTHER_DAY[days]


def _shifted_span(opens: time, closes: time, minutes: int) -> str:
    (start, start_day), (end, end_day) = _shifted(opens, minutes), _shifted(closes, minutes)
    if start_day or end_day:
        return f"с {start}{start_day} до {end}{end_day}"
    return f"{start}–{end}"


def shifted_times(group: DayGroup, minutes: int) -> str:
    """A group's times as clocks ``minutes`` ahead show them: «13:00–22:00», or
    «с 18:00 до 03:00 следующего дня» where the shift crosses midnight."""
    return ", ".join(_shifted_span(opens, closes, minutes) for opens, closes in group.spans)


def format_hours(intervals: Iterable[Interval]) -> str:
    """The spreadsheet form that parse_hours reads back."""
    return "; ".join(
        f"{group.short} {group.times.replace('–', '-').replace(',', '')}"
        for group in group_days(intervals)
    )
