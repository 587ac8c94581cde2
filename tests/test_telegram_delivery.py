"""End to end: an ERP event over HTTP -> journal -> dispatcher -> the telegram and internal
channels -> the fake Bot API; fallback, 403, 429, escaping, splitting, webhook mode."""

from __future__ import annotations

import re

import pytest
from aiogram import Bot

from bot.core.config import TelegramConfig
from bot.core.timeutil import SystemClock
from bot.keys import SENDERS
from bot.pipeline.deep_links import verify_token
from bot.telegram_runtime import TelegramStartupError, add_telegram_routes, preflight
from senders.telegram import build_bot
from tests.conftest import CUSTOMER_EMAIL_RULE, booked
from tests.fakes.telegram_api import FakeTelegram, contact, message
from tests.telegram_fixtures import (  # noqa: F401
    BotApp,
    bot_app,
    fake_telegram,
    telegram_config,
)

IVAN = 1001  # customer C-001, phone 8 (916) 123-45-67 in booked()
OLGA = 3001  # staff S-7, the order's manager, phone +7 916 000-00-07

TELEGRAM_THEN_EMAIL = """
[[rules]]
name = "booked, customer"
event = "order_booked"
recipients = ["customer"]
channels = ["telegram", "email"]
"""


async def subscribe(tg, chat_id=IVAN, phone="+79161234567"):
    await tg.send(contact(chat_id, phone, user_id=chat_id), chat_id)


async def test_a_notification_reaches_the_linked_chat(bot_app, smtp):
    tg = await bot_app()
    await tg.running.rules(TELEGRAM_THEN_EMAIL)
    await subscribe(tg)
    status, _ = await tg.running.post(booked("e-1"))
    assert status == 202
    [row] = await tg.running.wait_rows(lambda rows: rows and rows[0].status == "sent")
    [sent] = tg.fake.to(IVAN)[1:]  # after the "subscribed" answer
    assert row.channel == "telegram" and row.address == str(IVAN) and row.attempts == 1
    assert row.provider_message_id == str(sent.message_id)
    assert "ЗН-000123" in sent.text and sent.parse_mode == "HTML"
    assert smtp.recorder.by_recipient("ivan@example.ru") == []


async def test_a_customer_without_a_chat_gets_the_next_channel(bot_app, smtp):
    tg = await bot_app()
    await tg.running.rules(TELEGRAM_THEN_EMAIL)
    await tg.running.post(booked("e-2"))
    rows = await tg.running.wait_rows(lambda rows: len(rows) == 2 and rows[1].status == "sent")
    assert (rows[0].channel, rows[0].status) == ("telegram", "skipped")
    assert "no linked Telegram chat" in rows[0].reason
    assert rows[1].channel == "email" and smtp.recorder.by_recipient("ivan@example.ru")


async def test_a_blocked_bot_fails_once_then_the_next_channel_is_used(bot_app, smtp):
    tg = await bot_app()
    await tg.running.rules(TELEGRAM_THEN_EMAIL)
    await subscribe(tg)
    tg.fake.fail_chat(IVAN, 403, "Forbidden: bot was blocked by the user")
    await tg.running.post(booked("e-3"))
    [row] = await tg.running.wait_rows(lambda rows: rows and rows[0].status == "failed")
    assert row.error == "Forbidden: bot was blocked by the user" and row.attempts == 1
    async with tg.storage.reader() as tx:
        assert (await tx.get_link(IVAN)).active is False
    await tg.running.post(booked("e-4"))
    rows = await tg.running.wait_rows(lambda rows: len(rows) == 3 and rows[2].status == "sent")
    assert (rows[1].channel, rows[1].status, rows[2].channel) == ("telegram", "skipped", "email")
    # the customer comes back: /start re-activates the chat and clears the 403 entry
    tg.fake.heal_chat(IVAN)
    await tg.say(IVAN, "/start")
    async with tg.storage.reader() as tx:
        assert (await tx.get_link(IVAN)).active and await tx.list_stops() == []


