"""Updates being handled: tracked by an outer middleware, given time to finish on shutdown.

Their answers need the bot's session, so the Telegram context waits for them (at most
``SHUTDOWN_GRACE``) before it closes the session, then cancels what is left.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.types import TelegramObject
from aiogram.webhook.aiohttp_server import SimpleRequestHandler

SHUTDOWN_GRACE = 5.0  # seconds updates in progress get to finish


def track_updates(inflight: set[asyncio.Task[Any]]) -> Callable[..., Awaitable[Any]]:
    """Outer middleware: remember the task of every update being handled (for shutdown)."""

    async def middleware(
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        task = asyncio.current_task()
        if task is not None:
            inflight.add(task)
        try:
            return await handler(event, data)
        finally:
            if task is not None:
                inflight.discard(task)

    return middleware


async def finish_updates(
    inflight: set[asyncio.Task[Any]], webhook: SimpleRequestHandler | None
) -> None:
    """Let updates being handled finish (their answers need the session), then cancel."""
    tasks = set(inflight)
    if webhook is not None:
        tasks |= set(webhook._background_feed_update_tasks)
    current = asyncio.current_task()
    if current is not None:
        tasks.discard(current)
    if not tasks:
        return
    done, pending = await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
