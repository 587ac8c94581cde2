"""aiogram routers: the bot's conversations with customers and staff.

:func:`build_routers` makes fresh routers each call (a router can belong to one Dispatcher
only), in the order they must be tried: staff commands (behind the staff filter), the polite
refusal of staff commands for everyone else, then the customer conversation, which ends with a
catch-all for private messages. Errors: a database outage gets a "try again" answer, anything
else is logged and answered with nothing that leaks internals.
"""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent

from bot.core.texts import language_of, t
from handlers.customer import build_customer_router
from handlers.staff import build_refusal_router, build_staff_router
from handlers.web_login import build_web_login_router
from storage.base import StorageUnavailable

log = logging.getLogger("vestnik.bot")


def build_error_router() -> Router:
    router = Router(name="errors")

    @router.error(ExceptionTypeFilter(StorageUnavailable))
    async def storage_down(event: ErrorEvent) -> None:
        message = event.update.message
        log.warning("update %s: storage unavailable: %s", event.update.update_id,
                    event.exception)
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

    return router


def build_routers() -> list[Router]:
    return [build_error_router(), build_staff_router(), build_web_login_router(),
            build_refusal_router(), build_customer_router()]
