"""The bot's side of conversations: customers' messages to the staff, staff answers back,
``/orders`` for customers and ``/dialog`` for staff.

Routers, in the order :func:`handlers.build_routers` includes them (after the staff commands,
before the customer router, whose /start, /stop, /help and contact handling they leave alone):

- :func:`build_staff_answer_router` — a message in the staff chat (or a staff member's
  private chat) that answers a customer: a reply to a copy, or anything in the customer's
  forum topic. Only staff answer; anyone else in the staff chat is refused. Commands are not
  answers, so staff commands keep working there.
- :func:`build_conversation_router` — ``/dialog``, ``/orders`` (and its keyboard button), and
  every other private message of a customer, relayed to the staff.

Workflow data used: ``storage``, ``config``, ``clock``, ``senders``.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import BaseFilter, Command, CommandObject
from aiogram.types import Message

from bot.core.config import Config
from bot.core.texts import language_of, t
from bot.core.timeutil import Clock
from bot.services.conversations import Conversations, replying
from bot.services.customer_messages import relay_from_customer
from bot.services.customer_orders import customer_orders, order_line
from bot.services.staff_replies import answer_customer, reply_target
from handlers.customer import contact_keyboard
from handlers.dialog import dialog_answer
from handlers.filters import IsStaff, find_staff
from handlers.keyboards import orders_keyboard
from storage.base import Storage

STAFF_CHAT_ADMINS = ("creator", "administrator")


def lang_of(message: Message) -> str:
    return language_of(message.from_user.language_code if message.from_user else None)


def is_command(message: Message) -> bool:
    return bool(message.text and message.text.startswith("/"))


def service(
    storage: Storage, config: Config, clock: Clock, senders: dict[str, Any], bot: Bot
) -> Conversations:
    return Conversations(storage, config, clock, senders, bot)


class ConversationsOn(BaseFilter):
    async def __call__(self, message: Message, config: Config) -> bool:
        return config.conversations.enabled and not is_command(message)


class IsAnswer(BaseFilter):
    """A message that answers a customer; injects ``target`` (the customer's message)."""

    async def __call__(
        self,
        message: Message,
        storage: Storage,
        config: Config,
        clock: Clock,
        senders: dict[str, Any],
        bot: Bot,
    ) -> bool | dict[str, Any]:
        if not config.conversations.enabled or is_command(message) or message.from_user is None:
            return False
        private = message.chat.type == "private"
        if not private and message.chat.id != config.conversations.staff_chat:
            return False
        if (
            private
            and await find_staff(
                storage, config, user_id=message.from_user.id, chat_id=message.chat.id
            )
            is None
        ):
            return False  # a customer: their messages are not answers
        target = await reply_target(service(storage, config, clock, senders, bot), message)
        return {"target": target} if target is not None else False


async def staff_name_of(bot: Bot, storage: Storage, config: Config, message: Message) -> str | None:
    """Who answers, if they may: admins, verified staff, administrators of the staff chat."""
    user = message.from_user
    assert user is not None
    member = await find_staff(storage, config, user_id=user.id, chat_id=user.id)
    if member is not None:
        return member.name if member.staff_id else user.full_name
    if message.chat.id == config.conversations.staff_chat:
        try:
            status = (await bot.get_chat_member(message.chat.id, user.id)).status
        except TelegramAPIError:
            return None
        if str(getattr(status, "value", status)) in STAFF_CHAT_ADMINS:
            return user.full_name
    return None


def build_staff_answer_router() -> Router:
    router = Router(name="staff-answers")

    @router.message(IsAnswer())
    async def answer(
        message: Message,
        target: Any,
        bot: Bot,
        storage: Storage,
        config: Config,
        clock: Clock,
        senders: dict[str, Any],
    ) -> None:
        lang = lang_of(message)
        name = await staff_name_of(bot, storage, config, message)
        if name is None:
            await message.answer(
                t("conv.not_staff", lang), reply_parameters=replying(message.message_id)
            )
            return
        conv = service(storage, config, clock, senders, bot)
        confirmation = await answer_customer(conv, bot, message, target, name)
        if confirmation is not None:
            await message.answer(confirmation, reply_parameters=replying(message.message_id))

    return router


def build_conversation_router() -> Router:
    router = Router(name="conversations")
    private = F.chat.type == "private"

    @router.message(Command("dialog"), IsStaff())
    async def dialog(
        message: Message, command: CommandObject, storage: Storage, config: Config
    ) -> None:
        for part in await dialog_answer(command.args, storage, config, lang_of(message)):
            await message.answer(part)

    @router.message(Command("dialog"))
    async def dialog_refused(message: Message) -> None:
        await message.answer(t("staff.refused", lang_of(message)))

    @router.message(private, Command("orders"))
    @router.message(private, F.text.in_({t("orders.button", "ru"), t("orders.button", "en")}))
    async def orders(message: Message, storage: Storage, config: Config) -> None:
        lang = lang_of(message)
        async with storage.reader() as tx:
            link = await tx.get_link(message.chat.id)
            if link is None or not link.customer_id:
                await message.answer(
                    t("orders.not_linked", lang), reply_markup=contact_keyboard(lang)
                )
                return
            found = await customer_orders(tx, link.customer_id)
        if not found:
            await message.answer(t("orders.none", lang), reply_markup=orders_keyboard(lang))
            return
        zone = config.service.tz
        lines = [t("orders.header", lang), *(order_line(o, zone, lang) for o in found[:20])]
        await message.answer("\n\n".join(lines), reply_markup=orders_keyboard(lang))

    @router.message(private, ~F.contact, ConversationsOn())
    async def from_customer(
        message: Message,
        bot: Bot,
        storage: Storage,
        config: Config,
        clock: Clock,
        senders: dict[str, Any],
    ) -> None:
        if (
            message.from_user is not None
            and await find_staff(
                storage, config, user_id=message.from_user.id, chat_id=message.chat.id
            )
            is not None
        ):
            await message.answer(t("conv.staff_hint", lang_of(message)))
            return
        notice = await relay_from_customer(
            service(storage, config, clock, senders, bot), bot, message
        )
        if notice:
            await message.answer(notice)

    return router
