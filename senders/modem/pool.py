"""The ``modem`` channel: every ``[[sms.modems]]`` entry as one pool behind the Sender protocol.

A message names its modem in ``message.providers`` (a rule's ``modem = "..."``); otherwise the
first free ready modem takes it, and when all are busy the send waits for one. The dispatcher
runs ``concurrency`` = number of modems sends at once, so each modem is kept busy.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from bot.core.config import SmsConfig
from bot.core.sending import (
    DeliveryReport,
    OutgoingMessage,
    PermanentError,
    SendResult,
    TransientError,
)
from bot.core.timeutil import Clock
from senders.modem.modem import Modem


class ModemPool:
    """Sender for channel ``modem``; also what the ``sms`` channel falls back to."""

    channel = "modem"

    def __init__(self, config: SmsConfig, clock: Clock | None = None) -> None:
        self.modems: dict[str, Modem] = {m.name: Modem(m, clock) for m in config.modems}
        self.concurrency = max(1, len(self.modems))
        self._changed = asyncio.Condition()

    async def start(self) -> None:
        """Open every modem at once; one that fails keeps retrying in the background."""
        await asyncio.gather(*(modem.start() for modem in self.modems.values()))

    async def close(self) -> None:
        await asyncio.gather(*(modem.close() for modem in self.modems.values()))

    def _candidates(self, message: OutgoingMessage) -> list[Modem]:
        if not message.providers:
            return list(self.modems.values())
        named = [self.modems[name] for name in message.providers if name in self.modems]
        if not named:
            configured = ", ".join(self.modems) or "none"
            raise PermanentError(
                f"no modem named {', '.join(message.providers)!s} in "
                f"[[sms.modems]] (configured: {configured})"
            )
        return named

    async def _acquire(self, candidates: list[Modem]) -> Modem:
        async with self._changed:
            while True:
                ready = [modem for modem in candidates if modem.ready]
                if not ready:
                    reasons = "; ".join(f"{m.name}: {m.why_not_ready()}" for m in candidates)
                    raise TransientError(
                        f"no modem ready ({reasons})",
                        provider=candidates[0].name if len(candidates) == 1 else None,
                    )
                for modem in ready:
                    if not modem.busy:
                        modem.busy = True
                        return modem
                await self._changed.wait()

    async def _release(self, modem: Modem) -> None:
        async with self._changed:
            modem.busy = False
            self._changed.notify_all()

    async def send(self, message: OutgoingMessage) -> SendResult:
        modem = await self._acquire(self._candidates(message))
        try:
            references = await modem.send(message.address, message.text)
        finally:
            await self._release(modem)
        return SendResult(
            provider=modem.name,
            provider_message_id=",".join(str(r) for r in references),
            segments=len(references),
        )

    def on_receipts(self, callback: Callable[[str, list[DeliveryReport]], Awaitable[Any]]) -> None:
        """Where the modems' status reports go: ``callback(modem name, receipts)``."""
        for modem in self.modems.values():
            modem.reports.on_report = callback

    async def refresh(self) -> None:
        """Signal and registration of the idle modems (the app calls it every few minutes)."""
        await asyncio.gather(*(modem.refresh() for modem in self.modems.values() if not modem.busy))

    def status(self) -> dict[str, Any]:
        ready = sum(modem.ready for modem in self.modems.values())
        state: dict[str, Any] = {"ready": f"{ready}/{len(self.modems)}"}
        for name, modem in self.modems.items():
            state[name] = {k: v for k, v in modem.status().items() if v not in (None, "")}
        return state
