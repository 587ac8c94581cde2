"""Where the rule wizard keeps its dialogue: in the database. A restart in the middle of a
dialogue continues it; a second process on the same PostgreSQL database finishes what the
first began; a dialogue nobody touched for ``telegram.dialogue_ttl_hours`` is forgotten."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiogram.fsm.storage.base import StorageKey
from aiohttp import web

from bot.app import init_app
from bot.core.timeutil import ManualClock
from bot.telegram_fsm import DatabaseFsmStorage
from storage.open import open_storage
from tests.conftest import CUSTOMER_EMAIL_RULE, RunningApp, booked
from tests.fakes.telegram_api import FakeTelegram, buttons
from tests.telegram_fixtures import (  # noqa: F401
    ADMIN_ID,
    BotApp,
    bot_app,
    fake_telegram,
    telegram_config,
)
from tests.time_fixtures import START


class Served:
    """One ``vestnik serve`` in the test: the app with its bot on a fake API, stoppable."""

    def __init__(self) -> None:
        self.runners: list[web.AppRunner] = []
        self.session: aiohttp.ClientSession | None = None

    async def start(self, config: Any, fake: FakeTelegram) -> BotApp:
        self.session = self.session or aiohttp.ClientSession()
        app = init_app(config)
        runner = web.AppRunner(app, shutdown_timeout=2)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.runners.append(runner)
        url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        return BotApp(RunningApp(app, url, self.session), fake)

    async def stop(self, bot: BotApp) -> None:
        runner = next(r for r in self.runners if r.app is bot.app)
        self.runners.remove(runner)
        await runner.cleanup()

    async def close(self) -> None:
        for runner in reversed(self.runners):
            await runner.cleanup()
        if self.session is not None:
            await self.session.close()


@pytest.fixture
async def served(telegram_config):  # after the database exists, stopped before it is dropped
    keeper = Served()
    yield keeper
    await keeper.close()


async def first_steps(tg: BotApp) -> Any:
    await tg.say(ADMIN_ID, "/rules new")
    await tg.press(ADMIN_ID, "Заказы и ремонт")
    await tg.press(ADMIN_ID, "Заказ-наряд записан на ремонт")
    card = await tg.press(ADMIN_ID, "Клиент")
    assert "получатели" in card.text
    return card


async def finish(tg: BotApp, card: Any) -> Any:
    card = await tg.press(ADMIN_ID, "Дальше", message=card)
    assert "каналы" in card.text  # the choice made before is still there: step 3
    await tg.press(ADMIN_ID, "email", message=card)
    for _ in range(4):  # filters, template, options: nothing to change
        card = await tg.press(ADMIN_ID, "Дальше", message=card)
    assert "Получатели: customer" in card.text and "Каналы: email" in card.text
    return await tg.press(ADMIN_ID, "💾 Сохранить", message=card)


async def test_a_restart_in_the_middle_of_the_wizard_continues_it(
    served, telegram_config, fake_telegram, smtp
):
    config = telegram_config()
    first = await served.start(config, fake_telegram)
    card = await first_steps(first)
    await served.stop(first)
    second = await served.start(config, fake_telegram)  # a new process, same database
    saved = await finish(second, card)
    assert "✅ Правило #1" in saved.text
    await second.running.post(booked("rs-1"))
    [row] = await second.running.wait_rows(lambda rows: rows and rows[0].status == "sent")
    assert row.rule.startswith("Заказ-наряд записан на ремонт") and row.channel == "email"


async def test_a_second_process_on_postgresql_finishes_the_wizard(
    served, backend, telegram_config, fake_telegram, smtp
):
    if backend != "postgres":
        pytest.skip("several processes share a PostgreSQL database")
    async with FakeTelegram(hold_updates=0.5) as other_api:
        # one Telegram: the second poller's fake knows the messages the first one sent
        other_api.sent, other_api._message_ids = fake_telegram.sent, fake_telegram._message_ids
        one = await served.start(telegram_config(), fake_telegram)
        two = await served.start(
            telegram_config(telegram={"api_base": other_api.base_url}), other_api
        )
        await one.running.rules(CUSTOMER_EMAIL_RULE)
        card = await first_steps(one)  # both processes keep running
        saved = await finish(two, card)
        assert "✅ Правило #2" in saved.text
        assert any(name == "editMessageText" for name, _ in other_api.requests)
        async with one.storage.reader() as tx:
            rule = await tx.get_rule(2)
        assert rule.definition["recipients"] == ["customer"]
        assert rule.definition["channels"] == ["email"]


async def test_an_abandoned_dialogue_expires(bot_app, smtp):
    tg = await bot_app(telegram={"dialogue_ttl_hours": 1})
    card = await first_steps(tg)
    key = DatabaseFsmStorage(tg.storage, ManualClock(START), ttl=timedelta(hours=1)).keys.build(
        StorageKey(bot_id=42, chat_id=ADMIN_ID, user_id=ADMIN_ID)
    )
    async with tg.storage.reader() as tx:
        dialogue = await tx.get_dialogue(key)
    assert dialogue.data["draft"]["recipients"] == ["customer"]
    old = dialogue.updated_at - timedelta(hours=2)  # as if left two hours ago
    await tg.storage.write(lambda tx: tx.set_dialogue_data(key, dialogue.data, old))
    await tg.press(ADMIN_ID, "Дальше", message=card)
    assert "уже закончен или устарел" in tg.fake.answered[-1]["text"]
    card = (await tg.say(ADMIN_ID, "/rules new"))[-1]  # a fresh one starts clean
    assert "Сейчас: —" in card.text and "✅" not in str(buttons(card))


async def test_the_fsm_store_forgets_and_purges_expired_dialogues(database_url):
    storage = open_storage(database_url)
    await storage.open()
    try:
        clock = ManualClock(START)
        fsm = DatabaseFsmStorage(storage, clock, ttl=timedelta(hours=24))
        left = StorageKey(bot_id=42, chat_id=1, user_id=1)
        await fsm.set_state(left, "RuleWizard:choosing")
        await fsm.set_data(left, {"draft": {"event": "shipped"}})
        assert await fsm.get_state(left) == "RuleWizard:choosing"
        assert (await fsm.get_data(left))["draft"] == {"event": "shipped"}
        clock.advance(timedelta(hours=25))
        assert await fsm.get_state(left) is None and await fsm.get_data(left) == {}
        await fsm.set_state(StorageKey(bot_id=42, chat_id=2, user_id=2), "RuleWizard:choosing")
        async with storage.reader() as tx:  # the next write purged the abandoned one
            assert await tx.get_dialogue(fsm.keys.build(left)) is None
    finally:
        await storage.close()
