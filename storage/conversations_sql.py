"""The conversation queries of :class:`storage.base.Tx`, once for both SQL backends.

A mixin of :class:`storage.sql.SqlTx`: it uses the same driver primitives (``_fetch``,
``_fetchrow``, ``_execute``) and conversions. ``_CUSTOMER_OF_EVENT`` is the one piece of
dialect: how to read ``customer.id`` out of an event's JSON payload (the expression the
``events_customer`` index is built on).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from storage.models import ConversationMessage, ForumTopic, JournalRow, StoredEvent

_MESSAGE_COLUMNS = (
    "created_at",
    "direction",
    "channel",
    "customer_key",
    "customer_id",
    "customer_chat_id",
    "phone",
    "modem",
    "source_chat_id",
    "source_message",
    "staff_user_id",
    "staff_name",
    "kind",
    "text",
    "reply_to_journal_id",
    "status",
    "error",
    "delivered_message",
)
_UPDATABLE = {"status", "error", "delivered_message", "customer_id", "customer_key"}


class ConversationSql:
    _CUSTOMER_OF_EVENT = "json_extract(payload, '$.customer.id')"

    # provided by SqlTx
    _fetch: Any
    _fetchrow: Any
    _execute: Any
    _t: Any
    _dt: Any
    _journal: Any

    def _message(self, row: Any) -> ConversationMessage:
        values = {name: row[name] for name in _MESSAGE_COLUMNS}
        values["created_at"] = self._dt(row["created_at"])
        return ConversationMessage(id=row["id"], **values)

    def _topic(self, row: Any) -> ForumTopic:
        return ForumTopic(
            staff_chat_id=row["staff_chat_id"],
            customer_key=row["customer_key"],
            thread_id=row["thread_id"],
            name=row["name"],
            header=row["header"],
            created_at=self._dt(row["created_at"]),
        )

    async def claim_conversation_message(self, message: ConversationMessage) -> int | None:
        values = [getattr(message, name) for name in _MESSAGE_COLUMNS]
        values[0] = self._t(message.created_at)
        row = await self._fetchrow(
            f"INSERT INTO conversation_messages ({', '.join(_MESSAGE_COLUMNS)}) VALUES "
            f"({', '.join('?' * len(_MESSAGE_COLUMNS))})"
            " ON CONFLICT (source_chat_id, source_message) DO NOTHING RETURNING id",
            *values,
        )
        if row is None:
            return None
        message.id = row["id"]
        return message.id

    async def update_conversation_message(self, message_id: int, **fields: Any) -> None:
        unknown = set(fields) - _UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {', '.join(sorted(unknown))}")
        if fields:
            sets = ", ".join(f"{name} = ?" for name in fields)
            await self._execute(
                f"UPDATE conversation_messages SET {sets} WHERE id = ?",
                *fields.values(),
                message_id,
            )

    async def add_conversation_copy(
        self, message_id: int, chat_id: int, copy_message_id: int
    ) -> None:
        await self._execute(
            "INSERT INTO conversation_copies (message_id, chat_id, copy_message_id)"
            " VALUES (?, ?, ?) ON CONFLICT (chat_id, copy_message_id) DO NOTHING",
            message_id,
            chat_id,
            copy_message_id,
        )

    async def find_conversation_by_copy(
        self, chat_id: int, copy_message_id: int
    ) -> ConversationMessage | None:
        row = await self._fetchrow(
            "SELECT m.* FROM conversation_copies c JOIN conversation_messages m"
            " ON m.id = c.message_id WHERE c.chat_id = ? AND c.copy_message_id = ?",
            chat_id,
            copy_message_id,
        )
        if row is None:  # a staff member replying to their colleague's answer
            row = await self._fetchrow(
                "SELECT * FROM conversation_messages WHERE direction = 'out'"
                " AND source_chat_id = ? AND source_message = ?",
                chat_id,
                str(copy_message_id),
            )
        return self._message(row) if row else None

    async def find_delivered_reply(
        self, customer_chat_id: int, delivered_message: int
    ) -> ConversationMessage | None:
        row = await self._fetchrow(
            "SELECT * FROM conversation_messages WHERE direction = 'out'"
            " AND customer_chat_id = ? AND delivered_message = ?",
            customer_chat_id,
            delivered_message,
        )
        return self._message(row) if row else None

    async def latest_inbound(self, customer_key: str) -> ConversationMessage | None:
        row = await self._fetchrow(
            "SELECT * FROM conversation_messages WHERE customer_key = ? AND direction = 'in'"
            " ORDER BY id DESC LIMIT 1",
            customer_key,
        )
        return self._message(row) if row else None

    async def count_inbound_since(self, customer_key: str, since: datetime) -> int:
        row = await self._fetchrow(
            "SELECT COUNT(*) AS n FROM conversation_messages WHERE customer_key = ?"
            " AND direction = 'in' AND created_at > ?",
            customer_key,
            self._t(since),
        )
        return int(row["n"])

    async def list_conversation(
        self, *, customer_key: str | None = None, limit: int = 50
    ) -> list[ConversationMessage]:
        if customer_key is None:
            rows = await self._fetch(
                "SELECT * FROM conversation_messages ORDER BY id DESC LIMIT ?", limit
            )
        else:
            rows = await self._fetch(
                "SELECT * FROM conversation_messages WHERE customer_key = ?"
                " ORDER BY id DESC LIMIT ?",
                customer_key,
                limit,
            )
        return [self._message(row) for row in rows]

    async def get_topic(self, staff_chat_id: int, customer_key: str) -> ForumTopic | None:
        row = await self._fetchrow(
            "SELECT * FROM conversation_topics WHERE staff_chat_id = ? AND customer_key = ?",
            staff_chat_id,
            customer_key,
        )
        return self._topic(row) if row else None

    async def find_topic_by_thread(self, staff_chat_id: int, thread_id: int) -> ForumTopic | None:
        row = await self._fetchrow(
            "SELECT * FROM conversation_topics WHERE staff_chat_id = ? AND thread_id = ?",
            staff_chat_id,
            thread_id,
        )
        return self._topic(row) if row else None

    async def save_topic(self, topic: ForumTopic) -> ForumTopic:
        await self._execute(
            "DELETE FROM conversation_topics WHERE staff_chat_id = ? AND thread_id = ?"
            " AND customer_key <> ?",
            topic.staff_chat_id,
            topic.thread_id,
            topic.customer_key,
        )
        await self._execute(
            "INSERT INTO conversation_topics (staff_chat_id, customer_key, thread_id, name,"
            " header, created_at) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (staff_chat_id, customer_key) DO UPDATE SET"
            " thread_id = excluded.thread_id, name = excluded.name, header = excluded.header,"
            " created_at = excluded.created_at",
            topic.staff_chat_id,
            topic.customer_key,
            topic.thread_id,
            topic.name,
            topic.header,
            self._t(topic.created_at),
        )
        return topic

    async def set_topic_header(self, staff_chat_id: int, customer_key: str, header: str) -> None:
        await self._execute(
            "UPDATE conversation_topics SET header = ? WHERE staff_chat_id = ?"
            " AND customer_key = ?",
            header,
            staff_chat_id,
            customer_key,
        )

    async def customer_order_events(
        self, customer_id: str, *, limit: int = 500
    ) -> list[StoredEvent]:
        rows = await self._fetch(
            "SELECT * FROM events WHERE order_id IN ("
            f" SELECT order_id FROM events WHERE {self._CUSTOMER_OF_EVENT} = ?"
            " AND order_id IS NOT NULL"
            " UNION SELECT order_id FROM journal WHERE recipient_role = 'customer'"
            " AND recipient_id = ? AND order_id IS NOT NULL)"
            " ORDER BY occurred_at, received_at LIMIT ?",
            customer_id,
            customer_id,
            limit,
        )
        return [
            StoredEvent(
                id=r["id"],
                type=r["type"],
                occurred_at=self._dt(r["occurred_at"]),
                received_at=self._dt(r["received_at"]),
                payload=json.loads(r["payload"]),
                order_id=r["order_id"],
                order_number=r["order_number"],
            )
            for r in rows
        ]

    async def find_journal_by_message(
        self, channel: str, address: str, provider_message_id: str
    ) -> JournalRow | None:
        row = await self._fetchrow(
            "SELECT * FROM journal WHERE address = ? AND channel = ? AND ("
            "provider_message_id = ? OR provider_message_id LIKE ?"
            " OR provider_message_id LIKE ? OR provider_message_id LIKE ?)"
            " ORDER BY id DESC LIMIT 1",
            address,
            channel,
            provider_message_id,
            f"{provider_message_id},%",
            f"%,{provider_message_id}",
            f"%,{provider_message_id},%",
        )
        return self._journal(row) if row else None
