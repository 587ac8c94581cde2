"""Fixtures for the telegram tests: the fake Bot API, a Bot on it, the whole app with the bot
on, and a virtual clock for the rate limiter. Import the fixtures you use into the test module
(``from tests.telegram_fixtures import fake_telegram, ...``)."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiogram import Bot

from bot.core.config import Config, TelegramConfig
from bot.telegram_runtime import TELEGRAM
from senders.telegram import build_bot
from tests.fakes.telegram_api import TOKEN, FakeTelegram

ADMIN_ID = 500  # a Telegram id in telegram.admins


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(hold_updates=0.5) as server:
        yield server


@pytest.fixture
async def tg_bot(fake_telegram: FakeTelegram) -> AsyncIterator[Bot]:
    bot = build_bot(TelegramConfig(token=TOKEN, api_base=fake_telegram.base_url))
    yield bot
    await bot.session.close()


@pytest.fixture
def telegram_config(
    make_config: Callable[..., Config], fake_telegram: FakeTelegram
) -> Callable[..., Config]:
    """``make_config`` with the bot on the fake API; more sections/keys as keyword args."""

    def build(**sections: dict[str, Any]) -> Config:
        telegram = {
            "token": TOKEN,
            "api_base": fake_telegram.base_url,
            "admins": [ADMIN_ID],
            "link_secret": "test-link-secret",
            **sections.pop("telegram", {}),
        }
        return make_config(telegram=telegram, **sections)

    return build


class VirtualTime:
    """A clock and sleep for the limiter: sleeping tasks wake in time order, instantly."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(0.0, seconds), next(self._seq), future))
        await future

    async def run(self, *coros: Awaitable[Any]) -> list[Any]:
        """Run ``coros`` to completion, advancing time whenever everyone is asleep."""
        tasks = [asyncio.ensure_future(c) for c in coros]
        while not all(task.done() for task in tasks):
            for _ in range(20):  # let every runnable task reach its next sleep
                await asyncio.sleep(0)
            if self._sleepers and not all(task.done() for task in tasks):
                moment, _, future = heapq.heappop(self._sleepers)
                self.now = max(self.now, moment)
                future.set_result(None)
        return [task.result() for task in tasks]


@pytest.fixture
def virtual_time() -> VirtualTime:
    return VirtualTime()


class BotApp:
    """The running app with the bot on the fake API, and a way to talk to it."""

    def __init__(self, running: Any, fake: FakeTelegram) -> None:
        self.running = running
        self.fake = fake

    @property
    def app(self) -> Any:
        return self.running.app

    @property
    def storage(self) -> Any:
        return self.running.storage

    @property
    def runtime(self) -> Any:
        return self.app[TELEGRAM]

    async def settle(self, update_id: int) -> None:
        """Wait until the bot took ``update_id`` and finished handling it."""
        await self.fake.wait_consumed(update_id)
        deadline = asyncio.get_running_loop().time() + 10
        while self.runtime.inflight:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("an update is still being handled")
            await asyncio.sleep(0.01)

    async def send(self, update: dict[str, Any], chat_id: int) -> list[Any]:
        """Push an update; return what the bot sent to ``chat_id`` while handling it."""
        before = len(self.fake.to(chat_id))
        await self.settle(await self.fake.push(update))
        return self.fake.to(chat_id)[before:]

    async def say(self, chat_id: int, text: str, **kwargs: Any) -> list[Any]:
        from tests.fakes.telegram_api import message

        return await self.send(message(chat_id, text, **kwargs), chat_id)

    async def press(self, chat_id: int, label: str, *, message: Any = None, **kwargs: Any) -> Any:
        """Press the button whose text contains ``label`` under ``message`` (default: the
        newest message to ``chat_id`` that has buttons); returns that message as it is
        afterwards, or the newest message the bot sent while handling the press."""
        from tests.fakes.telegram_api import buttons, callback

        if message is None:
            message = next(
                s
                for s in reversed(self.fake.to(chat_id))
                if s.reply_markup and "inline_keyboard" in s.reply_markup
            )
        matches = [data for text, data in buttons(message) if label in text]
        if not matches:
            raise AssertionError(f"no button {label!r} under: {buttons(message)}")
        before = len(self.fake.to(chat_id))
        update = callback(chat_id, message.message_id, matches[0], text=message.text, **kwargs)
        await self.settle(await self.fake.push(update))
        new = self.fake.to(chat_id)[before:]
        return new[-1] if new else message

    async def reply(self, chat_id: int, text: str, **kwargs: Any) -> str:
        """The bot's whole answer to ``text`` (parts joined)."""
        return "".join(sent.text for sent in await self.say(chat_id, text, **kwargs))


@pytest.fixture
async def bot_app(
    telegram_config: Callable[..., Config], start_app: Any, fake_telegram: FakeTelegram
) -> Callable[..., Awaitable[BotApp]]:
    async def start(**sections: dict[str, Any]) -> BotApp:
        running = await start_app(telegram_config(**sections))
        return BotApp(running, fake_telegram)

    return start
