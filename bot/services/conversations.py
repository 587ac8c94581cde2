"""Conversations: a customer's message reaches the staff, a staff reply reaches the customer.

Every message is stored first (``conversation_messages``); the unique key on where it was
written is the claim, so with several processes, and when Telegram delivers an update twice,
a message is handled once. Then it is copied (``copyMessage``: media are never downloaded or
re-uploaded) to the places :mod:`bot.services.staff_routes` picks, every copy is recorded so
that a staff reply to it finds the customer, and the outcome is written back.

Nothing a customer wrote is put into HTML or a template: copies keep Telegram's own
entities, and text we send ourselves (a caption that could not be copied) goes without a
parse mode.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import Message, ReplyParameters

from bot.core.config import Config
from bot.core.phones import format_phone
from bot.core.texts import t
from bot.core.timeutil import Clock
from bot.services.customer_orders import (
    OrderSummary,
    customer_orders,
    handler_ids,
    order_context,
)
from bot.services.staff_routes import Delivered, Post, StaffRoutes
from storage.base import Storage, Tx
from storage.models import ConversationMessage, JournalRow, Person

log = logging.getLogger("vestnik.conversations")

CAPTION_LIMIT = 1024  # longer captions (Premium users) cannot be copied as they are
CAPTION_CUT = 1000  # what of such a caption stays on the copy; all of it follows as text
FLOOD_WINDOW = timedelta(minutes=1)
MEDIA_KINDS = (
    "photo",
    "video",
    "document",
    "voice",
    "audio",
    "sticker",
    "animation",
    "video_note",
    "location",
    "contact",
)


def kind_of(message: Message) -> str:
    for kind in MEDIA_KINDS:
        if getattr(message, kind, None):
            return kind
    return "text"


@dataclass(slots=True)
class CustomerContext:
    key: str  # customer id, or chat:<id> / phone:+7... when not in the directory
    customer: Person | None
    orders: list[OrderSummary]
    replied: JournalRow | None = None

    @property
    def latest(self) -> OrderSummary | None:
        return self.orders[0] if self.orders else None


def replying(message_id: int | None) -> ReplyParameters | None:
    """Thread under ``message_id``, and still send when it was deleted meanwhile."""
    if message_id is None:
        return None
    return ReplyParameters(message_id=message_id, allow_sending_without_reply=True)


def copy_post(bot: Bot, message: Message) -> Post:
    """``copyMessage`` of ``message``; a caption too long to copy follows as plain text."""
    caption = message.caption or ""
    short = caption[:CAPTION_CUT] + "…"

    async def post(chat_id: int, thread_id: int | None, reply_to: int | None) -> list[int]:
        long_caption = len(caption) > CAPTION_LIMIT
        try:
            copied = await bot.copy_message(
                chat_id,
                message.chat.id,
                message.message_id,
                message_thread_id=thread_id,
                reply_parameters=replying(reply_to),
                caption=short if long_caption else None,
                parse_mode=None,
            )
        except TelegramBadRequest as exc:
            if "caption is too long" not in str(exc).lower():
                raise
            long_caption = True
            copied = await bot.copy_message(
                chat_id,
                message.chat.id,
                message.message_id,
                message_thread_id=thread_id,
                reply_parameters=replying(reply_to),
                caption=short,
                parse_mode=None,
            )
        ids = [copied.message_id]
        if long_caption:
            sent = await bot.send_message(
                chat_id,
                caption[:4096],
                message_thread_id=thread_id,
                reply_parameters=replying(copied.message_id),
                parse_mode=None,
            )
            ids.append(sent.message_id)
        return ids

    return post


def text_post(bot: Bot, text: str) -> Post:
    """A plain text (an SMS) as a message of its own, never parsed as HTML."""

    async def post(chat_id: int, thread_id: int | None, reply_to: int | None) -> list[int]:
        sent = await bot.send_message(
            chat_id,
            text[:4096] or "…",
            message_thread_id=thread_id,
            reply_parameters=replying(reply_to),
            parse_mode=None,
        )
        return [sent.message_id]

    return post


class Conversations:
    """The conversation service; cheap to build (handlers build one per update)."""

    def __init__(
        self,
        storage: Storage,
        config: Config,
        clock: Clock,
        senders: dict[str, Any],
        bot: Bot | None,
    ) -> None:
        self.storage = storage
        self.config = config
        self.clock = clock
        self.senders = senders
        self.bot = bot

    @property
    def lang(self) -> str:
        return self.config.service.language

    # context ---------------------------------------------------------------------------------
    async def context(self, tx: Tx, *, customer: Person | None, key: str) -> CustomerContext:
        orders = await customer_orders(tx, customer.id) if customer is not None else []
        return CustomerContext(key=key, customer=customer, orders=orders)

    def header(self, ctx: CustomerContext, first_line: str) -> str:
        lines = [first_line, order_context(ctx.latest, self.config.service.tz, self.lang)]
        if ctx.replied is not None:
            row = ctx.replied
            lines.append(
                t(
                    "conv.replied_to",
                    self.lang,
                    type=row.event_type,
                    order=row.order_id or "—",
                    id=row.id,
                )
            )
        return "\n".join(lines)

    def customer_line(self, customer: Person) -> str:
        phone = format_phone(customer.phone, self.config.service.default_region) or "—"
        return t(
            "conv.customer",
            self.lang,
            name=customer.name or customer.id,
            phone=phone,
            id=customer.id,
        )

    def topic_name(self, ctx: CustomerContext, fallback: str, phone: str | None) -> str:
        name = (ctx.customer.name if ctx.customer else None) or fallback
        shown = format_phone(phone, self.config.service.default_region) if phone else ""
        return f"{name} {shown}".strip()

    # inbound -----------------------------------------------------------------------------------
    async def claim(self, record: ConversationMessage) -> tuple[int | None, int]:
        """Store the inbound message; (its id or None if someone has it, messages in the last
        minute before it)."""
        since = record.created_at - FLOOD_WINDOW

        async def job(tx: Tx) -> tuple[int | None, int]:
            recent = await tx.count_inbound_since(record.customer_key, since)
            return await tx.claim_conversation_message(record), recent

        return await self.storage.write(job)

    async def deliver_to_staff(
        self, ctx: CustomerContext, header: str, topic_name: str, post: Post, record_id: int
    ) -> list[Delivered]:
        """Post header + message where staff read it; record every copy and the outcome."""
        if self.bot is None:
            await self._outcome(record_id, [], "the Telegram bot is not configured")
            return []
        routes = StaffRoutes(self.bot, self.storage, self.config, self.clock)
        staff_chat = self.config.conversations.staff_chat
        done: list[Delivered] = []
        errors: list[str] = []
        try:
            if staff_chat is not None and await routes.is_forum(staff_chat):
                done.append(await routes.to_topic(staff_chat, ctx.key, topic_name, header, post))
            elif staff_chat is not None:
                done.append(await routes.to_chat(staff_chat, header, post))
        except TelegramAPIError as exc:  # e.g. the bot was removed: fall back, say why
            errors.append(f"staff chat {staff_chat}: {exc}")
        if not done:
            targets = await routes.private_targets(handler_ids(ctx.latest) if ctx.latest else [])
            for chat_id in targets:
                try:
                    done.append(await routes.to_chat(chat_id, header, post))
                except TelegramAPIError as exc:
                    errors.append(f"{chat_id}: {exc}")
            if not targets:
                errors.append(t("conv.nobody", "en"))
        await self._outcome(record_id, done, "; ".join(errors) or None)
        return done

    async def _outcome(self, record_id: int, done: list[Delivered], error: str | None) -> None:
        async def job(tx: Tx) -> None:
            for delivered in done:
                ids = ([delivered.header_id] if delivered.header_id else []) + delivered.message_ids
                for message_id in ids:
                    await tx.add_conversation_copy(record_id, delivered.chat_id, message_id)
            await tx.update_conversation_message(
                record_id, status="delivered" if done else "failed", error=error
            )

        await self.storage.write(job)
        if error:
            log.warning("conversation message %s: %s", record_id, error)
