"""Reading the SMS that arrive at a modem (research/gsm-modem.md: +CMTI, AT+CMGL in PDU mode).

:class:`SmsReader` watches one :class:`~senders.modem.modem.Modem`:

- after every (re)initialisation it asks for new-message indications (``AT+CNMI``, keeping
  the delivery-report setting another module may have chosen) and listens for ``+CMTI``;
- on ``+CMTI`` and every ``sweep_seconds`` anyway it lists the stored messages
  (``AT+CMGL=4``: all, PDU mode), decodes them (``pdu_decode``), puts concatenated parts
  together and hands each whole message to the sink;
- a message is deleted from the SIM (``AT+CMGD``) only after the sink took it. Parts of a long
  message whose other parts never come are delivered as they are after ``PARTS_WAIT``.

Each modem conversation holds the modem's lock briefly (one listing, then the deletions), so
sends only wait for that, never for the sink.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from bot.core.inbound_sms import InboundSms, InboundSmsSink
from bot.core.sending import SendError
from senders.modem.at import AtChannel, AtError, AtTimeout, PortClosed
from senders.modem.modem import Modem
from senders.modem.pdu_decode import Deliver, decode_deliver

log = logging.getLogger(__name__)

PARTS_WAIT = 3600.0  # seconds to wait for the missing parts of a long message
MISSING_PART = "[…]"
_MODEM_ERRORS = (SendError, AtError, AtTimeout, PortClosed)

Stored = tuple[int, Deliver]  # (SIM index, decoded part)


def parse_listing(lines: list[str]) -> tuple[list[Stored], list[int]]:
    """``+CMGL: <index>,<stat>,[<alpha>],<length>`` lines each followed by a PDU line:
    the decoded parts, and the indexes whose PDU could not be decoded."""
    stored: list[Stored] = []
    broken: list[int] = []
    index: int | None = None
    for line in lines:
        if line.startswith("+CMGL:"):
            head = line[len("+CMGL:") :].split(",")[0].strip()
            index = int(head) if head.isdigit() else None
            continue
        if index is None or line.startswith(("+", "^")):
            continue  # an unsolicited line in the middle of the listing
        try:
            stored.append((index, decode_deliver(line)))
        except ValueError as exc:
            log.warning("SIM message %s: cannot decode (%s); deleting it", index, exc)
            broken.append(index)
        index = None
    return stored, broken


def assemble(
    stored: list[Stored], first_seen: dict[tuple[str, int, int], float], now: float, modem: str
) -> list[tuple[InboundSms, list[int]]]:
    """Whole messages with their SIM indexes; incomplete ones wait (``first_seen``)."""
    ready: list[tuple[InboundSms, list[int]]] = []
    groups: dict[tuple[str, int, int], dict[int, Stored]] = {}
    for index, part in stored:
        if part.concat is None or part.concat[1] <= 1:
            ready.append((_message(modem, [part], None), [index]))
            continue
        reference, total, sequence = part.concat
        groups.setdefault((part.sender, reference, total), {})[sequence] = (index, part)
    for key, parts in groups.items():
        total = key[2]
        seen = first_seen.setdefault(key, now)
        if len(parts) < total and now - seen < PARTS_WAIT:
            continue
        first_seen.pop(key, None)
        ordered = [parts.get(sequence) for sequence in range(1, total + 1)]
        ready.append(
            (
                _message(modem, [p[1] if p else None for p in ordered], key[1]),
                [p[0] for p in ordered if p],
            )
        )
    return ready


def _message(modem: str, parts: list[Deliver | None], reference: int | None) -> InboundSms:
    present = [p for p in parts if p is not None]
    first = present[0]
    text = "".join(p.text if p else MISSING_PART for p in parts)
    stamp = first.sent_at.isoformat() if first.sent_at else ""
    return InboundSms(
        modem=modem,
        sender=first.sender,
        text=text,
        sent_at=first.sent_at,
        parts=len(present),
        key=f"{first.sender}|{stamp}|{reference}|{len(text)}",
    )


def cnmi_with_indications(current: str) -> str:
    """``AT+CNMI`` keeping bm/ds/bfr of the current ``+CNMI: mode,mt,bm,ds,bfr``, with
    mode 2 (buffer while busy) and mt 1 (``+CMTI`` for a message stored on the SIM)."""
    fields = [f.strip() for f in current.split(",")]
    fields += ["0"] * (5 - len(fields))
    fields[0], fields[1] = "2", "1"
    return "AT+CNMI=" + ",".join(fields[:5])


class SmsReader:
    """Inbound SMS of one modem, handed to ``sink``."""

    def __init__(
        self,
        modem: Modem,
        sink: InboundSmsSink,
        *,
        sweep_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.modem = modem
        self.sink = sink
        self.sweep_seconds = sweep_seconds
        self.received = 0
        self._monotonic = monotonic
        self._first_seen: dict[tuple[str, int, int], float] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.modem.ready_hooks.append(self._on_ready)
        if self.modem.ready:  # already connected: the hook ran before we were here
            with contextlib.suppress(*_MODEM_ERRORS):
                await self.modem.converse(self._on_ready)
        self._task = asyncio.create_task(self._run(), name=f"sms-reader-{self.modem.name}")

    async def close(self) -> None:
        with contextlib.suppress(ValueError):
            self.modem.ready_hooks.remove(self._on_ready)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _on_ready(self, at: AtChannel) -> None:
        at.line_listeners.append(self._on_line)
        timeout = self.modem.config.command_timeout
        try:
            answer = await at.command("AT+CNMI?", timeout, prefix="+CNMI:")
            await at.command(cnmi_with_indications(answer[0] if answer else ""), timeout)
        except (AtError, AtTimeout) as exc:  # the periodic sweep still finds the messages
            log.warning("modem %s: no new-message indications (%s)", self.modem.name, exc)
        self._wake.set()  # messages that came while we were away

    def _on_line(self, line: str) -> None:
        if line.startswith("+CMTI:"):
            self._wake.set()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.sweep_seconds)
            self._wake.clear()
            if not self.modem.ready:  # (re)connecting: look again shortly
                await asyncio.sleep(0.5)
                self._wake.set()
                continue
            try:
                await self.sweep()
            except Exception:  # never let the reader die; the next sweep tries again
                log.exception("modem %s: reading SMS failed", self.modem.name)

    async def sweep(self) -> int:
        """List, hand over and delete; returns how many messages the sink took."""
        timeout = self.modem.config.command_timeout
        try:
            lines = await self.modem.converse(lambda at: at.listing("AT+CMGL=4", timeout))
        except _MODEM_ERRORS as exc:
            log.info("modem %s: cannot list SMS now (%s)", self.modem.name, exc)
            return 0
        stored, delete = parse_listing(lines)
        taken = 0
        for sms, indexes in assemble(stored, self._first_seen, self._monotonic(), self.modem.name):
            try:
                await self.sink(sms)
            except Exception:  # kept on the SIM: offered again on the next sweep
                log.exception(
                    "modem %s: the SMS from %s was not taken", self.modem.name, sms.sender
                )
                continue
            taken += 1
            delete += indexes
        if delete:
            await self._delete(delete, timeout)
        self.received += taken
        return taken

    async def _delete(self, indexes: list[int], timeout: float) -> None:
        async def job(at: AtChannel) -> None:
            for index in indexes:
                await at.command(f"AT+CMGD={index}", timeout)

        try:
            await self.modem.converse(job)
        except _MODEM_ERRORS as exc:  # the sink recognises a repeat by the key
            log.warning("modem %s: deleting SMS %s failed (%s)", self.modem.name, indexes, exc)
