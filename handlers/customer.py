"""Customers' conversation (the README's Telegram section): subscribe by sharing the own phone or by a deep link,
``/stop`` to opt out, ``/start`` to opt back in, ``/help``; and Telegram's report that the user
blocked or unblocked the bot.

Workflow data used: ``storage``, ``config``, ``clock``, ``link_secret``.
"""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import (
    KICKED,
    MEMBER,
    ChatMemberUpdatedFilter,
    Command,
    CommandObject,
    CommandStart,
)
from aiogram.types import (
    BotCommandScopeChat,
    ChatMemberUpdated,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.core.config import Config
from bot.core.phones import format_phone, normalize_phone
from bot.core.texts import language_of, t
from bot.core.timeutil import Clock
from bot.pipeline import subscriptions
from bot.pipeline.deep_links import LinkTokenError, verify_token
from handlers.filters import find_staff
from handlers.keyboards import orders_keyboard
from handlers.menu import staff_menu
from storage.base import Storage

log = logging.getLogger("vestnik.bot")


def lang_of(message: Message) -> str:
    return language_of(message.from_user.language_code if message.from_user else None)


def contact_keyboard(lang: str) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=t("start.button", lang), request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def display_name(message: Message) -> str:
    user = message.from_user
    return user.full_name if user else ""


async def start_with_token(
    message: Message, command: CommandObject, storage: Storage, clock: Clock, link_secret: bytes
) -> None:
    lang = lang_of(message)
    assert message.from_user is not None
    try:
        token = verify_token(command.args or "", link_secret, now=clock.now())
    except LinkTokenError as exc:
        await message.answer(
            t(f"deep_link.{exc.reason}", lang), reply_markup=contact_keyboard(lang)
        )
        return
    linked = await storage.write(
        lambda tx: subscriptions.link_by_token(
            tx,
            chat_id=message.chat.id,
            user_id=message.from_user.id,  # type: ignore[union-attr]
            customer_id=token.customer_id,
            fingerprint=token.fingerprint,
            language=lang,
        )
    )
    if linked is None:
        await message.answer(t("deep_link.used", lang), reply_markup=contact_keyboard(lang))
        return
    name = (linked.customer.name if linked.customer else None) or display_name(message)
    await message.answer(t("linked.deep_link", lang, name=name), reply_markup=orders_keyboard(lang))


async def start(message: Message, storage: Storage) -> None:
    lang = lang_of(message)
    async with storage.reader() as tx:
        link = await tx.get_link(message.chat.id)
    if link is not None and (link.customer_id or link.staff_id):
        await storage.write(lambda tx: subscriptions.opt_in(tx, chat_id=message.chat.id))
        await message.answer(t("start.resumed", lang), reply_markup=ReplyKeyboardRemove())
        return
    await message.answer(
        t("start.greeting", lang, name=display_name(message)), reply_markup=contact_keyboard(lang)
    )


async def start_elsewhere(message: Message) -> None:
    await message.answer(t("start.private_only", lang_of(message)))


async def contact(
    message: Message, bot: Bot, storage: Storage, config: Config, clock: Clock
) -> None:
    lang = lang_of(message)
    shared, user = message.contact, message.from_user
    # only the sender's own contact proves the phone: another person's card carries
    # their user_id, a hand-made card none
    if shared is None or user is None or shared.user_id is None or shared.user_id != user.id:
        log.info("chat %s: refused a contact that is not the sender's own", message.chat.id)
        await message.answer(t("contact.not_own", lang), reply_markup=contact_keyboard(lang))
        return
    phone = normalize_phone(shared.phone_number, config.service.default_region)
    if phone is None:
        await message.answer(
            t("contact.bad_phone", lang, phone=shared.phone_number),
            reply_markup=ReplyKeyboardRemove(),
        )
        return
    name = " ".join(p for p in (shared.first_name, shared.last_name) if p)
    linked = await storage.write(
        lambda tx: subscriptions.link_by_phone(
            tx,
            chat_id=message.chat.id,
            user_id=user.id,
            phone=phone,
            name=name,
            language=lang,
            now=clock.now(),
        )
    )
    shown = format_phone(phone, config.service.default_region)
    if linked.customer is not None:  # the keyboard's one button opens /orders
        await message.answer(
            t("linked.customer", lang, phone=shown), reply_markup=orders_keyboard(lang)
        )
    if linked.staff is not None:
        await message.answer(
            t("linked.staff", lang, name=linked.staff.name or linked.staff.id),
            reply_markup=ReplyKeyboardRemove(),
        )
        try:
            await bot.set_my_commands(
                staff_menu(lang), scope=BotCommandScopeChat(chat_id=message.chat.id)
            )
        except TelegramAPIError as exc:  # the menu is cosmetic; access is the filter's
            log.warning("staff menu for chat %s: %s", message.chat.id, exc)


async def stop(message: Message, storage: Storage, clock: Clock) -> None:
    await storage.write(
        lambda tx: subscriptions.opt_out(tx, chat_id=message.chat.id, now=clock.now())
    )
    await message.answer(t("stop.done", lang_of(message)), reply_markup=ReplyKeyboardRemove())


async def help_(message: Message, storage: Storage, config: Config) -> None:
    lang = lang_of(message)
    text = t("help.customer", lang)
    if message.from_user is not None and message.chat.type == "private":
        staff = await find_staff(
            storage, config, user_id=message.from_user.id, chat_id=message.chat.id
        )
        if staff is not None:
            text += t("help.staff", lang)
    await message.answer(text)


async def anything_else(message: Message) -> None:
    await message.answer(t("fallback", lang_of(message)))


# Telegram tells a bot in a private chat when the user blocks or unblocks it
async def blocked(event: ChatMemberUpdated, storage: Storage) -> None:
    await storage.write(
        lambda tx: subscriptions.set_blocked(tx, chat_id=event.chat.id, blocked=True)
    )
    log.info("chat %s blocked the bot: link inactive", event.chat.id)


async def unblocked(event: ChatMemberUpdated, storage: Storage) -> None:
    await storage.write(
        lambda tx: subscriptions.set_blocked(tx, chat_id=event.chat.id, blocked=False)
    )


def build_customer_router() -> Router:
    """The customer conversation, in the order its handlers must be tried."""
    router = Router(name="customer")
    private = F.chat.type == "private"
    router.message.register(start_with_token, CommandStart(deep_link=True), private)
    router.message.register(start, CommandStart(), private)
    router.message.register(start_elsewhere, CommandStart())
    router.message.register(contact, F.contact, private)
    router.message.register(stop, Command("stop"))
    router.message.register(help_, Command("help"))
    router.message.register(anything_else, private)
    router.my_chat_member.register(blocked, private, ChatMemberUpdatedFilter(KICKED))
    router.my_chat_member.register(unblocked, private, ChatMemberUpdatedFilter(MEMBER))
    return router
