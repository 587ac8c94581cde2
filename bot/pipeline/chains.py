"""Chains: a source event (``order_booked``, ``order_rescheduled``, ``invoice_issued``) plans
derived rows (reminders, ``invoice_unpaid``); a newer source for the same key replaces the
still-scheduled ones, a cancelling event (``order_cancelled``, ``payment_received``) cancels
them. The last applied event per key is kept in ``meta``; an older event (out of order)
neither undoes nor replaces anything, and its rows are journaled as cancelled."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Protocol

from bot.core.catalog import CATALOG, EventType
from bot.core.timeutil import parse_rfc3339, rfc3339
from bot.pipeline import directory
from bot.pipeline.events import EventIn
from bot.pipeline.rule_filters import filters_match
from bot.pipeline.rules import Rule
from bot.pipeline.schedule import subject_key
from storage.base import Tx
from storage.models import JournalRow, Person


class PlanTimed(Protocol):
    async def __call__(
        self,
        tx: Tx,
        rule: Rule,
        event: EventIn,
        document: dict[str, Any],
        persons: dict[str, Person],
        *,
        now: datetime,
        type_name: str,
        options: dict[str, Any] | None = None,
        cancelled: str | None = None,
    ) -> list[JournalRow]: ...


class Chains:
    def __init__(
        self,
        rules_for: Callable[[str], list[Rule]],
        plan_timed: PlanTimed,
        upsert_persons: Callable[[Tx, EventIn], Awaitable[dict[str, Person]]],
    ) -> None:
        self.rules_for = rules_for
        self.plan_timed = plan_timed
        self.upsert_persons = upsert_persons

    async def apply(
        self,
        tx: Tx,
        family: str,
        types: list[EventType],
        event: EventIn,
        document: dict[str, Any],
        persons: dict[str, Person],
        now: datetime,
    ) -> list[JournalRow]:
        """One source or cancelling event against the derived rows of the same key."""
        is_source = event.type in types[0].sources
        rules = [(t, r) for t in types for r in self.rules_for(t.name)]
        key = subject_key(types[0], document)
        if key is None:  # nothing names what it is about: plan, nothing to replace
            return (
                await self._plan_derived(tx, rules, event, document, persons, now, None)
                if is_source
                else []
            )
        order_id = event.order.id if key.startswith("order.id=") and event.order else None
        old = await tx.scheduled_rows(
            order_id=order_id, event_types=[t.name for t in types], source_key=key
        )
        if not rules and not old:
            return []
        meta_key = f"chain:{family}:{key}"
        raw = await tx.get_meta(meta_key)
        state: dict[str, Any] = json.loads(raw) if raw else {}
        occurred = event.occurred_at or now
        last = parse_rfc3339(state.get("at"))
        if last is not None and occurred < last:
            if not is_source:
                return []
            return await self._plan_derived(
                tx, rules, event, document, persons, now, key, cancelled=_out_of_order(state)
            )
        await self._cancel_old(tx, old, event, is_source)
        rows: list[JournalRow] = []
        if is_source:
            rows = await self._replan(tx, rules, event, document, persons, now, key, state)
        await tx.set_meta(meta_key, _applied_state(state, event, occurred, is_source))
        return rows

    async def _replan(
        self,
        tx: Tx,
        rules: list[tuple[EventType, Rule]],
        event: EventIn,
        document: dict[str, Any],
        persons: dict[str, Person],
        now: datetime,
        key: str,
        state: dict[str, Any],
    ) -> list[JournalRow]:
        """A source's derived rows, the event completed from the source it replaces."""
        previous = state.get("source")
        merged_from = None
        if previous and previous != event.id:
            event, persons, document = await self._merged(tx, previous, event, persons, document)
            merged_from = previous
        return await self._plan_derived(
            tx, rules, event, document, persons, now, key, merged_from=merged_from
        )

    @staticmethod
    async def _cancel_old(tx: Tx, old: list[JournalRow], event: EventIn, is_source: bool) -> None:
        if is_source:
            victims = [row.id for row in old if row.id is not None]
            reason = f"replaced by {event.type} {event.id}"
        else:
            victims = [
                row.id
                for row in old
                if row.id is not None and event.type in _catalog_cancellers(row.event_type)
            ]
            reason = f"cancelled by {event.type} {event.id}"
        if victims:
            await tx.cancel_rows(victims, reason)

    async def _plan_derived(
        self,
        tx: Tx,
        rules: list[tuple[EventType, Rule]],
        event: EventIn,
        document: dict[str, Any],
        persons: dict[str, Person],
        now: datetime,
        key: str | None,
        *,
        cancelled: str | None = None,
        merged_from: str | None = None,
    ) -> list[JournalRow]:
        rows: list[JournalRow] = []
        for derived, rule in rules:
            if rule.blocked or not filters_match(rule.filters, document):
                continue
            options = {"source_event": event.id, "source_type": event.type}
            if key is not None:
                options["source_key"] = key
            if merged_from is not None:
                options["merged_from"] = merged_from
            rows += await self.plan_timed(
                tx,
                rule,
                event,
                document,
                persons,
                now=now,
                type_name=derived.name,
                options=options,
                cancelled=cancelled,
            )
        return rows

    async def _merged(
        self,
        tx: Tx,
        previous_id: str,
        event: EventIn,
        persons: dict[str, Person],
        document: dict[str, Any],
    ) -> tuple[EventIn, dict[str, Person], dict[str, Any]]:
        """A newer source that repeats only what changed (``order_rescheduled`` with the new
        ``planned_start``) is completed from the one it replaces (customer, vehicle...)."""
        stored = await tx.get_event(previous_id)
        if stored is None:
            return event, persons, document
        merged_payload = deep_merge(
            stored.payload, event.model_dump(mode="json", exclude_none=True)
        )
        merged = EventIn.model_validate(merged_payload)
        merged.occurred_at = event.occurred_at
        merged_persons = await self.upsert_persons(tx, merged)
        return merged, merged_persons, directory.document(merged, merged_persons)


def _out_of_order(state: dict[str, Any]) -> str:
    """Why an older event's rows are journaled as cancelled."""
    return (
        f"out of order: {state.get('type')} {state.get('event')} of "
        f"{state.get('at')} is newer and was applied first"
    )


def _applied_state(
    state: dict[str, Any], event: EventIn, occurred: datetime, is_source: bool
) -> str:
    """The chain's ``meta`` after ``event``: the last applied event and the current source."""
    return json.dumps(
        {
            "at": rfc3339(occurred),
            "event": event.id,
            "type": event.type,
            "source": event.id if is_source else state.get("source"),
        }
    )


def _catalog_cancellers(type_name: str) -> tuple[str, ...]:
    known = CATALOG.get(type_name)
    return known.cancelled_by if known else ()


def deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out
