"""Time zones named as people in Russia name them: «МСК+4 (UTC+7)».

Russia keeps no daylight saving time, so the offset of today is the offset of the year.
"""

import zoneinfo
from datetime import timedelta

from django.utils import timezone

from .words import counted

MOSCOW = "Europe/Moscow"


def utc_offset(time_zone: str) -> timedelta:
    return timezone.now().astimezone(zoneinfo.ZoneInfo(time_zone)).utcoffset()


def _hours(offset: timedelta) -> str:
    hours, rest = divmod(abs(int(offset.total_seconds())), 3600)
    minutes = rest // 60
    return f"{hours}" + (f":{minutes:02d}" if minutes else "")


def _signed(prefix: str, offset: timedelta) -> str:
    if not offset:
        return prefix
    return f"{prefix}{'+' if offset > timedelta(0) else '−'}{_hours(offset)}"


def utc_label(time_zone: str) -> str:
    """«UTC+7»."""
    offset = utc_offset(time_zone)
    return _signed("UTC", offset) if offset else "UTC+0"


def msk_label(time_zone: str) -> str:
    """«МСК+4», «МСК−1», «МСК»: the offset from Moscow time, as timetables print it."""
    return _signed("МСК", utc_offset(time_zone) - utc_offset(MOSCOW))


def zone_label(time_zone: str) -> str:
    """«МСК+4 (UTC+7)»."""
    return f"{msk_label(time_zone)} ({utc_label(time_zone)})"


def difference_minutes(from_zone: str, to_zone: str) -> int:
    """How many minutes clocks in ``to_zone`` are ahead of clocks in ``from_zone``."""
    return int((utc_offset(to_zone) - utc_offset(from_zone)).total_seconds()) // 60


def hours_phrase(minutes: int) -> str:
    """«4 часа», «1 час», «5 часов» for a whole number of hours; «2 ч 30 мин» otherwise."""
    hours, rest = divmod(abs(minutes), 60)
    if rest:
        return f"{hours} ч {rest} мин"
    return counted(hours, "час", "часа", "часов")
