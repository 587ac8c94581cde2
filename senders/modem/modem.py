"""One GSM modem: its connection, SMS sending, state, and reconnection after an unplug.

A background supervisor opens the port and runs the initialisation (TS 27.005,
:mod:`senders.modem.initialisation`). When the device disappears the channel dies, the send
in flight raises :class:`TransientError` (the dispatcher retries the row) and the supervisor
reopens the port with backoff, rerunning the whole initialisation. A wrong PIN or a
PUK-locked SIM stops the attempts until restart.

Every conversation with the modem (init, send, status refresh) holds one lock, so there is
one command outstanding at a time and one SMS in flight per modem.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import serial

from bot.core.config import SmsModem
from bot.core.sending import PermanentError, TransientError
from bot.core.timeutil import Clock, SystemClock
from senders.modem.at import AtChannel, AtError, AtTimeout, PortClosed
from senders.modem.errors import describe, lookup, send_error
from senders.modem.initialisation import (
    InitError,
    ModemFatal,
    check_registration,
    init_failure,
    initialise,
    read_signal,
)
from senders.modem.pdu import SubmitPdu, encode_submit
from senders.modem.reports import ReportReader
from senders.modem.state import ModemState, status_view

log = logging.getLogger(__name__)
T = TypeVar("T")

# Seconds between reconnection attempts: quick at first (a replugged stick is back within a
# second or two), then patient (a stick that is gone stays gone).
RECONNECT_BACKOFF: tuple[float, ...] = (0.25, 0.5, 1, 2, 5, 10, 30, 60)
START_WAIT = 10.0  # start() waits this long for the first connection, then goes on


class Modem:
    """One ``[[sms.modems]]`` entry."""

    def __init__(self, config: SmsModem, clock: Clock | None = None) -> None:
        self.config = config
        self.name = config.name
        self.clock = clock or SystemClock()
        self.info = ModemState()
        self.busy = False  # set by the pool while a send is assigned to this modem
        self._channel: AtChannel | None = None
        self._lock = asyncio.Lock()
        self._lost = asyncio.Event()
        self._settled = asyncio.Event()  # the first connection attempt has finished
        self._supervisor: asyncio.Task[None] | None = None
        self._closing = False
        self._reference = random.randrange(256)  # CSMS reference, rotates per long message
        self.reports = ReportReader(self.name, self._lock, config.command_timeout)
        # run after every (re)initialisation, under the lock (inbound SMS: AT+CNMI, listeners)
        self.ready_hooks: list[Callable[[AtChannel], Awaitable[None]]] = []

    # lifecycle ----------------------------------------------------------------------------------
    async def start(self) -> None:
        """Begin connecting; wait a little for the first attempt; never raise."""
        if self._supervisor is None:
            self._supervisor = asyncio.create_task(self._supervise(), name=f"modem-{self.name}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._settled.wait(), START_WAIT)

    async def close(self) -> None:
        self._closing = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None
        await self.reports.close()
        await self._drop_channel()
        self.info.state = "closed"

    @property
    def ready(self) -> bool:
        return self.info.state == "ready" and self._channel is not None and self._channel.alive

    async def wait_ready(self) -> None:
        """Until the modem is ready (tests and the benchmark bound this with a timeout)."""
        while not self.ready:
            await asyncio.sleep(0.05)

    async def _supervise(self) -> None:
        failures = 0
        while not self._closing:
            try:
                await self._connect()
            except ModemFatal as exc:
                self._record_error(str(exc))
                self.info.state = "failed"
                log.error("modem %s: %s", self.name, exc)
                self._settled.set()
                return
            except (
                serial.SerialException,
                OSError,
                InitError,
                AtError,
                AtTimeout,
                PortClosed,
            ) as exc:
                self._record_error(init_failure(exc, self.config.port))
                self.info.state = "reconnecting"
                self._settled.set()
                await self._drop_channel()
                delay = RECONNECT_BACKOFF[min(failures, len(RECONNECT_BACKOFF) - 1)]
                failures += 1
                log.warning(
                    "modem %s: %s; next attempt in %s s", self.name, self.info.last_error, delay
                )
                await asyncio.sleep(delay)
                continue
            failures = 0
            self._settled.set()
            await self._lost.wait()
            self.info.state = "reconnecting"
            self.info.reconnects += 1
            await self._drop_channel()

    async def _connect(self) -> None:
        self._lost.clear()
        channel = await AtChannel.open(self.config.port, self.config.baudrate, self.name)
        channel.on_closed.append(self._lost)
        self._channel = channel
        async with self._lock:
            await initialise(channel, self.config, self.info, self.reports, self._record_error)
            for hook in self.ready_hooks:
                await hook(channel)
        self.info.state = "ready"
        self.info.connected_at = self.clock.now()
        log.info(
            "modem %s ready on %s: %s, %s dBm, %s",
            self.name,
            self.config.port,
            self.info.registration,
            self.info.signal_dbm,
            self.info.operator or "?",
        )

    async def _drop_channel(self) -> None:
        channel, self._channel = self._channel, None
        if channel is not None:
            await channel.close()

    def _reinit(self) -> None:
        """The modem lost its state: close and reinitialise (the supervisor does it)."""
        self.info.state = "reconnecting"
        self._lost.set()

    # sending ------------------------------------------------------------------------------------
    def _next_reference(self) -> int:
        self._reference = (self._reference + 1) % 256
        return self._reference

    async def send(self, number: str, text: str) -> list[int]:
        """Send one SMS (one or more parts); return the TP-MR of each part."""
        try:
            pdus = encode_submit(
                number,
                text,
                reference=self._next_reference(),
                smsc=self.config.smsc,
                status_report=self.config.delivery_reports,
            )
        except ValueError as exc:
            raise PermanentError(f"modem {self.name}: {exc}", provider=self.name) from None
        async with self._lock:
            at = await self._channel_for_sending()
            references: list[int] = []
            for index, pdu in enumerate(pdus):
                references.append(await self._submit(at, pdu, index, len(pdus)))
            self.info.sent_messages += 1
            self.info.sent_parts += len(pdus)
            if self.config.delivery_reports:
                self.reports.tracker.sent(number, references)
            return references

    async def _channel_for_sending(self) -> AtChannel:
        """The channel, when the modem is ready and registered in the network (under the lock)."""
        at = self._channel
        if not self.ready or at is None:
            raise TransientError(
                f"modem {self.name} is not ready: {self.info.last_error or self.info.state}",
                provider=self.name,
            )
        if not self.info.registered:
            await self._guarded(at, check_registration(at, self.config, self.info))
            if not self.info.registered:
                raise TransientError(
                    f"modem {self.name} is not registered in the network "
                    f"({self.info.registration})",
                    provider=self.name,
                )
        return at

    async def _submit(self, at: AtChannel, pdu: SubmitPdu, index: int, total: int) -> int:
        """One part; a failure says how many parts went before it."""
        try:
            return await at.submit_pdu(
                pdu.tpdu_length, pdu.hex, self.config.command_timeout, self.config.send_timeout
            )
        except AtError as exc:
            if lookup(exc).reinit:
                self._reinit()
            error = send_error(self.name, exc)
            raise type(error)(self._partial(str(error), index, total), provider=self.name) from None
        except AtTimeout as exc:
            await self._resync(at)
            raise TransientError(
                self._partial(f"modem {self.name}: {exc}", index, total), provider=self.name
            ) from None
        except PortClosed as exc:
            self._record_error(f"the device disappeared ({exc})")
            raise TransientError(
                self._partial(
                    f"modem {self.name}: the device disappeared while sending ({exc}); "
                    "reconnecting",
                    index,
                    total,
                ),
                provider=self.name,
            ) from None

    def _partial(self, message: str, index: int, total: int) -> str:
        if index:
            message += f" ({index} of {total} parts were sent before)"
        self._record_error(message)
        return message

    async def _resync(self, at: AtChannel) -> None:
        try:
            await at.resync(self.config.command_timeout)
        except (AtError, AtTimeout, PortClosed) as exc:
            log.warning("modem %s: resync failed (%s); reinitialising", self.name, exc)
            self._reinit()

    async def _guarded(self, at: AtChannel, step: Any) -> None:
        """A housekeeping command: its failure is recorded, not raised."""
        try:
            await step
        except AtTimeout:
            await self._resync(at)
        except AtError as exc:
            self._record_error(describe(exc))
            if lookup(exc).reinit:
                self._reinit()
        except PortClosed as exc:
            self._record_error(f"the device disappeared ({exc})")

    async def converse(self, job: Callable[[AtChannel], Awaitable[T]]) -> T:
        """Run ``job(at)`` between sends, holding the lock (reading inbound SMS)."""
        async with self._lock:
            at = self._channel
            if not self.ready or at is None:
                raise TransientError(
                    f"modem {self.name} is not ready: {self.why_not_ready()}", provider=self.name
                )
            return await job(at)

    async def refresh(self) -> None:
        """Signal and registration for /status, when the modem is idle."""
        at = self._channel
        if not self.ready or at is None or self._lock.locked():
            return
        async with self._lock:
            await self._guarded(at, check_registration(at, self.config, self.info))
            await self._guarded(at, read_signal(at, self.config, self.info))

    # state --------------------------------------------------------------------------------------
    def _record_error(self, message: str) -> None:
        self.info.last_error = message
        self.info.last_error_at = self.clock.now()

    def why_not_ready(self) -> str:
        return self.info.last_error or self.info.state

    def status(self) -> dict[str, Any]:
        return status_view(
            self.info, port=self.config.port, busy=self.busy, status_reports=self.reports.received
        )
