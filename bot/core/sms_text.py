"""SMS text economics: which alphabet a text needs and how many SMS it costs.

An SMS carries 140 octets of user data. A text written entirely in the GSM 03.38 (3GPP TS
23.038) default alphabet is sent as 7-bit septets: 160 per single SMS, 153 per part of a
concatenated one (the 6-octet concatenation header plus one fill bit take 7 septets). The
characters of the extension table (``{ } [ ] ~ \\ | ^ €`` and form feed) are an ESC septet plus
one more, so they count 2. Anything else forces UCS-2: 70 UTF-16 code units per single SMS, 67
per part; characters outside the BMP (emoji) are surrogate pairs and count 2.

Parts never split an ESC pair or a surrogate pair, so :func:`segments` counts parts the way
:func:`gsm7_chunks` / :func:`ucs2_chunks` actually cut them, which the modem encoder uses too.

:func:`translit` turns Cyrillic into Latin with the ICAO Doc 9303 table (the one in Russian
international passports since 2013, FMS order No. 320) and replaces other characters the GSM
alphabet lacks (typographic quotes, dashes, ``№``, emoji...), so the result is always GSM-7.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Encoding = Literal["gsm7", "ucs2"]

ESC = 0x1B

# GSM 03.38 basic table in code order, 0x00..0x7F. 0x1B is the escape to the extension table
# (placeholder here, never matched). 0x5F is "§" (not "`", unlike some libraries' tables).
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)

# Extension table: the septet sent after ESC.
GSM7_EXTENSION: dict[str, int] = {
    "\f": 0x0A,
    "^": 0x14,
    "{": 0x28,
    "}": 0x29,
    "\\": 0x2F,
    "[": 0x3C,
    "~": 0x3D,
    "]": 0x3E,
    "|": 0x40,
    "€": 0x65,
}

_BASIC_CODE: dict[str, int] = {ch: code for code, ch in enumerate(GSM7_BASIC) if code != ESC}

# Capacity per SMS, in septets (gsm7) or UTF-16 code units (ucs2).
SINGLE_CAPACITY: dict[Encoding, int] = {"gsm7": 160, "ucs2": 70}
PART_CAPACITY: dict[Encoding, int] = {"gsm7": 153, "ucs2": 67}


@dataclass(frozen=True, slots=True)
class SmsInfo:
    """What a text costs: ``units`` are septets (gsm7) or UTF-16 code units (ucs2)."""

    encoding: Encoding
    units: int
    segments: int
    per_segment: int  # capacity of each segment: 160/153 (gsm7) or 70/67 (ucs2)


def is_gsm7(text: str) -> bool:
    """True when every character is in the GSM 03.38 basic or extension table."""
    return all(ch in _BASIC_CODE or ch in GSM7_EXTENSION for ch in text)


def encoding(text: str) -> Encoding:
    """``"gsm7"`` when the default alphabet covers the text, else ``"ucs2"``."""
    return "gsm7" if is_gsm7(text) else "ucs2"


def char_septets(ch: str) -> tuple[int, ...]:
    """The septets of one character: ``(code,)`` or ``(ESC, code)``. ValueError if not GSM."""
    code = _BASIC_CODE.get(ch)
    if code is not None:
        return (code,)
    ext = GSM7_EXTENSION.get(ch)
    if ext is not None:
        return (ESC, ext)
    raise ValueError(f"{ch!r} (U+{ord(ch):04X}) is not in the GSM 03.38 alphabet")


def gsm7_septets(text: str) -> list[int]:
    """The whole text as septet values (extension characters as ESC pairs)."""
    return [septet for ch in text for septet in char_septets(ch)]


def _utf16_units(ch: str) -> int:
    return 2 if ord(ch) > 0xFFFF else 1


def units(text: str) -> int:
    """Septets for a GSM-7 text, UTF-16 code units for anything else."""
    if is_gsm7(text):
        return sum(len(char_septets(ch)) for ch in text)
    return sum(_utf16_units(ch) for ch in text)


def _chunk(sizes: Iterable[tuple[str, int]], limit: int) -> list[list[str]]:
    """Greedy cut of (character, cost) into runs of at most ``limit``; a character is atomic."""
    chunks: list[list[str]] = [[]]
    used = 0
    for ch, cost in sizes:
        if used + cost > limit and chunks[-1]:
            chunks.append([])
            used = 0
        chunks[-1].append(ch)
        used += cost
    return chunks


def gsm7_chunks(text: str, limit: int) -> list[list[int]]:
    """Septets cut into parts of at most ``limit``, never between ESC and its character."""
    pieces = _chunk(((ch, len(char_septets(ch))) for ch in text), limit)
    return [gsm7_septets("".join(piece)) for piece in pieces]


def ucs2_chunks(text: str, limit: int) -> list[bytes]:
    """UTF-16BE parts of at most ``limit`` code units, never inside a surrogate pair."""
    pieces = _chunk(((ch, _utf16_units(ch)) for ch in text), limit)
    return ["".join(piece).encode("utf-16-be") for piece in pieces]


def sms_info(text: str) -> SmsInfo:
    """Encoding, size and the number of SMS the text will be sent as."""
    enc = encoding(text)
    size = units(text)
    if size <= SINGLE_CAPACITY[enc]:
        return SmsInfo(enc, size, 1, SINGLE_CAPACITY[enc])
    limit = PART_CAPACITY[enc]
    count = len(gsm7_chunks(text, limit) if enc == "gsm7" else ucs2_chunks(text, limit))
    return SmsInfo(enc, size, count, limit)


def segments(text: str) -> int:
    """How many SMS the text costs (an empty text is still one SMS)."""
    return sms_info(text).segments


def pack_septets(septets: Iterable[int], fill_bits: int = 0) -> bytes:
    """Pack 7-bit values LSB first (TS 23.038 §6.1.2.1); ``fill_bits`` zero bits go first.

    ``fill_bits`` aligns text after a User Data Header to a septet boundary: 1 after the
    6-octet concatenation header.
    """
    out = bytearray()
    acc = 0
    nbits = fill_bits
    for septet in septets:
        acc |= (septet & 0x7F) << nbits
        nbits += 7
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8
    if nbits:
        out.append(acc & 0xFF)
    return bytes(out)


# --- transliteration -------------------------------------------------------------------------

# ICAO Doc 9303 (Russian passports since 2013), plus the Ukrainian/Belarusian letters it covers.
CYRILLIC_TO_LATIN: dict[str, str] = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "е": "e",
    "ё": "e",
    "ж": "zh",
    "з": "z",
    "и": "i",
    "й": "i",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ъ": "ie",
    "ы": "y",
    "ь": "",
    "э": "e",
    "ю": "iu",
    "я": "ia",
    "і": "i",
    "ї": "i",
    "є": "ie",
    "ґ": "g",
    "ў": "u",
}

# Characters outside the GSM alphabet that have a plain equivalent.
GSM_REPLACEMENTS: dict[str, str] = {
    "«": '"',
    "»": '"',
    "„": '"',
    "“": '"',
    "”": '"',
    "‟": '"',
    "″": '"',
    "‘": "'",
    "’": "'",
    "‚": "'",
    "‛": "'",
    "′": "'",
    "`": "'",
    "´": "'",
    "‐": "-",
    "‑": "-",
    "‒": "-",
    "–": "-",
    "—": "-",
    "―": "-",
    "−": "-",
    "…": "...",
    "№": "No",
    "•": "*",
    "·": ".",
    "×": "x",
    "÷": "/",
    "₽": "RUB",
    "©": "(c)",
    "®": "(R)",
    "™": "TM",
    "\t": " ",
    "\u00a0": " ",
    "\u2002": " ",
    "\u2003": " ",
    "\u2007": " ",
    "\u2009": " ",
    "\u202f": " ",
    "\u2028": "\n",
    "\u2029": "\n",
}

UNKNOWN_REPLACEMENT = "?"

# Unicode categories dropped outright: combining marks (after decomposition), format
# characters (zero-width joiners, soft hyphen, variation selectors) and pictographs/emoji.
_DROPPED_CATEGORIES = ("Mn", "Me", "Mc", "Cf", "So", "Sk", "Cs")


def _translit_char(ch: str, prev: str, nxt: str) -> str:
    lower = ch.lower()
    latin = CYRILLIC_TO_LATIN.get(lower)
    if latin is None:
        return ""
    if ch == lower or not latin:
        return latin
    # "Щука" -> "Shchuka", but "ЩУКА" -> "SHCHUKA"
    if prev.isupper() or nxt.isupper():
        return latin.upper()
    return latin.capitalize()


def _fallback(ch: str) -> str:
    """Latin letters with diacritics lose them; what has no sensible form is '?' or dropped."""
    decomposed = unicodedata.normalize("NFKD", ch)
    kept = "".join(c for c in decomposed if is_gsm7(c))
    if kept:
        return kept
    if unicodedata.category(ch) in _DROPPED_CATEGORIES:
        return ""
    return UNKNOWN_REPLACEMENT


def translit(text: str) -> str:
    """Cyrillic to Latin (ICAO Doc 9303) and every other character to the GSM-7 alphabet."""
    out: list[str] = []
    for i, ch in enumerate(text):
        if ch in _BASIC_CODE or ch in GSM7_EXTENSION:
            out.append(ch)
        elif ch.lower() in CYRILLIC_TO_LATIN:
            prev = text[i - 1] if i else ""
            nxt = text[i + 1] if i + 1 < len(text) else ""
            out.append(_translit_char(ch, prev, nxt))
        elif ch in GSM_REPLACEMENTS:
            out.append(GSM_REPLACEMENTS[ch])
        else:
            out.append(_fallback(ch))
    return "".join(out)
