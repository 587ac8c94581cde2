"""Webhook authentication: bearer tokens and Standard Webhooks signatures (docs/webhook.md)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence

from bot.core.config import WebhookConfig


def sign(key: bytes, msg_id: str, timestamp: int | str, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>``."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def bearer_ok(header: str | None, tokens: Sequence[str]) -> bool:
    if not header or not header.startswith("Bearer "):
        return False
    given = header[len("Bearer "):].strip().encode()
    ok = False
    for token in tokens:  # compare with every token, in constant time each
        ok |= hmac.compare_digest(given, token.encode())
    return ok


def signature_problem(headers: Mapping[str, str], body: bytes, key: bytes, now: float,
                      tolerance: int) -> str | None:
    """``None`` when a Standard Webhooks signature verifies, else what is wrong."""
    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not msg_id or not timestamp or not signatures:
        return "missing webhook-id, webhook-timestamp or webhook-signature"
    try:
        sent_at = int(timestamp)
    except ValueError:
        return "webhook-timestamp is not unix seconds"
    if abs(now - sent_at) > tolerance:
        return f"webhook-timestamp is more than {tolerance} s away from the server's clock"
    expected = sign(key, msg_id, timestamp, body).encode()
    ok = False
    for candidate in signatures.split():
        ok |= hmac.compare_digest(candidate.encode(), expected)
    return None if ok else "no signature matches"


def needs_auth(config: WebhookConfig) -> bool:
    return bool(config.tokens or config.secret)


def authenticate(config: WebhookConfig, headers: Mapping[str, str], body: bytes | None,
                 now: float) -> str | None:
    """``None`` if the request passes either configured method; else the reason (for 401).

    ``body`` is None when it has not been read yet: then only the bearer token is tried.
    """
    if not needs_auth(config):
        return None
    tokens = [t.get_secret_value() for t in config.tokens]
    if tokens and bearer_ok(headers.get("Authorization"), tokens):
        return None
    key = config.secret_key
    if key is not None and body is not None:
        problem = signature_problem(headers, body, key, now, config.tolerance_seconds)
        if problem is None:
            return None
        return f"signature: {problem}"
    if key is not None:
        return "signature: not checked yet"
    return "a valid Authorization: Bearer token is required"