async def test_429_waits_and_delivers_without_losing_an_attempt(bot_app, smtp):
    tg = await bot_app()
    await tg.running.rules(TELEGRAM_THEN_EMAIL)
    await subscribe(tg)
    tg.fake.flood(1, retry_after=1)
    await tg.running.post(booked("e-5"))
    [row] = await tg.running.wait_rows(lambda rows: rows and rows[0].status == "sent")
    assert row.attempts == 1 and row.error is None
    assert [code for _, code, _ in tg.fake.rejected] == [429]
    assert tg.fake.to(IVAN)[-1].at - tg.fake.rejected[0][2] >= 0.99
    assert tg.fake.early_retries == 0


async def test_html_in_a_customer_name_arrives_escaped(bot_app, smtp):
    tg = await bot_app()
    await tg.running.rules(TELEGRAM_THEN_EMAIL + 'body = "Здравствуйте, {{ customer.name }}!"\n')
    await subscribe(tg)
    await tg.running.post(
        booked(
            "e-6",
            customer={
                "id": "C-001",
                "phone": "+79161234567",
                "name": "<b>Хакер</b> & <a href=x>Co",
            },
        )
    )
    [row] = await tg.running.wait_rows(lambda rows: rows and rows[0].status == "sent")
    sent = tg.fake.to(IVAN)[-1]
    assert sent.text == "Здравствуйте, &lt;b&gt;Хакер&lt;/b&gt; &amp; &lt;a href=x&gt;Co!"


async def test_a_6000_character_notification_arrives_in_two_messages(bot_app, smtp):
    tg = await bot_app()
    await tg.running.rules(TELEGRAM_THEN_EMAIL + 'body = "{{ data.note }}"\n')
    await subscribe(tg)
    note = "\n".join(f"{i:03d} " + "ж" * 95 for i in range(60))  # 6,000 characters
    await tg.running.post(booked("e-7", data={"note": note}))
    [row] = await tg.running.wait_rows(lambda rows: rows and rows[0].status == "sent")
    first, second = tg.fake.to(IVAN)[1:]
    assert (
        row.segments == 2 and row.provider_message_id == f"{first.message_id},{second.message_id}"
    )
    assert first.text + second.text == note and second.text.startswith("040 ")


async def test_internal_messages_go_to_the_inbox_and_the_staff_chat(bot_app, smtp):
    tg = await bot_app()
    await tg.running.rules("""
[[rules]]
name = "booked, manager"
event = "order_booked"
recipients = ["manager"]
channels = ["internal"]
subject = "Запись {{ order.number }}"
body = "Клиент {{ customer.name }}"
""")
    await tg.running.post(booked("e-8"))  # the directory learns staff S-7 and the phone
    await tg.running.wait_rows(lambda rows: rows and rows[0].status == "sent")
    await subscribe(tg, OLGA, "+79160000007")
    await tg.running.post(booked("e-9"))
    rows = await tg.running.wait_rows(
        lambda rows: len(rows) == 2 and all(r.status == "sent" for r in rows)
    )
    assert "forwarded to Telegram" not in (rows[0].error or "")
    async with tg.storage.reader() as tx:
        items = await tx.list_inbox("S-7")
    assert [i.subject for i in items] == ["Запись ЗН-000123"] * 2
    forwarded = [s for s in tg.fake.to(OLGA) if s.text.startswith("📥")]
    assert len(forwarded) == 1  # the first arrived before Ольга subscribed
    assert forwarded[0].text == "📥 <b>Запись ЗН-000123</b>\nКлиент Иван Петров"


