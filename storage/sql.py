"""The queries of :class:`storage.base.Tx`, written once for both SQL backends.

A backend subclasses :class:`SqlTx` and supplies four primitives (``_fetch``, ``_fetchrow``,
``_execute``, ``_executemany``) plus the time and JSON conversions of its driver. Queries are
written with ``?`` placeholders; the PostgreSQL backend rewrites them to ``$n``. Only what
truly differs between the dialects (claiming rows) is left to the backend.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from importlib import resources
from typing import Any

from storage.base import SchemaTooNew
from storage.conversations_sql import ConversationSql
from storage.models import (
    InboxItem,
    StopEntry,
    StoredRule,
)
from storage.sql_base import SqlBase
from storage.sql_directory import DirectoryQueries
from storage.sql_journal import JournalQueries
from storage.sql_receipts import ReceiptQueries
from storage.sql_staff import StaffQueries
from storage.sql_web import WebQueries


def load_migrations(dialect: str) -> list[tuple[int, str]]:
    """``storage/migrations/<dialect>/NNN_name.sql`` as (NNN, SQL), in number order."""
    folder = resources.files("storage") / "migrations" / dialect
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(found)


def pending_migrations(dialect: str, current: int, database: str) -> list[tuple[int, str]]:
    """The migrations newer than ``current``, in order; :class:`SchemaTooNew` when the
    database (named ``database`` in the message) is newer than this code."""
    migrations = load_migrations(dialect)
    latest = migrations[-1][0]
    if current > latest:
        raise SchemaTooNew(
            f"the {database} has schema version {current}, this Vestnik knows "
            f"only up to {latest}: upgrade Vestnik"
        )
    return [(version, script) for version, script in migrations if version > current]


class SqlTx(
    DirectoryQueries,
    JournalQueries,
    WebQueries,
    ReceiptQueries,
    StaffQueries,
    ConversationSql,
    SqlBase,
):
    # stop list ----------------------------------------------------------------------------------
    async def add_stop(self, entry: StopEntry) -> StopEntry:
        row = await self._fetchrow(
            "INSERT INTO stoplist (who_kind, who, who_key, event_type, channel, reason, author,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
            entry.who_kind,
            entry.who,
            entry.key,
            entry.event_type,
            entry.channel,
            entry.reason,
            entry.author,
            self._t(entry.created_at) if entry.created_at else self._now(),
        )
        return self._stop(row)

    async def remove_stop(self, entry_id: int) -> bool:
        return await self._execute("DELETE FROM stoplist WHERE id = ?", entry_id) > 0

    async def remove_stops_for(self, who_kind: str, who: str, *, author: str | None = None) -> int:
        sql, args = "DELETE FROM stoplist WHERE who_key = ?", [f"{who_kind}:{who}"]
        if author is not None:
            sql += " AND author = ?"
            args.append(author)
        return await self._execute(sql, *args)

    async def list_stops(self, *, limit: int = 100, offset: int = 0) -> list[StopEntry]:
        rows = await self._fetch(
            "SELECT * FROM stoplist ORDER BY id DESC LIMIT ? OFFSET ?", limit, offset
        )
        return [self._stop(row) for row in rows]

    async def find_stop(
        self, keys: Sequence[str], event_type: str, channel: str
    ) -> StopEntry | None:
        if not keys:
            return None
        marks = ",".join("?" * len(keys))
        who = f"who_key IN ({marks})"
        args: list[Any] = list(keys)
        customers = [key[9:] for key in keys if key.startswith("customer:")]
        if customers:
            # one person, one identity: an entry under either id of a merged customer counts,
            # whichever id the row was planned with
            ids = ",".join("?" * len(customers))
            who = (
                f"({who} OR who_key IN (SELECT 'customer:' || id FROM person_aliases"
                f" WHERE kind = 'customer' AND alias IN ({ids})) OR who_key IN"
                f" (SELECT 'customer:' || alias FROM person_aliases WHERE kind = 'customer'"
                f" AND id IN ({ids})))"
            )
            args += customers * 2
        row = await self._fetchrow(
            f"SELECT * FROM stoplist WHERE {who} AND event_type IN (?, '*')"
            f" AND channel IN (?, '*') ORDER BY id LIMIT 1",
            *args,
            event_type,
            channel,
        )
        return self._stop(row) if row else None

    # rules ----------------------------------------------------------------------------------
    async def upsert_rules(self, rules: Sequence[StoredRule]) -> tuple[int, int]:
        created = updated = 0
        now = self._now()
        for rule in rules:
            definition = json.dumps(rule.definition, ensure_ascii=False, default=str)
            changed = await self._execute(
                "UPDATE rules SET event = ?, blocked = ?, definition = ?, updated_at = ?"
                " WHERE name = ?",
                rule.event,
                self._bool(rule.blocked),
                definition,
                now,
                rule.name,
            )
            if changed:
                updated += 1
                continue
            await self._execute(
                "INSERT INTO rules (name, event, blocked, definition, updated_at)"
                " VALUES (?, ?, ?, ?, ?)",
                rule.name,
                rule.event,
                self._bool(rule.blocked),
                definition,
                now,
            )
            created += 1
        await self._bump_rules()
        return created, updated

    async def _bump_rules(self) -> None:
        await self._execute(
            "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)"
            " WHERE key = 'rules_revision'"
        )

    async def list_rules(self) -> list[StoredRule]:
        return [self._rule(row) for row in await self._fetch("SELECT * FROM rules ORDER BY id")]

    async def get_rule(self, ref: int | str) -> StoredRule | None:
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            row = await self._fetchrow("SELECT * FROM rules WHERE id = ?", int(ref))
        else:
            row = await self._fetchrow("SELECT * FROM rules WHERE name = ?", ref)
        return self._rule(row) if row else None

    async def set_rule_blocked(self, rule_id: int, blocked: bool) -> bool:
        changed = await self._execute(
            "UPDATE rules SET blocked = ?, updated_at = ? WHERE id = ?",
            self._bool(blocked),
            self._now(),
            rule_id,
        )
        if changed:
            await self._bump_rules()
        return changed > 0

    async def delete_rule(self, rule_id: int) -> bool:
        changed = await self._execute("DELETE FROM rules WHERE id = ?", rule_id)
        if changed:
            await self._bump_rules()
        return changed > 0

    async def rules_revision(self) -> int:
        row = await self._fetchrow("SELECT value FROM meta WHERE key = 'rules_revision'")
        return int(row["value"]) if row else 0

    # inbox ------------------------------------------------------------------------------------
    async def add_inbox(self, item: InboxItem) -> int:
        row = await self._fetchrow(
            "INSERT INTO inbox (staff_id, journal_id, subject, text, created_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (journal_id) WHERE journal_id IS NOT NULL"
            " DO NOTHING RETURNING id",
            item.staff_id,
            item.journal_id,
            item.subject,
            item.text,
            self._t(item.created_at),
        )
        if row is None:  # the row's message is there already (a send repeated after a crash)
            row = await self._fetchrow("SELECT id FROM inbox WHERE journal_id = ?", item.journal_id)
        assert row is not None  # inserted above, or already there
        item.id = int(row["id"])
        return item.id

    async def list_inbox(
        self, staff_id: str, *, limit: int = 10, unread_only: bool = False
    ) -> list[InboxItem]:
        sql = "SELECT * FROM inbox WHERE staff_id = ?"
        if unread_only:
            sql += " AND read_at IS NULL"
        rows = await self._fetch(sql + " ORDER BY id DESC LIMIT ?", staff_id, limit)
        return [
            InboxItem(
                id=r["id"],
                staff_id=r["staff_id"],
                journal_id=r["journal_id"],
                subject=r["subject"],
                text=r["text"],
                created_at=self._dt(r["created_at"]),
                read_at=self._dt(r["read_at"]),
            )
            for r in rows
        ]

    async def mark_inbox_read(self, ids: Sequence[int], now: datetime) -> None:
        if ids:
            await self._execute(
                f"UPDATE inbox SET read_at = ? WHERE id IN ({','.join('?' * len(ids))})",
                self._t(now),
                *ids,
            )

    # meta ----------------------------------------------------------------------------------------
    async def get_meta(self, key: str) -> str | None:
        row = await self._fetchrow("SELECT value FROM meta WHERE key = ?", key)
        return row["value"] if row else None

    async def set_meta(self, key: str, value: str) -> None:
        await self._execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            key,
            value,
        )

    # signed webhook deliveries ---------------------------------------------------------------------
    async def remember_delivery(self, webhook_id: str, now: datetime, keep_until: datetime) -> bool:
        await self._execute(
            "DELETE FROM webhook_deliveries WHERE keep_until < ? AND webhook_id = ?",
            self._t(now),
            webhook_id,
        )
        return (
            await self._execute(
                "INSERT INTO webhook_deliveries (webhook_id, seen_at, keep_until) VALUES (?, ?, ?)"
                " ON CONFLICT (webhook_id) DO NOTHING",
                webhook_id,
                self._t(now),
                self._t(keep_until),
            )
            == 1
        )

    async def forget_deliveries(self, now: datetime) -> int:
        """Drop the ids whose window has passed (the intake calls it now and then)."""
        return await self._execute(
            "DELETE FROM webhook_deliveries WHERE keep_until < ?", self._t(now)
        )
