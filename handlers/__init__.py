"""aiogram routers: the bot's conversations with customers and staff.

:func:`build_routers` makes fresh routers each call (a router can belong to one Dispatcher
only), in the order they must be tried: staff commands, one router per command group (behind
the staff filter), the polite refusal of staff commands and buttons for everyone else, staff
answers to customers and the conversations (``/dialog``, ``/orders``, customers' messages
relayed to staff), then the customer conversation, which ends with a catch-all for private
messages. Errors: a database outage gets a "try again" answer, anything else is logged and
answered (a message, or a button press's alert) with nothing that leaks internals.
"""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent

from bot.core.texts import language_of, t
from handlers.conversations import build_conversation_router, build_staff_answer_router
from handlers.customer import build_customer_router
from handlers.staff import inbox, journal, refusal, rules, status, stoplist, templates, wizard
from handlers.web_login import build_web_login_router
from storage.base import StorageUnavailable

log = logging.getLogger("vestnik.bot")


def build_error_router() -> Router:
    router = Router(name="errors")

    @router.error(ExceptionTypeFilter(StorageUnavailable))
    async def storage_down(event: ErrorEvent) -> None:
        message = event.update.message
        log.warning("update %s: storage unavailable: %s", event.update.update_id, event.exception)
        if message is not None:
            lang = language_of(message.from_user.language_code if message.from_user else None)
            await message.answer(t("storage.down", lang))

    @router.error()
    async def unexpected(event: ErrorEvent) -> None:
        log.error("update %s failed", event.update.update_id, exc_info=event.exception)
        message = event.update.message
        if message is not None:
            lang = language_of(message.from_user.language_code if message.from_user else None)
            await message.answer(t("error.internal", lang))
        elif event.update.callback_query is not None:
            query = event.update.callback_query
            lang = language_of(query.from_user.language_code if query.from_user else None)
            await query.answer(t("error.internal", lang), show_alert=True)

    return router


def build_staff_routers() -> list[Router]:
    """One router per staff command group; the wizard's typed answers before the rest."""
    return [
        wizard.build_router(),
        journal.build_router(),
        stoplist.build_router(),
        rules.build_router(),
        templates.build_router(),
        status.build_router(),
        inbox.build_router(),
    ]


def build_routers() -> list[Router]:
    return [
        build_error_router(),
        *build_staff_routers(),
        build_web_login_router(),
        refusal.build_router(),
        build_staff_answer_router(),
        build_conversation_router(),
        build_customer_router(),
    ]
