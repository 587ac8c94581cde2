"""The queries behind staff work in the bot, for both SQL backends: dialogue state (the
aiogram FSM store), the record of rule changes, editing one rule by id, the latest event of a
type. A mixin of :class:`storage.sql.SqlTx`, kept apart so each module stays one concept."""

from __future__ import annotations

import abc
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from storage.models import DialogueState, RuleChange, StoredEvent, StoredRule


class StaffQueries(abc.ABC):
    # the driver primitives and conversions SqlTx supplies
    @abc.abstractmethod
    async def _fetch(self, sql: str, *args: Any) -> list[Any]: ...

    @abc.abstractmethod
    async def _fetchrow(self, sql: str, *args: Any) -> Any | None: ...

    @abc.abstractmethod
    async def _execute(self, sql: str, *args: Any) -> int: ...

    @abc.abstractmethod
    def _t(self, moment: datetime | None) -> Any: ...

    @abc.abstractmethod
    def _dt(self, value: Any) -> datetime | None: ...

    @abc.abstractmethod
    def _bool(self, value: bool) -> Any: ...

    @abc.abstractmethod
    async def _bump_rules(self) -> None: ...

    def _stamp(self, value: Any) -> datetime:
        """A NOT NULL time column."""
        moment = self._dt(value)
        assert moment is not None
        return moment

    # dialogue state ------------------------------------------------------------------------
    async def get_dialogue(self, key: str) -> DialogueState | None:
        row = await self._fetchrow("SELECT * FROM fsm_state WHERE key = ?", key)
        if row is None:
            return None
        return DialogueState(
            key=row["key"],
            state=row["state"],
            data=json.loads(row["data"] or "{}"),
            updated_at=self._stamp(row["updated_at"]),
        )

    async def set_dialogue_state(self, key: str, state: str | None, now: datetime) -> None:
        await self._execute(
            "INSERT INTO fsm_state (key, state, data, updated_at) VALUES (?, ?, '{}', ?)"
            " ON CONFLICT (key) DO UPDATE SET state = excluded.state,"
            " updated_at = excluded.updated_at",
            key,
            state,
            self._t(now),
        )

    async def set_dialogue_data(self, key: str, data: dict[str, Any], now: datetime) -> None:
        text = json.dumps(data, ensure_ascii=False, default=str)
        await self._execute(
            "INSERT INTO fsm_state (key, state, data, updated_at) VALUES (?, NULL, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET data = excluded.data,"
            " updated_at = excluded.updated_at",
            key,
            text,
            self._t(now),
        )

    async def purge_dialogues(self, before: datetime) -> int:
        return await self._execute("DELETE FROM fsm_state WHERE updated_at < ?", self._t(before))

    # rule changes --------------------------------------------------------------------------
    async def add_rule_change(self, change: RuleChange) -> None:
        await self._execute(
            "INSERT INTO rule_changes (rule_id, rule_name, action, author, at)"
            " VALUES (?, ?, ?, ?, ?)",
            change.rule_id,
            change.rule_name,
            change.action,
            change.author,
            self._t(change.at),
        )

    async def list_rule_changes(self, rule_id: int, *, limit: int = 20) -> list[RuleChange]:
        rows = await self._fetch(
            "SELECT * FROM rule_changes WHERE rule_id = ? ORDER BY id DESC LIMIT ?", rule_id, limit
        )
        return [
            RuleChange(
                id=row["id"],
                rule_id=row["rule_id"],
                rule_name=row["rule_name"],
                action=row["action"],
                author=row["author"],
                at=self._stamp(row["at"]),
            )
            for row in rows
        ]

    async def update_rule(self, rule_id: int, rule: StoredRule, now: datetime) -> bool:
        definition = json.dumps(rule.definition, ensure_ascii=False, default=str)
        changed = await self._execute(
            "UPDATE rules SET name = ?, event = ?, blocked = ?, definition = ?, updated_at = ?"
            " WHERE id = ?",
            rule.name,
            rule.event,
            self._bool(rule.blocked),
            definition,
            self._t(now),
            rule_id,
        )
        if changed:
            await self._bump_rules()
        return changed > 0

    async def latest_event(self, types: Sequence[str]) -> StoredEvent | None:
        if not types:
            return None
        marks = ",".join("?" * len(types))
        row = await self._fetchrow(
            f"SELECT * FROM events WHERE type IN ({marks}) ORDER BY occurred_at DESC LIMIT 1",
            *types,
        )
        if row is None:
            return None
        return StoredEvent(
            id=row["id"],
            type=row["type"],
            occurred_at=self._stamp(row["occurred_at"]),
            received_at=self._stamp(row["received_at"]),
            payload=json.loads(row["payload"]),
            order_id=row["order_id"],
            order_number=row["order_number"],
        )
