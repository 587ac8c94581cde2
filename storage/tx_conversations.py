"""The conversations part of the storage interface: customers' messages to staff and staff
replies, their copies in staff chats, the customers' forum topics, and the look-ups a reply
needs (the order events of a customer, the notification a reply answers). Implemented for
both SQL backends by :mod:`storage.conversations_sql`; part of every
:class:`storage.base.Tx`."""

from __future__ import annotations

import abc
from datetime import datetime
from typing import Any

from storage.models import ConversationMessage, ForumTopic, JournalRow, StoredEvent


class ConversationsTx(abc.ABC):
    """The conversations between customers and staff (a part of :class:`storage.base.Tx`)."""

    @abc.abstractmethod
    async def claim_conversation_message(self, message: ConversationMessage) -> int | None:
        """Insert; None when (source_chat_id, source_message) is stored already: another
        process (or an earlier try) handles that inbound message."""

    @abc.abstractmethod
    async def update_conversation_message(self, message_id: int, **fields: Any) -> None:
        """Set status, error, delivered_message, customer_id, customer_key."""

    @abc.abstractmethod
    async def add_conversation_copy(
        self, message_id: int, chat_id: int, copy_message_id: int
    ) -> None: ...

    @abc.abstractmethod
    async def find_conversation_by_copy(
        self, chat_id: int, copy_message_id: int
    ) -> ConversationMessage | None:
        """The message whose copy (or header) in ``chat_id`` has that id; for a staff reply
        also the reply the bot delivered to the customer (``delivered_message``)."""

    @abc.abstractmethod
    async def find_delivered_reply(
        self, customer_chat_id: int, delivered_message: int
    ) -> ConversationMessage | None:
        """The staff reply that became ``delivered_message`` in the customer's chat."""

    @abc.abstractmethod
    async def latest_inbound(self, customer_key: str) -> ConversationMessage | None: ...

    @abc.abstractmethod
    async def count_inbound_since(self, customer_key: str, since: datetime) -> int: ...

    @abc.abstractmethod
    async def list_conversation(
        self, *, customer_key: str | None = None, limit: int = 50
    ) -> list[ConversationMessage]:
        """Newest first."""

    @abc.abstractmethod
    async def get_topic(self, staff_chat_id: int, customer_key: str) -> ForumTopic | None: ...

    @abc.abstractmethod
    async def find_topic_by_thread(
        self, staff_chat_id: int, thread_id: int
    ) -> ForumTopic | None: ...

    @abc.abstractmethod
    async def save_topic(self, topic: ForumTopic) -> ForumTopic:
        """Insert or replace the customer's topic; returns what is stored."""

    @abc.abstractmethod
    async def set_topic_header(
        self, staff_chat_id: int, customer_key: str, header: str
    ) -> None: ...

    @abc.abstractmethod
    async def customer_order_events(
        self, customer_id: str, *, limit: int = 500
    ) -> list[StoredEvent]:
        """Every stored event of the orders this customer appears in (by the event's
        customer id or by a journal row addressed to them), oldest first."""

    @abc.abstractmethod
    async def find_journal_by_message(
        self, channel: str, address: str, provider_message_id: str
    ) -> JournalRow | None:
        """The row whose send produced that message (a reply to a notification)."""
