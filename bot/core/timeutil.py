"""Time in one place: an injectable clock and RFC 3339 conversions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...

    def subscribe(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` whenever the clock jumps (a manual clock in tests, simulations)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def subscribe(self, callback: Callable[[], None]) -> None:
        return None  # real time flows by itself: sleepers time out on their own


class ManualClock:
    """A clock that moves only when told to (tests, simulations, ``vestnik preview --at``).

    Whoever sleeps until a time on this clock subscribes and is woken when it moves (the
    dispatcher does), so scheduled rows fall due without anyone waiting in real time.
    """

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)
        self._listeners: list[Callable[[], None]] = []

    def now(self) -> datetime:
        return self._now

    def subscribe(self, callback: Callable[[], None]) -> None:
        self._listeners.append(callback)

    def set(self, moment: datetime) -> None:
        self._now = moment.astimezone(UTC)
        for callback in list(self._listeners):
            callback()

    def advance(self, delta: timedelta | None = None, **parts: float) -> datetime:
        self.set(self._now + (delta or timedelta(**parts)))
        return self._now


def to_utc(moment: datetime, assume: tzinfo) -> datetime:
    """Naive times are in the service timezone (1C sends local times)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=assume)
    return moment.astimezone(UTC)


def for_people(moment: datetime, zone: tzinfo) -> str:
    """A time as people read it: local, to the minute, with the zone's name."""
    name = getattr(zone, "key", None) or str(zone)
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M} {name}"


def rfc3339(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_rfc3339(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
