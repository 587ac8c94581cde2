"""Webhook authentication: bearer tokens and Standard Webhooks signatures (docs/webhook.md).

Signatures authorise ``POST`` of events only (they cover the body, and a replayed
``webhook-id`` is caught by the intake); the journal API and ``/healthz`` details take bearer
tokens. Every refusal says which scheme failed and why, never what the secret is. Header
values arrive as aiohttp decoded them (UTF-8 with surrogate escapes for garbage bytes), so
each is checked to be text before it is compared.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.core.config import WebhookConfig

SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
MAX_ID_LENGTH = 256  # a webhook-id longer than this is not one a sender made
_OWS = " \t"  # HTTP's optional white space; no Unicode space is ever stripped

REASONS = {
    "no_credentials": {
        "ru": "нет заголовка Authorization: Bearer и нет подписи webhook-signature",
        "en": "no Authorization: Bearer header and no webhook-signature",
    },
    "no_bearer": {
        "ru": "нужен заголовок Authorization: Bearer <токен>",
        "en": "an Authorization: Bearer <token> header is required",
    },
    "not_bearer": {
        "ru": "Authorization не в форме «Bearer <токен>»",
        "en": 'Authorization is not of the form "Bearer <token>"',
    },
    "unknown_token": {
        "ru": "токен не совпадает ни с одним из webhook.tokens",
        "en": "the bearer token matches none of webhook.tokens",
    },
    "not_text": {
        "ru": "заголовок {header} содержит байты, которые не являются текстом UTF-8",
        "en": "header {header} contains bytes that are not UTF-8 text",
    },
    "missing_headers": {
        "ru": "подпись: нет заголовков {header}",
        "en": "signature: missing headers {header}",
    },
    "bad_id": {
        "ru": "подпись: webhook-id длиннее {limit} символов или содержит пробелы",
        "en": "signature: webhook-id is longer than {limit} characters or has spaces",
    },
    "bad_timestamp": {
        "ru": "подпись: webhook-timestamp — не время Unix в секундах",
        "en": "signature: webhook-timestamp is not unix seconds",
    },
    "timestamp_outside": {
        "ru": "подпись: webhook-timestamp на {delta} с {direction} часов сервера "
        "(допуск {tolerance} с)",
        "en": "signature: webhook-timestamp is {delta} s {direction} the server's clock "
        "(tolerance {tolerance} s)",
    },
    "signature_mismatch": {
        "ru": "подпись: ни одна подпись в webhook-signature не совпала (проверьте webhook.secret"
        " и что подписано тело как есть)",
        "en": "signature: no signature in webhook-signature matches (check webhook.secret and "
        "that the body is signed exactly as sent)",
    },
}
REASONS["body_needed"] = {
    "ru": "подпись: тело ещё не прочитано",
    "en": "signature: the body is not read yet",
}
DIRECTIONS = {
    "ahead": {"ru": "впереди", "en": "ahead of"},
    "behind": {"ru": "позади", "en": "behind"},
}


@dataclass(frozen=True, slots=True)
class AuthFailure:
    """Why a request was refused: a code of :data:`REASONS` and its parameters."""

    code: str
    params: dict[str, str | int] = field(default_factory=dict)

    def text(self, language: str = "en") -> str:
        words = REASONS[self.code]
        params = dict(self.params)
        if "direction" in params:
            params["direction"] = DIRECTIONS[str(params["direction"])][language]
        return words.get(language, words["en"]).format(**params)

    def __str__(self) -> str:
        return self.text("en")


def sign(key: bytes, msg_id: str, timestamp: int | str, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>``."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def header_bytes(value: str) -> bytes | None:
    """The header as UTF-8 bytes, or None when it carried garbage (surrogate escapes)."""
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        return None


def bearer_problem(header: str | None, tokens: Sequence[str]) -> AuthFailure | None:
    """None when ``Authorization: Bearer <token>`` names one of ``tokens``."""
    if not header:
        return AuthFailure("no_bearer")
    raw = header_bytes(header)
    if raw is None:
        return AuthFailure("not_text", {"header": "Authorization"})
    scheme, _, given = header.strip(_OWS).partition(" ")
    given = given.strip(_OWS)
    if scheme.lower() != "bearer" or not given:
        return AuthFailure("not_bearer")
    ok = False
    for token in tokens:  # compare with every token, in constant time each
        ok |= hmac.compare_digest(given.encode(), token.encode())
    return None if ok else AuthFailure("unknown_token")


def signature_problem(
    headers: Mapping[str, str], body: bytes, key: bytes, now: float, tolerance: int
) -> AuthFailure | None:
    """``None`` when a Standard Webhooks signature verifies, else what is wrong."""
    missing = [name for name in SIGNATURE_HEADERS if not headers.get(name)]
    if missing:
        return AuthFailure("missing_headers", {"header": ", ".join(missing)})
    for name in SIGNATURE_HEADERS:
        if header_bytes(headers[name]) is None:
            return AuthFailure("not_text", {"header": name})
    msg_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"].strip(_OWS)
    if len(msg_id) > MAX_ID_LENGTH or any(ch.isspace() for ch in msg_id):
        return AuthFailure("bad_id", {"limit": MAX_ID_LENGTH})
    # at most 12 digits: int() of 400 digits works, but the float maths after it overflows
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        return AuthFailure("bad_timestamp")
    delta = int(timestamp) - int(now)
    if abs(delta) > tolerance:
        return AuthFailure(
            "timestamp_outside",
            {
                "delta": abs(delta),
                "direction": "ahead" if delta > 0 else "behind",
                "tolerance": tolerance,
            },
        )
    expected = sign(key, msg_id, timestamp, body).encode()
    ok = False
    for candidate in headers["webhook-signature"].split():
        ok |= hmac.compare_digest(candidate.encode(), expected)
    return None if ok else AuthFailure("signature_mismatch")


def needs_auth(config: WebhookConfig) -> bool:
    return bool(config.tokens or config.secret)


def _tokens(config: WebhookConfig) -> list[str]:
    return [t.get_secret_value() for t in config.tokens]


def authenticate_bearer(
    config: WebhookConfig, headers: Mapping[str, str], extra_tokens: Sequence[str] = ()
) -> AuthFailure | None:
    """The journal API and the details of ``/healthz``: bearer tokens only."""
    tokens = [*_tokens(config), *extra_tokens]
    if not tokens:
        return None if not needs_auth(config) else AuthFailure("no_bearer")
    return bearer_problem(headers.get("Authorization"), tokens)


def authenticate_events(
    config: WebhookConfig, headers: Mapping[str, str], body: bytes | None, now: float
) -> AuthFailure | None:
    """``POST`` of events: a bearer token or a Standard Webhooks signature.

    ``body`` is None when it has not been read yet: then only the bearer token is tried,
    and a request that has signature headers is not refused yet (the caller reads the body
    and asks again).
    """
    if not needs_auth(config):
        return None
    tokens = _tokens(config)
    header = headers.get("Authorization")
    bearer = bearer_problem(header, tokens) if tokens else AuthFailure("no_bearer")
    if bearer is None:
        return None
    key = config.secret_key
    if key is None:
        return bearer
    signed = any(headers.get(name) for name in SIGNATURE_HEADERS)
    if not signed:  # a wrong token is the answer when one was sent, not a missing signature
        return (
            bearer
            if header
            else AuthFailure(
                "no_credentials" if tokens else "missing_headers",
                {"header": ", ".join(SIGNATURE_HEADERS)},
            )
        )
    if body is None:
        return AuthFailure("body_needed")
    return signature_problem(headers, body, key, now, config.tolerance_seconds)
