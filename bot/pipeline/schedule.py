"""When a notification is due (docs/events.md anchors, docs/rules.md ``before``/``after``/``working_days``).

A rule's rows fall due at the anchor time of their type shifted by ``before`` or ``after``:
``repair_start_reminder`` with ``before = "2h"`` is due two hours before
``order.planned_start``; ``shipped`` with ``after = "2d"`` two days after it happened;
``bonus_expiring`` with ``before = "3d"`` three days before ``data.expires_on`` (a date: at
``schedule.daily_at``). Without ``before``/``after`` a type the ERP posts is due at once, a
derived type at its anchor.

Late and missed (the policy is data: :data:`LATE_POLICY`):

* the time has passed but the anchor has not (booked 30 minutes before the start, the rule
  says 2 h before) -> sent at once, marked ``late``;
* the anchor itself has passed (the repair already started) -> ``skipped``, reason ``missed``;
* ``after`` rules and types anchored at something that already happened (the invoice's due
  day, a birthday) -> sent at once, marked ``late``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.catalog import CATALOG, EventType
from bot.core.config import Config, parse_duration
from bot.core.timeutil import for_people, rfc3339
from bot.core.workdays import add_working_days
from bot.pipeline.events import EMPTY_1C_DATE, MAX_YEAR, MIN_YEAR, EventIn
from bot.pipeline.rule_filters import MISSING, resolve_path
from bot.pipeline.rules import Rule

DEFAULT_WORKING_DAYS = 3
# anchors that are moments something happened (or must happen by): past means "late", not
# "missed" — an unpaid invoice is still unpaid, a birthday greeting still welcome
PAST_ANCHOR_IS_LATE = frozenset({"occurred_at", "invoice_due", "birthday"})
LATE_TOLERANCE = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class Timing:
    """The due time of one rule's rows, or why they are not sent."""

    due_at: datetime
    anchor: datetime | None = None
    skip: str | None = None  # reason: the rows are journaled as skipped
    late: str | None = None  # note: sent at once, later than the rule asked

    def options(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.anchor is not None:
            out["anchor_at"] = rfc3339(self.anchor)
        if self.late:
            out["late"] = self.late
        return out


def daily_time(config: Config) -> time:
    hour, minute = (int(x) for x in config.schedule.daily_at.split(":"))
    return time(hour, minute)


def parse_moment(value: Any, config: Config) -> datetime | None:
    """An anchor value: a datetime, an RFC 3339 / ISO string, or a date (at ``daily_at``).

    Times without an offset are in the service time zone (1C sends local times).
    """
    tz = config.service.tz
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, daily_time(config))
    elif isinstance(value, str) and value.strip():
        if value.strip().startswith(EMPTY_1C_DATE):
            return None  # 1C's empty date: not set
        text = value.strip().replace("Z", "+00:00")
        try:
            if len(text) == 10:
                moment = datetime.combine(date.fromisoformat(text), daily_time(config))
            else:
                moment = datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        return None  # would overflow in UTC or by the rule's offset
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC)


def anchor_of(
    event_type: EventType | None,
    rule: Rule,
    event: EventIn,
    document: dict[str, Any],
    config: Config,
) -> tuple[datetime | None, str | None]:
    """(anchor time, problem): the moment the rule's offset counts from."""
    anchor = event_type.anchor if event_type else "occurred_at"
    occurred = event.occurred_at
    if anchor in ("occurred_at", "birthday"):
        return occurred, None
    if anchor == "invoice_due":
        if occurred is None:
            return None, "the invoice has no issue time"
        days = rule.working_days or DEFAULT_WORKING_DAYS
        return add_working_days(
            occurred, days, set(config.schedule.holidays), config.service.tz
        ), None
    raw = resolve_path(document, anchor)
    if (
        raw is None
        or raw is MISSING
        or isinstance(raw, (list, dict))
        or raw == ""
        or (isinstance(raw, str) and raw.strip().startswith(EMPTY_1C_DATE))
    ):
        return None, f"no {anchor} in the event"
    moment = parse_moment(raw, config)
    if moment is None:
        return None, f"{anchor} is not a time: {raw!r}"
    return moment, None


def offset_of(rule: Rule) -> timedelta:
    if rule.before:
        return -parse_duration(rule.before)
    if rule.after:
        return parse_duration(rule.after)
    return timedelta(0)


def timing_for(
    rule: Rule,
    type_name: str,
    event: EventIn,
    document: dict[str, Any],
    config: Config,
    now: datetime,
) -> Timing:
    """When the rule's rows for this event (planned as ``type_name``) fall due."""
    event_type = CATALOG.get(type_name)
    anchor_kind = event_type.anchor if event_type else "occurred_at"
    posted = event_type is None or event_type.kind != "derived"
    if (anchor_kind == "occurred_at" or posted) and not rule.before and not rule.after:
        return Timing(due_at=now)  # what the ERP posts is told at once unless timed
    anchor, problem = anchor_of(event_type, rule, event, document, config)
    if anchor is None:
        return Timing(due_at=now, skip=problem or "no anchor time")
    due = anchor + offset_of(rule)
    if due >= now - LATE_TOLERANCE:
        return Timing(due_at=max(due, now), anchor=anchor)
    zone = config.service.tz  # reasons are read by people: the service's clock
    late = f"late: due {for_people(due, zone)}, planned {for_people(now, zone)}; sent at once"
    if rule.after or anchor_kind in PAST_ANCHOR_IS_LATE:
        return Timing(due_at=now, anchor=anchor, late=late)
    if anchor > now:
        return Timing(due_at=now, anchor=anchor, late=late)
    return Timing(
        due_at=now,
        anchor=anchor,
        skip=f"missed: {anchor_kind} {for_people(anchor, zone)} has already passed",
    )


def subject_key(event_type: EventType, document: dict[str, Any]) -> str | None:
    """What a derived type's rows are about (``order.id=ORD-1``), or None."""
    for path in event_type.keys:
        value = resolve_path(document, path)
        if value is None or value is MISSING or isinstance(value, (list, dict)) or value == "":
            continue
        return f"{path}={value}"
    return None


def local_zone(name: str | None, fallback: ZoneInfo) -> ZoneInfo:
    """A person's time zone, or ``fallback`` when it is missing or unknown."""
    if name:
        try:
            return ZoneInfo(name)
        except (KeyError, ValueError):
            pass
    return fallback
