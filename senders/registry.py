"""Build the configured channels. Each is registered under its channel name."""

from __future__ import annotations

from typing import Any

import aiohttp

from bot.core.config import Config
from bot.core.sending import OutgoingMessage, Sender, SendResult
from bot.core.timeutil import Clock


def build_senders(
    config: Config, session: aiohttp.ClientSession, clock: Clock
) -> dict[str, Sender]:
    """email, sms and modem from their config sections; telegram and internal are added by the
    bot runtime, which owns the aiogram Bot."""
    senders: dict[str, Sender] = {}
    if config.email.accounts:
        from senders.email import EmailSender

        senders["email"] = EmailSender(config.email, clock)
    modem_pool: Sender | None = None
    if config.sms.modems:
        from senders.modem import ModemPool

        modem_pool = ModemPool(config.sms, clock=clock)
        senders["modem"] = modem_pool
    if config.sms.portals:
        from senders.sms import SmsSender

        senders["sms"] = SmsSender(config.sms, session, modem_pool=modem_pool, clock=clock)
    elif modem_pool is not None:
        senders["sms"] = _ModemAsSms(modem_pool)
    return senders


class _ModemAsSms:
    """With modems but no portals, the ``sms`` channel goes out through the modem pool."""

    channel = "sms"

    def __init__(self, pool: Sender) -> None:
        self.pool = pool
        self.concurrency = pool.concurrency

    async def start(self) -> None:  # the pool is started as the modem channel
        return None

    async def close(self) -> None:
        return None

    async def send(self, message: OutgoingMessage) -> SendResult:
        return await self.pool.send(message)

    def status(self) -> dict[str, Any]:
        return {"via": "modem"}

    async def refresh(self) -> None:
        return None  # nothing to refresh: the status is kept as sends happen
