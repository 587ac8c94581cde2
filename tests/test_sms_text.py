"""SMS text economics: alphabet choice, segment counting, septet packing, transliteration."""

from __future__ import annotations

import pytest

from bot.core.sms_text import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    SmsInfo,
    encoding,
    gsm7_chunks,
    is_gsm7,
    pack_septets,
    segments,
    sms_info,
    translit,
    ucs2_chunks,
)

EMOJI = "\U0001f600"

SEGMENT_CASES = [
    # (text, encoding, units, segments, per_segment)
    ("", "gsm7", 0, 1, 160),
    ("Hello", "gsm7", 5, 1, 160),
    ("a" * 160, "gsm7", 160, 1, 160),
    ("a" * 161, "gsm7", 161, 2, 153),
    ("a" * 306, "gsm7", 306, 2, 153),
    ("a" * 307, "gsm7", 307, 3, 153),
    ("{" * 80, "gsm7", 160, 1, 160),  # extension characters count 2
    ("{" * 81, "gsm7", 162, 2, 153),
    ("€" * 80 + "a", "gsm7", 161, 2, 153),
    ("Цена: 5€ [ok]", "ucs2", 13, 1, 70),
    ("я" * 70, "ucs2", 70, 1, 70),
    ("я" * 71, "ucs2", 71, 2, 67),
    ("я" * 134, "ucs2", 134, 2, 67),
    ("я" * 135, "ucs2", 135, 3, 67),
    (EMOJI * 35, "ucs2", 70, 1, 70),  # surrogate pairs: 2 code units each
    (EMOJI * 36, "ucs2", 72, 2, 67),
    ("a`b", "ucs2", 3, 1, 70),  # the backtick is not GSM
    ("§¿¡ÄÖÑÜäöñüà@£$¥", "gsm7", 16, 1, 160),
]


@pytest.mark.parametrize(("text", "enc", "units", "count", "per_segment"), SEGMENT_CASES)
def test_sms_info_counts_units_and_segments(
    text: str, enc: str, units: int, count: int, per_segment: int
) -> None:
    assert sms_info(text) == SmsInfo(enc, units, count, per_segment)  # type: ignore[arg-type]
    assert segments(text) == count
    assert encoding(text) == enc


def test_every_extension_character_costs_two_septets() -> None:
    for ch in "{}[]~\\|^€\f":
        assert ch in GSM7_EXTENSION
        assert sms_info(ch).units == 2


def test_basic_table_has_128_codes_in_standard_order() -> None:
    assert len(GSM7_BASIC) == 128
    assert GSM7_BASIC.index("@") == 0x00
    assert GSM7_BASIC.index("$") == 0x02
    assert GSM7_BASIC.index("_") == 0x11
    assert GSM7_BASIC.index("§") == 0x5F
    assert GSM7_BASIC.index("à") == 0x7F


def test_a_part_never_ends_between_escape_and_its_character() -> None:
    # 152 plain septets then "€": a blind 153-septet cut would leave ESC alone at the end
    text = "a" * 152 + "€" + "b" * 10
    parts = gsm7_chunks(text, 153)
    assert [len(p) for p in parts] == [152, 12]
    assert parts[1][:2] == [0x1B, 0x65]
    assert segments(text) == 2


def test_a_part_never_splits_a_surrogate_pair() -> None:
    text = "я" * 66 + EMOJI + "я"
    parts = ucs2_chunks(text, 67)
    assert [len(p) // 2 for p in parts] == [66, 3]
    assert b"".join(parts).decode("utf-16-be") == text


@pytest.mark.parametrize(
    ("septets", "fill", "packed"),
    [
        ([0x48, 0x65, 0x6C, 0x6C, 0x6F], 0, "C8329BFD06"),  # "Hello" (Pettersson, Zoom manual)
        ([0x68, 0x65, 0x6C, 0x6C, 0x6F], 0, "E8329BFD06"),  # "hello"
        # Nokia forum: "QRSTUVWXYZ" after a 6-octet UDH, one fill bit
        ([ord(c) for c in "QRSTUVWXYZ"], 1, "A2D229B56ABD62B35A"),
        ([0x41] * 8, 0, "C16030180C0683"),  # 8 septets fill exactly 7 octets
    ],
)
def test_pack_septets_matches_published_vectors(septets: list[int], fill: int, packed: str) -> None:
    assert pack_septets(septets, fill).hex().upper() == packed


@pytest.mark.parametrize(
    ("source", "latin"),
    [
        ("Ваш заказ готов", "Vash zakaz gotov"),
        ("Щука ЩУКА Жанна ЖК", "Shchuka SHCHUKA Zhanna ZHK"),
        (
            "Юлия Яковлева, ёлка, объезд, Хабаровск, Цой, Чайковский, Мышь",
            "Iuliia Iakovleva, elka, obieezd, Khabarovsk, Tsoi, Chaikovskii, Mysh",
        ),
        ("«Север» — №12 … ₽", '"Sever" - No12 ... RUB'),
        ("a\u00a0b\tc", "a b c"),
        ("OK 👍", "OK "),
        ("café Zürich", "café Zürich"),  # é and ü are GSM already
        ("ﬁ Łódź", "fi ?odz"),  # ligature decomposes; Ł has no decomposition
        ("{x} [y] 5€", "{x} [y] 5€"),
    ],
)
def test_translit(source: str, latin: str) -> None:
    assert translit(source) == latin
    assert is_gsm7(translit(source))


def test_translit_turns_a_cyrillic_sms_from_70_to_160_per_segment() -> None:
    text = "Здравствуйте! Ваш автомобиль готов, ждём вас до 20:00. Сумма 12 500 руб."
    assert sms_info(text).encoding == "ucs2"
    info = sms_info(translit(text))
    assert info.encoding == "gsm7"
    assert info.per_segment == 160
