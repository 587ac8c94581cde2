"""The queries of :class:`storage.base.Tx`, written once for both SQL backends.

A backend subclasses :class:`SqlTx` and supplies four primitives (``_fetch``, ``_fetchrow``,
``_execute``, ``_executemany``) plus the time and JSON conversions of its driver. Queries are
written with ``?`` placeholders; the PostgreSQL backend rewrites them to ``$n``. Only what
truly differs between the dialects (claiming rows) is left to the backend.
"""

from __future__ import annotations

import abc
import json
from collections.abc import Sequence
from datetime import datetime
from importlib import resources
from typing import Any

from bot.core.timeutil import Clock, SystemClock
from storage.base import JournalFilter, SchemaTooNew, Tx
from storage.conversations_sql import ConversationSql
from storage.models import (
    InboxItem,
    JournalRow,
    Person,
    Plan,
    StopEntry,
    StoredEvent,
    StoredRule,
    TelegramLink,
)
from storage.sql_receipts import ReceiptQueries
from storage.sql_staff import StaffQueries

PERSON_COLUMNS = ("kind", "id", "name", "phone", "email", "telegram_id", "grp", "birthday",
                  "language", "timezone")
JOURNAL_WRITE_COLUMNS = (
    "event_id", "event_type", "rule", "recipient_role", "recipient_id", "recipient_name",
    "channel", "provider", "address", "subject", "text", "segments", "created_at", "due_at",
    "sent_at", "failed_at", "error", "attempts", "provider_message_id", "status", "reason",
    "order_id", "html", "options", "delivered_at", "receipt", "receipt_poll_at",
)
# (table, column) holding a customer id that moves when two customers are merged (a new
# table keyed by the customer, such as a conversation's state, belongs here); the stop list
# (who_kind/who/who_key) and the persons themselves are merged by merge_customer itself
CUSTOMER_REFERENCES: tuple[tuple[str, str], ...] = (("telegram_links", "customer_id"),)
_TIME_FIELDS = {"created_at", "due_at", "sent_at", "failed_at", "delivered_at", "receipt_poll_at"}
_FINISH_FIELDS = {"status", "sent_at", "failed_at", "error", "attempts", "provider",
                  "provider_message_id", "segments", "due_at", "reason", "address", "text",
                  "receipt_poll_at"}



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
        raise SchemaTooNew(f"the {database} has schema version {current}, this Vestnik knows "
                           f"only up to {latest}: upgrade Vestnik")
    return [(version, script) for version, script in migrations if version > current]

