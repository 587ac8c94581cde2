"""The daily birthday job (docs/events.md ``birthday``): customers from the directory whose birthday
is today get a ``birthday`` event, planned by the rules like any posted event.

It runs every day at ``schedule.daily_at`` in the service time zone (APScheduler, bot/app.py)
and once at start-up to catch up: after downtime the missed days (at most
:data:`CATCH_UP_DAYS`) are scanned late. A greeting is an event with the id
``birthday:<customer id>:<year>``, so the events table's key makes it once per customer per
year, whatever restarts or overlapping scans happen. The last scanned day is ``meta``
``daily.birthdays.last_day``; it moves in the same transaction as the events it planned.

A directory change (an event carrying the customer, ``vestnik customers import``) that shows
a customer born today, once ``schedule.daily_at`` has passed, plans today's greeting in its
own transaction (:func:`greetings_for`): a customer imported after the day's scan is greeted
too (before ``daily_at`` the scan itself finds them). :func:`greet_day` is ``vestnik birthdays run``.
"""

from __future__ import annotations

import calendar
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from bot.core.timeutil import Clock
from bot.pipeline.events import EventIn
from bot.pipeline.schedule import daily_time
from storage.base import Storage, Tx
from storage.models import JournalRow, Person

if TYPE_CHECKING:
    from bot.core.config import Config
    from bot.pipeline.planner import Planner

log = logging.getLogger("vestnik.birthdays")


class Intake(Protocol):
    """What the scans need of :class:`bot.pipeline.intake.Intake` (which imports this module
    for :func:`greetings_for`)."""

    planner: Planner

    async def store(
        self,
        tx: Tx,
        events: list[EventIn],
        delivery: str | None = None,
    ) -> tuple[list[str], list[str], int] | None: ...

    async def store_one(self, tx: Tx, event: EventIn, now: datetime) -> list[JournalRow]: ...


CATCH_UP_DAYS = 7  # after a longer downtime older birthdays are let go
META_LAST_DAY = "daily.birthdays.last_day"


def days_to_scan(last: date | None, now_local: datetime, at: time) -> list[date]:
    """The days whose greetings are due and not yet planned, oldest first."""
    latest = now_local.date()
    if now_local.time().replace(tzinfo=None) < at:
        latest -= timedelta(days=1)
    if last is None:  # a fresh install greets from today on, not the week before
        return [latest]
    first = max(last + timedelta(days=1), latest - timedelta(days=CATCH_UP_DAYS - 1))
    return [first + timedelta(days=n) for n in range((latest - first).days + 1)]


def month_days(day: date) -> list[str]:
    """Birthdays celebrated on ``day``: 29 February is greeted on the 28th in other years."""
    out = [day.strftime("%m-%d")]
    if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
        out.append("02-29")
    return out


def birthday_event(person: Person, day: date, at: datetime) -> EventIn:
    customer: dict[str, Any] = {
        "id": person.id,
        "name": person.name,
        "phone": person.phone,
        "email": person.email,
        "telegram_id": person.telegram_id,
        "group": person.group,
        "birthday": person.birthday,
        "language": person.language,
        "timezone": person.timezone,
    }
    return EventIn.model_validate(
        {
            "id": f"birthday:{person.id}:{day.year}",
            "type": "birthday",
            "occurred_at": at,
            "customer": {k: v for k, v in customer.items() if v is not None},
            "data": {"date": day.isoformat()},
        }
    )


async def scan_birthdays(storage: Storage, intake: Intake, config: Config, clock: Clock) -> int:
    """Plan the greetings of every day not scanned yet; returns the rows planned."""
    tz = config.service.tz
    at = daily_time(config)
    async with storage.reader() as tx:
        raw = await tx.get_meta(META_LAST_DAY)
    last = date.fromisoformat(raw) if raw else None
    planned = 0
    for day in days_to_scan(last, clock.now().astimezone(tz), at):
        moment = datetime.combine(day, at, tzinfo=tz)

        async def job(tx: Tx, day: date = day, moment: datetime = moment) -> int:
            await intake.planner.refresh_rules(tx)
            count = 0
            if intake.planner.rules_for("birthday"):
                persons = await tx.persons_born_on("customer", month_days(day))
                events = [birthday_event(p, day, moment) for p in persons]
                for start in range(0, len(events), 500):
                    stored = await intake.store(tx, events[start : start + 500])
                    count += stored[2] if stored is not None else 0
            await tx.set_meta(META_LAST_DAY, day.isoformat())
            return count

        done = await storage.write(job)
        if done:
            log.info("birthdays of %s: %d notification(s) planned", day, done)
        planned += done
    return planned


def greetings_for(persons: Sequence[Person], now: datetime, config: Config) -> list[EventIn]:
    """Today's greeting events (service time zone) of the customers among ``persons`` born
    today, once ``schedule.daily_at`` has passed (before it, the day's scan greets them);
    the caller skips the ids already stored."""
    local = now.astimezone(config.service.tz)
    at = daily_time(config)
    if local.time().replace(tzinfo=None) < at:
        return []
    day = local.date()
    celebrated = month_days(day)
    moment = datetime.combine(day, at, tzinfo=config.service.tz)
    return [
        birthday_event(p, day, moment)
        for p in persons
        if p.kind == "customer" and p.birthday and p.birthday[-5:] in celebrated
    ]


@dataclass(slots=True)
class Greeting:
    """One customer of a hand-run scan: the rows planned, or ``already`` greeted that year."""

    person: Person
    rows: list[JournalRow] = field(default_factory=list)
    already: bool = False


async def greet_day(
    storage: Storage, intake: Intake, config: Config, day: date, now: datetime
) -> list[Greeting] | None:
    """``vestnik birthdays run --date D``: plan the greetings of the customers born on ``day``
    now, in one transaction; None when no rule handles ``birthday``."""
    moment = datetime.combine(day, daily_time(config), tzinfo=config.service.tz)

    async def job(tx: Tx) -> list[Greeting] | None:
        await intake.planner.refresh_rules(tx)
        if not intake.planner.rules_for("birthday"):
            return None
        persons = await tx.persons_born_on("customer", month_days(day))
        events = [birthday_event(p, day, moment) for p in persons]
        known = await tx.existing_events([e.id for e in events])
        out = []
        for person, event in zip(persons, events, strict=True):
            if event.id in known:
                out.append(Greeting(person, already=True))
            else:
                out.append(Greeting(person, await intake.store_one(tx, event, now)))
        await tx.insert_journal_bulk([row for greeting in out for row in greeting.rows])
        return out

    return await storage.write(job)
