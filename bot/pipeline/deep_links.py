"""Signed, expiring ``/start`` tokens that link a Telegram chat to a customer (the README's Telegram section).

A template can put ``{{ telegram_link(customer) }}`` into an e-mail or SMS ("subscribe in
Telegram"); the link is ``https://t.me/<bot>?start=<token>``. The token carries the customer
id and an expiry time and is signed with HMAC-SHA256, so no table of issued tokens is needed.
Telegram allows at most 64 characters of ``[A-Za-z0-9_-]`` in a start parameter, so the token
is packed binary, base64url without padding:

    format byte | expiry (uint32 unix seconds) | customer id (packed) | MAC (10 bytes)

Ids are packed by shape: a UUID (1C's usual id) in 16 bytes, a ``phone:+E164`` id as a
number, anything else as UTF-8 up to :data:`MAX_RAW_ID_BYTES` bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.core.config import TelegramConfig

TOKEN_LIMIT = 64  # Telegram's limit for a start parameter
MAC_BYTES = 10
_HEADER = 5  # format byte + expiry
MAX_RAW_ID_BYTES = TOKEN_LIMIT * 3 // 4 - _HEADER - MAC_BYTES  # 33
_CONTEXT = b"vestnik deep link v1\x00"
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_PHONE_ID = re.compile(r"^phone:\+([1-9]\d{6,14})$")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

# format byte -> how the id is packed
RAW, UUID_LOWER, UUID_UPPER, PHONE = b"r", b"u", b"U", b"p"


class LinkTokenError(ValueError):
    """The token is not valid; ``reason`` is ``invalid`` or ``expired``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class LinkToken:
    customer_id: str
    expires_at: datetime
    fingerprint: str  # hex MAC: identifies this token (one chat may use it)


def link_secret(config: TelegramConfig) -> bytes:
    """``telegram.link_secret``, or a key derived from the bot token when it is not set."""
    if config.link_secret is not None and config.link_secret.get_secret_value():
        return config.link_secret.get_secret_value().encode()
    token = config.token.get_secret_value() if config.token else ""
    return hmac.new(token.encode(), b"vestnik deep-link key", hashlib.sha256).digest()


def _pack_id(customer_id: str) -> tuple[bytes, bytes]:
    if _UUID.match(customer_id):
        return UUID_LOWER, uuid.UUID(customer_id).bytes
    if _UUID.match(customer_id.lower()) and customer_id == customer_id.upper():
        return UUID_UPPER, uuid.UUID(customer_id).bytes
    phone = _PHONE_ID.match(customer_id)
    if phone:
        return PHONE, int(phone.group(1)).to_bytes(7, "big")
    raw = customer_id.encode()
    if not raw or len(raw) > MAX_RAW_ID_BYTES:
        raise ValueError(
            f"customer id {customer_id!r} is too long for a Telegram deep link "
            f"(at most {MAX_RAW_ID_BYTES} bytes, or a UUID)"
        )
    return RAW, raw


def _unpack_id(kind: bytes, packed: bytes) -> str:
    if kind == UUID_LOWER and len(packed) == 16:
        return str(uuid.UUID(bytes=packed))
    if kind == UUID_UPPER and len(packed) == 16:
        return str(uuid.UUID(bytes=packed)).upper()
    if kind == PHONE and len(packed) == 7:
        return f"phone:+{int.from_bytes(packed, 'big')}"
    if kind == RAW and packed:
        return packed.decode()
    raise LinkTokenError("invalid")


def _mac(secret: bytes, body: bytes) -> bytes:
    return hmac.new(secret, _CONTEXT + body, hashlib.sha256).digest()[:MAC_BYTES]


def make_token(customer_id: str, secret: bytes, ttl: timedelta, *, now: datetime) -> str:
    """A start parameter for ``customer_id`` valid until ``now + ttl``."""
    kind, packed = _pack_id(customer_id)
    expires = int((now + ttl).timestamp())
    body = kind + expires.to_bytes(4, "big") + packed
    token = base64.urlsafe_b64encode(body + _mac(secret, body)).rstrip(b"=").decode()
    assert len(token) <= TOKEN_LIMIT
    return token


def verify_token(token: str, secret: bytes, *, now: datetime) -> LinkToken:
    """The customer a token names; raises :class:`LinkTokenError` (``invalid``/``expired``)."""
    if not _TOKEN.match(token or ""):
        raise LinkTokenError("invalid")
    try:
        blob = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise LinkTokenError("invalid") from None
    if len(blob) <= _HEADER + MAC_BYTES:
        raise LinkTokenError("invalid")
    body, mac = blob[:-MAC_BYTES], blob[-MAC_BYTES:]
    if not hmac.compare_digest(mac, _mac(secret, body)):
        raise LinkTokenError("invalid")
    try:
        customer_id = _unpack_id(body[:1], body[_HEADER:])
    except UnicodeDecodeError:
        raise LinkTokenError("invalid") from None
    expires_at = datetime.fromtimestamp(int.from_bytes(body[1:_HEADER], "big"), tz=now.tzinfo)
    if now >= expires_at:
        raise LinkTokenError("expired")
    return LinkToken(customer_id=customer_id, expires_at=expires_at, fingerprint=mac.hex())


def make_deep_link(
    bot_username: str,
    customer_id: str,
    secret: bytes,
    ttl_days: int,
    *,
    now: datetime | None = None,
) -> str:
    """``https://t.me/<bot>?start=<token>`` for a customer."""
    from bot.core.timeutil import SystemClock

    moment = now or SystemClock().now()
    token = make_token(customer_id, secret, timedelta(days=ttl_days), now=moment)
    return f"https://t.me/{bot_username}?start={token}"


class TelegramLinkHelper:
    """The ``telegram_link(customer)`` template global.

    Returns ``""`` (so a template can write ``{% if telegram_link(customer) %}``) when the bot
    is off, its username is not known yet, or the customer has no usable id.
    """

    def __init__(self, secret: bytes, ttl_days: int, clock: Any) -> None:
        self.secret = secret
        self.ttl_days = ttl_days
        self.clock = clock
        self.bot_username: str | None = None

    def __call__(self, customer: Any) -> str:
        customer_id = customer if isinstance(customer, str) else _field(customer, "id")
        if not self.bot_username or not customer_id:
            return ""
        try:
            return make_deep_link(
                self.bot_username,
                str(customer_id),
                self.secret,
                self.ttl_days,
                now=self.clock.now(),
            )
        except ValueError:
            return ""


def _field(record: Any, name: str) -> Any:
    if record is None:
        return None
    getter = getattr(record, "get", None)
    if callable(getter):
        return getter(name)
    return getattr(record, name, None)
