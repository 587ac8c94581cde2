"""The SIM's message store of the fake modem: SMS arriving from customers.

:meth:`SimStore.receive` encodes an SMS-DELIVER (written here apart from the code under test:
septets packed through a bit string, UCS-2 cut by characters), stores each part at a free index
and, when ``AT+CNMI`` asked for it, announces it with ``+CMTI: "SM",<index>``. It answers
``AT+CNMI=``/``AT+CNMI?``, ``AT+CMGL=<stat>``, ``AT+CMGR=<index>`` and ``AT+CMGD=<index>``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
UCS2_PART = 67
GSM_SINGLE = 160


def _bcd(number: str) -> str:
    digits = number.lstrip("+")
    if len(digits) % 2:
        digits += "F"
    return "".join(digits[i + 1] + digits[i] for i in range(0, len(digits), 2))


def _septets_hex(septets: list[int], fill_bits: int = 0) -> str:
    # each septet as 7 bits, least significant first, in one long bit string
    bits = "0" * fill_bits + "".join(format(s, "07b")[::-1] for s in septets)
    bits += "0" * (-len(bits) % 8)
    return "".join(f"{int(bits[i : i + 8][::-1], 2):02X}" for i in range(0, len(bits), 8))


def _scts(moment: datetime) -> str:
    fields = [
        moment.year % 100,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
        12,
    ]  # +03:00 = 12 quarter hours
    return "".join(f"{v:02d}"[::-1] for v in fields)


def deliver_pdus(
    sender: str, text: str, *, smsc: str, reference: int, moment: datetime
) -> list[str]:
    """The SMS-DELIVER PDUs (SMSC field included) a phone's message arrives as."""
    sca = f"{len(_bcd(smsc)) // 2 + 1:02X}91{_bcd(smsc)}"
    oa = f"{len(sender.lstrip('+')):02X}91{_bcd(sender)}"
    if all(ch in GSM_BASIC for ch in text) and len(text) <= GSM_SINGLE:
        ud = _septets_hex([GSM_BASIC.index(ch) for ch in text])
        return [f"{sca}04{oa}0000{_scts(moment)}{len(text):02X}{ud}"]
    chunks = [text[i : i + UCS2_PART] for i in range(0, len(text), UCS2_PART)]
    pdus = []
    for seq, chunk in enumerate(chunks, 1):
        body = chunk.encode("utf-16-be").hex().upper()
        first, udh = "04", ""
        if len(chunks) > 1:
            first, udh = "44", f"050003{reference:02X}{len(chunks):02X}{seq:02X}"
        udl = len(udh) // 2 + len(body) // 2
        pdus.append(f"{sca}{first}{oa}0008{_scts(moment)}{udl:02X}{udh}{body}")
    return pdus


class SimStore:
    def __init__(
        self,
        line: Callable[[str], None],
        ok: Callable[[], None],
        error: Callable[[str, int], None],
        smsc: str,
    ) -> None:
        self._line, self._ok, self._error = line, ok, error
        self.smsc = smsc
        self.cnmi = "0,0,0,0,0"
        self.stored: dict[int, tuple[str, str]] = {}  # index -> (stat, pdu hex)
        self.deleted: list[int] = []
        self.capacity = 30
        self._reference = 40

    @property
    def indications(self) -> bool:
        return self.cnmi.split(",")[1] == "1"

    def receive(
        self, sender: str, text: str, *, moment: datetime | None = None, announce: bool = True
    ) -> list[int]:
        """A customer's SMS arrives; returns the indexes its parts were stored at."""
        self._reference = (self._reference + 1) % 256
        indexes = []
        for pdu in deliver_pdus(
            sender,
            text,
            smsc=self.smsc,
            reference=self._reference,
            moment=moment or datetime(2026, 12, 1, 12, 30, 5),
        ):
            index = next(i for i in range(self.capacity) if i not in self.stored)
            self.stored[index] = ("0", pdu)
            indexes.append(index)
            if announce and self.indications:
                self._line(f'+CMTI: "SM",{index}')
        return indexes

    def handles(self, upper: str) -> bool:
        return upper.startswith(("AT+CNMI", "AT+CMGL", "AT+CMGR", "AT+CMGD"))

    def command(self, upper: str) -> None:
        if upper == "AT+CNMI?":
            self._line(f"+CNMI: {self.cnmi}")
            self._ok()
        elif upper.startswith("AT+CNMI="):
            self.cnmi = upper.split("=", 1)[1]
            self._ok()
        elif upper.startswith("AT+CMGL="):
            for index in sorted(self.stored):
                stat, pdu = self.stored[index]
                self._line(f"+CMGL: {index},{stat},,{len(pdu) // 2 - int(pdu[:2], 16) - 1}")
                self._line(pdu)
                self.stored[index] = ("1", pdu)  # listed = read
            self._ok()
        elif upper.startswith("AT+CMGR="):
            index = int(upper.split("=", 1)[1])
            if index not in self.stored:
                self._error("CMS", 321)
                return
            stat, pdu = self.stored[index]
            self._line(f"+CMGR: {stat},,{len(pdu) // 2 - int(pdu[:2], 16) - 1}")
            self._line(pdu)
            self._ok()
        elif upper.startswith("AT+CMGD="):
            index = int(upper.split("=", 1)[1].split(",")[0])
            if self.stored.pop(index, None) is None:
                self._error("CMS", 321)
                return
            self.deleted.append(index)
            self._ok()
