"""Events, the directory of persons and the Telegram links (mixed into :class:`storage.sql.SqlTx`)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from storage.models import (
    Person,
    StoredEvent,
    TelegramLink,
)
from storage.sql_base import CUSTOMER_REFERENCES, PERSON_COLUMNS, SqlBase

# the person fields a merged customer's placeholder may fill in (the ERP's values win)
_MERGED_FIELDS = (
    "name",
    "phone",
    "email",
    "telegram_id",
    "group",
    "birthday",
    "language",
    "timezone",
)


class DirectoryQueries(SqlBase):
    # events and the directory ---------------------------------------------------------------
    async def existing_events(self, ids: Sequence[str]) -> set[str]:
        if not ids:
            return set()
        marks = ",".join("?" * len(ids))
        rows = await self._fetch(f"SELECT id FROM events WHERE id IN ({marks})", *ids)
        return {row["id"] for row in rows}

    async def event_type_seen(self, event_type: str) -> bool:
        return (
            await self._fetchrow("SELECT 1 FROM events WHERE type = ? LIMIT 1", event_type)
            is not None
        )

    async def insert_event(self, event: StoredEvent) -> None:
        await self._execute(
            "INSERT INTO events (id, type, occurred_at, received_at, order_id, order_number,"
            " payload) VALUES (?, ?, ?, ?, ?, ?, ?)",
            event.id,
            event.type,
            self._t(event.occurred_at),
            self._t(event.received_at),
            event.order_id,
            event.order_number,
            json.dumps(event.payload, ensure_ascii=False, default=str),
        )

    async def get_event(self, event_id: str) -> StoredEvent | None:
        row = await self._fetchrow("SELECT * FROM events WHERE id = ?", event_id)
        if row is None:
            return None
        return StoredEvent(
            id=row["id"],
            type=row["type"],
            occurred_at=self._dt(row["occurred_at"]),  # type: ignore[arg-type]
            received_at=self._dt(row["received_at"]),  # type: ignore[arg-type]
            payload=json.loads(row["payload"]),
            order_id=row["order_id"],
            order_number=row["order_number"],
        )

    async def upsert_person(self, person: Person) -> Person:
        values = (
            person.kind,
            person.id,
            person.name,
            person.phone,
            person.email,
            person.telegram_id,
            person.group,
            person.birthday,
            person.language,
            person.timezone,
        )
        updates = ", ".join(
            f"{col} = COALESCE(excluded.{col}, persons.{col})" for col in PERSON_COLUMNS[2:]
        )
        row = await self._fetchrow(
            f"INSERT INTO persons ({', '.join(PERSON_COLUMNS)}, updated_at) "
            f"VALUES ({', '.join('?' * len(PERSON_COLUMNS))}, ?) "
            f"ON CONFLICT (kind, id) DO UPDATE SET {updates}, updated_at = excluded.updated_at "
            f"RETURNING *",
            *values,
            self._now(),
        )
        return self._person(row)

    async def get_person(self, kind: str, person_id: str) -> Person | None:
        row = await self._fetchrow(
            "SELECT * FROM persons WHERE kind = ? AND id = ?", kind, person_id
        )
        if row is None:  # an id merged into another person (rarely asked: only on a miss)
            row = await self._fetchrow(
                "SELECT p.* FROM person_aliases a JOIN persons p ON p.kind = a.kind"
                " AND p.id = a.id WHERE a.kind = ? AND a.alias = ?",
                kind,
                person_id,
            )
        return self._person(row) if row else None

    async def merge_customer(self, alias: str, into: str) -> dict[str, int]:
        if alias == into:
            return {}
        if not await self._customer_known(alias):
            return {}  # the usual case: nobody met this person in Telegram first
        moved: dict[str, int] = {}
        merged = await self._merge_person_fields(alias, into)
        if merged is not None:
            moved["persons"] = merged
        moved.update(await self._move_customer_references(alias, into))
        await self._record_alias(alias, into)
        return {table: n for table, n in moved.items() if n}

    async def _customer_known(self, alias: str) -> bool:
        """Whether anything is stored under the customer id ``alias`` (one indexed look-up
        per table)."""
        known = await self._fetchrow(
            "SELECT 1 AS k FROM persons WHERE kind = 'customer' AND id = ?"
            " UNION ALL SELECT 1 FROM telegram_links WHERE customer_id = ?"
            " UNION ALL SELECT 1 FROM stoplist WHERE who_key = ? LIMIT 1",
            alias,
            alias,
            f"customer:{alias}",
        )
        return known is not None

    async def _merge_person_fields(self, alias: str, into: str) -> int | None:
        """Fill the gaps of ``into`` from the person stored under ``alias`` and delete that
        one; the rows deleted, or None when ``alias`` has no person."""
        old = await self._fetchrow(
            "SELECT * FROM persons WHERE kind = 'customer' AND id = ?", alias
        )
        if old is None:
            return None
        placeholder = self._person(old)
        target = await self._fetchrow(
            "SELECT * FROM persons WHERE kind = 'customer' AND id = ?", into
        )
        kept = self._person(target) if target else Person(kind="customer", id=into)
        for name in _MERGED_FIELDS:
            if getattr(kept, name) is None:  # the ERP's values win; gaps are filled
                setattr(kept, name, getattr(placeholder, name))
        await self.upsert_person(kept)
        return await self._execute("DELETE FROM persons WHERE kind = 'customer' AND id = ?", alias)

    async def _move_customer_references(self, alias: str, into: str) -> dict[str, int]:
        """Rows naming ``alias`` (Telegram links, stop entries) name ``into``; counts by table."""
        moved: dict[str, int] = {}
        for table, column in CUSTOMER_REFERENCES:
            moved[table] = await self._execute(
                f"UPDATE {table} SET {column} = ? WHERE {column} = ?", into, alias
            )
        moved["stoplist"] = await self._execute(
            "UPDATE stoplist SET who = ?, who_key = ? WHERE who_kind = 'customer' AND who = ?",
            into,
            f"customer:{into}",
            alias,
        )
        return moved

    async def _record_alias(self, alias: str, into: str) -> None:
        """``alias`` (and every id merged into it earlier) now names ``into``."""
        await self._execute(
            "UPDATE person_aliases SET id = ? WHERE kind = 'customer' AND id = ?", into, alias
        )
        await self._execute(
            "INSERT INTO person_aliases (kind, alias, id, merged_at) VALUES ('customer', ?, ?, ?)"
            " ON CONFLICT (kind, alias) DO UPDATE SET id = excluded.id,"
            " merged_at = excluded.merged_at",
            alias,
            into,
            self._now(),
        )

    async def find_person_by_phone(self, kind: str, phone: str) -> Person | None:
        row = await self._fetchrow(
            "SELECT * FROM persons WHERE kind = ? AND phone = ? ORDER BY updated_at DESC LIMIT 1",
            kind,
            phone,
        )
        return self._person(row) if row else None

    async def list_persons(
        self, kind: str, *, with_birthday: bool = False, limit: int | None = None
    ) -> list[Person]:
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
            " ORDER BY id",
            kind,
            *[f"%-{md}" for md in month_days],
        )
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
            link.chat_id,
            link.user_id,
            link.phone,
            link.customer_id,
            link.staff_id,
            link.language,
            self._bool(link.active),
            self._now(),
        )

    async def get_link(self, chat_id: int) -> TelegramLink | None:
        row = await self._fetchrow("SELECT * FROM telegram_links WHERE chat_id = ?", chat_id)
        return self._link(row) if row else None

    async def find_active_link(
        self,
        *,
        customer_id: str | None = None,
        staff_id: str | None = None,
        phone: str | None = None,
    ) -> TelegramLink | None:
        for column, value in (
            ("customer_id", customer_id),
            ("staff_id", staff_id),
            ("phone", phone),
        ):
            if value is None:
                continue
            row = await self._fetchrow(
                f"SELECT * FROM telegram_links WHERE {column} = ? AND active = ? "
                f"ORDER BY updated_at DESC LIMIT 1",
                value,
                self._bool(True),
            )
            if row:
                return self._link(row)
        return None

    async def set_link_active(self, chat_id: int, active: bool) -> None:
        await self._execute(
            "UPDATE telegram_links SET active = ?, updated_at = ? WHERE chat_id = ?",
            self._bool(active),
            self._now(),
            chat_id,
        )
