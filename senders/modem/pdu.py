"""SMS-SUBMIT PDU encoder (3GPP TS 23.040 §9.2.2.2) for ``AT+CMGS`` in PDU mode.

One text becomes one or more PDUs. Each is the SMSC field (``00``: the SMSC stored in the
modem, or the configured one as ``<len> 91 <BCD>``) followed by the TPDU:

    first octet | TP-MR 00 | TP-DA | TP-PID 00 | TP-DCS | [TP-VP] | TP-UDL | TP-UD

GSM-7 when the whole text is in the GSM 03.38 alphabet, otherwise UCS-2 (``bot.core.sms_text``
decides and cuts). Longer texts are concatenated with the 8-bit-reference UDH
``05 00 03 <ref> <total> <seq>``; after it GSM-7 text starts on a septet boundary (1 fill bit).
``AT+CMGS=<n>`` wants the TPDU length, without the SMSC field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.core.sms_text import (
    PART_CAPACITY,
    SINGLE_CAPACITY,
    encoding,
    gsm7_chunks,
    gsm7_septets,
    pack_septets,
    ucs2_chunks,
)

MTI_SUBMIT = 0x01
VPF_RELATIVE = 0x10
SRR = 0x20  # TP-SRR: ask the SMS centre for a status report (senders/modem/reports.py)
UDHI = 0x40

TOA_INTERNATIONAL = 0x91  # extension bit, TON 001 international, NPI 0001 E.164
TOA_UNKNOWN = 0x81  # TON unknown: digits as dialled in the operator's network

DCS: dict[str, int] = {"gsm7": 0x00, "ucs2": 0x08}

IEI_CONCAT_8BIT = 0x00
CONCAT_UDH_LENGTH = 6  # UDHL + IEI + IEDL + ref + total + seq
GSM7_FILL_BITS = 1  # 6 octets = 48 bits; one zero bit makes it 7 septets
MAX_PARTS = 255

DEFAULT_VALIDITY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class SubmitPdu:
    """One ``AT+CMGS`` worth: the hex to send after the prompt and the length to announce."""

    hex: str
    tpdu_length: int


def semi_octets(digits: str) -> bytes:
    """BCD digits swapped in each octet, padded with F: ``79161234567`` -> ``97 61 21 43 65 F7``."""
    if not digits.isdigit() or not digits.isascii():
        raise ValueError(f"not a phone number: {digits!r}")
    padded = digits + "F" * (len(digits) % 2)
    return bytes.fromhex("".join(padded[i + 1] + padded[i] for i in range(0, len(padded), 2)))


def address_field(number: str) -> bytes:
    """TP-DA: number of digits, type of address, swapped BCD. ``+`` means international."""
    international = number.startswith("+")
    digits = number[1:] if international else number
    if not 1 <= len(digits) <= 20:
        raise ValueError(f"a phone number has 1 to 20 digits, got {number!r}")
    toa = TOA_INTERNATIONAL if international else TOA_UNKNOWN
    return bytes([len(digits), toa]) + semi_octets(digits)


def smsc_field(smsc: str) -> bytes:
    """``00`` (use the modem's stored SMSC) or length-in-octets, TOA, swapped BCD."""
    if not smsc:
        return b"\x00"
    international = smsc.startswith("+")
    digits = smsc[1:] if international else smsc
    body = bytes([TOA_INTERNATIONAL if international else TOA_UNKNOWN]) + semi_octets(digits)
    return bytes([len(body)]) + body


def relative_validity(period: timedelta) -> int:
    """TP-VP, relative format (TS 23.040 §9.2.3.12.1), rounded up to the next step."""
    minutes = -(-int(period.total_seconds()) // 60)
    if minutes <= 0:
        raise ValueError("the validity period must be positive")
    if minutes <= 12 * 60:
        return -(-minutes // 5) - 1
    if minutes <= 24 * 60:
        return 143 + -(-(minutes - 12 * 60) // 30)
    if minutes <= 30 * 24 * 60:
        return 166 + -(-minutes // (24 * 60))
    return min(255, 192 + -(-minutes // (7 * 24 * 60)))


def encode_submit(
    number: str,
    text: str,
    *,
    reference: int = 0,
    smsc: str = "",
    validity: timedelta | None = DEFAULT_VALIDITY,
    status_report: bool = False,
) -> list[SubmitPdu]:
    """The PDUs for ``text`` to ``number``; ``reference`` (0-255) ties the parts together.

    Raises ValueError for a number that is not digits or a text longer than 255 parts.
    """
    destination = address_field(number)
    sca = smsc_field(smsc)
    dcs = DCS[encoding(text)]
    first = (
        MTI_SUBMIT | (VPF_RELATIVE if validity is not None else 0) | (SRR if status_report else 0)
    )
    vp = bytes([relative_validity(validity)]) if validity is not None else b""

    if dcs == DCS["gsm7"]:
        septets = gsm7_septets(text)
        if len(septets) <= SINGLE_CAPACITY["gsm7"]:
            parts = [(len(septets), pack_septets(septets))]
        else:
            chunks = gsm7_chunks(text, PART_CAPACITY["gsm7"])
            parts = [(len(chunk), pack_septets(chunk, GSM7_FILL_BITS)) for chunk in chunks]
    else:
        raw = text.encode("utf-16-be")
        if len(raw) // 2 <= SINGLE_CAPACITY["ucs2"]:
            parts = [(len(raw), raw)]
        else:
            parts = [(len(chunk), chunk) for chunk in ucs2_chunks(text, PART_CAPACITY["ucs2"])]

    total = len(parts)
    if total > MAX_PARTS:
        raise ValueError(f"the text needs {total} SMS parts, at most {MAX_PARTS} are possible")
    pdus: list[SubmitPdu] = []
    for seq, (size, payload) in enumerate(parts, start=1):
        if total == 1:
            udh = b""
            udl = size
        else:
            udh = bytes([CONCAT_UDH_LENGTH - 1, IEI_CONCAT_8BIT, 3, reference & 0xFF, total, seq])
            # GSM-7 counts septets: the header and its fill bit are 7 of them
            udl = size + (7 if dcs == DCS["gsm7"] else CONCAT_UDH_LENGTH)
        fo = first | (UDHI if udh else 0)
        tpdu = (
            bytes([fo, 0x00]) + destination + bytes([0x00, dcs]) + vp + bytes([udl]) + udh + payload
        )
        pdus.append(SubmitPdu(hex=(sca + tpdu).hex().upper(), tpdu_length=len(tpdu)))
    return pdus
