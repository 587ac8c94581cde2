"""Phone numbers: parse whatever the ERP or a Telegram client sends, keep E.164."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers


def normalize_phone(raw: str | int | None, region: str = "RU") -> str | None:
    """E.164 (``+79161234567``) for a valid number, else ``None``.

    Accepts the ERP's habits: ``8 (916) 123-45-67``, ``79161234567`` (no plus, as some
    Telegram clients send contacts), ``+7 916 123 45 67``.
    """
    if raw is None:
        return None
    return _normalize(str(raw).strip(), region)


@lru_cache(maxsize=65536)  # the same customers come back again and again
def _normalize(text: str, region: str) -> str | None:
    if not text:
        return None
    candidates = [text]
    digits = "".join(ch for ch in text if ch.isdigit())
    if not text.startswith("+") and len(digits) > 10:
        candidates.append("+" + digits)  # an international number without its plus
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def format_phone(e164: str | None, region: str = "RU") -> str:
    """``+7 916 123-45-67`` for templates; the input unchanged if it does not parse."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(str(e164), region)
    except phonenumbers.NumberParseException:
        return str(e164)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
