"""Routing: for one recipient and one channel, the address to send to and the stop-list
verdict, or why the notification cannot go there. Address kinds come from the channel table
(bot/core/channels.py); each kind has one resolver here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.core.channels import TABLE, channel_unavailable
from bot.core.config import Config
from bot.core.emails import InvalidEmail, parse_mailbox
from bot.core.phones import normalize_phone
from bot.pipeline.rules import Rule
from storage.base import Tx
from storage.models import Person, StopEntry

ADDRESS_MISSING = ("no address", "invalid phone", "invalid e-mail")


@dataclass(slots=True)
class Recipient:
    role: str  # customer | manager | ... | staff | chat
    person: Person | None
    chat_id: int | None = None

    @property
    def id(self) -> str | None:
        if self.person is not None:
            return self.person.id
        return str(self.chat_id) if self.chat_id is not None else None

    @property
    def is_customer(self) -> bool:
        return self.role == "customer"


@dataclass(slots=True)
class Route:
    """Where one notification can go on one channel, or why it cannot."""

    channel: str
    status: str  # pending | skipped | stopped
    address: str | None = None
    reason: str | None = None
    stop: StopEntry | None = None
    stop_keys: list[str] = field(default_factory=list)
    language: str | None = None


@dataclass(slots=True)
class Found:
    """What an address resolver found: the address, or why there is none."""

    address: str | None = None
    reason: str | None = None
    language: str | None = None
    keys: list[str] = field(default_factory=list)  # extra stop-list keys (the chat)


Resolver = Callable[[Tx, Recipient, str], Awaitable[Found]]


async def recipient_for(tx: Tx, spec: str, persons: dict[str, Person]) -> Recipient:
    if spec.startswith("staff:"):
        return Recipient("staff", await tx.get_person("staff", spec.split(":", 1)[1]))
    if spec.startswith("chat:"):
        return Recipient("chat", None, chat_id=int(spec.split(":", 1)[1]))
    return Recipient(spec, persons.get(spec))


def person_keys(person: Person | None, region: str) -> list[str]:
    """The stop-list keys a person is known by."""
    if person is None:
        return []
    keys = [f"customer:{person.id}" if person.kind == "customer" else f"staff:{person.id}"]
    phone = normalize_phone(person.phone, region) if person.phone else None
    if phone:
        keys.append(f"phone:{phone}")
    if person.email:
        keys.append(f"email:{person.email.strip().lower()}")
    return keys


async def _chat(tx: Tx, recipient: Recipient, region: str) -> Found:
    if recipient.chat_id is not None:
        return Found(str(recipient.chat_id), keys=[f"chat:{recipient.chat_id}"])
    person = recipient.person
    if person is not None:
        link = await tx.find_active_link(
            customer_id=person.id if person.kind == "customer" else None,
            staff_id=person.id if person.kind == "staff" else None,
            phone=normalize_phone(person.phone, region) if person.phone else None,
        )
        if link is not None:
            return Found(str(link.chat_id), language=link.language, keys=[f"chat:{link.chat_id}"])
        if person.kind == "staff" and person.telegram_id:
            return Found(str(person.telegram_id), keys=[f"chat:{person.telegram_id}"])
    return Found(reason="no address: no linked Telegram chat")


async def _email(tx: Tx, recipient: Recipient, region: str) -> Found:
    person = recipient.person
    email = (person.email or "").strip() if person else ""
    if not email:
        return Found(reason="no address: no e-mail")
    try:
        return Found(parse_mailbox(email))
    except InvalidEmail as exc:
        return Found(reason=f"invalid e-mail {email[:100]!r}: {exc}")


async def _phone(tx: Tx, recipient: Recipient, region: str) -> Found:
    raw = recipient.person.phone if recipient.person else None
    if not raw:
        return Found(reason="no address: no phone")
    phone = normalize_phone(raw, region)
    return Found(phone) if phone else Found(reason="invalid phone")


async def _staff(tx: Tx, recipient: Recipient, region: str) -> Found:
    person = recipient.person
    if person is None or person.kind != "staff":
        return Found(reason="internal is for staff only")
    return Found(person.id)


RESOLVERS: dict[str, Resolver] = {"chat": _chat, "email": _email, "phone": _phone, "staff": _staff}


async def route(
    tx: Tx, config: Config, rule: Rule, recipient: Recipient, channel: str, event_type: str
) -> Route:
    """One channel for one recipient: pending with its address, skipped, or stopped."""
    spec = TABLE.get(channel)
    if spec is not None and recipient.is_customer and not spec.for_customers:
        return Route(channel, "skipped", reason=f"{channel} is for staff only")
    missing = channel_unavailable(config, channel, rule.providers_for(channel))
    if missing or spec is None:
        return Route(channel, "skipped", reason=missing)
    region = config.service.default_region
    keys = person_keys(recipient.person, region)
    found = await RESOLVERS[spec.address](tx, recipient, region)
    if found.address is None:
        return Route(
            channel, "skipped", reason=found.reason, stop_keys=keys if spec.for_customers else []
        )
    keys += found.keys
    stop = await tx.find_stop(keys, event_type, channel)
    if stop is not None:
        return Route(
            channel,
            "stopped",
            address=found.address,
            stop=stop,
            stop_keys=keys,
            reason=f"stop list entry {stop.id}",
        )
    language = (recipient.person.language if recipient.person else None) or found.language
    return Route(channel, "pending", address=found.address, stop_keys=keys, language=language)


async def routes(
    tx: Tx, config: Config, rule: Rule, recipient: Recipient, event_type: str
) -> list[Route]:
    """The rule's channels in order, each usable or not; ``first`` stops at a usable one."""
    out = []
    for channel in rule.channels:
        found = await route(tx, config, rule, recipient, channel, event_type)
        out.append(found)
        if rule.delivery == "first" and found.status == "pending":
            break
    return out


def waiting_for_address(rule: Rule, found: list[Route]) -> set[str]:
    """Channels of a later notification that lack only the recipient's address: the row
    waits for it (the customer may link Telegram or give an e-mail by then). ``first``:
    one row when no channel is usable now; ``all``: each such channel."""
    missing = [
        r.channel
        for r in found
        if r.status == "skipped" and (r.reason or "").startswith(ADDRESS_MISSING)
    ]
    if rule.delivery == "all":
        return set(missing)
    if any(r.status == "pending" for r in found) or not missing:
        return set()
    return {missing[0]}
