"""The SQL backends' shared base: the driver primitives a backend supplies, the row
conversions, and the column lists the query mixins share."""

from __future__ import annotations

import abc
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.core.timeutil import Clock, SystemClock
from storage.base import Tx
from storage.models import (
    JOURNAL_COLUMNS,
    JournalRow,
    Person,
    Plan,
    StopEntry,
    StoredRule,
    TelegramLink,
)

PERSON_COLUMNS = (
    "kind",
    "id",
    "name",
    "phone",
    "email",
    "telegram_id",
    "grp",
    "birthday",
    "language",
    "timezone",
)
# every public column but the id (the database gives it), then what only the dispatcher reads
JOURNAL_WRITE_COLUMNS = (
    *(name for name in JOURNAL_COLUMNS if name != "id"),
    "order_id",
    "html",
    "options",
    "receipt_poll_at",
)
# (table, column) holding a customer id that moves when two customers are merged (a new
# table keyed by the customer, such as a conversation's state, belongs here); the stop list
# (who_kind/who/who_key) and the persons themselves are merged by merge_customer itself
CUSTOMER_REFERENCES: tuple[tuple[str, str], ...] = (("telegram_links", "customer_id"),)
_TIME_FIELDS = {"created_at", "due_at", "sent_at", "failed_at", "delivered_at", "receipt_poll_at"}
_FINISH_FIELDS = {
    "status",
    "sent_at",
    "failed_at",
    "error",
    "attempts",
    "provider",
    "provider_message_id",
    "segments",
    "due_at",
    "reason",
    "address",
    "text",
    "receipt_poll_at",
}


class SqlBase(Tx):
    # the storage's clock stamps updated_at/created_at; the storage sets it on each Tx
    clock: Clock = SystemClock()

    # driver primitives ---------------------------------------------------------------------
    @abc.abstractmethod
    async def _fetch(self, sql: str, *args: Any) -> list[Any]: ...

    @abc.abstractmethod
    async def _fetchrow(self, sql: str, *args: Any) -> Any | None: ...

    @abc.abstractmethod
    async def _execute(self, sql: str, *args: Any) -> int:
        """Returns the number of rows changed."""

    @abc.abstractmethod
    async def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    @abc.abstractmethod
    def _t(self, moment: datetime | None) -> Any: ...

    @abc.abstractmethod
    def _dt(self, value: Any) -> datetime | None: ...

    def _bool(self, value: bool) -> Any:
        return int(value)

    # conversions -----------------------------------------------------------------------------
    def _person(self, row: Any) -> Person:
        return Person(
            kind=row["kind"],
            id=row["id"],
            name=row["name"],
            phone=row["phone"],
            email=row["email"],
            telegram_id=row["telegram_id"],
            group=row["grp"],
            birthday=row["birthday"],
            language=row["language"],
            timezone=row["timezone"],
        )

    def _journal(self, row: Any) -> JournalRow:
        return JournalRow(
            id=row["id"],
            event_id=row["event_id"],
            event_type=row["event_type"],
            rule=row["rule"],
            recipient_role=row["recipient_role"],
            recipient_id=row["recipient_id"],
            recipient_name=row["recipient_name"],
            channel=row["channel"],
            provider=row["provider"],
            address=row["address"],
            subject=row["subject"],
            text=row["text"],
            segments=row["segments"],
            created_at=self._dt(row["created_at"]) or datetime.min,
            due_at=self._dt(row["due_at"]),
            sent_at=self._dt(row["sent_at"]),
            failed_at=self._dt(row["failed_at"]),
            error=row["error"],
            attempts=row["attempts"],
            provider_message_id=row["provider_message_id"],
            status=row["status"],
            reason=row["reason"],
            order_id=row["order_id"],
            html=row["html"],
            plan=Plan.from_json(json.loads(row["options"] or "{}")),
            delivered_at=self._dt(row["delivered_at"]),
            receipt=row["receipt"],
            receipt_poll_at=self._dt(row["receipt_poll_at"]),
        )

    def _stop(self, row: Any) -> StopEntry:
        return StopEntry(
            id=row["id"],
            who=row["who"],
            who_kind=row["who_kind"],
            event_type=row["event_type"],
            channel=row["channel"],
            reason=row["reason"],
            author=row["author"],
            created_at=self._dt(row["created_at"]),
        )

    def _rule(self, row: Any) -> StoredRule:
        return StoredRule(
            id=row["id"],
            name=row["name"],
            event=row["event"],
            blocked=bool(row["blocked"]),
            definition=json.loads(row["definition"]),
            updated_at=self._dt(row["updated_at"]),
        )

    def _link(self, row: Any) -> TelegramLink:
        return TelegramLink(
            chat_id=row["chat_id"],
            user_id=row["user_id"],
            phone=row["phone"],
            customer_id=row["customer_id"],
            staff_id=row["staff_id"],
            language=row["language"],
            active=bool(row["active"]),
            updated_at=self._dt(row["updated_at"]),
        )

    def _now(self) -> Any:
        return self._t(self.clock.now())
