"""Bringing one modem up on a fresh channel (TS 27.005), and reading its network and signal.

ESC to leave a stale prompt, ``AT``, ``ATE0``, ``AT+CMEE=1``, the SIM PIN (``AT+CPIN?`` then
``AT+CPIN="..."`` at most once: three wrong PINs lock the SIM), ``AT+CREG?``, ``AT+CSQ``,
``AT+CMGF=0`` (PDU mode), ``AT+CSCA?`` and ``AT+COPS?`` for the status. A failure is an
:class:`InitError` (the supervisor tries again later) or, when only a person can fix it (a
wrong PIN, a PUK-locked SIM), :class:`ModemFatal`.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable

import serial

from bot.core.config import SmsModem
from senders.modem.at import AtChannel, AtError, AtTimeout, PortClosed
from senders.modem.errors import describe
from senders.modem.reports import ReportReader
from senders.modem.state import ModemState

LIVENESS_TIMEOUT = 5.0  # the first AT; a port that is not a modem should not take long
LIVENESS_TRIES = 3
PIN_SETTLE_TRIES = 10  # AT+CPIN? polls after entering the PIN, PIN_SETTLE_DELAY apart
PIN_SETTLE_DELAY = 0.5

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


async def initialise(
    at: AtChannel,
    config: SmsModem,
    info: ModemState,
    reports: ReportReader,
    record_error: Callable[[str], None],
) -> None:
    """The whole sequence, filling ``info``; a missing SMS centre is recorded, not raised."""
    timeout = config.command_timeout
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
    await unlock_sim(at, config)
    await check_registration(at, config, info)
    await read_signal(at, config, info)
    await at.command("AT+CMGF=0", timeout)
    with contextlib.suppress(AtError, AtTimeout):
        answer = await at.command("AT+CSCA?", timeout, prefix="+CSCA:")
        found = _QUOTED.search(answer[0]) if answer else None
        info.smsc = found.group(1) if found else ""
    with contextlib.suppress(AtError, AtTimeout):
        answer = await at.command("AT+COPS?", timeout, prefix="+COPS:")
        found = _QUOTED.search(answer[0]) if answer else None
        info.operator = found.group(1) if found else ""
    if not info.smsc and not config.smsc:
        record_error("no SMS centre stored in the SIM: set smsc in [[sms.modems]]")
    if config.delivery_reports:
        await reports.enable(at)


def init_failure(exc: BaseException, port: str) -> str:
    """What a failed initialisation attempt is recorded as."""
    if isinstance(exc, AtError):
        return f"initialisation failed at {exc.command}: {describe(exc)}"
    if isinstance(exc, AtTimeout):
        return f"initialisation: no answer from the modem on {port}"
    if isinstance(exc, PortClosed):
        return f"the device disappeared during initialisation ({exc})"
    if isinstance(exc, (serial.SerialException, OSError)):
        return f"cannot open {port}: {exc}"
    return str(exc)


async def _sim_state(at: AtChannel, config: SmsModem) -> str:
    answer = await at.command("AT+CPIN?", config.command_timeout, prefix="+CPIN:")
    return answer[0].strip('"').upper() if answer else ""


async def unlock_sim(at: AtChannel, config: SmsModem) -> None:
    """Enter the PIN when the SIM asks for one, once: a wrong one is never retried."""
    state = await _sim_state(at, config)
    if state == "READY":
        return
    if "PUK" in state:
        raise ModemFatal(
            f"the SIM is locked and asks for the PUK ({state}): unlock it in a "
            "phone, then restart Vestnik"
        )
    if state != "SIM PIN":
        raise InitError(f"the SIM is not ready: {state or 'no answer to AT+CPIN?'}")
    pin = config.pin.get_secret_value() if config.pin else ""
    if not pin:
        env = f"VESTNIK_SMS_{re.sub(r'[^A-Za-z0-9]', '_', config.name).upper()}_PIN"
        raise ModemFatal(
            "the SIM asks for a PIN: set pin for this modem in [[sms.modems]] "
            f"(or {env}) and restart"
        )
    try:
        await at.command(f'AT+CPIN="{pin}"', config.command_timeout)
    except AtError as exc:
        raise ModemFatal(
            f"the SIM rejected the PIN ({describe(exc)}); not trying again, "
            "a third wrong PIN locks the SIM: fix pin in [[sms.modems]] and "
            "restart"
        ) from None
    for _ in range(PIN_SETTLE_TRIES):
        if await _sim_state(at, config) == "READY":
            return
        await asyncio.sleep(PIN_SETTLE_DELAY)
    raise InitError("the SIM accepted the PIN but did not become ready")


async def check_registration(at: AtChannel, config: SmsModem, info: ModemState) -> None:
    """``AT+CREG?`` into ``info.registration`` / ``info.registered``."""
    answer = await at.command("AT+CREG?", config.command_timeout, prefix="+CREG:")
    fields = [f.strip() for f in (answer[0] if answer else "").split(",")]
    stat = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else 4
    info.registration, info.registered = REGISTRATION.get(
        stat, (f"registration state {stat}", False)
    )


async def read_signal(at: AtChannel, config: SmsModem, info: ModemState) -> None:
    """``AT+CSQ`` into ``info.csq`` / ``info.signal_dbm``."""
    answer = await at.command("AT+CSQ", config.command_timeout, prefix="+CSQ:")
    rssi_text = (answer[0] if answer else "").split(",")[0].strip()
    rssi = int(rssi_text) if rssi_text.isdigit() else CSQ_UNKNOWN
    info.csq = rssi
    info.signal_dbm = csq_to_dbm(rssi)
