"""Where a customer's message goes among the staff, and posting it there.

- ``[conversations] staff_chat`` is a forum supergroup: the customer's own topic (created on
  the first message, named with name and phone; created again when staff deleted it —
  Telegram then answers "message thread not found"). The context header is posted when the
  topic is new or the context changed, then the message.
- ``staff_chat`` is a plain group: the header, then the copy as a reply to it.
- no ``staff_chat``: the same in the private chat of whoever handles the customer's latest
  order, else in every ``telegram.admins`` chat.

Whether the staff chat is a forum is asked once an hour (``getChat``) and remembered in the
storage's meta table, so every process knows it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import Message

from bot.core.config import Config
from bot.core.timeutil import Clock
from storage.base import Storage
from storage.models import ForumTopic

log = logging.getLogger("vestnik.conversations")

FORUM_RECHECK = 3600  # seconds a remembered "is a forum" answer is trusted
TOPIC_NAME_LIMIT = 128  # Telegram's limit for a forum topic name

# posts one thing into (chat, thread, reply_to); returns the message ids it created
Post = Callable[[int, int | None, int | None], Awaitable[list[int]]]


@dataclass(slots=True)
class Delivered:
    chat_id: int
    header_id: int | None
    message_ids: list[int]


def thread_gone(exc: TelegramAPIError) -> bool:
    text = str(exc).lower()
    return isinstance(exc, TelegramBadRequest) and (
        "thread not found" in text or "topic_deleted" in text or "topic deleted" in text
    )


class StaffRoutes:
    def __init__(self, bot: Bot, storage: Storage, config: Config, clock: Clock) -> None:
        self.bot = bot
        self.storage = storage
        self.config = config
        self.clock = clock

    async def is_forum(self, chat_id: int) -> bool:
        key = f"conversations.forum.{chat_id}"
        async with self.storage.reader() as tx:
            remembered = await tx.get_meta(key)
        if remembered:
            flag, _, stamp = remembered.partition("|")
            if stamp.isdigit() and self.clock.now().timestamp() - int(stamp) < FORUM_RECHECK:
                return flag == "1"
        try:
            chat = await self.bot.get_chat(chat_id)
            forum = bool(chat.is_forum)
        except TelegramAPIError as exc:
            log.warning("staff chat %s: getChat failed (%s)", chat_id, exc)
            return False
        value = f"{int(forum)}|{int(self.clock.now().timestamp())}"
        await self.storage.write(lambda tx: tx.set_meta(key, value))
        return forum

    async def to_topic(
        self, chat_id: int, customer_key: str, topic_name: str, header: str, post: Post
    ) -> Delivered:
        """Header (when new) and the message into the customer's topic; a deleted topic is
        created again once."""
        async with self.storage.reader() as tx:
            topic = await tx.get_topic(chat_id, customer_key)
        for attempt in (1, 2):
            if topic is None:
                topic = await self._create_topic(chat_id, customer_key, topic_name)
            try:
                header_id = None
                if topic.header != header:
                    header_id = await self._send(chat_id, header, topic.thread_id)
                    await self.storage.write(
                        lambda tx: tx.set_topic_header(chat_id, customer_key, header)
                    )
                ids = await post(chat_id, topic.thread_id, None)
                return Delivered(chat_id, header_id, ids)
            except TelegramAPIError as exc:
                if attempt == 2 or not thread_gone(exc):
                    raise
                log.info(
                    "staff chat %s: topic %s of %s is gone; creating it again",
                    chat_id,
                    topic.thread_id,
                    customer_key,
                )
                topic = None
        raise AssertionError("unreachable")

    async def _create_topic(self, chat_id: int, customer_key: str, name: str) -> ForumTopic:
        created = await self.bot.create_forum_topic(chat_id, name[:TOPIC_NAME_LIMIT] or "?")
        topic = ForumTopic(
            staff_chat_id=chat_id,
            customer_key=customer_key,
            thread_id=created.message_thread_id,
            name=name,
            created_at=self.clock.now(),
        )
        return await self.storage.write(lambda tx: tx.save_topic(topic))

    async def to_chat(self, chat_id: int, header: str, post: Post) -> Delivered:
        """Header, then the message as a reply to it (a plain group or a private chat)."""
        header_id = await self._send(chat_id, header, None)
        ids = await post(chat_id, None, header_id)
        return Delivered(chat_id, header_id, ids)

    async def _send(self, chat_id: int, html: str, thread_id: int | None) -> int:
        sent: Message = await self.bot.send_message(
            chat_id, html, message_thread_id=thread_id, parse_mode="HTML"
        )
        return sent.message_id

    async def private_targets(self, handler_staff_ids: list[str]) -> list[int]:
        """The linked chat of the first handler of the latest order, else every admin."""
        async with self.storage.reader() as tx:
            for staff_id in handler_staff_ids:
                link = await tx.find_active_link(staff_id=staff_id)
                if link is not None:
                    return [link.chat_id]
        return list(self.config.telegram.admins)
