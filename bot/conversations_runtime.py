"""Inbound SMS for conversations: one cleanup context (after the bot in ``bot/app.py``).

Every ``[[sms.modems]]`` modem gets a :class:`senders.modem.inbound.SmsReader` whose sink is
:class:`bot.services.sms_answers.SmsAnswers` (stop words, or the text to staff through the
bot). The sender layer knows no storage: the sink crosses the boundary as the kernel's
:class:`~bot.core.inbound_sms.InboundSmsSink`. Off with ``[conversations] sms_inbound =
false`` or ``enabled = false``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from aiohttp import web

from bot.core.config import Config
from bot.keys import CLOCK, CONFIG, SENDERS, STORAGE
from bot.telegram_state import TELEGRAM
from senders.modem import ModemPool
from senders.modem.inbound import SmsReader

if TYPE_CHECKING:
    from aiogram import Bot

log = logging.getLogger("vestnik.conversations")

SMS_READERS = web.AppKey("sms_readers", list)


def sms_inbound_wanted(config: Config) -> bool:
    return (
        config.conversations.enabled
        and config.conversations.sms_inbound
        and bool(config.sms.modems)
    )


async def conversations_ctx(app: web.Application) -> AsyncIterator[None]:
    config: Config = app[CONFIG]
    readers: list[SmsReader] = []
    app[SMS_READERS] = readers
    pool = app[SENDERS].get("modem")
    if not sms_inbound_wanted(config) or not isinstance(pool, ModemPool):
        yield
        return

    # the answers go to staff through the bot: aiogram is imported only when they are read
    from bot.services.sms_answers import SmsAnswers

    def bot() -> Bot | None:
        runtime = app.get(TELEGRAM)
        return runtime.bot if runtime is not None else None

    sink = SmsAnswers(app[STORAGE], config, app[CLOCK], app[SENDERS], bot)
    for modem in pool.modems.values():
        reader = SmsReader(modem, sink, sweep_seconds=config.conversations.sms_sweep_seconds)
        await reader.start()
        readers.append(reader)
    log.info("reading incoming SMS on %s", ", ".join(pool.modems))
    try:
        yield
    finally:
        for reader in readers:
            await reader.close()
