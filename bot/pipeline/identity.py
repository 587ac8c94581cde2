"""One person, one identity.

A customer who registers in the bot before the ERP knows them becomes a placeholder customer
``phone:+7...`` (their proven phone). When the ERP's customer with the same normalised phone
appears (an event, a directory import), or a deep link names the ERP id in a chat linked to a
placeholder, the two are the same person: the placeholder is merged into the ERP customer in
the transaction of the change that revealed it (:meth:`storage.base.Tx.merge_customer`:
Telegram links and stop entries move, the old id stays an alias, the journal keeps what it
recorded). A ``/stop`` given as the placeholder therefore holds for the ERP customer, and rows
planned under either id find the same person and the same opt-outs.
"""

from __future__ import annotations

import logging

from storage.base import Tx
from storage.models import Person

log = logging.getLogger("vestnik.identity")

PLACEHOLDER_PREFIX = "phone:"


def placeholder_id(phone: str) -> str:
    """The id of a customer known only by their (E.164) phone."""
    return f"{PLACEHOLDER_PREFIX}{phone}"


def is_placeholder(customer_id: str | None) -> bool:
    return bool(customer_id) and customer_id.startswith(PLACEHOLDER_PREFIX)  # type: ignore[union-attr]


async def merge_into(tx: Tx, alias: str, customer_id: str) -> bool:
    """Merge the placeholder ``alias`` into ``customer_id``; True when anything moved."""
    if alias == customer_id or not is_placeholder(alias) or is_placeholder(customer_id):
        return False
    moved = await tx.merge_customer(alias, customer_id)
    if moved:
        log.info(
            "customer %s merged into %s (%s)",
            alias,
            customer_id,
            ", ".join(f"{table} {n}" for table, n in sorted(moved.items())),
        )
    return bool(moved)


async def adopt_placeholder(tx: Tx, customer: Person) -> Person:
    """An ERP customer with a normalised phone takes over the placeholder of that phone;
    returns the customer as stored afterwards."""
    if (
        customer.kind != "customer"
        or is_placeholder(customer.id)
        or not (customer.phone or "").startswith("+")
    ):
        return customer
    if await merge_into(tx, placeholder_id(customer.phone or ""), customer.id):
        return await tx.get_person("customer", customer.id) or customer
    return customer


async def canonical_customer(tx: Tx, customer_id: str) -> str:
    """The id the person named ``customer_id`` has now: an id merged away resolves to the
    customer it became; a placeholder whose phone an ERP customer has is merged into it."""
    person = await tx.get_person("customer", customer_id)
    if person is not None and person.id != customer_id:
        return person.id  # an alias
    if is_placeholder(customer_id):
        phone = customer_id[len(PLACEHOLDER_PREFIX) :]
        owner = await tx.find_person_by_phone("customer", phone)
        if owner is not None and not is_placeholder(owner.id):
            await merge_into(tx, customer_id, owner.id)
            return owner.id
    return customer_id
