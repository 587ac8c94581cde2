"""Subscriptions: linking a Telegram chat to a customer or staff member, opting out and back in.

The bot's handlers hold the conversation; what a subscription *is* lives here, as small
functions over one :class:`~storage.base.Tx`:

- :func:`link_by_phone` — a verified contact: the chat is linked to the staff member and/or
  customer with that phone; a phone nobody knows becomes a new customer ``phone:+7...``
  (unless the chat's deep link already named the customer);
- :func:`link_by_token` — a deep link: the chat is linked to the token's customer; one token
  serves one chat; a placeholder the chat registered as is merged into it
  (bot/pipeline/identity.py);
- :func:`opt_out` / :func:`opt_in` — ``/stop`` adds a self stop-list entry, ``/start`` removes
  it (and the entry a 403 left behind) and re-activates the link;
- :func:`set_blocked` — Telegram's ``my_chat_member``: the user blocked or unblocked the bot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.pipeline.identity import canonical_customer, is_placeholder, merge_into, placeholder_id
from storage.base import Tx
from storage.models import Person, StopEntry, TelegramLink

SELF = "self"  # author of a customer's own /stop
TELEGRAM = "telegram"  # author of the entry the dispatcher adds on a 403
DEEP_LINK_META = "deep_link:"


@dataclass(slots=True)
class Linked:
    link: TelegramLink
    customer: Person | None
    staff: Person | None
    created_customer: bool = False


async def link_by_phone(
    tx: Tx, *, chat_id: int, user_id: int, phone: str, name: str, language: str, now: datetime
) -> Linked:
    """Link a chat whose owner proved ``phone`` (their own contact)."""
    staff = await tx.find_person_by_phone("staff", phone)
    customer = await tx.find_person_by_phone("customer", phone)
    created = False
    deep_linked = await _deep_linked_customer(tx, chat_id, user_id)
    if deep_linked is not None and (customer is None or is_placeholder(customer.id)):
        # the chat's own deep link named the customer: the phone is theirs, not a new person
        if customer is not None:
            await merge_into(tx, customer.id, deep_linked)
        customer = await tx.get_person("customer", deep_linked)
        if customer is None or customer.phone is None or customer.telegram_id != user_id:
            customer = await tx.upsert_person(
                Person(
                    kind="customer",
                    id=deep_linked,
                    telegram_id=user_id,
                    phone=None if customer is not None and customer.phone else phone,
                    name=None if customer is not None else name or None,
                )
            )
    elif customer is not None and not is_placeholder(customer.id):
        await merge_into(tx, placeholder_id(phone), customer.id)  # a leftover: same person
    if customer is None and staff is None:
        customer = await tx.upsert_person(
            Person(
                kind="customer",
                id=f"phone:{phone}",
                phone=phone,
                name=name or None,
                telegram_id=user_id,
                language=language,
            )
        )
        created = True
    elif customer is not None and customer.telegram_id != user_id:
        customer = await tx.upsert_person(
            Person(kind="customer", id=customer.id, telegram_id=user_id)
        )
    link = TelegramLink(
        chat_id=chat_id,
        user_id=user_id,
        phone=phone,
        customer_id=customer.id if customer else None,
        staff_id=staff.id if staff else None,
        language=language,
        active=True,
    )
    await tx.upsert_link(link)
    await opt_in(tx, chat_id=chat_id, customer_id=link.customer_id)
    return Linked(link, customer, staff, created)


async def link_by_token(
    tx: Tx, *, chat_id: int, user_id: int, customer_id: str, fingerprint: str, language: str
) -> Linked | None:
    """Link a chat to the customer a verified token names; None when another chat already used
    this token (a forwarded e-mail must not subscribe a stranger)."""
    key = DEEP_LINK_META + fingerprint
    used_by = await tx.get_meta(key)
    if used_by is not None and used_by != str(chat_id):
        return None
    await tx.set_meta(key, str(chat_id))
    customer_id = await canonical_customer(tx, customer_id)
    previous = await tx.get_link(chat_id)
    if previous is not None and previous.user_id == user_id and previous.customer_id:
        # the chat registered by its phone first: the link names who that person is
        await merge_into(tx, previous.customer_id, customer_id)
    customer = await tx.get_person("customer", customer_id)
    link = TelegramLink(
        chat_id=chat_id,
        user_id=user_id,
        phone=customer.phone if customer else None,
        customer_id=customer_id,
        staff_id=previous.staff_id if previous else None,
        language=language,
        active=True,
    )
    if previous is not None and previous.phone and previous.user_id == user_id:
        link.phone = previous.phone  # a phone the user proved beats the directory's
    await tx.upsert_link(link)
    await opt_in(tx, chat_id=chat_id, customer_id=customer_id)
    return Linked(link, customer, None)


async def _deep_linked_customer(tx: Tx, chat_id: int, user_id: int) -> str | None:
    """The ERP customer this user's chat was linked to by a deep link, if any."""
    link = await tx.get_link(chat_id)
    if (
        link is None
        or link.user_id != user_id
        or not link.customer_id
        or is_placeholder(link.customer_id)
    ):
        return None
    return link.customer_id


async def opt_out(tx: Tx, *, chat_id: int, now: datetime) -> StopEntry:
    """``/stop``: one self entry for the customer (or the bare chat), every type and channel."""
    link = await tx.get_link(chat_id)
    who_kind, who = (
        ("customer", link.customer_id) if link and link.customer_id else ("chat", str(chat_id))
    )
    await tx.remove_stops_for(who_kind, who, author=SELF)
    return await tx.add_stop(
        StopEntry(
            who=who,
            who_kind=who_kind,
            event_type="*",
            channel="*",
            reason="/stop",
            author=SELF,
            created_at=now,
        )
    )


async def opt_in(tx: Tx, *, chat_id: int, customer_id: str | None = None) -> int:
    """``/start`` again: remove the self opt-outs and a 403's entry; the link is active."""
    removed = await tx.remove_stops_for("chat", str(chat_id), author=SELF)
    removed += await tx.remove_stops_for("chat", str(chat_id), author=TELEGRAM)
    if customer_id is None:
        link = await tx.get_link(chat_id)
        customer_id = link.customer_id if link else None
    if customer_id:
        removed += await tx.remove_stops_for("customer", customer_id, author=SELF)
    await tx.set_link_active(chat_id, True)
    return removed


async def set_blocked(tx: Tx, *, chat_id: int, blocked: bool) -> bool:
    """The user blocked (or unblocked) the bot; False when the chat was never linked."""
    link = await tx.get_link(chat_id)
    if link is None:
        return False
    await tx.set_link_active(chat_id, not blocked)
    if not blocked:
        await tx.remove_stops_for("chat", str(chat_id), author=TELEGRAM)
    return True
