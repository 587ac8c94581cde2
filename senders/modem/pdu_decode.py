"""SMS-DELIVER PDU decoder (3GPP TS 23.040 §9.2.2.1) for what ``AT+CMGL``/``AT+CMGR`` list
in PDU mode:

    SMSC field | first octet | TP-OA | TP-PID | TP-DCS | TP-SCTS (7) | TP-UDL | TP-UD

GSM 7-bit (basic table and the ESC extension), UCS-2 (UTF-16 BE, so surrogate pairs too) and
8-bit data (shown as hex); a UDH with a concatenation element (8- or 16-bit reference) says
which part of which long message this is. Alphanumeric senders (TON 101) are GSM-7 packed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from bot.core.sms_text import ESC, GSM7_BASIC, GSM7_EXTENSION

MTI_MASK = 0x03
MTI_DELIVER = 0x00
UDHI = 0x40
TON_ALPHANUMERIC = 0x50
_EXTENSION_CHAR = {code: ch for ch, code in GSM7_EXTENSION.items()}


@dataclass(frozen=True, slots=True)
class Deliver:
    """One received part."""

    sender: str
    text: str
    sent_at: datetime | None
    concat: tuple[int, int, int] | None  # (reference, total, sequence)
    dcs: int


def _swap_digits(octets: bytes, count: int) -> str:
    digits = "".join(f"{b & 0x0F:X}{b >> 4:X}" for b in octets)
    return digits[:count].replace("F", "")


def unpack_septets(data: bytes, count: int, skip_bits: int = 0) -> list[int]:
    """``count`` septets starting ``skip_bits`` into ``data`` (little-endian bit order)."""
    stream = int.from_bytes(data, "little") >> skip_bits
    return [(stream >> (7 * i)) & 0x7F for i in range(count)]


def gsm7_text(septets: list[int]) -> str:
    out: list[str] = []
    escaped = False
    for code in septets:
        if escaped:
            out.append(_EXTENSION_CHAR.get(code, " "))
            escaped = False
        elif code == ESC:
            escaped = True
        else:
            out.append(GSM7_BASIC[code])
    return "".join(out)


def _timestamp(octets: bytes) -> datetime | None:
    """TP-SCTS: swapped BCD YY MM DD hh mm ss and the zone in quarter hours (bit 3 = minus)."""
    try:
        fields = [int(f"{b & 0x0F}{b >> 4}") for b in octets[:6]]
        zone_octet = octets[6]
        quarters = int(f"{zone_octet & 0x07}{zone_octet >> 4}")
        sign = -1 if zone_octet & 0x08 else 1
        zone = timezone(timedelta(minutes=15 * quarters * sign))
        year, month, day, hour, minute, second = fields
        return datetime(2000 + year, month, day, hour, minute, second, tzinfo=zone)
    except (ValueError, IndexError):
        return None  # a garbled time stamp does not lose the text


def _address(data: bytes, pos: int) -> tuple[str, int]:
    digits, toa = data[pos], data[pos + 1]
    octets = data[pos + 2 : pos + 2 + (digits + 1) // 2]
    if toa & 0x70 == TON_ALPHANUMERIC:
        name = gsm7_text(unpack_septets(octets, digits * 4 // 7))
        return name, pos + 2 + len(octets)
    number = _swap_digits(octets, digits)
    prefix = "+" if toa & 0x70 == 0x10 else ""
    return prefix + number, pos + 2 + len(octets)


def _concat(udh: bytes) -> tuple[int, int, int] | None:
    i = 1
    while i + 1 < len(udh):
        iei, length = udh[i], udh[i + 1]
        value = udh[i + 2 : i + 2 + length]
        if iei == 0x00 and length == 3:
            return value[0], value[1], value[2]
        if iei == 0x08 and length == 4:
            return int.from_bytes(value[:2], "big"), value[2], value[3]
        i += 2 + length
    return None


def decode_deliver(pdu_hex: str) -> Deliver:
    """Decode SMSC field + SMS-DELIVER; ValueError when it is not one or is malformed."""
    try:
        data = bytes.fromhex(pdu_hex.strip())
        pos = 1 + data[0]  # skip the SMSC field
        first = data[pos]
        if first & MTI_MASK != MTI_DELIVER:
            raise ValueError(f"not an SMS-DELIVER (first octet {first:02X})")
        sender, pos = _address(data, pos + 1)
        dcs = data[pos + 1]
        sent_at = _timestamp(data[pos + 2 : pos + 9])
        udl = data[pos + 9]
        ud = data[pos + 10 :]
        return _user_data(first, dcs, udl, ud, sender, sent_at)
    except IndexError:
        raise ValueError("the PDU is shorter than its fields say") from None


def _user_data(
    first: int, dcs: int, udl: int, ud: bytes, sender: str, sent_at: datetime | None
) -> Deliver:
    udh = ud[: ud[0] + 1] if first & UDHI and ud else b""
    coding = (dcs >> 2) & 0x03 if dcs & 0xC0 == 0 else (0b10 if dcs & 0xF0 == 0xE0 else 0)
    if dcs & 0xF0 == 0xF0:  # data coding/message class group: bit 2 chooses 8-bit
        coding = 0b01 if dcs & 0x04 else 0b00
    if coding == 0b00:
        header_septets = -(-len(udh) * 8 // 7)
        septets = unpack_septets(ud, udl)[header_septets:]
        text = gsm7_text(septets)
    elif coding == 0b10:
        body = ud[len(udh) : udl]
        text = body[: len(body) // 2 * 2].decode("utf-16-be", errors="replace")
    else:
        text = ud[len(udh) : udl].hex()
    return Deliver(
        sender=sender, text=text, sent_at=sent_at, concat=_concat(udh) if udh else None, dcs=dcs
    )
