"""The ``sms`` channel: portal adapters behind one sender, with a failover chain.

A message names its chain in ``providers`` (portal names from ``[[sms.portals]]``, and
``"modem"`` for the modem pool); an empty list means the first configured portal. Each
provider is tried in order until one accepts the message:

- a transient failure (timeout, 5xx, garbage answer) moves on to the next provider;
- an account failure (:class:`~senders.sms.portal.AccountError`: bad credentials, no money,
  sender name not approved, portal misconfigured) is permanent *for that portal* and also
  moves on — another account may well deliver;
- a recipient failure (bad or unreachable number, empty or too long text, stop list) is about
  the message itself, and the chain stops there: no portal will deliver it.

A portal that failed ``down_after`` times in a row is *down*: it is skipped for ``cooldown``,
then one send probes it (the others keep skipping it until the probe ends). On total failure
the error lists every hop; it is permanent when every provider refused for account reasons,
transient otherwise. When every provider of the chain was skipped as down, the error does not
count as an attempt and asks to come back when the first cooldown ends.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from datetime import datetime
from typing import Any

import aiohttp

from bot.core.config import SmsConfig, SmsPortal, parse_duration
from bot.core.sending import (
    OutgoingMessage,
    PermanentError,
    Sender,
    SendError,
    SendResult,
    TransientError,
)
from bot.core.timeutil import Clock, SystemClock
from senders.sms.devino import DevinoPortal
from senders.sms.health import PortalHealth
from senders.sms.http import HttpPortal
from senders.sms.mirsms import MirSmsPortal
from senders.sms.portal import AccountError, Portal, Receipt
from senders.sms.prostor import ProstorPortal
from senders.sms.sms16 import Sms16Portal
from senders.sms.smsaero import SmsAeroPortal
from senders.sms.smsc import SmscPortal
from senders.sms.smsru import SmsRuPortal

__all__ = ["PORTAL_KINDS", "SmsSender", "portal_problems", "send_test"]

log = logging.getLogger("vestnik.sms")

MODEM = "modem"  # the provider name that hands the message to the modem pool
E164 = re.compile(r"\+[1-9]\d{6,14}")

PORTAL_KINDS: dict[str, type[Portal]] = {
    cls.kind: cls
    for cls in (
        SmsRuPortal,
        SmscPortal,
        SmsAeroPortal,
        DevinoPortal,
        ProstorPortal,
        Sms16Portal,
        MirSmsPortal,
        HttpPortal,
    )
}


def build_portal(config: SmsPortal, session: aiohttp.ClientSession) -> Portal:
    return PORTAL_KINDS[config.kind](config, session)


def portal_problems(config: SmsConfig) -> list[tuple[str, str]]:
    """Problems of ``[[sms.portals]]`` entries the config model cannot see (credentials of
    the kind, the ``http`` kind's keys), each with its key, for ``vestnik check-config``."""
    out: list[tuple[str, str]] = []
    for i, entry in enumerate(config.portals):
        key = f"sms.portals[{i}]"
        cls = PORTAL_KINDS[entry.kind]
        problem = cls.credential_problem(entry)
        if problem:
            out.append((key, f"{entry.name} ({entry.kind}): {problem}"))
        if entry.kind == "http":
            try:
                HttpPortal.read_spec(entry)
            except ValueError as exc:
                out.append((key, str(exc)))
        elif entry.model_extra:
            unknown = ", ".join(sorted(entry.model_extra))
            out.append(
                (
                    key,
                    (
                        f"{entry.name} ({entry.kind}): unknown keys {unknown} "
                        '(only kind = "http" takes extra keys)'
                    ),
                )
            )
        try:
            parse_duration(entry.cooldown)
        except ValueError as exc:
            out.append((f"{key}.cooldown", str(exc)))
    return out


@dataclasses.dataclass
class _Chain:
    """How far one SMS got along its chain of providers."""

    hops: list[str] = dataclasses.field(default_factory=list)  # each provider's refusal
    last: str | None = None
    tried: bool = False  # a provider was actually asked
    transient: bool = False  # some refusal may pass later
    next_probe: datetime | None = None  # when the first down portal may be tried again


class SmsSender:
    """The ``sms`` channel (the :class:`~bot.core.sending.Sender` protocol)."""

    channel = "sms"

    def __init__(
        self,
        config: SmsConfig,
        session: aiohttp.ClientSession,
        modem_pool: Sender | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.clock = clock or SystemClock()
        self.modem_pool = modem_pool
        self.portals: dict[str, Portal] = {}
        self.health: dict[str, PortalHealth] = {}
        for entry in config.portals:
            self.portals[entry.name] = build_portal(entry, session)
            self.health[entry.name] = PortalHealth(
                down_after=entry.down_after, cooldown=parse_duration(entry.cooldown)
            )
        self.default_chain = (
            [config.portals[0].name]
            if config.portals
            else [MODEM]
            if modem_pool is not None
            else []
        )
        self.concurrency = (
            sum(p.max_connections for p in config.portals)
            + (modem_pool.concurrency if modem_pool is not None else 0)
            or 1
        )
        self.last_error: str | None = None

    async def start(self) -> None:
        return None  # the session is the app's; the modem pool is started as its own channel

    async def close(self) -> None:
        return None

    async def send(self, message: OutgoingMessage) -> SendResult:
        return await self.deliver(message)

    async def deliver(self, message: OutgoingMessage, *, keep_answer: bool = False) -> SendResult:
        """:meth:`send`; with ``keep_answer`` the result's ``detail`` is the portal's answer."""
        if not E164.fullmatch(message.address):
            raise PermanentError(
                f"{message.address!r} is not a phone number in E.164 (+79161234567)"
            )
        chain = _Chain()
        for name in message.providers or self.default_chain:
            if name == MODEM:
                result = await self._via_modem(message, chain)
            else:
                result = await self._via_portal(name, message, chain, keep_answer)
            if result is not None:
                return result
        if not chain.hops:
            raise PermanentError("no sms portal configured", provider=chain.last)
        if not chain.tried and chain.next_probe is not None:
            wait = max(1.0, (chain.next_probe - self.clock.now()).total_seconds())
            error = self._failed(TransientError, chain.hops, chain.last)
            error.counts_as_attempt, error.retry_after = False, wait
            raise error
        raise self._failed(
            TransientError if chain.transient else PermanentError, chain.hops, chain.last
        )

    async def _via_modem(self, message: OutgoingMessage, chain: _Chain) -> SendResult | None:
        if self.modem_pool is None:
            chain.hops.append(f"{MODEM}: no [[sms.modems]] in the config")
            return None
        chain.tried, chain.last = True, MODEM
        try:
            result = await self.modem_pool.send(dataclasses.replace(message, providers=[]))
        except SendError as exc:
            chain.hops.append(f"{MODEM}: {exc}")
            chain.transient = chain.transient or not exc.permanent
            if exc.permanent and not isinstance(exc, AccountError):
                raise self._failed(PermanentError, chain.hops, chain.last) from None
            return None
        return dataclasses.replace(
            result, provider=result.provider or MODEM, hops="; ".join(chain.hops) or None
        )

    async def _via_portal(
        self, name: str, message: OutgoingMessage, chain: _Chain, keep_answer: bool
    ) -> SendResult | None:
        portal = self.portals.get(name)
        if portal is None:
            chain.hops.append(f"{name}: no such portal in [[sms.portals]]")
            return None
        health = self.health[name]
        probe = health.take(self.clock.now())
        if probe is None:  # down: skipped until its next probe
            probe_at = health.probe_at()
            chain.hops.append(
                f"{name}: down after {health.failures} failures (last: {health.last_error})"
            )
            if probe_at is not None and (chain.next_probe is None or probe_at < chain.next_probe):
                chain.next_probe = probe_at
            chain.transient, chain.last = True, name
            return None
        chain.tried, chain.last = True, name
        try:
            receipt = await portal.send(
                message.address, message.text, message.sender_name or portal.config.sender
            )
        except SendError as exc:
            chain.hops.append(f"{name}: {exc}")
            if exc.permanent and not isinstance(exc, AccountError):
                health.answered()
                raise self._failed(PermanentError, chain.hops, chain.last) from None
            chain.transient = chain.transient or not exc.permanent
            if health.failed(str(exc), self.clock.now()):
                log.warning(
                    "sms portal %s is down after %d failures: %s", name, health.failures, exc
                )
            elif probe:
                log.warning("sms portal %s is still down: %s", name, exc)
            return None
        finally:
            if probe and health.probing:  # no verdict (cancelled): free the next probe
                health.release()
        if probe:
            log.info("sms portal %s is up again", name)
        health.succeeded()
        self._note_balance(health, receipt)
        return SendResult(
            provider=name,
            provider_message_id=receipt.message_id,
            segments=receipt.segments,
            detail=receipt.answer if keep_answer else None,
            hops="; ".join(chain.hops) or None,
            pollable=portal.has_status and receipt.message_id is not None,
        )

    def _failed(self, kind: type[SendError], hops: list[str], last: str | None) -> SendError:
        error = kind("; ".join(hops), provider=last)
        self.last_error = str(error)
        return error

    def _note_balance(self, health: PortalHealth, receipt: Receipt) -> None:
        if receipt.balance is not None:
            health.balance, health.balance_at = receipt.balance, self.clock.now()

    def status(self) -> dict[str, Any]:
        return {
            "portals": {
                name: {"kind": portal.kind, **self.health[name].state()}
                for name, portal in self.portals.items()
            },
            "default": self.default_chain[0] if self.default_chain else None,
            "modem": self.modem_pool is not None,
            "last_error": self.last_error,
        }

    async def refresh(self) -> None:
        await self.refresh_balances()

    async def refresh_balances(self) -> dict[str, str | None]:
        """Ask every portal that has a balance call; a failure leaves the last known balance
        and is reported as the portal's last error."""
        names = [name for name, portal in self.portals.items() if portal.has_balance]

        async def one(name: str) -> None:
            health = self.health[name]
            try:
                health.balance = await self.portals[name].balance()
            except SendError as exc:
                health.last_error = f"balance: {exc}"
                health.last_error_at = self.clock.now()
                return
            health.balance_at = self.clock.now()

        await asyncio.gather(*(one(name) for name in names))
        return {name: self.health[name].balance for name in names}


async def send_test(sender: SmsSender, phone: str, provider: str | None, text: str) -> SendResult:
    """One test SMS through ``provider`` (or the default portal), for ``vestnik send-test sms``
    and the bot's ``/test``: the result's ``detail`` is the portal's raw answer, credentials
    removed. ``phone`` is E.164 (``+79161234567``). Failures raise as in :meth:`SmsSender.send`.
    """
    message = OutgoingMessage(
        row_id=0, channel="sms", address=phone, text=text, providers=[provider] if provider else []
    )
    return await sender.deliver(message, keep_answer=True)
