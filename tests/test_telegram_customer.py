"""Customers in the bot (the README's Telegram section), through real polling against the fake Bot API."""

from __future__ import annotations

from datetime import timedelta

from bot.core.timeutil import SystemClock
from bot.pipeline.deep_links import make_deep_link, make_token, verify_token
from storage.models import Person
from tests.conftest import booked
from tests.fakes.telegram_api import BOT_USERNAME, chat_member, contact
from tests.telegram_fixtures import (  # noqa: F401
    bot_app,
    fake_telegram,
    telegram_config,
)

IVAN = 1001
SECRET = b"test-link-secret"


async def link_of(tg, chat_id):
    async with tg.storage.reader() as tx:
        return await tx.get_link(chat_id)


async def test_start_greets_in_russian_and_offers_the_contact_button(bot_app):
    tg = await bot_app()
    [greeting] = await tg.say(IVAN, "/start")
    assert greeting.text.startswith("Здравствуйте, Иван!")
    [[button]] = greeting.reply_markup["keyboard"]
    assert button["request_contact"] is True and "Поделиться" in button["text"]


async def test_start_speaks_english_to_an_english_client(bot_app):
    tg = await bot_app()
    [greeting] = await tg.say(IVAN, "/start", language="en-US")
    assert greeting.text.startswith("Hello, Иван!")
    assert greeting.reply_markup["keyboard"][0][0]["text"] == "📱 Share my phone number"


async def test_own_contact_links_the_chat_and_creates_the_customer(bot_app):
    tg = await bot_app()
    [answer] = await tg.send(contact(IVAN, "79161234567", user_id=IVAN), IVAN)
    assert "+7 916 123-45-67" in answer.text and "/stop" in answer.text
    # the contact button gives way to the button that opens /orders
    assert answer.reply_markup["keyboard"] == [[{"text": "📋 Мои заказы"}]]
    link = await link_of(tg, IVAN)
    assert link.phone == "+79161234567" and link.active and link.user_id == IVAN
    assert link.customer_id == "phone:+79161234567"
    async with tg.storage.reader() as tx:
        person = await tx.get_person("customer", "phone:+79161234567")
    assert person.name == "Иван" and person.phone == "+79161234567"


async def test_contact_links_to_the_customer_the_erp_already_sent(bot_app):
    tg = await bot_app()
    status, _ = await tg.running.post(booked("c-1"))  # customer C-001, 8 (916) 123-45-67
    assert status == 202
    await tg.send(contact(IVAN, "+7 916 123 45 67", user_id=IVAN), IVAN)
    link = await link_of(tg, IVAN)
    assert link.customer_id == "C-001"


async def test_someone_elses_contact_is_refused(bot_app):
    tg = await bot_app()
    [answer] = await tg.send(contact(IVAN, "79161234567", user_id=2002), IVAN)
    assert "собственный номер" in answer.text
    assert await link_of(tg, IVAN) is None


async def test_a_contact_card_without_user_id_is_refused(bot_app):
    tg = await bot_app()
    [answer] = await tg.send(contact(IVAN, "79161234567", user_id=None), IVAN)
    assert "собственный номер" in answer.text
    assert await link_of(tg, IVAN) is None


async def test_a_contact_in_a_group_links_nothing(bot_app):
    tg = await bot_app()
    await tg.send(contact(-500, "79161234567", user_id=IVAN, from_id=IVAN), -500)
    assert await link_of(tg, -500) is None


async def test_deep_link_subscribes_without_the_phone(bot_app):
    tg = await bot_app()
    await tg.storage.write(
        lambda tx: tx.upsert_person(
            Person(kind="customer", id="C-777", name="Мария", phone="+79160000777")
        )
    )
    token = make_token("C-777", SECRET, timedelta(days=30), now=SystemClock().now())
    [answer] = await tg.say(IVAN, f"/start {token}")
    assert answer.text.startswith("Готово, Мария!")
    link = await link_of(tg, IVAN)
    assert link.customer_id == "C-777" and link.active


