"""Who is at the web pages: one-time login links, session cookies, CSRF tokens, and the
staff check every request repeats.

A login link carries a signed :class:`WebIdentity` with an expiry (10 minutes by default) and
a random id; redeeming it stores the id, so a second use is refused even within the ten
minutes. A session cookie carries the identity again with its own expiry; the staff check
runs against the directory and ``telegram.admins`` on every request, so a staff member
removed from staff (an admin taken off the list, a phone the ERP gave to someone else) loses
every session at once. Links and cookies are signed with ``web.secret``, else with a random
key kept in the database, which the CLI and every process share.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.core.config import Config
from storage.base import Storage

SECRET_META_KEY = "web_secret"
LINK_MINUTES = 10
OPERATOR = "operator"  # a link printed by `vestnik web-login` without --staff


@dataclass(frozen=True, slots=True)
class WebIdentity:
    """Who a link or session is for. ``kind``: ``telegram`` (a staff member's chat),
    ``staff`` (an ERP staff id, from the CLI) or ``operator`` (the server's operator)."""

    kind: str
    staff_id: str | None = None
    user_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"k": self.kind, "s": self.staff_id, "u": self.user_id}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WebIdentity | None:
        kind, staff_id, user_id = data.get("k"), data.get("s"), data.get("u")
        if kind not in ("telegram", "staff", OPERATOR):
            return None
        if not isinstance(staff_id, (str, type(None))) or not isinstance(
            user_id, (int, type(None))
        ):
            return None
        return cls(kind, staff_id, user_id)


@dataclass(frozen=True, slots=True)
class WebStaff:
    """The staff member a request is made by, as checked now."""

    identity: WebIdentity
    name: str
    is_admin: bool
    session_id: str = ""

    @property
    def author(self) -> str:
        """What the stop list records as the author."""
        if self.identity.staff_id:
            return self.identity.staff_id
        if self.identity.user_id is not None:
            return f"telegram:{self.identity.user_id}"
        return OPERATOR


# signing ---------------------------------------------------------------------------------------
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(secret: bytes, purpose: str, payload: dict[str, Any]) -> str:
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    mac = hmac.new(secret, f"{purpose}.{body}".encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def unsign(secret: bytes, purpose: str, token: str) -> dict[str, Any] | None:
    """The payload of a token this key signed for ``purpose``, else None."""
    body, _, mac = token.partition(".")
    if not body or not mac or len(token) > 2048:
        return None
    expected = hmac.new(secret, f"{purpose}.{body}".encode(), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(expected, _unb64(mac)):
            return None
        payload = json.loads(_unb64(body))
    except (ValueError, TypeError):
        return None
    return payload if isinstance(payload, dict) else None


async def web_secret(storage: Storage, config: Config) -> bytes:
    """``web.secret``, else the database's key (made on first use)."""
    if config.web.secret is not None and config.web.secret.get_secret_value():
        return config.web.secret.get_secret_value().encode()
    async with storage.reader() as tx:
        stored = await tx.get_meta(SECRET_META_KEY)
    if stored is None:

        async def make(tx: Any) -> str:
            found = await tx.get_meta(SECRET_META_KEY)
            if found is None:
                found = secrets.token_urlsafe(32)
                await tx.set_meta(SECRET_META_KEY, found)
            return str(found)

        stored = await storage.write(make)
    return stored.encode()


# login links --------------------------------------------------------------------------------------
def login_token(
    secret: bytes, identity: WebIdentity, now: datetime, minutes: float = LINK_MINUTES
) -> str:
    expires = int((now + timedelta(minutes=minutes)).timestamp())
    return sign(
        secret, "login", {**identity.to_dict(), "exp": expires, "j": secrets.token_urlsafe(12)}
    )


def login_url(config: Config, token: str) -> str:
    return f"{config.web_base_url()}/web/login?t={token}"


async def make_login_link(
    storage: Storage,
    config: Config,
    identity: WebIdentity,
    now: datetime,
    minutes: float = LINK_MINUTES,
) -> str:
    return login_url(config, login_token(await web_secret(storage, config), identity, now, minutes))


async def redeem_login(
    storage: Storage, secret: bytes, token: str, now: datetime
) -> WebIdentity | str:
    """The identity of a valid, unused link (now marked used), else why not:
    ``invalid``, ``expired`` or ``used``."""
    payload = unsign(secret, "login", token)
    identity = WebIdentity.from_dict(payload) if payload else None
    if (
        payload is None
        or identity is None
        or not isinstance(payload.get("exp"), int)
        or not isinstance(payload.get("j"), str)
    ):
        return "invalid"
    expires = datetime.fromtimestamp(payload["exp"], now.tzinfo)
    if expires <= now:
        return "expired"
    token_id = payload["j"]
    fresh = await storage.write(lambda tx: tx.use_login_token(token_id, now, expires))
    return identity if fresh else "used"


# sessions and CSRF ---------------------------------------------------------------------------------
def session_cookie(secret: bytes, identity: WebIdentity, now: datetime, hours: float) -> str:
    expires = int((now + timedelta(hours=hours)).timestamp())
    return sign(
        secret, "session", {**identity.to_dict(), "exp": expires, "sid": secrets.token_urlsafe(12)}
    )


def read_session(secret: bytes, cookie: str, now: datetime) -> tuple[WebIdentity, str] | None:
    """(identity, session id) of a valid unexpired cookie."""
    payload = unsign(secret, "session", cookie)
    if (
        payload is None
        or not isinstance(payload.get("exp"), int)
        or not isinstance(payload.get("sid"), str)
        or payload["exp"] <= now.timestamp()
    ):
        return None
    identity = WebIdentity.from_dict(payload)
    return (identity, payload["sid"]) if identity is not None else None


def csrf_token(secret: bytes, session_id: str) -> str:
    return hmac.new(secret, f"csrf.{session_id}".encode(), hashlib.sha256).hexdigest()


def csrf_ok(secret: bytes, session_id: str, given: str) -> bool:
    return bool(given) and hmac.compare_digest(csrf_token(secret, session_id), given)


# the staff check ------------------------------------------------------------------------------------
async def current_staff(storage: Storage, config: Config, identity: WebIdentity) -> WebStaff | None:
    """The staff member behind ``identity`` as of now, or None (no longer staff)."""
    if identity.kind == OPERATOR:
        return WebStaff(identity, OPERATOR, True)
    async with storage.reader() as tx:
        if identity.kind == "staff":
            person = await tx.get_person("staff", identity.staff_id or "")
            return WebStaff(identity, person.name or person.id, False) if person else None
        user_id = identity.user_id
        if user_id is None:
            return None
        is_admin = user_id in config.telegram.admins
        link = await tx.get_link(user_id)  # staff use the bot in private chats: chat = user
        if (
            link is not None
            and link.active
            and link.staff_id
            and link.phone
            and link.user_id == user_id
            and link.staff_id == identity.staff_id
        ):
            person = await tx.find_person_by_phone("staff", link.phone)
            if person is not None and person.id == link.staff_id:
                return WebStaff(identity, person.name or person.id, is_admin)
    return WebStaff(identity, "admin", True) if is_admin else None