async def test_without_a_token_internal_still_stores_and_telegram_is_off(
    make_config, start_app, smtp
):
    running = await start_app(make_config())
    assert "telegram" not in running.app[SENDERS] and "internal" in running.app[SENDERS]
    await running.rules("""
[[rules]]
name = "booked, manager"
event = "order_booked"
recipients = ["manager"]
channels = ["internal"]

[[rules]]
name = "booked, customer"
event = "order_booked"
recipients = ["customer"]
channels = ["telegram", "email"]
""")
    await running.post(booked("e-10"))
    rows = await running.wait_rows(
        lambda rows: any(r.channel == "internal" and r.status == "sent" for r in rows)
    )
    by_channel = {(r.recipient_role, r.channel): r for r in rows}
    assert by_channel[("customer", "telegram")].reason.startswith("telegram is off")
    async with running.storage.reader() as tx:
        [item] = await tx.list_inbox("S-7")
    assert "ЗН-000123" in item.text


async def test_a_template_can_offer_a_telegram_deep_link(bot_app, smtp):
    tg = await bot_app()
    await tg.running.rules(
        CUSTOMER_EMAIL_RULE + 'body = "Подпишитесь: {{ telegram_link(customer) }}"\n'
    )
    await tg.running.post(booked("e-11"))
    await tg.running.wait_rows(lambda rows: rows and rows[0].status == "sent")
    [mail] = smtp.recorder.by_recipient("ivan@example.ru")
    body = mail.get_body(("plain",)).get_content()
    token = re.search(r"https://t\.me/vestnik_test_bot\?start=([A-Za-z0-9_-]+)", body).group(1)
    assert verify_token(token, b"test-link-secret", now=SystemClock().now()).customer_id == "C-001"
    await tg.say(IVAN, f"/start {token}")
    async with tg.storage.reader() as tx:
        assert (await tx.get_link(IVAN)).customer_id == "C-001"


async def test_webhook_mode_takes_updates_with_the_secret_only(
    telegram_config, start_app, fake_telegram, monkeypatch
):
    import bot.app

    def init_app(config, **kwargs):  # what bot/app.py must do (idempotent if it already does)
        app = original(config, **kwargs)
        add_telegram_routes(app)
        return app

    original = bot.app.init_app
    monkeypatch.setattr("tests.conftest.init_app", init_app)
    running = await start_app(
        telegram_config(
            telegram={
                "mode": "webhook",
                "webhook_url": "https://bot.example.org",
                "webhook_secret": "s3cret-token",
            }
        )
    )
    tg = BotApp(running, fake_telegram)
    [registered] = tg.fake.calls("setWebhook")
    assert registered["url"] == "https://bot.example.org/telegram"
    assert registered["secret_token"] == "s3cret-token"
    assert "my_chat_member" in registered["allowed_updates"]
    update = {"update_id": 1, **message(IVAN, "/start")}
    url = tg.running.url + "/telegram"
    async with tg.running.session.post(url, json=update) as response:
        assert response.status == 401
    async with tg.running.session.post(
        url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}
    ) as response:
        assert response.status == 200
    [greeting] = await tg.fake.wait_sent(chat_id=IVAN)
    assert greeting.text.startswith("Здравствуйте")
    assert tg.fake.calls("getUpdates") == []


async def test_a_rejected_token_stops_startup_with_a_clear_message(fake_telegram):
    bot = build_bot(TelegramConfig(token="42:WRONG", api_base=fake_telegram.base_url))
    try:
        with pytest.raises(TelegramStartupError, match="rejected telegram.token"):
            await preflight(bot)
    finally:
        await bot.session.close()


async def test_an_unreachable_api_at_startup_is_not_fatal():
    server = await FakeTelegram().start()
    url = server.base_url
    await server.close()
    bot: Bot = build_bot(TelegramConfig(token="42:TEST", api_base=url))
    try:
        assert await preflight(bot) is None
    finally:
        await bot.session.close()


async def test_the_bot_comes_up_later_when_the_api_is_down_at_startup(bot_app, fake_telegram, smtp):
    fake_telegram.fail_method("getMe", times=2)  # the pre-flight and polling's first try
    tg = await bot_app()
    assert tg.runtime.me is None and tg.runtime.links.bot_username is None
    assert (await tg.reply(IVAN, "/start")).startswith("Здравствуйте")
    assert tg.runtime.links.bot_username == "vestnik_test_bot"
