"""A GSM modem on a pseudo-terminal, for tests and the benchmark (the modem AT manuals).

The emulator owns the master side of ``os.openpty()`` and reads it with ``loop.add_reader``;
the code under test opens ``port`` — a symlink to the slave (``/dev/pts/N``) so that an
unplugged and replugged modem reappears under the same name, like a udev ``by-id`` link.

It answers the AT commands a sender uses, honours echo and ``AT+CMEE``, can require a PIN,
answer ``+CMS ERROR``, take its time per SMS, or vanish. Every submitted PDU is decoded here
with a decoder written independently of ``senders.modem.pdu`` (different table layout,
different bit unpacking), checked against the published PDUs in the tests, and concatenated
parts are reassembled into :attr:`FakeModem.messages`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tty
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from tests.fakes.modem_sim import SimStore

# GSM 03.38 default alphabet as printed in the standard: eight columns of sixteen codes.
# Column c holds codes 0x10*c .. 0x10*c+15; 0x1B (column 1, row 11) is the escape.
GSM_COLUMNS = (
    "@£$¥èéùìòÇ\nØø\rÅå",
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ",
    " !\"#¤%&'()*+,-./",
    "0123456789:;<=>?",
    "¡ABCDEFGHIJKLMNO",
    "PQRSTUVWXYZÄÖÑÜ§",
    "¿abcdefghijklmno",
    "pqrstuvwxyzäöñüà",
)
GSM_EXTENSION_DECODE = {
    0x0A: "\f",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}
ESCAPE_SEPTET = 0x1B

CTRL_Z = 0x1A
ESC = 0x1B


def gsm_char(code: int) -> str:
    return GSM_COLUMNS[code >> 4][code & 0x0F]


def _bcd(octets: bytes, digits: int) -> str:
    text = "".join(f"{b & 0x0F:X}{b >> 4:X}" for b in octets)
    return text[:digits]


@dataclass
class Submit:
    """One decoded SMS-SUBMIT PDU."""

    smsc: str
    first_octet: int
    mr: int
    number: str
    toa: int
    pid: int
    dcs: int
    vp: int | None
    udl: int
    udh: bytes
    concat: tuple[int, int, int] | None  # (reference, total, sequence)
    text: str
    text_units: int  # septets (GSM-7) or octets (UCS-2) of text, without the UDH
    tpdu_length: int

    @property
    def srr(self) -> bool:
        return bool(self.first_octet & 0x20)

    @property
    def udhi(self) -> bool:
        return bool(self.first_octet & 0x40)


def _unpack(ud: bytes, count: int) -> list[int]:
    """Septet i is bits 7i..7i+6 of the UD read as one little-endian integer."""
    stream = int.from_bytes(ud, "little")
    return [(stream >> (7 * i)) & 0x7F for i in range(count)]


def _gsm_text(septets: list[int]) -> str:
    out: list[str] = []
    escaped = False
    for septet in septets:
        if escaped:
            out.append(GSM_EXTENSION_DECODE[septet])
            escaped = False
        elif septet == ESCAPE_SEPTET:
            escaped = True
        else:
            out.append(gsm_char(septet))
    if escaped:
        raise ValueError("the text ends with a lone ESC septet")
    return "".join(out)


def decode_submit(pdu_hex: str) -> Submit:
    """Decode SCA + SMS-SUBMIT TPDU; ValueError when it is malformed."""
    data = bytes.fromhex(pdu_hex)
    pos = 0
    sca_len = data[pos]
    pos += 1
    smsc = ""
    if sca_len:
        toa, digits = data[pos], data[pos + 1 : pos + sca_len]
        smsc = ("+" if toa == 0x91 else "") + _bcd(digits, 2 * len(digits)).rstrip("F")
        pos += sca_len
    tpdu_start = pos
    first = data[pos]
    if first & 0x03 != 0x01:
        raise ValueError(f"not an SMS-SUBMIT: first octet {first:02X}")
    mr = data[pos + 1]
    da_digits, toa = data[pos + 2], data[pos + 3]
    pos += 4
    da_octets = (da_digits + 1) // 2
    number = _bcd(data[pos : pos + da_octets], da_digits)
    if toa == 0x91:
        number = "+" + number
    pos += da_octets
    pid, dcs = data[pos], data[pos + 1]
    pos += 2
    vpf = (first >> 3) & 0x03
    vp: int | None = None
    if vpf == 0b10:
        vp = data[pos]
        pos += 1
    elif vpf in (0b01, 0b11):
        vp = int.from_bytes(data[pos : pos + 7], "big")
        pos += 7
    udl = data[pos]
    ud = data[pos + 1 :]
    udh = b""
    concat = None
    if first & 0x40:
        udhl = ud[0]
        udh = ud[: udhl + 1]
        i = 1
        while i < len(udh):
            iei, iedl = udh[i], udh[i + 1]
            value = udh[i + 2 : i + 2 + iedl]
            if iei == 0x00 and iedl == 3:
                concat = (value[0], value[1], value[2])
            elif iei == 0x08 and iedl == 4:
                concat = (int.from_bytes(value[:2], "big"), value[2], value[3])
            i += 2 + iedl
    coding = (dcs >> 2) & 0x03 if dcs & 0xC0 == 0 else None
    if coding == 0b00:  # GSM 7-bit
        if len(ud) != (udl * 7 + 7) // 8:
            raise ValueError(f"UDL {udl} septets does not match {len(ud)} octets of UD")
        skip = -(-len(udh) * 8 // 7)  # header plus fill bits, in septets
        septets = _unpack(ud, udl)[skip:]
        text, units = _gsm_text(septets), len(septets)
    elif coding == 0b10:  # UCS-2
        if len(ud) != udl:
            raise ValueError(f"UDL {udl} octets but {len(ud)} octets of UD")
        body = ud[len(udh) :]
        text, units = body.decode("utf-16-be"), len(body)
    else:
        raise ValueError(f"unexpected DCS {dcs:02X}")
    return Submit(
        smsc=smsc,
        first_octet=first,
        mr=mr,
        number=number,
        toa=toa,
        pid=pid,
        dcs=dcs,
        vp=vp,
        udl=udl,
        udh=udh,
        concat=concat,
        text=text,
        text_units=units,
        tpdu_length=len(data) - tpdu_start,
    )


@dataclass
class ReceivedSms:
    """What the recipient's phone would show: one text, from one or more parts."""

    number: str
    text: str
    parts: list[Submit] = field(default_factory=list)

    @property
    def reference(self) -> int | None:
        return self.parts[0].concat[0] if self.parts[0].concat else None


