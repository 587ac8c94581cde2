"""A staff member's answer, on its way to the customer.

The answer is a reply to a copy (or its header) of the customer's message, or any message in
the customer's forum topic. It goes back the way the customer's latest message came:
Telegram (``copyMessage`` into the customer's chat, as a reply to their message) or SMS
through the modem it arrived at (text only; segments counted and a journal row written like
for any SMS). The staff member gets a short confirmation or the error.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Message

from bot.core.sending import OutgoingMessage, SendError
from bot.core.texts import t
from bot.services.conversations import Conversations, kind_of, replying
from storage.base import Tx
from storage.models import ConversationMessage, JournalRow

log = logging.getLogger("vestnik.conversations")


async def reply_target(conv: Conversations, message: Message) -> ConversationMessage | None:
    """The customer's message this staff message answers, or None (not an answer)."""
    chat_id = message.chat.id
    async with conv.storage.reader() as tx:
        reply = message.reply_to_message
        if reply is not None and not reply.forum_topic_created:
            found = await tx.find_conversation_by_copy(chat_id, reply.message_id)
            if found is not None:
                return await _latest_of(tx, found)
        thread = message.message_thread_id
        if chat_id == conv.config.conversations.staff_chat and thread and message.is_topic_message:
            topic = await tx.find_topic_by_thread(chat_id, thread)
            if topic is not None:
                return await tx.latest_inbound(topic.customer_key)
    return None


async def _latest_of(tx: Tx, found: ConversationMessage) -> ConversationMessage | None:
    """A reply to a staff answer goes to the customer that answer went to."""
    if found.direction == "in":
        return found
    return await tx.latest_inbound(found.customer_key)


async def answer_customer(
    conv: Conversations, bot: Bot, message: Message, target: ConversationMessage, staff_name: str
) -> str | None:
    """Deliver and record; the confirmation for the staff member (None: already handled)."""
    user = message.from_user
    record = ConversationMessage(
        direction="out",
        channel=target.channel,
        customer_key=target.customer_key,
        source_chat_id=message.chat.id,
        source_message=str(message.message_id),
        status="received",
        created_at=conv.clock.now(),
        customer_id=target.customer_id,
        customer_chat_id=target.customer_chat_id,
        phone=target.phone,
        modem=target.modem,
        staff_user_id=user.id if user else None,
        staff_name=staff_name,
        kind=kind_of(message),
        text=message.text or message.caption,
    )
    record_id = await conv.storage.write(lambda tx: tx.claim_conversation_message(record))
    if record_id is None:
        return None
    if target.channel == "sms":
        delivered, error, done = await _by_sms(conv, message, target, record_id)
    else:
        delivered, error = await _by_telegram(bot, message, target)
        done = t("conv.delivered", conv.lang)
    await conv.storage.write(
        lambda tx: tx.update_conversation_message(
            record_id,
            status="delivered" if error is None else "failed",
            error=error,
            delivered_message=delivered,
        )
    )
    if error is not None:
        return t("conv.failed", conv.lang, error=error)
    return done


async def _by_telegram(
    bot: Bot, message: Message, target: ConversationMessage
) -> tuple[int | None, str | None]:
    if target.customer_chat_id is None:
        return None, "no chat"
    reply_to = int(target.source_message) if target.source_message.isdigit() else None
    try:
        copied = await bot.copy_message(
            target.customer_chat_id,
            message.chat.id,
            message.message_id,
            reply_parameters=replying(reply_to),
            parse_mode=None,
        )
    except TelegramAPIError as exc:
        return None, str(exc)
    return copied.message_id, None


async def _by_sms(
    conv: Conversations, message: Message, target: ConversationMessage, record_id: int
) -> tuple[int | None, str | None, str]:
    text = message.text or ""
    pool = conv.senders.get("modem")
    if not text.strip() or message.content_type != "text":
        return None, t("conv.sms_text_only", conv.lang), ""
    if pool is None or not target.phone:
        return None, t("conv.no_modem" if pool is None else "conv.no_destination", conv.lang), ""
    outgoing = OutgoingMessage(
        row_id=0,
        channel="modem",
        address=target.phone,
        text=text,
        providers=[target.modem] if target.modem else [],
        recipient_id=target.customer_id,
        recipient_role="customer",
    )
    now = conv.clock.now()
    row = JournalRow(
        event_id=f"conversation:{record_id}",
        event_type="conversation_reply",
        rule="conversation",
        recipient_role="customer",
        recipient_id=target.customer_id,
        channel="modem",
        status="sent",
        created_at=now,
        due_at=now,
        address=target.phone,
        text=text,
    )
    try:
        result = await pool.send(outgoing)
    except SendError as exc:
        row.status, row.failed_at, row.error, row.provider = "failed", now, str(exc), exc.provider
        await conv.storage.write(lambda tx: tx.insert_journal([row]))
        return None, str(exc), ""
    row.sent_at, row.provider = conv.clock.now(), result.provider
    row.provider_message_id, row.segments = result.provider_message_id, result.segments
    await conv.storage.write(lambda tx: tx.insert_journal([row]))
    return (
        None,
        None,
        t(
            "conv.delivered_sms",
            conv.lang,
            segments=result.segments or 1,
            modem=result.provider or "?",
        ),
    )
