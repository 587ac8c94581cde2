"""A customer's dialogue with the service: their messages, the staff's answers and the
notifications sent to them, in one time line. ``/dialog`` in the bot and ``vestnik
conversations`` show it.

A customer is named by phone (any format), their ERP id, ``phone:+7…`` or ``chat:<id>``
(someone who wrote without being in the directory).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.phones import normalize_phone
from storage.base import Tx
from storage.models import ConversationMessage, JournalRow, Person
from storage.tx_journal import JournalFilter


@dataclass(slots=True)
class Who:
    key: str  # the conversations' customer key
    customer: Person | None
    addresses: list[str]  # where notifications to them went (phone, e-mail, chat ids)


@dataclass(slots=True)
class Entry:
    at: datetime
    message: ConversationMessage | None = None
    notification: JournalRow | None = None

    def public(self) -> dict[str, Any]:
        if self.message is not None:
            return {"entry": "message", **self.message.public()}
        assert self.notification is not None
        return {"entry": "notification", **self.notification.public()}


async def find_customer(tx: Tx, who: str, region: str) -> Who | None:
    who = who.strip()
    customer: Person | None = None
    key: str | None = None
    phone = normalize_phone(who, region) if not who.startswith(("chat:", "phone:")) else None
    if phone is not None:
        customer = await tx.find_person_by_phone("customer", phone)
        key = customer.id if customer else f"phone:{phone}"
    else:
        customer = await tx.get_person("customer", who)
        key = who
    addresses: list[str] = []
    if customer is not None:
        addresses += [a for a in (customer.phone, customer.email) if a]
        link = await tx.find_active_link(customer_id=customer.id)
        if link is not None:
            addresses.append(str(link.chat_id))
    elif key.startswith("chat:"):
        addresses.append(key[len("chat:") :])
    elif key.startswith("phone:"):
        addresses.append(key[len("phone:") :])
    if customer is None and not await tx.list_conversation(customer_key=key, limit=1):
        return None
    return Who(key=key, customer=customer, addresses=addresses)


async def timeline(tx: Tx, who: Who, *, limit: int = 50, notifications: bool = True) -> list[Entry]:
    """The last ``limit`` entries, oldest first."""
    entries = [
        Entry(m.created_at, message=m)
        for m in await tx.list_conversation(customer_key=who.key, limit=limit)
    ]
    if notifications:
        seen: set[int] = set()
        for address in who.addresses:
            for row in await tx.list_journal(JournalFilter(address=address, limit=limit)):
                if row.id in seen or row.event_type in ("conversation_reply",):
                    continue
                seen.add(row.id)  # type: ignore[arg-type]
                entries.append(
                    Entry(row.sent_at or row.failed_at or row.created_at, notification=row)
                )
    entries.sort(key=lambda e: e.at)
    return entries[-limit:]