class SqlTx(ReceiptQueries, StaffQueries, ConversationSql, Tx):
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
        return Person(kind=row["kind"], id=row["id"], name=row["name"], phone=row["phone"],
                      email=row["email"], telegram_id=row["telegram_id"], group=row["grp"],
                      birthday=row["birthday"], language=row["language"],
                      timezone=row["timezone"])

    def _journal(self, row: Any) -> JournalRow:
        return JournalRow(
            id=row["id"], event_id=row["event_id"], event_type=row["event_type"],
            rule=row["rule"], recipient_role=row["recipient_role"],
            recipient_id=row["recipient_id"], recipient_name=row["recipient_name"],
            channel=row["channel"], provider=row["provider"], address=row["address"],
            subject=row["subject"], text=row["text"], segments=row["segments"],
            created_at=self._dt(row["created_at"]) or datetime.min, due_at=self._dt(row["due_at"]),
            sent_at=self._dt(row["sent_at"]), failed_at=self._dt(row["failed_at"]),
            error=row["error"], attempts=row["attempts"],
            provider_message_id=row["provider_message_id"], status=row["status"],
            reason=row["reason"], order_id=row["order_id"], html=row["html"],
            plan=Plan.from_json(json.loads(row["options"] or "{}")),
            delivered_at=self._dt(row["delivered_at"]), receipt=row["receipt"],
            receipt_poll_at=self._dt(row["receipt_poll_at"]),
        )

    def _stop(self, row: Any) -> StopEntry:
        return StopEntry(id=row["id"], who=row["who"], who_kind=row["who_kind"],
                         event_type=row["event_type"], channel=row["channel"],
                         reason=row["reason"], author=row["author"],
                         created_at=self._dt(row["created_at"]))

    def _rule(self, row: Any) -> StoredRule:
        return StoredRule(id=row["id"], name=row["name"], event=row["event"],
                          blocked=bool(row["blocked"]), definition=json.loads(row["definition"]),
                          updated_at=self._dt(row["updated_at"]))

    def _link(self, row: Any) -> TelegramLink:
        return TelegramLink(chat_id=row["chat_id"], user_id=row["user_id"], phone=row["phone"],
                            customer_id=row["customer_id"], staff_id=row["staff_id"],
                            language=row["language"], active=bool(row["active"]),
                            updated_at=self._dt(row["updated_at"]))

    def _now(self) -> Any:
        return self._t(self.clock.now())

    # events and the directory ---------------------------------------------------------------
    async def existing_events(self, ids: Sequence[str]) -> set[str]:
        if not ids:
            return set()
        marks = ",".join("?" * len(ids))
        rows = await self._fetch(f"SELECT id FROM events WHERE id IN ({marks})", *ids)
        return {row["id"] for row in rows}

    async def event_type_seen(self, event_type: str) -> bool:
        return await self._fetchrow("SELECT 1 FROM events WHERE type = ? LIMIT 1",
                                    event_type) is not None

    async def insert_event(self, event: StoredEvent) -> None:
        await self._execute(
            "INSERT INTO events (id, type, occurred_at, received_at, order_id, order_number,"
            " payload) VALUES (?, ?, ?, ?, ?, ?, ?)",
            event.id, event.type, self._t(event.occurred_at), self._t(event.received_at),
            event.order_id, event.order_number, json.dumps(event.payload, ensure_ascii=False, default=str),
        )

    async def get_event(self, event_id: str) -> StoredEvent | None:
        row = await self._fetchrow("SELECT * FROM events WHERE id = ?", event_id)
        if row is None:
            return None
        return StoredEvent(id=row["id"], type=row["type"],
                           occurred_at=self._dt(row["occurred_at"]),  # type: ignore[arg-type]
                           received_at=self._dt(row["received_at"]),  # type: ignore[arg-type]
                           payload=json.loads(row["payload"]), order_id=row["order_id"],
                           order_number=row["order_number"])

    async def upsert_person(self, person: Person) -> Person:
        values = (person.kind, person.id, person.name, person.phone, person.email,
                  person.telegram_id, person.group, person.birthday, person.language,
                  person.timezone)
        updates = ", ".join(f"{col} = COALESCE(excluded.{col}, persons.{col})"
                            for col in PERSON_COLUMNS[2:])
        row = await self._fetchrow(
            f"INSERT INTO persons ({', '.join(PERSON_COLUMNS)}, updated_at) "
            f"VALUES ({', '.join('?' * len(PERSON_COLUMNS))}, ?) "
            f"ON CONFLICT (kind, id) DO UPDATE SET {updates}, updated_at = excluded.updated_at "
            f"RETURNING *",
            *values, self._now(),
        )
        return self._person(row)

    async def get_person(self, kind: str, person_id: str) -> Person | None:
        row = await self._fetchrow("SELECT * FROM persons WHERE kind = ? AND id = ?",
                                   kind, person_id)
        if row is None:  # an id merged into another person (rarely asked: only on a miss)
            row = await self._fetchrow(
                "SELECT p.* FROM person_aliases a JOIN persons p ON p.kind = a.kind"
                " AND p.id = a.id WHERE a.kind = ? AND a.alias = ?", kind, person_id)
        return self._person(row) if row else None

    async def merge_customer(self, alias: str, into: str) -> dict[str, int]:
        moved: dict[str, int] = {}
        if alias == into:
            return moved
        known = await self._fetchrow(
            "SELECT 1 AS k FROM persons WHERE kind = 'customer' AND id = ?"
            " UNION ALL SELECT 1 FROM telegram_links WHERE customer_id = ?"
            " UNION ALL SELECT 1 FROM stoplist WHERE who_key = ? LIMIT 1",
            alias, alias, f"customer:{alias}")
        if known is None:  # the usual case: nobody met this person in Telegram first
            return moved
        old = await self._fetchrow("SELECT * FROM persons WHERE kind = 'customer' AND id = ?",
                                   alias)
        if old is not None:
            placeholder = self._person(old)
            target = await self._fetchrow(
                "SELECT * FROM persons WHERE kind = 'customer' AND id = ?", into)
            kept = self._person(target) if target else Person(kind="customer", id=into)
            for name in ("name", "phone", "email", "telegram_id", "group", "birthday",
                         "language", "timezone"):
                if getattr(kept, name) is None:  # the ERP's values win; gaps are filled
                    setattr(kept, name, getattr(placeholder, name))
            await self.upsert_person(kept)
            moved["persons"] = await self._execute(
                "DELETE FROM persons WHERE kind = 'customer' AND id = ?", alias)
        for table, column in CUSTOMER_REFERENCES:
            moved[table] = await self._execute(
                f"UPDATE {table} SET {column} = ? WHERE {column} = ?", into, alias)
        moved["stoplist"] = await self._execute(
            "UPDATE stoplist SET who = ?, who_key = ? WHERE who_kind = 'customer' AND who = ?",
            into, f"customer:{into}", alias)
        # ids merged into the alias earlier now name the new person too
        await self._execute("UPDATE person_aliases SET id = ? WHERE kind = 'customer' AND id = ?",
                            into, alias)
        await self._execute(
            "INSERT INTO person_aliases (kind, alias, id, merged_at) VALUES ('customer', ?, ?, ?)"
            " ON CONFLICT (kind, alias) DO UPDATE SET id = excluded.id,"
            " merged_at = excluded.merged_at", alias, into, self._now())
        return {table: n for table, n in moved.items() if n}

    async def find_person_by_phone(self, kind: str, phone: str) -> Person | None:
        row = await self._fetchrow(
            "SELECT * FROM persons WHERE kind = ? AND phone = ? ORDER BY updated_at DESC LIMIT 1",
            kind, phone)
        return self._person(row) if row else None

    async def list_persons(self, kind: str, *, with_birthday: bool = False,
                           limit: int | None = None) -> list[Person]:
        sql = "SELECT * FROM persons WHERE kind = ?"
        if with_birthday:
            sql += " AND birthday IS NOT NULL"
        sql += " ORDER BY id"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [self._person(row) for row in await self._fetch(sql, kind)]

    async def persons_born_on(self, kind: str, month_days: Sequence[str]) -> list[Person]:
        if not month_days:
            return []
        likes = " OR ".join("birthday LIKE ?" for _ in month_days)
        rows = await self._fetch(
            f"SELECT * FROM persons WHERE kind = ? AND birthday IS NOT NULL AND ({likes})"
            " ORDER BY id", kind, *[f"%-{md}" for md in month_days])
        return [self._person(row) for row in rows]

    # telegram links ----------------------------------------------------------------------------
    async def upsert_link(self, link: TelegramLink) -> None:
        await self._execute(
            "INSERT INTO telegram_links (chat_id, user_id, phone, customer_id, staff_id, language,"
            " active, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (chat_id) DO UPDATE"
            " SET user_id = excluded.user_id, phone = excluded.phone,"
            " customer_id = excluded.customer_id, staff_id = excluded.staff_id,"
            " language = excluded.language, active = excluded.active,"
            " updated_at = excluded.updated_at",
            link.chat_id, link.user_id, link.phone, link.customer_id, link.staff_id,
            link.language, self._bool(link.active), self._now(),
        )

    async def get_link(self, chat_id: int) -> TelegramLink | None:
        row = await self._fetchrow("SELECT * FROM telegram_links WHERE chat_id = ?", chat_id)
        return self._link(row) if row else None

    async def find_active_link(self, *, customer_id: str | None = None,
                               staff_id: str | None = None,
                               phone: str | None = None) -> TelegramLink | None:
        for column, value in (("customer_id", customer_id), ("staff_id", staff_id),
                              ("phone", phone)):
            if value is None:
                continue
            row = await self._fetchrow(
                f"SELECT * FROM telegram_links WHERE {column} = ? AND active = ? "
                f"ORDER BY updated_at DESC LIMIT 1", value, self._bool(True))
            if row:
                return self._link(row)
        return None

    async def set_link_active(self, chat_id: int, active: bool) -> None:
        await self._execute("UPDATE telegram_links SET active = ?, updated_at = ? WHERE chat_id = ?",
                            self._bool(active), self._now(), chat_id)

    # stop list ----------------------------------------------------------------------------------
    async def add_stop(self, entry: StopEntry) -> StopEntry:
        row = await self._fetchrow(
            "INSERT INTO stoplist (who_kind, who, who_key, event_type, channel, reason, author,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
            entry.who_kind, entry.who, entry.key, entry.event_type, entry.channel, entry.reason,
            entry.author, self._t(entry.created_at) if entry.created_at else self._now(),
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
        rows = await self._fetch("SELECT * FROM stoplist ORDER BY id DESC LIMIT ? OFFSET ?",
                                 limit, offset)
        return [self._stop(row) for row in rows]

    async def find_stop(self, keys: Sequence[str], event_type: str,
                        channel: str) -> StopEntry | None:
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
            who = (f"({who} OR who_key IN (SELECT 'customer:' || id FROM person_aliases"
                   f" WHERE kind = 'customer' AND alias IN ({ids})) OR who_key IN"
                   f" (SELECT 'customer:' || alias FROM person_aliases WHERE kind = 'customer'"
                   f" AND id IN ({ids})))")
            args += customers * 2
        row = await self._fetchrow(
            f"SELECT * FROM stoplist WHERE {who} AND event_type IN (?, '*')"
            f" AND channel IN (?, '*') ORDER BY id LIMIT 1",
            *args, event_type, channel)
        return self._stop(row) if row else None

    # rules ----------------------------------------------------------------------------------
    async def upsert_rules(self, rules: Sequence[StoredRule]) -> tuple[int, int]:
        created = updated = 0
        now = self._now()
        for rule in rules:
            definition = json.dumps(rule.definition, ensure_ascii=False, default=str)
            changed = await self._execute(
                "UPDATE rules SET event = ?, blocked = ?, definition = ?, updated_at = ?"
                " WHERE name = ?", rule.event, self._bool(rule.blocked), definition, now,
                rule.name)
            if changed:
                updated += 1
                continue
            await self._execute(
                "INSERT INTO rules (name, event, blocked, definition, updated_at)"
                " VALUES (?, ?, ?, ?, ?)", rule.name, rule.event, self._bool(rule.blocked),
                definition, now)
            created += 1
        await self._bump_rules()
        return created, updated

    async def _bump_rules(self) -> None:
        await self._execute(
            "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)"
            " WHERE key = 'rules_revision'")

    async def list_rules(self) -> list[StoredRule]:
        return [self._rule(row) for row in await self._fetch("SELECT * FROM rules ORDER BY id")]

    async def get_rule(self, ref: int | str) -> StoredRule | None:
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            row = await self._fetchrow("SELECT * FROM rules WHERE id = ?", int(ref))
        else:
            row = await self._fetchrow("SELECT * FROM rules WHERE name = ?", ref)
        return self._rule(row) if row else None

    async def set_rule_blocked(self, rule_id: int, blocked: bool) -> bool:
        changed = await self._execute("UPDATE rules SET blocked = ?, updated_at = ? WHERE id = ?",
                                      self._bool(blocked), self._now(), rule_id)
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

    # journal --------------------------------------------------------------------------------
    def _journal_values(self, row: JournalRow) -> list[Any]:
        out: list[Any] = []
        for col in JOURNAL_WRITE_COLUMNS:
            value: Any
            if col == "options":  # the column keeps its name; the row carries a typed Plan
                value = json.dumps(row.plan.to_json(), ensure_ascii=False, default=str)
            elif col in _TIME_FIELDS:
                value = self._t(getattr(row, col))
            else:
                value = getattr(row, col)
            out.append(value)
        return out

    async def insert_journal(self, rows: Sequence[JournalRow]) -> list[int]:
        sql = (f"INSERT INTO journal ({', '.join(JOURNAL_WRITE_COLUMNS)}) "
               f"VALUES ({', '.join('?' * len(JOURNAL_WRITE_COLUMNS))}) RETURNING id")
        ids = []
        for row in rows:
            got = await self._fetchrow(sql, *self._journal_values(row))
            assert got is not None  # INSERT ... RETURNING id
            row.id = got["id"]
            ids.append(row.id)
        return ids

    async def insert_journal_bulk(self, rows: Sequence[JournalRow]) -> None:
        """Many rows whose ids nobody waits for (the intake's hot path)."""
        if rows:
            await self._executemany(
                f"INSERT INTO journal ({', '.join(JOURNAL_WRITE_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(JOURNAL_WRITE_COLUMNS))})",
                [self._journal_values(row) for row in rows])

    async def get_journal(self, row_id: int) -> JournalRow | None:
        row = await self._fetchrow("SELECT * FROM journal WHERE id = ?", row_id)
        return self._journal(row) if row else None

    async def list_journal(self, flt: JournalFilter) -> list[JournalRow]:
        where, args = [], []
        for key in ("status", "channel", "event_id", "address", "event_type"):
            if flt.get(key):
                where.append(f"{key} = ?")
                args.append(flt[key])
        if flt.get("since"):
            where.append("created_at >= ?")
            args.append(self._t(flt["since"]))
        if flt.get("before_id"):
            where.append("id < ?")
            args.append(flt["before_id"])
        if flt.get("order"):
            where.append("(order_id = ? OR event_id IN"
                         " (SELECT id FROM events WHERE order_number = ? OR order_id = ?))")
            args += [flt["order"]] * 3
        sql = "SELECT * FROM journal"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC LIMIT ?"
        args.append(int(flt.get("limit", 50)))
        return [self._journal(row) for row in await self._fetch(sql, *args)]

    async def resend(self, row_id: int, now: datetime) -> JournalRow | None:
        changed = await self._execute(
            "UPDATE journal SET sent_at = NULL, failed_at = NULL, error = NULL, attempts = 0,"
            " delivered_at = NULL, receipt = NULL, receipt_poll_at = NULL,"
            " status = 'pending', reason = 'resend', due_at = ?, lease_owner = NULL,"
            " lease_until = NULL WHERE id = ? AND status NOT IN ('sending')",
            self._t(now), row_id)
        return await self.get_journal(row_id) if changed else None

    async def update_planned(self, row: JournalRow) -> None:
        await self._execute(
            "UPDATE journal SET channel = ?, provider = ?, address = ?, subject = ?, text = ?,"
            " html = ?, segments = ?, due_at = ?, status = ?, reason = ?, error = ?, options = ?,"
            " recipient_id = ?, recipient_name = ? WHERE id = ? AND sent_at IS NULL",
            row.channel, row.provider, row.address, row.subject, row.text, row.html,
            row.segments, self._t(row.due_at), row.status, row.reason, row.error,
            json.dumps(row.plan.to_json(), ensure_ascii=False, default=str), row.recipient_id,
            row.recipient_name, row.id)

    async def scheduled_rows(self, *, order_id: str | None = None,
                             event_types: Sequence[str] = (),
                             source_key: str | None = None) -> list[JournalRow]:
        where = ["status IN ('scheduled', 'pending')", "sent_at IS NULL", "failed_at IS NULL"]
        args: list[Any] = []
        if order_id is not None:
            where.append("order_id = ?")
            args.append(order_id)
        if event_types:
            where.append(f"event_type IN ({','.join('?' * len(event_types))})")
            args += list(event_types)
        sql = f"SELECT * FROM journal WHERE {' AND '.join(where)} ORDER BY id"
        rows = [self._journal(row) for row in await self._fetch(sql, *args)]
        if source_key is not None:
            rows = [row for row in rows if row.plan.source_key == source_key]
        return rows

    async def cancel_rows(self, row_ids: Sequence[int], reason: str) -> int:
        if not row_ids:
            return 0
        marks = ",".join("?" * len(row_ids))
        return await self._execute(
            f"UPDATE journal SET status = 'cancelled', reason = ? WHERE id IN ({marks})"
            f" AND status IN ('scheduled', 'pending') AND sent_at IS NULL", reason, *row_ids)

    async def upcoming(self, until: datetime, *, limit: int = 1000) -> list[JournalRow]:
        rows = await self._fetch(
            "SELECT * FROM journal WHERE status IN ('pending', 'scheduled') AND sent_at IS NULL"
            " AND failed_at IS NULL AND due_at <= ? ORDER BY due_at, id LIMIT ?",
            self._t(until), int(limit))
        return [self._journal(row) for row in rows]

    async def purge_journal(self, before: datetime) -> int:
        return await self._execute(
            "DELETE FROM journal WHERE created_at < ? AND status NOT IN"
            " ('scheduled', 'pending', 'sending')", self._t(before))

    async def counts(self) -> dict[str, dict[str, int]]:
        rows = await self._fetch(
            "SELECT channel, status, COUNT(*) AS n FROM journal GROUP BY channel, status")
        out: dict[str, dict[str, int]] = {}
        for row in rows:
            out.setdefault(row["channel"], {})[row["status"]] = row["n"]
        return out

    # dispatcher -------------------------------------------------------------------------------
    _LOCK_CLAUSE = ""  # PostgreSQL: " FOR UPDATE SKIP LOCKED"

    async def claim_due(self, *, now: datetime, channel: str, limit: int, owner: str,
                        lease_until: datetime) -> list[JournalRow]:
        rows = await self._fetch(
            "UPDATE journal SET status = 'sending', lease_owner = ?, lease_until = ?"
            " WHERE id IN (SELECT id FROM journal WHERE channel = ?"
            " AND status IN ('pending', 'scheduled') AND sent_at IS NULL AND failed_at IS NULL"
            f" AND due_at <= ? ORDER BY due_at LIMIT ?{self._LOCK_CLAUSE}) RETURNING *",
            owner, self._t(lease_until), channel, self._t(now), limit)
        claimed = [self._journal(row) for row in rows]
        claimed.sort(key=lambda row: (row.due_at or now, row.id or 0))
        return claimed

    async def recover_expired(self, now: datetime) -> int:
        return await self._execute(
            "UPDATE journal SET status = 'pending', lease_owner = NULL, lease_until = NULL,"
            " reason = 'recovered: the previous sender stopped mid-send'"
            " WHERE status = 'sending' AND lease_until < ?", self._t(now))

    async def due_by_channel(self, channels: Sequence[str]) -> dict[str, datetime]:
        out: dict[str, datetime] = {}
        for channel in channels:
            row = await self._fetchrow(
                "SELECT MIN(due_at) AS t FROM journal WHERE channel = ?"
                " AND status IN ('pending', 'scheduled') AND sent_at IS NULL"
                " AND failed_at IS NULL", channel)
            moment = self._dt(row["t"]) if row else None
            if moment is not None:
                out[channel] = moment
        return out

    async def finish(self, row_id: int, owner: str, **fields: Any) -> bool:
        unknown = set(fields) - _FINISH_FIELDS
        if unknown:
            raise ValueError(f"unknown journal fields: {sorted(unknown)}")
        sets, args = ["lease_owner = NULL", "lease_until = NULL"], []
        for key, value in fields.items():
            sets.append(f"{key} = ?")
            args.append(self._t(value) if key in _TIME_FIELDS else value)
        changed = await self._execute(
            f"UPDATE journal SET {', '.join(sets)} WHERE id = ? AND lease_owner = ?"
            f" AND status = 'sending'", *args, row_id, owner)
        return changed > 0

    async def release_owner(self, owner: str) -> int:
        return await self._execute(
            "UPDATE journal SET status = 'pending', lease_owner = NULL, lease_until = NULL"
            " WHERE lease_owner = ? AND status = 'sending'", owner)

    async def settle_sending(self, owners: Sequence[str] | None = None) -> int:
        sql = ("UPDATE journal SET status = 'pending', lease_owner = NULL, lease_until = NULL,"
               " reason = 'recovered: the process sending it died' WHERE status = 'sending'")
        if owners is None:
            return await self._execute(sql)
        if not owners:
            return 0
        return await self._execute(f"{sql} AND lease_owner IN ({','.join('?' * len(owners))})",
                                   *owners)

    # inbox ------------------------------------------------------------------------------------
    async def add_inbox(self, item: InboxItem) -> int:
        row = await self._fetchrow(
            "INSERT INTO inbox (staff_id, journal_id, subject, text, created_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (journal_id) WHERE journal_id IS NOT NULL"
            " DO NOTHING RETURNING id",
            item.staff_id, item.journal_id, item.subject, item.text, self._t(item.created_at))
        if row is None:  # the row's message is there already (a send repeated after a crash)
            row = await self._fetchrow("SELECT id FROM inbox WHERE journal_id = ?",
                                       item.journal_id)
        assert row is not None  # inserted above, or already there
        item.id = int(row["id"])
        return item.id

    async def list_inbox(self, staff_id: str, *, limit: int = 10,
                         unread_only: bool = False) -> list[InboxItem]:
        sql = "SELECT * FROM inbox WHERE staff_id = ?"
        if unread_only:
            sql += " AND read_at IS NULL"
        rows = await self._fetch(sql + " ORDER BY id DESC LIMIT ?", staff_id, limit)
        return [InboxItem(id=r["id"], staff_id=r["staff_id"], journal_id=r["journal_id"],
                          subject=r["subject"], text=r["text"],
                          created_at=self._dt(r["created_at"]),  # type: ignore[arg-type]
                          read_at=self._dt(r["read_at"])) for r in rows]

    async def mark_inbox_read(self, ids: Sequence[int], now: datetime) -> None:
        if ids:
            await self._execute(
                f"UPDATE inbox SET read_at = ? WHERE id IN ({','.join('?' * len(ids))})",
                self._t(now), *ids)

    # meta ----------------------------------------------------------------------------------------
    async def get_meta(self, key: str) -> str | None:
        row = await self._fetchrow("SELECT value FROM meta WHERE key = ?", key)
        return row["value"] if row else None

    async def set_meta(self, key: str, value: str) -> None:
        await self._execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, value)

    # signed webhook deliveries ---------------------------------------------------------------------
    async def remember_delivery(self, webhook_id: str, now: datetime,
                                keep_until: datetime) -> bool:
        await self._execute("DELETE FROM webhook_deliveries WHERE keep_until < ?"
                            " AND webhook_id = ?", self._t(now), webhook_id)
        return await self._execute(
            "INSERT INTO webhook_deliveries (webhook_id, seen_at, keep_until) VALUES (?, ?, ?)"
            " ON CONFLICT (webhook_id) DO NOTHING", webhook_id, self._t(now),
            self._t(keep_until)) == 1

    async def forget_deliveries(self, now: datetime) -> int:
        """Drop the ids whose window has passed (the intake calls it now and then)."""
        return await self._execute("DELETE FROM webhook_deliveries WHERE keep_until < ?",
                                   self._t(now))
