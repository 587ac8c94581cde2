"""SMS-STATUS-REPORT: the modem's delivery receipts (3GPP TS 23.040 §9.2.2.3, §9.2.3.15).

A submit with TP-SRR set asks the SMS centre for a report. The modem pushes it as
``+CDS: <length>`` followed by the PDU (``AT+CNMI=...,<ds>=1``), or stores it and says
``+CDSI: "SR",<index>`` (``<ds>=2``), to be read with ``AT+CMGR`` and deleted with
``AT+CMGD``. With ``AT+CSMS=1`` every ``+CDS`` must be acknowledged with ``AT+CNMA``.

The report names the submit by its TP-MR (the ``+CMGS: <mr>`` answer) and the recipient.
MR wraps at 256, so :class:`ReportTracker` remembers the recent submits of one modem by MR
and accepts a report only when its recipient matches too. A multi-part message is
delivered when every part is; it failed as soon as one part failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from bot.core.sending import Delivery, DeliveryReport
from senders.modem.at import AtChannel, AtError, AtTimeout, PortClosed

log = logging.getLogger(__name__)

MTI_STATUS_REPORT = 0x02
TRACKED = 256  # submits remembered per modem: one per possible MR
# <mode>=2 <mt>=1 <bm>=0 <ds>=1 (+CDS pushed) <bfr>=0 (research gsm-modem.md §5)
CNMI = "AT+CNMI=2,1,0,1,0"
_HEX = re.compile(r"[0-9A-Fa-f]{20,}")

# TP-ST (TS 23.040 §9.2.3.15): the defined values, then the ranges by their meaning
STATUS_WORDS: dict[int, str] = {
    0x00: "received by the recipient",
    0x01: "forwarded, delivery not confirmed",
    0x02: "replaced by the SMS centre",
    0x20: "congestion, still trying",
    0x21: "recipient busy, still trying",
    0x22: "no response from the recipient, still trying",
    0x23: "service rejected, still trying",
    0x24: "quality of service not available, still trying",
    0x25: "error in the recipient's phone, still trying",
    0x40: "remote procedure error",
    0x41: "incompatible destination",
    0x42: "connection rejected by the recipient",
    0x43: "not obtainable",
    0x44: "quality of service not available",
    0x45: "no interworking available",
    0x46: "validity period expired",
    0x47: "deleted by the sender",
    0x48: "deleted by the SMS centre",
    0x49: "message does not exist",
    0x60: "congestion, given up",
    0x61: "recipient busy, given up",
    0x62: "no response from the recipient, given up",
    0x63: "service rejected, given up",
    0x64: "quality of service not available, given up",
    0x65: "error in the recipient's phone, given up",
}


def classify(status: int) -> tuple[Delivery, str]:
    """TP-ST -> verdict and words. 0x00-0x1F: the transaction completed (delivered);
    0x20-0x3F: temporary error, the centre keeps trying; 0x40-0x7F: permanent error or a
    temporary one the centre gave up on; reserved values (0x80 and up) count as failed."""
    words = STATUS_WORDS.get(status)
    if status < 0x20:
        state, fallback = Delivery.DELIVERED, "delivered (SMS centre specific)"
    elif status < 0x40:
        state, fallback = Delivery.TRYING, "temporary error, still trying"
    elif status < 0x80:
        state, fallback = Delivery.FAILED, "failed (SMS centre specific)"
    else:
        state, fallback = Delivery.FAILED, "reserved status"
    return state, f"TP-ST 0x{status:02X} {words or fallback}"


@dataclass(frozen=True, slots=True)
class StatusReport:
    reference: int  # TP-MR of the submit
    recipient: str  # "+79161234567" (international) or the digits as given
    status: int  # TP-ST
    discharged_at: datetime | None  # TP-DT: when the final state was reached


def _bcd(octets: bytes, count: int) -> str:
    return "".join(f"{b & 0x0F:x}{b >> 4:x}" for b in octets)[:count]


def _timestamp(octets: bytes) -> datetime | None:
    """TP-SCTS/TP-DT: swapped BCD YY MM DD hh mm ss and a quarter-hour zone (bit 3 = minus)."""
    digits = [
        int(f"{b & 0x0F}{b >> 4}") if (b & 0x0F) < 10 and (b >> 4) < 10 else None
        for b in octets[:6]
    ]
    fields = [d for d in digits if d is not None]
    if len(fields) != 6:
        return None
    zone_octet = octets[6]
    quarters = (zone_octet & 0x07) * 10 + (zone_octet >> 4)
    sign = -1 if zone_octet & 0x08 else 1
    year, month, day, hour, minute, second = fields
    try:
        local = datetime(
            2000 + year,
            month,
            day,
            hour,
            minute,
            second,
            tzinfo=timezone(timedelta(minutes=sign * 15 * quarters)),
        )
    except (ValueError, TypeError):
        return None
    return local.astimezone(UTC)


def decode_status_report(pdu_hex: str) -> StatusReport:
    """The SMS-STATUS-REPORT in ``pdu_hex`` (with its SMSC field, as ``+CDS`` and
    ``AT+CMGR`` give it). ValueError when it is not one."""
    try:
        data = bytes.fromhex(pdu_hex.strip())
        pos = 1 + data[0]  # skip the SMSC field
        first = data[pos]
        if first & 0x03 != MTI_STATUS_REPORT:
            raise ValueError(f"not a status report (first octet 0x{first:02X})")
        reference = data[pos + 1]
        digits, toa = data[pos + 2], data[pos + 3]
        size = (digits + 1) // 2
        number = _bcd(data[pos + 4 : pos + 4 + size], digits)
        pos += 4 + size
        discharged = _timestamp(data[pos + 7 : pos + 14])
        status = data[pos + 14]
    except IndexError:
        raise ValueError("status report too short") from None
    if (toa & 0x70) == 0x10:  # type of number: international
        number = "+" + number
    return StatusReport(reference, number, status, discharged)


@dataclass(slots=True)
class _Submitted:
    message_id: str  # the journal's provider_message_id: the parts' MRs, comma-joined
    phone: str
    pending: set[int] = field(default_factory=set)  # MRs of parts without a final report


class ReportTracker:
    """The recent submits of one modem, by MR, so a report finds its message."""

    def __init__(self, size: int = TRACKED) -> None:
        self.size = size
        self._by_mr: OrderedDict[int, _Submitted] = OrderedDict()

    def sent(self, phone: str, references: list[int]) -> None:
        entry = _Submitted(",".join(str(r) for r in references), phone, set(references))
        for mr in references:
            self._by_mr.pop(mr, None)
            self._by_mr[mr] = entry
        while len(self._by_mr) > self.size:
            self._by_mr.popitem(last=False)

    def match(self, report: StatusReport) -> DeliveryReport | None:
        """The receipt for the message this report belongs to, or ``None`` when it is not
        ours (unknown MR, another recipient) or only one of several parts has arrived."""
        entry = self._by_mr.get(report.reference)
        if entry is None or entry.phone.lstrip("+") != report.recipient.lstrip("+"):
            return None
        state, words = classify(report.status)
        if state is Delivery.TRYING:
            return DeliveryReport(
                entry.message_id, state, words, at=report.discharged_at, phone=entry.phone
            )
        entry.pending.discard(report.reference)
        self._by_mr.pop(report.reference, None)
        if state is Delivery.DELIVERED and entry.pending:
            return None  # other parts still on their way
        for mr in entry.pending:  # a failed part settles the whole message
            self._by_mr.pop(mr, None)
        return DeliveryReport(
            entry.message_id, state, words, at=report.discharged_at, phone=entry.phone
        )


class ReportReader:
    """One modem's side of the reports: switched on during initialisation, ``+CDS``
    acknowledged when the modem wants it, ``+CDSI`` read and deleted, each report matched and
    handed to ``on_report(modem name, [receipt])``."""

    def __init__(self, name: str, lock: asyncio.Lock, timeout: float) -> None:
        self.name = name
        self.lock = lock  # the modem's: one command at a time
        self.timeout = timeout
        self.tracker = ReportTracker()
        self.on_report: Callable[[str, list[DeliveryReport]], Awaitable[Any]] | None = None
        self.acknowledge = False  # AT+CSMS=1: every +CDS needs AT+CNMA
        self.received = 0
        self.unmatched = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def enable(self, at: AtChannel) -> None:
        """During initialisation (the caller holds the lock)."""
        with contextlib.suppress(AtError, AtTimeout):
            answer = await at.command("AT+CSMS?", self.timeout, prefix="+CSMS:")
            self.acknowledge = bool(answer) and answer[0].split(",")[0].strip() == "1"
        try:
            await at.command(CNMI, self.timeout)
        except (AtError, AtTimeout) as exc:
            log.warning(
                "modem %s: status reports not switched on (%s): rows stay 'sent'", self.name, exc
            )
        at.on_urc("+CDS:", lambda _line, pdu: self._spawn(self._pushed(at, pdu)), trailing=1)
        at.on_urc("+CDSI:", lambda line, _: self._spawn(self._stored(at, line)))

    def _spawn(self, job: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _pushed(self, at: AtChannel, pdu: str | None) -> None:
        if self.acknowledge:
            async with self.lock:
                with contextlib.suppress(AtError, AtTimeout, PortClosed):
                    await at.command("AT+CNMA", self.timeout)
        await self._handle(pdu or "")

    async def _stored(self, at: AtChannel, line: str) -> None:
        index = line.rsplit(",", 1)[-1].strip()
        if not index.isdigit():
            return
        try:
            async with self.lock:
                lines = await at.command(f"AT+CMGR={index}", self.timeout)
                await at.command(f"AT+CMGD={index}", self.timeout)
        except (AtError, AtTimeout, PortClosed) as exc:
            log.warning("modem %s: stored status report %s not read: %s", self.name, index, exc)
            return
        await self._handle(next((item for item in reversed(lines) if _HEX.fullmatch(item)), ""))

    async def _handle(self, pdu: str) -> None:
        try:
            report = decode_status_report(pdu)
        except ValueError as exc:
            log.warning("modem %s: a status report that does not decode: %s", self.name, exc)
            return
        self.received += 1
        found = self.tracker.match(report)
        if found is None:
            self.unmatched += 1
            return
        if self.on_report is not None:
            try:
                await self.on_report(self.name, [found])
            except Exception:  # a receipt must never take the modem down
                log.exception("modem %s: recording a status report failed", self.name)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
