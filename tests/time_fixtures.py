"""Fixtures for the time tests: a clock the test moves, and the app on it, startable and
stoppable (restarts over one database). Import what you use into the test module."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.app import init_app
from bot.core.config import Config
from bot.core.timeutil import ManualClock
from bot.keys import CATCH_UP
from tests.conftest import RunningApp

START = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)  # 10:00 in Moscow, when booked() happens


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


class Service:
    """Start the app on ``clock`` (``await service(**config sections)``) and stop it."""

    def __init__(self, make_config: Callable[..., Config], clock: ManualClock) -> None:
        self.make_config = make_config
        self.clock = clock
        self.session: aiohttp.ClientSession | None = None
        self.runners: dict[int, web.AppRunner] = {}

    async def __call__(self, *, catch_up: bool = True, **sections: dict[str, Any]) -> RunningApp:
        if self.session is None:
            self.session = aiohttp.ClientSession()
        app = init_app(self.make_config(**sections), clock=self.clock)
        runner = web.AppRunner(app, shutdown_timeout=2)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        running = RunningApp(app, f"http://127.0.0.1:{port}", self.session)
        self.runners[id(running)] = runner
        if catch_up:  # the start-up catch-up of the daily jobs has finished
            await app[CATCH_UP]
        return running

    async def stop(self, running: RunningApp) -> None:
        await self.runners.pop(id(running)).cleanup()

    async def close(self) -> None:
        for runner in reversed(list(self.runners.values())):
            await runner.cleanup()
        if self.session is not None:
            await self.session.close()


@pytest.fixture
async def service(
    make_config: Callable[..., Config], clock: ManualClock
) -> AsyncIterator[Callable[..., Awaitable[RunningApp]]]:
    svc = Service(make_config, clock)
    yield svc
    await svc.close()
