"""The planner: from one event to its journal rows, inside the intake's transaction.

For every rule of the event's type whose filters match, for every recipient, it chooses the
channel (``delivery = "first"``: the first usable one; ``"all"``: each), checks the stop list,
picks the address, renders the text and sets ``due_at``. Rows that cannot be sent are still
journaled, as ``skipped`` or ``stopped`` with the reason. A template error fails that one
row, never the event.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.core.catalog import CATALOG, STAFF_ROLES, EventType, derived_touched_by
from bot.core.channels import channel_unavailable
from bot.core.config import Config
from bot.core.phones import normalize_phone
from bot.core.quiet_hours import QuietHours
from bot.core.sms_text import segments as sms_segments
from bot.core.sms_text import translit as sms_translit
from bot.core.timeutil import parse_rfc3339, rfc3339
from bot.pipeline.events import EventIn
from bot.pipeline.rules import Rule, filters_match, from_stored
from bot.pipeline.schedule import local_zone, subject_key, timing_for
from bot.pipeline.templates import TemplateFailure, Templates, template_context
from storage.base import Tx
from storage.models import JournalRow, Person, StopEntry

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ADDRESS_MISSING = ("no address", "invalid phone", "invalid e-mail")


@dataclass(slots=True)
class Recipient:
    role: str  # customer | manager | ... | staff | chat
    person: Person | None
    chat_id: int | None = None

    @property
    def id(self) -> str | None:
        if self.person is not None:
            return self.person.id
        return str(self.chat_id) if self.chat_id is not None else None

    @property
    def is_customer(self) -> bool:
        return self.role == "customer"


@dataclass(slots=True)
class Route:
    """Where one notification can go on one channel, or why it cannot."""

    channel: str
    status: str  # pending | skipped | stopped
    address: str | None = None
    reason: str | None = None
    stop: StopEntry | None = None
    stop_keys: list[str] = field(default_factory=list)
    language: str | None = None


def person_from(role: str, raw: Any, region: str) -> Person | None:
    """The directory record for a person met in an event; None when it cannot be keyed."""
    if raw is None:
        return None
    kind = "customer" if role == "customer" else "staff"
    phone = normalize_phone(raw.phone, region) if raw.phone else None
    person_id = raw.id or (f"phone:{phone}" if phone and kind == "customer" else None)
    if person_id is None:
        return None
    return Person(kind=kind, id=person_id, name=raw.name, phone=phone or raw.phone,
                  email=raw.email, telegram_id=raw.telegram_id, group=raw.group,
                  birthday=raw.birthday, language=raw.language, timezone=raw.timezone)


def person_dict(person: Person | None, role: str) -> dict[str, Any]:
    if person is None:
        return {"role": role}
    return {"id": person.id, "name": person.name, "phone": person.phone, "email": person.email,
            "group": person.group, "birthday": person.birthday, "language": person.language,
            "timezone": person.timezone, "role": role}


class Planner:
    def __init__(self, config: Config, templates: Templates) -> None:
        self.config = config
        self.templates = templates
        self._rules: list[Rule] = []
        self._by_event: dict[str, list[Rule]] = {}
        self._revision = -1
        self.quiet_hours = QuietHours.parse(config.service.quiet_hours)

    # rules cache -------------------------------------------------------------------------------
    async def refresh_rules(self, tx: Tx) -> list[Rule]:
        """Reload the rules when their revision changed (an import, even by another process)."""
        revision = await tx.rules_revision()
        if revision != self._revision:
            self._rules = [from_stored(r) for r in await tx.list_rules()]
            self._by_event = {}
            for rule in self._rules:
                self._by_event.setdefault(rule.event, []).append(rule)
            self._revision = revision
        return self._rules

    def rules_for(self, event_type: str) -> list[Rule]:
        return self._by_event.get(event_type, [])

    # persons -----------------------------------------------------------------------------------
    async def upsert_persons(self, tx: Tx, event: EventIn) -> dict[str, Person]:
        """Persons met in the event go into the directory; the merged records come back."""
        region = self.config.service.default_region
        found: dict[str, Person] = {}
        for role in ("customer", *STAFF_ROLES):
            raw = getattr(event, role)
            person = person_from(role, raw, region)
            if person is None:
                continue
            if person.kind == "customer" and not raw.id and person.phone:
                known = await tx.find_person_by_phone("customer", person.phone)
                if known is not None:  # customers without an id are matched by phone
                    person.id = known.id
            found[role] = await tx.upsert_person(person)
        return found

    @staticmethod
    def document(event: EventIn, persons: dict[str, Person]) -> dict[str, Any]:
        """The event as filters and templates see it, persons completed from the directory."""
        doc = event.model_dump(mode="python")
        for role, person in persons.items():
            merged = doc.get(role) or {}
            for key, value in person_dict(person, role).items():
                if merged.get(key) in (None, ""):
                    merged[key] = value
            doc[role] = merged
        return doc

    # planning ----------------------------------------------------------------------------------
    async def plan(self, tx: Tx, event: EventIn, document: dict[str, Any],
                   persons: dict[str, Person], now: datetime) -> list[JournalRow]:
        """Rows for the rules of the event's type, then for the derived types it plans,
        replaces or cancels (call ``refresh_rules`` once per transaction)."""
        rows: list[JournalRow] = []
        for rule in self.rules_for(event.type):
            if rule.blocked or not filters_match(rule.filters, document):
                continue
            rows += await self.plan_timed(tx, rule, event, document, persons, now=now,
                                          type_name=event.type)
        touched = derived_touched_by(event.type)
        if touched:
            families: dict[str, list[EventType]] = {}
            for derived in touched:
                families.setdefault(derived.family, []).append(derived)
            for family, types in families.items():
                rows += await self.apply_chain(tx, family, types, event, document, persons, now)
        return rows

    async def plan_timed(self, tx: Tx, rule: Rule, event: EventIn, document: dict[str, Any],
                         persons: dict[str, Person], *, now: datetime, type_name: str,
                         options: dict[str, Any] | None = None,
                         cancelled: str | None = None) -> list[JournalRow]:
        """Rows for one rule at the time its timing keys say (late, missed: bot/schedule.py)."""
        timing = timing_for(rule, type_name, event, document, self.config, now)
        rows = await self.plan_rule(tx, rule, event, document, persons, now=now,
                                    due_at=timing.due_at, event_type=type_name,
                                    options={**(options or {}), **timing.options()})
        for row in rows:
            if cancelled:  # out of order: whatever it would have been, it is not sent
                row.status, row.reason = "cancelled", cancelled
            elif timing.skip and row.status in ("pending", "scheduled"):
                row.status, row.reason = "skipped", timing.skip
        return rows

    async def apply_chain(self, tx: Tx, family: str, types: list[EventType], event: EventIn,
                          document: dict[str, Any], persons: dict[str, Person],
                          now: datetime) -> list[JournalRow]:
        """One source or cancelling event against the derived rows of the same key.

        A source (``order_booked``, ``order_rescheduled``) replaces the still-scheduled rows
        and plans new ones; a cancelling event (``order_cancelled``) cancels them. The last
        applied event per key is kept in ``meta``; an event older than it (out of order)
        neither undoes nor replaces anything, and its rows are journaled as cancelled.
        """
        is_source = event.type in types[0].sources
        rules = [(t, r) for t in types for r in self.rules_for(t.name)]
        key = subject_key(types[0], document)
        if key is None:  # nothing names what it is about: plan, nothing to replace
            return await self._plan_derived(tx, rules, event, document, persons, now, None) \
                if is_source else []
        order_id = event.order.id if key.startswith("order.id=") and event.order else None
        old = await tx.scheduled_rows(order_id=order_id, event_types=[t.name for t in types],
                                      source_key=key)
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
            reason = (f"out of order: {state.get('type')} {state.get('event')} of "
                      f"{state.get('at')} is newer and was applied first")
            return await self._plan_derived(tx, rules, event, document, persons, now, key,
                                            cancelled=reason)
        if is_source:
            victims = [row.id for row in old if row.id is not None]
            reason = f"replaced by {event.type} {event.id}"
        else:
            victims = [row.id for row in old if row.id is not None
                       and event.type in _catalog_cancellers(row.event_type)]
            reason = f"cancelled by {event.type} {event.id}"
        if victims:
            await tx.cancel_rows(victims, reason)
        rows: list[JournalRow] = []
        if is_source:
            previous = state.get("source")
            merged_from = None
            if previous and previous != event.id:
                event, persons, document = await self._merged(tx, previous, event, persons,
                                                               document)
                merged_from = previous
            rows = await self._plan_derived(tx, rules, event, document, persons, now, key,
                                            merged_from=merged_from)
        await tx.set_meta(meta_key, json.dumps({
            "at": rfc3339(occurred), "event": event.id, "type": event.type,
            "source": event.id if is_source else state.get("source")}))
        return rows

    async def _plan_derived(self, tx: Tx, rules: list[tuple[EventType, Rule]], event: EventIn,
                            document: dict[str, Any], persons: dict[str, Person],
                            now: datetime, key: str | None, *,
                            cancelled: str | None = None,
                            merged_from: str | None = None) -> list[JournalRow]:
        rows: list[JournalRow] = []
        for derived, rule in rules:
            if rule.blocked or not filters_match(rule.filters, document):
                continue
            options = {"source_event": event.id, "source_type": event.type}
            if key is not None:
                options["source_key"] = key
            if merged_from is not None:
                options["merged_from"] = merged_from
            rows += await self.plan_timed(tx, rule, event, document, persons, now=now,
                                          type_name=derived.name, options=options,
                                          cancelled=cancelled)
        return rows

    async def _merged(self, tx: Tx, previous_id: str, event: EventIn,
                      persons: dict[str, Person], document: dict[str, Any],
                      ) -> tuple[EventIn, dict[str, Person], dict[str, Any]]:
        """A newer source that repeats only what changed (``order_rescheduled`` with the new
        ``planned_start``) is completed from the one it replaces (customer, vehicle...)."""
        stored = await tx.get_event(previous_id)
        if stored is None:
            return event, persons, document
        merged_payload = _deep_merge(stored.payload,
                                     event.model_dump(mode="json", exclude_none=True))
        merged = EventIn.model_validate(merged_payload)
        merged.occurred_at = event.occurred_at
        merged_persons = await self.upsert_persons(tx, merged)
        return merged, merged_persons, self.document(merged, merged_persons)

    async def plan_rule(self, tx: Tx, rule: Rule, event: EventIn, document: dict[str, Any],
                        persons: dict[str, Person], *, now: datetime, due_at: datetime,
                        event_type: str | None = None,
                        options: dict[str, Any] | None = None) -> list[JournalRow]:
        """Rows for one rule; ``event_type`` differs from the event's for derived types."""
        event_type = event_type or event.type
        rows = []
        for spec in rule.recipients:
            recipient = await self.recipient(tx, spec, persons)
            local_due, local = self.local_time(rule, recipient, due_at, now)
            base = JournalRow(
                event_id=event.id, event_type=event_type, rule=rule.name,
                recipient_role=recipient.role, recipient_id=recipient.id,
                recipient_name=recipient.person.name if recipient.person else None,
                channel=rule.channels[0], status="skipped", created_at=now, due_at=local_due,
                order_id=event.order.id if event.order else None,
                options={**(options or {}), **local, "delivery": rule.delivery,
                         "channels": list(rule.channels),
                         "recipient_kind": recipient.person.kind if recipient.person else "chat"},
            )
            if recipient.person is None and recipient.chat_id is None:
                base.reason = f"no {spec} in the event" if spec in persons or ":" not in spec \
                    else f"{spec} is not in the directory"
                rows.append(base)
                continue
            routes = await self.routes(tx, rule, recipient, event_type)
            waiting = self.waiting_for_address(rule, routes) if local_due > now else set()
            for route in routes:
                row = JournalRow(**{**_row_fields(base), "channel": route.channel})
                row.options = dict(base.options)
                self.fill(row, rule, recipient, route, document, now=now)
                if route.channel in waiting:
                    row.status = "scheduled"
                    row.reason = f"{route.reason}; looked up again when due"
                    row.options["resolve_when_due"] = True
                rows.append(row)
        return rows

    @staticmethod
    def waiting_for_address(rule: Rule, routes: list[Route]) -> set[str]:
        """Channels of a later notification that lack only the recipient's address: the row
        waits for it (the customer may link Telegram or give an e-mail by then). ``first``:
        one row when no channel is usable now; ``all``: each such channel."""
        missing = [r.channel for r in routes if r.status == "skipped"
                   and (r.reason or "").startswith(_ADDRESS_MISSING)]
        if rule.delivery == "all":
            return set(missing)
        if any(r.status == "pending" for r in routes) or not missing:
            return set()
        return {missing[0]}

    # due time ----------------------------------------------------------------------------------
    async def resolve_due(self, tx: Tx, row: JournalRow,
                          now: datetime) -> tuple[JournalRow, bool]:
        """A row planned ahead looks its recipient up again when it falls due (SPEC §4): a
        customer who linked Telegram or gave an e-mail in the meantime is reached by it.

        Reads only. Returns a new row — to send (status ``sending``), or with the final status
        and reason when there is nowhere to send — and whether its channel, address or text
        changed (the caller writes that to the journal before sending).
        """
        fresh = JournalRow(**_row_fields(row))
        fresh.options = dict(row.options)
        kind = row.options.get("recipient_kind")
        person = await tx.get_person(kind, row.recipient_id) \
            if kind in ("customer", "staff") and row.recipient_id else None
        await self.refresh_rules(tx)
        rule = next((r for r in self._rules if r.name == row.rule), None)
        stored = await tx.get_event(row.event_id)
        if person is None or rule is None or stored is None:
            if not row.address:
                fresh.status = "skipped"
                fresh.reason = row.reason or "no address"
            return fresh, False
        recipient = Recipient(row.recipient_role, person)
        channels = rule.channels if rule.delivery == "first" else [row.channel]
        routes = [await self.route(tx, rule, recipient, channel, row.event_type)
                  for channel in channels]
        chosen = next((r for r in routes if r.status == "pending"), None)
        if chosen is None:
            own = next((r for r in routes if r.channel == row.channel), routes[0])
            worst = next((r for r in routes if r.status == "stopped"), own)
            fresh.status, fresh.reason = worst.status, worst.reason
            return fresh, False
        if chosen.channel == row.channel and chosen.address == row.address and row.text:
            return fresh, False
        payload = stored.payload
        previous = await tx.get_event(row.options["merged_from"]) \
            if row.options.get("merged_from") else None
        if previous is not None:  # a reschedule completed from the booking it replaced
            payload = _deep_merge(previous.payload, payload)
        event = EventIn.model_validate(payload)
        persons = {row.recipient_role: person}
        fresh.channel = chosen.channel
        self.fill(fresh, rule, recipient, chosen, self.document(event, persons), now=now)
        if fresh.status != "pending":
            return fresh, False
        fresh.status, fresh.reason = "sending", None
        return fresh, True

    def local_time(self, rule: Rule, recipient: Recipient, due_at: datetime,
                   now: datetime) -> tuple[datetime, dict[str, Any]]:
        """The due time after quiet hours, in the recipient's time zone (person's, else the
        service's). Customers are deferred unless the rule says ``quiet_hours = false``;
        staff only with ``service.quiet_hours_staff``."""
        person = recipient.person
        tz = local_zone(person.timezone if person else None, self.config.service.tz)
        local: dict[str, Any] = {"timezone": tz.key}
        window = self.quiet_hours
        applies = recipient.is_customer or self.config.service.quiet_hours_staff
        if window is None or not rule.quiet_hours or not applies:
            return due_at, local
        deferred = window.defer(max(due_at, now), tz)
        if deferred > max(due_at, now):
            local["quiet_hours"] = f"deferred from {rfc3339(due_at)}"
            return deferred, local
        return due_at, local

    async def recipient(self, tx: Tx, spec: str, persons: dict[str, Person]) -> Recipient:
        if spec.startswith("staff:"):
            return Recipient("staff", await tx.get_person("staff", spec.split(":", 1)[1]))
        if spec.startswith("chat:"):
            return Recipient("chat", None, chat_id=int(spec.split(":", 1)[1]))
        return Recipient(spec, persons.get(spec))

    async def routes(self, tx: Tx, rule: Rule, recipient: Recipient,
                     event_type: str) -> list[Route]:
        """The rule's channels in order, each usable or not; ``first`` stops at a usable one."""
        out = []
        for channel in rule.channels:
            route = await self.route(tx, rule, recipient, channel, event_type)
            out.append(route)
            if rule.delivery == "first" and route.status == "pending":
                break
        return out

    async def route(self, tx: Tx, rule: Rule, recipient: Recipient, channel: str,
                    event_type: str) -> Route:
        if recipient.is_customer and channel == "internal":
            return Route(channel, "skipped", reason="internal is for staff only")
        missing = channel_unavailable(self.config, channel, rule.providers_for(channel))
        if missing:
            return Route(channel, "skipped", reason=missing)
        person, region = recipient.person, self.config.service.default_region
        keys: list[str] = []
        language = person.language if person else None
        if person is not None:
            keys.append(f"customer:{person.id}" if person.kind == "customer"
                        else f"staff:{person.id}")
            phone = normalize_phone(person.phone, region) if person.phone else None
            if phone:
                keys.append(f"phone:{phone}")
            if person.email:
                keys.append(f"email:{person.email.strip().lower()}")
        address: str | None = None
        if channel == "telegram":
            if recipient.chat_id is not None:
                address = str(recipient.chat_id)
            elif person is not None:
                link = await tx.find_active_link(
                    customer_id=person.id if person.kind == "customer" else None,
                    staff_id=person.id if person.kind == "staff" else None,
                    phone=normalize_phone(person.phone, region) if person.phone else None)
                if link is not None:
                    address = str(link.chat_id)
                    language = language or link.language
                elif person.kind == "staff" and person.telegram_id:
                    address = str(person.telegram_id)
            if address is None:
                return Route(channel, "skipped", reason="no address: no linked Telegram chat",
                             stop_keys=keys)
            keys.append(f"chat:{address}")
        elif channel == "email":
            email = (person.email or "").strip() if person else ""
            if not email:
                return Route(channel, "skipped", reason="no address: no e-mail", stop_keys=keys)
            if not _EMAIL.match(email):
                return Route(channel, "skipped", reason=f"invalid e-mail {email!r}",
                             stop_keys=keys)
            address = email
        elif channel in ("sms", "modem"):
            raw = person.phone if person else None
            if not raw:
                return Route(channel, "skipped", reason="no address: no phone", stop_keys=keys)
            address = normalize_phone(raw, region)
            if address is None:
                return Route(channel, "skipped", reason="invalid phone", stop_keys=keys)
        elif channel == "internal":
            if person is None or person.kind != "staff":
                return Route(channel, "skipped", reason="internal is for staff only")
            address = person.id
        stop = await tx.find_stop(keys, event_type, channel)
        if stop is not None:
            return Route(channel, "stopped", address=address, stop=stop, stop_keys=keys,
                         reason=f"stop list entry {stop.id}")
        return Route(channel, "pending", address=address, stop_keys=keys, language=language)

    def fill(self, row: JournalRow, rule: Rule, recipient: Recipient, route: Route,
             document: dict[str, Any], *, now: datetime) -> None:
        """Address, text and status of one row from its route."""
        row.status, row.reason, row.address = route.status, route.reason, route.address
        row.options["stop_keys"] = route.stop_keys
        providers = rule.providers_for(route.channel)
        if providers:
            row.options["providers"] = providers
        if rule.sender_name:
            row.options["sender_name"] = rule.sender_name
        if route.status != "pending":
            return
        language = rule.language or route.language or self.config.service.language
        row.options["language"] = language
        if row.due_at and row.due_at > now:
            row.status = "scheduled"
            if recipient.person is not None:
                row.options["resolve_when_due"] = True
        context = template_context(document, person_dict(recipient.person, recipient.role),
                                   company=self.config.service.company_name,
                                   extra=self.templates.globals)
        try:
            rendered = self.templates.render(
                event_type=row.event_type, channel=route.channel, language=language,
                context=context, subject=rule.subject, body=rule.body, html_body=rule.html)
        except TemplateFailure as exc:
            row.status, row.error, row.failed_at = "failed", str(exc), now
            return
        row.subject, row.text, row.html = rendered.subject or None, rendered.text, rendered.html
        if route.channel in ("sms", "modem"):
            if rule.translit:
                row.text = sms_translit(row.text)
            row.segments = sms_segments(row.text)
            limit = rule.max_segments or self.config.sms.max_segments
            if row.segments > limit:
                row.status, row.failed_at = "failed", now
                row.error = (f"the text needs {row.segments} SMS segments, the limit is {limit}"
                             " (shorten the template, set translit = true or raise max_segments)")
        if not row.text:
            row.status, row.failed_at = "failed", now
            row.error = "the template rendered an empty text"


def _catalog_cancellers(type_name: str) -> tuple[str, ...]:
    known = CATALOG.get(type_name)
    return known.cancelled_by if known else ()


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _row_fields(row: JournalRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in JournalRow.__slots__}  # type: ignore[attr-defined]


def stop_keys_for(row: JournalRow) -> Sequence[str]:
    return row.options.get("stop_keys", [])
