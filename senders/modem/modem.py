"""One GSM modem: initialisation, SMS sending, state, and reconnection after an unplug.

A background supervisor opens the port and runs the initialisation (TS 27.005): ESC to leave a stale prompt, ``AT``,
``ATE0``, ``AT+CMEE=1``, the SIM PIN
(``AT+CPIN?`` then ``AT+CPIN="..."`` at most once: three wrong PINs lock the SIM), ``AT+CREG?``,
``AT+CSQ``, ``AT+CMGF=0`` (PDU mode), ``AT+CSCA?`` and ``AT+COPS?`` for the status. When the
device disappears the channel dies, the send in flight raises :class:`TransientError` (the
dispatcher retries the row) and the supervisor reopens the port with backoff, rerunning the
whole initialisation. A wrong PIN or a PUK-locked SIM stops the attempts until restart.

Every conversation with the modem (init, send, status refresh) holds one lock, so there is
one command outstanding at a time and one SMS in flight per modem.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import serial

from bot.core.config import SmsModem
from bot.core.sending import PermanentError, TransientError
from bot.core.timeutil import Clock, SystemClock, rfc3339
from senders.modem.at import AtChannel, AtError, AtTimeout, PortClosed
from senders.modem.errors import describe, lookup, send_error
from senders.modem.pdu import encode_submit
from senders.modem.reports import ReportReader

log = logging.getLogger(__name__)
T = TypeVar("T")

# Seconds between reconnection attempts: quick at first (a replugged stick is back within a
# second or two), then patient (a stick that is gone stays gone).
RECONNECT_BACKOFF: tuple[float, ...] = (0.25, 0.5, 1, 2, 5, 10, 30, 60)
LIVENESS_TIMEOUT = 5.0  # the first AT; a port that is not a modem should not take long
LIVENESS_TRIES = 3
PIN_SETTLE_TRIES = 10  # AT+CPIN? polls after entering the PIN, PIN_SETTLE_DELAY apart
PIN_SETTLE_DELAY = 0.5
START_WAIT = 10.0  # start() waits this long for the first connection, then goes on

# AT+CREG? <stat>: (words, registered)
REGISTRATION: dict[int, tuple[str, bool]] = {
    0: ("not registered, not searching", False),
    1: ("home network", True),
    2: ("searching for a network", False),
    3: ("registration denied", False),
    4: ("unknown registration state", False),
    5: ("roaming", True),
}
CSQ_UNKNOWN = 99
_QUOTED = re.compile(r'"([^"]*)"')


class InitError(Exception):
    """Initialisation failed; the supervisor tries again later."""


class ModemFatal(Exception):
    """Initialisation cannot succeed without a person (wrong PIN, PUK): no more attempts."""


def csq_to_dbm(rssi: int) -> int | None:
    """27.007 +CSQ: 0 = -113 dBm or less ... 31 = -51 dBm or more, 99 = not known."""
    return -113 + 2 * rssi if 0 <= rssi <= 31 else None


@dataclass(slots=True)
class ModemState:
    """What /status and /healthz show for one modem."""

    state: str = "starting"  # starting | ready | reconnecting | failed | closed
    registration: str = ""
    registered: bool = False
    csq: int | None = None
    signal_dbm: int | None = None
    operator: str = ""
    smsc: str = ""
    last_error: str = ""
    last_error_at: datetime | None = None
    connected_at: datetime | None = None
    sent_messages: int = 0
    sent_parts: int = 0
    reconnects: int = 0


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
                self._record_error(self._init_failure(exc))
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

    def _init_failure(self, exc: BaseException) -> str:
        if isinstance(exc, AtError):
            return f"initialisation failed at {exc.command}: {describe(exc)}"
        if isinstance(exc, AtTimeout):
            return f"initialisation: no answer from the modem on {self.config.port}"
        if isinstance(exc, PortClosed):
            return f"the device disappeared during initialisation ({exc})"
        if isinstance(exc, (serial.SerialException, OSError)):
            return f"cannot open {self.config.port}: {exc}"
        return str(exc)

    async def _connect(self) -> None:
        self._lost.clear()
        channel = await AtChannel.open(self.config.port, self.config.baudrate, self.name)
        channel.on_closed.append(self._lost)
        self._channel = channel
        async with self._lock:
            await self._initialise(channel)
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

    # initialisation -----------------------------------------------------------------------------
    async def _initialise(self, at: AtChannel) -> None:
        timeout = self.config.command_timeout
        await at.escape()
        for attempt in range(LIVENESS_TRIES):
            try:
                await at.command("AT", min(timeout, LIVENESS_TIMEOUT))
                break
            except AtTimeout:
                if attempt == LIVENESS_TRIES - 1:
                    raise
        await at.command("ATE0", timeout)
        await at.command("AT+CMEE=1", timeout)
        await self._unlock_sim(at)
        await self._check_registration(at)
        await self._read_signal(at)
        await at.command("AT+CMGF=0", timeout)
        with contextlib.suppress(AtError, AtTimeout):
            answer = await at.command("AT+CSCA?", timeout, prefix="+CSCA:")
            found = _QUOTED.search(answer[0]) if answer else None
            self.info.smsc = found.group(1) if found else ""
        with contextlib.suppress(AtError, AtTimeout):
            answer = await at.command("AT+COPS?", timeout, prefix="+COPS:")
            found = _QUOTED.search(answer[0]) if answer else None
            self.info.operator = found.group(1) if found else ""
        if not self.info.smsc and not self.config.smsc:
            self._record_error("no SMS centre stored in the SIM: set smsc in [[sms.modems]]")
        if self.config.delivery_reports:
            await self.reports.enable(at)

    async def _sim_state(self, at: AtChannel) -> str:
        answer = await at.command("AT+CPIN?", self.config.command_timeout, prefix="+CPIN:")
        return answer[0].strip('"').upper() if answer else ""

    async def _unlock_sim(self, at: AtChannel) -> None:
        state = await self._sim_state(at)
        if state == "READY":
            return
        if "PUK" in state:
            raise ModemFatal(
                f"the SIM is locked and asks for the PUK ({state}): unlock it in a "
                "phone, then restart Vestnik"
            )
        if state != "SIM PIN":
            raise InitError(f"the SIM is not ready: {state or 'no answer to AT+CPIN?'}")
        pin = self.config.pin.get_secret_value() if self.config.pin else ""
        if not pin:
            env = f"VESTNIK_SMS_{re.sub(r'[^A-Za-z0-9]', '_', self.name).upper()}_PIN"
            raise ModemFatal(
                "the SIM asks for a PIN: set pin for this modem in [[sms.modems]] "
                f"(or {env}) and restart"
            )
        try:
            await at.command(f'AT+CPIN="{pin}"', self.config.command_timeout)
        except AtError as exc:
            raise ModemFatal(
                f"the SIM rejected the PIN ({describe(exc)}); not trying again, "
                "a third wrong PIN locks the SIM: fix pin in [[sms.modems]] and "
                "restart"
            ) from None
        for _ in range(PIN_SETTLE_TRIES):
            if await self._sim_state(at) == "READY":
                return
            await asyncio.sleep(PIN_SETTLE_DELAY)
        raise InitError("the SIM accepted the PIN but did not become ready")

    async def _check_registration(self, at: AtChannel) -> None:
        answer = await at.command("AT+CREG?", self.config.command_timeout, prefix="+CREG:")
        fields = [f.strip() for f in (answer[0] if answer else "").split(",")]
        stat = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else 4
        self.info.registration, self.info.registered = REGISTRATION.get(
            stat, (f"registration state {stat}", False)
        )

    async def _read_signal(self, at: AtChannel) -> None:
        answer = await at.command("AT+CSQ", self.config.command_timeout, prefix="+CSQ:")
        rssi_text = (answer[0] if answer else "").split(",")[0].strip()
        rssi = int(rssi_text) if rssi_text.isdigit() else CSQ_UNKNOWN
        self.info.csq = rssi
        self.info.signal_dbm = csq_to_dbm(rssi)

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
            at = self._channel
            if not self.ready or at is None:
                raise TransientError(
                    f"modem {self.name} is not ready: {self.info.last_error or self.info.state}",
                    provider=self.name,
                )
            if not self.info.registered:
                await self._guarded(at, self._check_registration(at))
                if not self.info.registered:
                    raise TransientError(
                        f"modem {self.name} is not registered in the network "
                        f"({self.info.registration})",
                        provider=self.name,
                    )
            references: list[int] = []
            for index, pdu in enumerate(pdus):
                try:
                    references.append(
                        await at.submit_pdu(
                            pdu.tpdu_length,
                            pdu.hex,
                            self.config.command_timeout,
                            self.config.send_timeout,
                        )
                    )
                except AtError as exc:
                    if lookup(exc).reinit:
                        self._reinit()
                    error = send_error(self.name, exc)
                    raise type(error)(
                        self._partial(str(error), index, len(pdus)), provider=self.name
                    ) from None
                except AtTimeout as exc:
                    await self._resync(at)
                    raise TransientError(
                        self._partial(f"modem {self.name}: {exc}", index, len(pdus)),
                        provider=self.name,
                    ) from None
                except PortClosed as exc:
                    self._record_error(f"the device disappeared ({exc})")
                    raise TransientError(
                        self._partial(
                            f"modem {self.name}: the device disappeared while sending ({exc}); "
                            "reconnecting",
                            index,
                            len(pdus),
                        ),
                        provider=self.name,
                    ) from None
            self.info.sent_messages += 1
            self.info.sent_parts += len(pdus)
            if self.config.delivery_reports:
                self.reports.tracker.sent(number, references)
            return references

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
            await self._guarded(at, self._check_registration(at))
            await self._guarded(at, self._read_signal(at))

    # state --------------------------------------------------------------------------------------
    def _record_error(self, message: str) -> None:
        self.info.last_error = message
        self.info.last_error_at = self.clock.now()

    def why_not_ready(self) -> str:
        return self.info.last_error or self.info.state

    def status(self) -> dict[str, Any]:
        info = self.info
        signal = (
            f"{info.signal_dbm} dBm (CSQ {info.csq})"
            if info.signal_dbm is not None
            else "unknown"
            if info.csq is not None
            else None
        )
        return {
            "state": info.state,
            "port": self.config.port,
            "registration": info.registration or None,
            "signal": signal,
            "operator": info.operator or None,
            "sent": info.sent_messages,
            "parts": info.sent_parts,
            "busy": self.busy,
            "reconnects": info.reconnects,
            "status_reports": self.reports.received,
            "last_error": info.last_error or None,
            "last_error_at": rfc3339(info.last_error_at),
        }
