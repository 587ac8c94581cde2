"""One person, one identity (bot/pipeline/identity.py): a customer who registers in the bot
before the ERP knows them, by sharing their contact or by a deep link, is the ERP's customer
with the same normalised phone (or the id the deep link names), and their ``/stop`` holds for
every later notification whatever ids and keys it carries.

The matrix runs every order of the four steps — register (contact, deep link naming the ERP
id, deep link naming the phone id, contact then deep link), an ERP event, ``/stop``,
``/start`` — with the phone in each form 1C stores it, through the real app and the fake Bot
API, on both backends; a last ERP event probes who is told.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

from bot.core.timeutil import SystemClock
from storage.models import Person, StopEntry
from tests.fakes.telegram_api import contact
from tests.telegram_fixtures import (  # noqa: F401
    bot_app,
    fake_telegram,
    telegram_config,
)

SECRET = b"test-link-secret"
RULE = """
[[rules]]
name = "parts arrived, customer"
event = "parts_arrived"
recipients = ["customer"]
channels = ["telegram", "email"]
"""
PHONE_FORMS = (
    lambda d: f"8 ({d[:3]}) {d[3:6]}-{d[6:8]}-{d[8:]}",  # 8 (916) 123-45-67
    lambda d: f"+7 {d[:3]} {d[3:]}",  # +7 916 1234567
    lambda d: f"7{d}",  # 79161234567
)
KINDS = ("contact", "link_erp", "link_phone", "contact+link_erp")
ORDERS = list(itertools.permutations("REST"))


def token_for(customer_id: str) -> str:
    from bot.pipeline.deep_links import make_token

    return make_token(customer_id, SECRET, timedelta(days=30), now=SystemClock().now())


def parts_arrived(event_id: str, n: int, phone: str) -> dict:
    return {
        "id": event_id,
        "type": "parts_arrived",
        "customer": {
            "id": f"C-{n}",
            "name": f"Клиент {n}",
            "phone": phone,
            "email": f"c{n}@example.ru",
        },
        "order": {"id": f"O-{n}", "number": f"ЗН-{n}"},
    }


class Case:
    """One customer (chat, ERP id, phone) going through one order of the steps."""

    def __init__(self, tg, n: int, kind: str, order: tuple[str, ...]) -> None:
        self.tg, self.n, self.kind, self.order = tg, n, kind, order
        self.chat = 70_000 + n
        self.digits = f"916{n:07d}"
        self.e164 = f"+7{self.digits}"
        self.erp_phone = PHONE_FORMS[n % len(PHONE_FORMS)](self.digits)
        self.linked = self.stopped = False

    def __repr__(self) -> str:
        return f"case {self.n}: {self.kind} {''.join(self.order)} phone {self.erp_phone!r}"

    async def register(self) -> None:
        if self.kind.startswith("contact"):
            await self.tg.send(contact(self.chat, f"7{self.digits}", user_id=self.chat), self.chat)
        if self.kind.endswith("link_erp"):
            assert "Готово" in await self.tg.reply(self.chat, f"/start {token_for(f'C-{self.n}')}")
        if self.kind == "link_phone":  # e.g. an SMS to a customer the ERP sent without an id
            assert "Готово" in await self.tg.reply(
                self.chat, f"/start {token_for(f'phone:{self.e164}')}"
            )
        self.linked, self.stopped = True, False  # registering subscribes

    async def erp_event(self) -> None:
        status, _ = await self.tg.running.post(parts_arrived(f"e-{self.n}", self.n, self.erp_phone))
        assert status == 202
        rows = await self.tg.running.journal(event_id=f"e-{self.n}")
        if self.stopped:  # the opt-out given before the ERP knew them holds
            assert rows and {r.status for r in rows} == {"stopped"}, (self, rows)

    async def step(self, name: str) -> None:
        if name == "R":
            await self.register()
        elif name == "E":
            await self.erp_event()
        elif name == "S":
            await self.tg.say(self.chat, "/stop")
            self.stopped = self.stopped or self.linked  # unlinked: only the bare chat
        elif name == "T":
            await self.tg.say(self.chat, "/start")
            if self.linked:
                self.stopped = False

    async def probe(self) -> None:
        """A later ERP event: stopped on every channel, or sent to the chat."""
        event_id = f"p-{self.n}"
        status, _ = await self.tg.running.post(parts_arrived(event_id, self.n, self.erp_phone))
        assert status == 202
        rows = await self.tg.running.wait_rows(
            lambda rows: (
                rows and all(r.status in ("sent", "stopped", "failed", "skipped") for r in rows)
            ),
            event_id=event_id,
        )
        if self.stopped:
            assert [(r.channel, r.status) for r in rows] == [
                ("telegram", "stopped"),
                ("email", "stopped"),
            ], (self, rows)
        else:
            assert [(r.channel, r.status, r.address) for r in rows] == [
                ("telegram", "sent", str(self.chat))
            ], (self, rows)

    async def check_one_person(self) -> None:
        async with self.tg.storage.reader() as tx:
            person = await tx.get_person("customer", f"C-{self.n}")
            by_phone = await tx.find_person_by_phone("customer", self.e164)
            placeholder = await tx.get_person("customer", f"phone:{self.e164}")
            link = await tx.get_link(self.chat)
        assert person is not None and person.phone == self.e164, (self, person)
        assert by_phone is not None and by_phone.id == f"C-{self.n}", (self, by_phone)
        assert placeholder is None or placeholder.id == f"C-{self.n}", (self, placeholder)
        assert link.customer_id == f"C-{self.n}", (self, link)

    async def run(self) -> None:
        for name in self.order:
            await self.step(name)
        await self.probe()
        await self.check_one_person()


async def test_one_person_one_identity_in_every_order(bot_app):
    tg = await bot_app()
    await tg.running.rules(RULE)
    cases = [
        Case(tg, n, kind, order) for n, (kind, order) in enumerate(itertools.product(KINDS, ORDERS))
    ]
    assert {case.erp_phone[:2] for case in cases} == {"8 ", "+7", "79"}
    for case in cases:
        await case.run()
    assert len(tg.fake.to(70_000)) > 0


async def test_the_reported_case_contact_stop_then_the_erp_event(bot_app):
    """Shared contact, /stop, then the ERP's first event for its customer C-1: nothing goes
    out, and the stop entry now names C-1."""
    tg = await bot_app()
    await tg.running.rules(RULE)
    await tg.send(contact(5002, "79161234567", user_id=5002), 5002)
    await tg.say(5002, "/stop")
    status, _ = await tg.running.post(parts_arrived("pa-1", 1, "8 (916) 123-45-67"))
    assert status == 202
    rows = await tg.running.journal(event_id="pa-1")
    assert [(r.channel, r.status) for r in rows] == [("telegram", "stopped"), ("email", "stopped")]
    async with tg.storage.reader() as tx:
        [entry] = await tx.list_stops()
        persons = await tx.list_persons("customer")
    assert (entry.who_kind, entry.who, entry.author) == ("customer", "C-1", "self")
    assert [p.id for p in persons] == ["C-1"]
    assert persons[0].telegram_id == 5002  # what the placeholder knew is kept
    # /start re-subscribes the merged person
    assert "снова включены" in await tg.reply(5002, "/start")
    status, _ = await tg.running.post(parts_arrived("pa-2", 1, "+7 916 1234567"))
    rows = await tg.running.wait_rows(
        lambda rows: rows and rows[0].status == "sent", event_id="pa-2"
    )
    assert [(r.channel, r.address) for r in rows] == [("telegram", "5002")]


async def test_rows_planned_under_the_old_id_see_the_persons_opt_out(bot_app):
    """The journal keeps what it recorded (rows planned for ``phone:+7...``), and a /stop the
    merged person gives later still matches their keys."""
    tg = await bot_app()

    async def setup(tx):
        await tx.upsert_person(
            Person(
                kind="customer",
                id="phone:+79160000001",
                phone="+79160000001",
                telegram_id=42,
                language="en",
            )
        )
        await tx.add_stop(
            StopEntry(who="phone:+79160000001", who_kind="customer", author="self", reason="/stop")
        )
        await tx.upsert_person(Person(kind="customer", id="C-9", name="Пётр", phone="+79160000001"))
        return await tx.merge_customer("phone:+79160000001", "C-9")

    moved = await tg.storage.write(setup)
    assert moved == {"persons": 1, "stoplist": 1}
    async with tg.storage.reader() as tx:
        merged = await tx.get_person("customer", "phone:+79160000001")
        old_keys = await tx.find_stop(["customer:phone:+79160000001", "chat:42"], "x", "sms")
        new_keys = await tx.find_stop(["customer:C-9"], "x", "sms")
        stranger = await tx.find_stop(["customer:C-10"], "x", "sms")
        again = await tx.merge_customer("phone:+79160000001", "C-9")
    assert (merged.id, merged.name, merged.telegram_id, merged.language) == (
        "C-9",
        "Пётр",
        42,
        "en",
    )
    assert old_keys is not None and new_keys is not None and old_keys.id == new_keys.id
    assert stranger is None and again == {}
    # an entry added later under the old id applies to the person's new id too
    entry = await tg.storage.write(
        lambda tx: tx.add_stop(
            StopEntry(who="phone:+79160000001", who_kind="customer", channel="email", author="cli")
        )
    )
    async with tg.storage.reader() as tx:
        found = await tx.find_stop(["customer:C-9"], "x", "email")
    assert found is not None and found.id in (entry.id, new_keys.id)


async def test_a_contact_after_a_deep_link_keeps_the_erp_customer(bot_app):
    tg = await bot_app()
    await tg.running.rules(RULE)
    assert "Готово" in await tg.reply(6001, f"/start {token_for('C-77')}")
    await tg.send(contact(6001, "79165550077", user_id=6001), 6001)
    async with tg.storage.reader() as tx:
        link = await tx.get_link(6001)
        person = await tx.get_person("customer", "C-77")
        customers = await tx.list_persons("customer")
    assert link.customer_id == "C-77" and link.phone == "+79165550077"
    assert person.phone == "+79165550077" and person.telegram_id == 6001
    assert [c.id for c in customers] == ["C-77"]  # no placeholder for the phone
