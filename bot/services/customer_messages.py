"""A customer's message in the bot's private chat, on its way to the staff.

Registered customers are found by their chat link; a chat that never shared its phone is
forwarded too, marked unregistered. A reply to one of our notifications names it in the
header (the journal row whose send produced the replied-to message). A customer writing
more than ``[conversations] flood_per_minute`` messages a minute is held back: the message is
stored as ``throttled`` and the customer told once.
"""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import Message

from bot.core.texts import language_of, t
from bot.services.conversations import Conversations, CustomerContext, copy_post, kind_of
from storage.base import Tx
from storage.models import ConversationMessage, Person, TelegramLink


async def relay_from_customer(conv: Conversations, bot: Bot, message: Message) -> str | None:
    """Hand the message to the staff; returns what to answer the customer (or None)."""
    chat_id = message.chat.id
    user = message.from_user
    lang = language_of(user.language_code if user else None)
    reply = message.reply_to_message

    async def look_up(tx: Tx) -> tuple[TelegramLink | None, Person | None, CustomerContext]:
        link = await tx.get_link(chat_id)
        customer = None
        if link is not None and link.customer_id:
            customer = await tx.get_person("customer", link.customer_id)
        key = customer.id if customer is not None else f"chat:{chat_id}"
        ctx = await conv.context(tx, customer=customer, key=key)
        if reply is not None and reply.from_user is not None and reply.from_user.is_bot:
            ctx.replied = await tx.find_journal_by_message(
                "telegram", str(chat_id), str(reply.message_id)
            )
        return link, customer, ctx

    async with conv.storage.reader() as tx:
        link, customer, ctx = await look_up(tx)
    record = ConversationMessage(
        direction="in",
        channel="telegram",
        customer_key=ctx.key,
        source_chat_id=chat_id,
        source_message=str(message.message_id),
        status="received",
        created_at=conv.clock.now(),
        customer_id=customer.id if customer else None,
        customer_chat_id=chat_id,
        phone=link.phone if link else None,
        kind=kind_of(message),
        text=message.text or message.caption,
        reply_to_journal_id=ctx.replied.id if ctx.replied else None,
    )
    record_id, recent = await conv.claim(record)
    if record_id is None:
        return None  # another process (or an earlier delivery of this update) has it
    limit = conv.config.conversations.flood_per_minute
    if recent >= limit:
        await conv.storage.write(
            lambda tx: tx.update_conversation_message(record_id, status="throttled")
        )
        return t("conv.throttled", lang) if recent == limit else None
    display = user.full_name if user else str(chat_id)
    if customer is not None:
        first = conv.customer_line(customer)
    else:
        first = t("conv.unregistered", conv.lang, name=display, chat=chat_id)
    header = conv.header(ctx, first)
    name = conv.topic_name(ctx, display, link.phone if link else None)
    await conv.deliver_to_staff(ctx, header, name, copy_post(bot, message), record_id)
    if customer is None and recent == 0:  # tell a stranger how to subscribe, once a minute
        return t("conv.unregistered_ack", lang)
    return None
