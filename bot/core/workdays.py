"""Working days (docs/events.md): Saturday, Sunday and ``schedule.holidays`` are not working days.

``invoice_unpaid`` falls due N working days after the invoice was issued, at the same local
time of day: issued on Friday 15:00, 3 working days later is Wednesday 15:00, or Thursday
15:00 when Monday is a holiday (a holiday is skipped, not counted).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo


def is_working_day(day: date, holidays: Collection[date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def add_working_days(
    start: datetime, days: int, holidays: Collection[date], tz: ZoneInfo
) -> datetime:
    """``start`` plus ``days`` working days, counted in ``tz``; the local time of day is kept."""
    if days < 0:
        raise ValueError("days must not be negative")
    local = start.astimezone(tz)
    day = local.date()
    left = days
    while left > 0:
        day += timedelta(days=1)
        if is_working_day(day, holidays):
            left -= 1
    moved = datetime.combine(day, local.time().replace(tzinfo=None), tzinfo=tz)
    return moved.astimezone(UTC)