async def test_tampered_expired_and_reused_deep_links_are_refused(bot_app):
    tg = await bot_app()
    now = SystemClock().now()
    token = make_token("C-777", SECRET, timedelta(days=30), now=now)
    forged = make_token("C-777", b"another secret", timedelta(days=30), now=now)
    expired = make_token("C-777", SECRET, timedelta(days=1), now=now - timedelta(days=2))
    assert "недействительна" in await tg.reply(IVAN, f"/start {forged}")
    assert "истёк" in await tg.reply(IVAN, f"/start {expired}")
    assert await link_of(tg, IVAN) is None
    assert "Готово" in await tg.reply(IVAN, f"/start {token}")
    assert "уже использована" in await tg.reply(3003, f"/start {token}")  # a forwarded e-mail
    assert await link_of(tg, 3003) is None


def test_deep_link_tokens_fit_telegram_and_round_trip():
    now = SystemClock().now()
    for customer_id in (
        "C-001",
        "8f14e45f-ceea-467a-9af0-3a4c5f2b9f11",
        "8F14E45F-CEEA-467A-9AF0-3A4C5F2B9F11",
        "phone:+79161234567",
        "ЦБ-00012345",
        "x" * 33,
    ):
        link = make_deep_link(BOT_USERNAME, customer_id, SECRET, 30, now=now)
        token = link.rsplit("=", 1)[1]
        assert link.startswith(f"https://t.me/{BOT_USERNAME}?start=")
        assert len(token) <= 64 and token.replace("-", "").replace("_", "").isalnum()
        assert verify_token(token, SECRET, now=now).customer_id == customer_id


async def test_stop_opts_out_and_start_opts_back_in(bot_app):
    tg = await bot_app()
    await tg.send(contact(IVAN, "79161234567", user_id=IVAN), IVAN)
    assert "отписались" in await tg.reply(IVAN, "/stop")
    async with tg.storage.reader() as tx:
        [entry] = await tx.list_stops()
        stopped = await tx.find_stop(["customer:phone:+79161234567"], "order_booked", "email")
    assert (
        entry.who_kind,
        entry.who,
        entry.event_type,
        entry.channel,
        entry.author,
        entry.reason,
    ) == ("customer", "phone:+79161234567", "*", "*", "self", "/stop")
    assert stopped is not None
    assert "снова включены" in await tg.reply(IVAN, "/start")
    async with tg.storage.reader() as tx:
        assert await tx.list_stops() == []


async def test_stop_from_an_unlinked_chat_stops_the_chat(bot_app):
    tg = await bot_app()
    await tg.say(IVAN, "/stop")
    async with tg.storage.reader() as tx:
        [entry] = await tx.list_stops()
    assert (entry.who_kind, entry.who) == ("chat", str(IVAN))


async def test_blocking_the_bot_deactivates_the_link_and_unblocking_restores_it(bot_app):
    tg = await bot_app()
    await tg.send(contact(IVAN, "79161234567", user_id=IVAN), IVAN)
    await tg.settle(await tg.fake.push(chat_member(IVAN, old="member", new="kicked")))
    assert (await link_of(tg, IVAN)).active is False
    await tg.settle(await tg.fake.push(chat_member(IVAN, old="kicked", new="member")))
    assert (await link_of(tg, IVAN)).active is True


async def test_help_and_anything_else(bot_app):
    tg = await bot_app()
    help_text = await tg.reply(IVAN, "/help", language="en")
    assert "/stop" in help_text and "/journal" not in help_text
    assert "/help" in await tg.reply(IVAN, "привет")


async def test_a_database_outage_gets_a_try_again_answer_not_a_traceback(bot_app, monkeypatch):
    from contextlib import asynccontextmanager

    from storage.base import StorageUnavailable

    tg = await bot_app()

    @asynccontextmanager
    async def down():
        raise StorageUnavailable("database is locked")
        yield

    monkeypatch.setattr(tg.storage, "reader", down)
    answer = await tg.reply(IVAN, "/start")
    assert answer == "База данных сейчас недоступна, попробуйте через минуту."