class FakeModem:
    """An AT modem behind ``port``. Attributes are the test knobs; see the module docstring."""

    def __init__(
        self,
        port: Path,
        *,
        pin: str | None = None,
        creg: int = 1,
        csq: tuple[int, int] = (18, 99),
        operator: str = "MegaFon",
        smsc: str = "+79168999100",
        cmgs_delay: float = 0.0,
        prompt: bytes = b"\r\n> ",
    ) -> None:
        self.port = port
        self.pin = pin
        self.creg = creg
        self.csq = csq
        self.operator = operator
        self.smsc = smsc
        self.cmgs_delay = cmgs_delay
        self.prompt = prompt
        self.cms_errors: deque[int] = deque()  # answered to the next submits, one each
        self.vanish_on_submit = False  # unplug instead of answering the next submit
        self.hold: asyncio.Event | None = None  # submits wait for it (after cmgs_delay)
        self.urc: str | None = None  # e.g. "^RSSI:18", injected before the prompt and result
        self.log: list[str] = []  # every command line, in order
        self.csms = 0  # AT+CSMS service: 1 means every +CDS must be acknowledged (AT+CNMA)
        self.cnmi_supported = True
        self.cnmi: str | None = None  # what AT+CNMI= set
        self.acks = 0  # AT+CNMA received
        self.stored_reports: dict[int, str] = {}  # index -> PDU, for +CDSI / AT+CMGR
        self.assigned: dict[int, Submit] = {}  # +CMGS reference -> the submit it answered
        self.submits: list[Submit] = []
        self.messages: list[ReceivedSms] = []
        self.plugged = False
        self.plugs = 0
        self._partial: dict[tuple[str, int, int], dict[int, Submit]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._mr = 0
        # incoming SMS (tests/fakes/modem_sim.py): AT+CNMI, +CMTI, AT+CMGL/CMGR/CMGD
        self.sim = SimStore(
            lambda text: self._line(text),
            lambda: self._ok(),
            lambda kind, code: self._error(kind, code),
            smsc,
        )
        self.plug()

    # the device ---------------------------------------------------------------------------------
    def plug(self) -> None:
        """Appear at ``port`` with factory state (echo on, SIM locked if a PIN is set)."""
        self._loop = asyncio.get_running_loop()
        self._master, self._slave = os.openpty()
        tty.setraw(self._master)
        os.set_blocking(self._master, False)
        tmp = self.port.with_name(self.port.name + ".new")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        tmp.symlink_to(os.ttyname(self._slave))
        tmp.replace(self.port)
        self.echo = True
        self.cmee = 0
        self.cmgf = 1
        self.sim_ready = self.pin is None
        self.pin_attempts = 3
        self._buffer = bytearray()
        self._pdu_length: int | None = None
        self._out = bytearray()
        self._queued: list[str] = []
        self._loop.add_reader(self._master, self._on_read)
        self.plugged = True
        self.plugs += 1

    def unplug(self) -> None:
        """Vanish like a pulled USB stick: the port's fds die and the name disappears."""
        if not self.plugged:
            return
        self.plugged = False
        for task in self._tasks:
            task.cancel()
        self._loop.remove_reader(self._master)
        self._loop.remove_writer(self._master)
        with contextlib.suppress(FileNotFoundError):
            self.port.unlink()
        os.close(self._master)
        os.close(self._slave)

    def replug(self) -> None:
        self.unplug()
        self.plug()

    async def close(self) -> None:
        tasks = list(self._tasks)
        self.unplug()
        await asyncio.gather(*tasks, return_exceptions=True)

    @property
    def pending(self) -> int:
        """Submits received and not yet answered."""
        return len(self._tasks)

    # bytes --------------------------------------------------------------------------------------
    def _send(self, data: bytes) -> None:
        if not self.plugged:
            return
        self._out += data
        self._flush()

    def _flush(self) -> None:
        try:
            written = os.write(self._master, self._out)
        except BlockingIOError:
            written = 0
        except OSError:
            return
        del self._out[:written]
        if self._out:
            self._loop.add_writer(self._master, self._flush)
        else:
            self._loop.remove_writer(self._master)

    def _line(self, text: str) -> None:
        self._send(b"\r\n" + text.encode("latin-1") + b"\r\n")

    def _ok(self) -> None:
        self._line("OK")

    def _error(self, kind: str, code: int) -> None:
        self._line("ERROR" if self.cmee == 0 else f"+{kind} ERROR: {code}")

    def _on_read(self) -> None:
        try:
            data = os.read(self._master, 4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # every slave fd closed: stop listening rather than spin
            self._loop.remove_reader(self._master)
            return
        for byte in data:
            if self._pdu_length is not None:
                if self.echo:
                    self._send(bytes([byte]))
                if byte == CTRL_Z:
                    self._start_submit(self._buffer.decode("ascii", "replace"), self._pdu_length)
                    self._buffer.clear()
                    self._pdu_length = None
                elif byte == ESC:
                    self._buffer.clear()
                    self._pdu_length = None
                    self._ok()
                else:
                    self._buffer.append(byte)
            elif byte == 0x0D:
                line = self._buffer.decode("latin-1").strip(" \n\x1b\x1a")
                self._buffer.clear()
                if self.echo:
                    self._send(b"\r")
                if line and self._tasks:
                    self._queued.append(line)  # busy with an SMS: like a real modem, later
                elif line:
                    self._command(line)
            elif byte == 0x0A and not self._buffer:
                continue
            else:
                if self.echo:
                    self._send(bytes([byte]))
                self._buffer.append(byte)

    # commands -----------------------------------------------------------------------------------
    def _command(self, line: str) -> None:
        self.log.append(line)
        upper = line.upper()
        if upper in ("AT", "ATZ", "AT&F", "ATV1"):
            self._ok()
        elif upper in ("ATE0", "ATE1"):
            self.echo = upper == "ATE1"
            self._ok()
        elif upper.startswith("AT+CMEE="):
            self.cmee = int(upper.split("=")[1])
            self._ok()
        elif upper == "AT+CPIN?":
            if self.pin_attempts == 0:
                self._line("+CPIN: SIM PUK")
            else:
                self._line("+CPIN: " + ("READY" if self.sim_ready else "SIM PIN"))
            self._ok()
        elif upper.startswith("AT+CPIN="):
            given = line.split("=", 1)[1].strip('"')
            if self.sim_ready:
                self._error("CME", 3)
            elif self.pin_attempts and given == self.pin:
                self.sim_ready = True
                self._ok()
            else:
                self.pin_attempts = max(0, self.pin_attempts - 1)
                self._error("CME", 16 if self.pin_attempts else 12)
        elif upper == "AT+CREG?":
            self._line(f"+CREG: 0,{self.creg}")
            self._ok()
        elif upper == "AT+CSQ":
            self._line(f"+CSQ: {self.csq[0]},{self.csq[1]}")
            self._ok()
        elif upper.startswith("AT+CMGF="):
            self.cmgf = int(upper.split("=")[1])
            self._ok()
        elif upper == "AT+CSCA?":
            self._line(f'+CSCA: "{self.smsc}",{145 if self.smsc.startswith("+") else 129}')
            self._ok()
        elif upper == "AT+COPS?":
            if not self.sim_ready:
                self._error("CME", 11)
            else:
                self._line(f'+COPS: 0,0,"{self.operator}",2')
                self._ok()
        elif upper == "AT+CSMS?":
            self._line(f"+CSMS: {self.csms},1,1,1")
            self._ok()
        elif upper.startswith("AT+CNMI=") and self.cnmi_supported:
            self.cnmi = line.split("=", 1)[1]
            self.sim.cnmi = self.cnmi.upper()  # one setting: reports and new-message indications
            self._ok()
        elif upper == "AT+CNMA":
            self.acks += 1
            self._ok() if self.csms == 1 else self._error("CMS", 340)
        elif upper.startswith("AT+CMGR=") and int(upper.split("=")[1]) in self.stored_reports:
            pdu = self.stored_reports.get(int(upper.split("=")[1]))
            if pdu is None:
                self._error("CMS", 321)
            else:
                self._line(f"+CMGR: 0,,{len(pdu) // 2 - 1}")
                self._line(pdu)
                self._ok()
        elif upper.startswith("AT+CMGD=") and int(upper.split("=")[1]) in self.stored_reports:
            self.stored_reports.pop(int(upper.split("=")[1]), None)
            self._ok()
        elif upper.startswith("AT+CMGS="):
            if not self.sim_ready:
                self._error("CMS", 311)
            elif self.cmgf != 0:
                self._error("CMS", 302)
            else:
                self._pdu_length = int(upper.split("=")[1])
                if self.urc:
                    self._line(self.urc)
                self._send(self.prompt)
        elif self.sim.handles(upper):
            self.sim.command(upper)
        else:
            self._line("ERROR")

    def _start_submit(self, pdu_hex: str, length: int) -> None:
        task = self._loop.create_task(self._submit(pdu_hex, length))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _submit(self, pdu_hex: str, length: int) -> None:
        try:
            await self._answer_submit(pdu_hex, length)
        finally:
            self._tasks.discard(asyncio.current_task())  # type: ignore[arg-type]
            queued, self._queued = self._queued, []
            if self.plugged:
                for line in queued:
                    self._command(line)

    async def _answer_submit(self, pdu_hex: str, length: int) -> None:
        if self.cmgs_delay:
            await asyncio.sleep(self.cmgs_delay)
        if self.hold is not None:
            await self.hold.wait()
        if self.urc:
            self._line(self.urc)
        if self.vanish_on_submit:
            self.vanish_on_submit = False
            self.unplug()
            return
        if self.creg not in (1, 5):
            self._error("CMS", 331)
            return
        try:
            submit = decode_submit(pdu_hex)
        except (ValueError, IndexError, KeyError):
            self._error("CMS", 304)
            return
        if submit.tpdu_length != length:
            self._error("CMS", 304)
            return
        if self.cms_errors:
            self._error("CMS", self.cms_errors.popleft())
            return
        self.submits.append(submit)
        self._deliver(submit)
        self.assigned[self._mr] = submit  # the reference the modem gave it
        self._line(f"+CMGS: {self._mr}")
        self._ok()
        self._mr = (self._mr + 1) % 256

    def report(
        self, mr: int, status: int, number: str | None = None, *, stored: bool = False
    ) -> str:
        """The SMS centre's status report for the submit with TP-MR ``mr``: pushed as
        ``+CDS: <n>`` + PDU, or kept and announced as ``+CDSI: "SR",<index>``."""
        submit = self.assigned.get(mr)
        recipient = number or (submit.number if submit else "+70000000000")
        pdu = status_report_pdu(mr, recipient, status)
        if stored:
            index = len(self.stored_reports) + 1
            self.stored_reports[index] = pdu
            self._line(f'+CDSI: "SR",{index}')
        else:
            self._line(f"+CDS: {len(pdu) // 2 - 1}")
            self._line(pdu)
        return pdu

    def _deliver(self, submit: Submit) -> None:
        if submit.concat is None:
            self.messages.append(ReceivedSms(submit.number, submit.text, [submit]))
            return
        ref, total, seq = submit.concat
        parts = self._partial.setdefault((submit.number, ref, total), {})
        parts[seq] = submit
        if len(parts) == total:
            ordered = [parts[i] for i in range(1, total + 1)]
            del self._partial[(submit.number, ref, total)]
            self.messages.append(
                ReceivedSms(submit.number, "".join(p.text for p in ordered), ordered)
            )


def _swapped(digits: str) -> bytes:
    digits += "F" * (len(digits) % 2)
    return bytes(int(digits[i + 1] + digits[i], 16) for i in range(0, len(digits), 2))


def status_report_pdu(mr: int, number: str, status: int) -> str:
    """An SMS-STATUS-REPORT as an SMS centre sends it (TS 23.040 §9.2.2.3): SMSC field,
    first octet 06 (MTI 10, TP-SRQ 0, TP-MMS 1), TP-MR, TP-RA, TP-SCTS, TP-DT, TP-ST."""
    plain = number.lstrip("+")
    smsc = bytes([0x07, 0x91]) + _swapped("79168999100")
    address = bytes([len(plain), 0x91 if number.startswith("+") else 0x81]) + _swapped(plain)
    scts = _swapped("261201100000") + b"\x21"  # 2026-12-01 10:00:00 +03:00 (12 quarters)
    dt = _swapped("261201100005") + b"\x21"
    return (smsc + bytes([0x06, mr]) + address + scts + dt + bytes([status])).hex().upper()
