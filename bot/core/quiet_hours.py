"""Quiet hours (docs/configuration.md ``service.quiet_hours``): a notification that would reach a person
inside the window is deferred to the window's end in the person's own time zone — never
dropped. The window may cross midnight ("21:00-09:00")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.config import parse_quiet_hours


@dataclass(frozen=True, slots=True)
class QuietHours:
    start: time
    end: time

    @classmethod
    def parse(cls, value: str) -> QuietHours | None:
        """``"21:00-09:00"`` -> the window; ``""`` -> None; anything else -> ValueError."""
        if not value or not value.strip():
            return None
        parsed = parse_quiet_hours(value)
        if parsed is None:
            raise ValueError(f'quiet hours {value!r}: use "HH:MM-HH:MM", e.g. "21:00-09:00"')
        if parsed[0] == parsed[1]:
            raise ValueError(f"quiet hours {value!r}: start and end are the same time")
        return cls(*parsed)

    def contains(self, local: time) -> bool:
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end  # crosses midnight

    def defer(self, moment: datetime, tz: ZoneInfo) -> datetime:
        """``moment`` if it is outside the window, else the window's end (local to ``tz``)."""
        local = moment.astimezone(tz)
        clock = local.time().replace(tzinfo=None)
        if not self.contains(clock):
            return moment
        day = local.date()
        if self.start > self.end and clock >= self.start:
            day += timedelta(days=1)  # 23:00 -> 09:00 tomorrow
        # a DST gap at the end time: fold to the first valid instant by round-tripping UTC
        end = datetime.combine(day, self.end, tzinfo=tz).astimezone(UTC)
        return max(end, moment.astimezone(UTC))
