"""The planner: from one event to its journal rows, inside the intake's transaction.

For every rule of the event's type whose filters match, for every recipient, it chooses the
channel (``delivery = "first"``: the first usable one; ``"all"``: each), checks the stop list,
picks the address, renders the text and sets ``due_at``. Rows that cannot be sent are still
journaled, as ``skipped`` or ``stopped`` with the reason. A template error fails that one
row, never the event. The parts: bot/pipeline/directory.py (persons), chains.py
(replace/cancel), routing.py (addresses, stop list), rendering.py (texts, quiet hours).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.core.catalog import EventType, derived_touched_by
from bot.core.config import Config
from bot.pipeline import directory, routing
from bot.pipeline.chains import Chains, deep_merge
from bot.pipeline.events import EventIn
from bot.pipeline.rendering import Renderer
from bot.pipeline.routing import Recipient
from bot.pipeline.rule_filters import filters_match
from bot.pipeline.rules import Rule, from_stored
from bot.pipeline.schedule import timing_for
from bot.pipeline.templates import Templates
from storage.base import Tx
from storage.models import JournalRow, Person, Plan


class Planner:
    def __init__(self, config: Config, templates: Templates) -> None:
        self.config = config
        self.templates = templates
        self.renderer = Renderer(config, templates)
        self.chains = Chains(self.rules_for, self.plan_timed, self.upsert_persons)
        self._rules: list[Rule] = []
        self._by_event: dict[str, list[Rule]] = {}
        self._revision = -1

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
        return await directory.upsert_persons(tx, event, self.config.service.default_region)

    @staticmethod
    def document(event: EventIn, persons: dict[str, Person]) -> dict[str, Any]:
        return directory.document(event, persons)

    # planning ----------------------------------------------------------------------------------
    async def plan(
        self,
        tx: Tx,
        event: EventIn,
        document: dict[str, Any],
        persons: dict[str, Person],
        now: datetime,
    ) -> list[JournalRow]:
        """Rows for the rules of the event's type, then for the derived types it plans,
        replaces or cancels (call ``refresh_rules`` once per transaction)."""
        rows: list[JournalRow] = []
        for rule in self.rules_for(event.type):
            if rule.blocked or not filters_match(rule.filters, document):
                continue
            rows += await self.plan_timed(
                tx, rule, event, document, persons, now=now, type_name=event.type
            )
        families: dict[str, list[EventType]] = {}
        for derived in derived_touched_by(event.type):
            families.setdefault(derived.family, []).append(derived)
        for family, types in families.items():
            rows += await self.chains.apply(tx, family, types, event, document, persons, now)
        return rows

    async def plan_timed(
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
    ) -> list[JournalRow]:
        """Rows for one rule at the time its timing keys say (late, missed: schedule.py)."""
        timing = timing_for(rule, type_name, event, document, self.config, now)
        rows = await self.plan_rule(
            tx,
            rule,
            event,
            document,
            persons,
            now=now,
            due_at=timing.due_at,
            event_type=type_name,
            options={**(options or {}), **timing.options()},
        )
        for row in rows:
            if cancelled:  # out of order: whatever it would have been, it is not sent
                row.status, row.reason = "cancelled", cancelled
            elif timing.skip and row.status in ("pending", "scheduled"):
                row.status, row.reason = "skipped", timing.skip
        return rows

    async def plan_rule(
        self,
        tx: Tx,
        rule: Rule,
        event: EventIn,
        document: dict[str, Any],
        persons: dict[str, Person],
        *,
        now: datetime,
        due_at: datetime,
        event_type: str | None = None,
        options: dict[str, Any] | None = None,
    ) -> list[JournalRow]:
        """Rows for one rule; ``event_type`` differs from the event's for derived types."""
        event_type = event_type or event.type
        rows = []
        for spec in rule.recipients:
            recipient = await routing.recipient_for(tx, spec, persons)
            local_due, local = self.renderer.local_time(rule, recipient, due_at, now)
            base = JournalRow(
                event_id=event.id,
                event_type=event_type,
                rule=rule.name,
                recipient_role=recipient.role,
                recipient_id=recipient.id,
                recipient_name=recipient.person.name if recipient.person else None,
                channel=rule.channels[0],
                status="skipped",
                created_at=now,
                due_at=local_due,
                order_id=event.order.id if event.order else None,
                plan=Plan.from_json(
                    {
                        **(options or {}),
                        **local,
                        "delivery": rule.delivery,
                        "channels": list(rule.channels),
                        "recipient_kind": recipient.person.kind if recipient.person else "chat",
                    }
                ),
            )
            if recipient.person is None and recipient.chat_id is None:
                base.reason = (
                    f"no {spec} in the event"
                    if spec in persons or ":" not in spec
                    else f"{spec} is not in the directory"
                )
                rows.append(base)
                continue
            rows += await self._rows_for(tx, rule, recipient, base, document, event_type, now)
        return rows

    async def _rows_for(
        self,
        tx: Tx,
        rule: Rule,
        recipient: Recipient,
        base: JournalRow,
        document: dict[str, Any],
        event_type: str,
        now: datetime,
    ) -> list[JournalRow]:
        """One row per route of one recipient (one for ``first``, each channel for ``all``)."""
        found = await routing.routes(tx, self.config, rule, recipient, event_type)
        assert base.due_at is not None
        waiting = routing.waiting_for_address(rule, found) if base.due_at > now else set()
        rows = []
        for route in found:
            row = JournalRow(**{**row_fields(base), "channel": route.channel})
            row.plan = base.plan.copy()
            await self.renderer.fill(row, rule, recipient, route, document, now=now)
            if route.channel in waiting:
                row.status = "scheduled"
                row.reason = f"{route.reason}; looked up again when due"
                row.plan.resolve_when_due = True
            rows.append(row)
        return rows

    # due time ----------------------------------------------------------------------------------
    async def resolve_due(self, tx: Tx, row: JournalRow, now: datetime) -> tuple[JournalRow, bool]:
        """A row planned ahead looks its recipient up again when it falls due: a customer
        who linked Telegram or gave an e-mail in the meantime is reached by it.

        Reads only. Returns a new row — to send (status ``sending``), or with the final status
        and reason when there is nowhere to send — and whether its channel, address or text
        changed (the caller writes that to the journal before sending).
        """
        fresh = JournalRow(**row_fields(row))
        fresh.plan = row.plan.copy()
        kind = row.plan.recipient_kind
        person = (
            await tx.get_person(kind, row.recipient_id)
            if kind in ("customer", "staff") and row.recipient_id
            else None
        )
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
        found = [
            await routing.route(tx, self.config, rule, recipient, channel, row.event_type)
            for channel in channels
        ]
        chosen = next((r for r in found if r.status == "pending"), None)
        if chosen is None:
            own = next((r for r in found if r.channel == row.channel), found[0])
            worst = next((r for r in found if r.status == "stopped"), own)
            fresh.status, fresh.reason = worst.status, worst.reason
            return fresh, False
        if chosen.channel == row.channel and chosen.address == row.address and row.text:
            return fresh, False
        payload = stored.payload
        previous = await tx.get_event(row.plan.merged_from) if row.plan.merged_from else None
        if previous is not None:  # a reschedule completed from the booking it replaced
            payload = deep_merge(previous.payload, payload)
        event = EventIn.model_validate(payload)
        persons = {row.recipient_role: person}
        fresh.channel = chosen.channel
        await self.renderer.fill(
            fresh, rule, recipient, chosen, directory.document(event, persons), now=now
        )
        if fresh.status != "pending":
            return fresh, False
        fresh.status, fresh.reason = "sending", None
        return fresh, True


def row_fields(row: JournalRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in JournalRow.__slots__}
