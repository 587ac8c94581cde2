"""The ERP webhook (docs/webhook.md): authenticate, read a bounded body, validate, deduplicate, and
store events with their planned notifications in one transaction before answering 202.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiohttp import web

from bot.core.config import Config
from bot.core.metrics import Metrics
from bot.core.timeutil import Clock, to_utc
from bot.pipeline.events import EventIn, validate_events
from bot.pipeline.planner import Planner
from bot.pipeline.webhook_auth import authenticate
from storage.base import Storage, StorageUnavailable, Tx
from storage.models import JournalRow, StoredEvent

log = logging.getLogger("vestnik.intake")

MESSAGES = {
    "unsupported_media_type": {"ru": "Нужен Content-Type: application/json",
                               "en": "Content-Type must be application/json"},
    "unauthorized": {"ru": "Нет доступа: проверьте токен или подпись",
                     "en": "Not authorised: check the token or the signature"},
    "too_large": {"ru": "Тело запроса больше {limit} байт: отправляйте события частями",
                  "en": "The body is over {limit} bytes: send the events in smaller batches"},
    "invalid_json": {"ru": "Тело запроса — не JSON: {detail}",
                     "en": "The body is not JSON: {detail}"},
    "invalid_events": {"ru": "События не приняты: исправьте ошибки и отправьте снова",
                       "en": "No events stored: fix the problems and send again"},
    "storage_unavailable": {"ru": "База данных недоступна, повторите позже",
                            "en": "The database is unavailable, retry later"},
}


class TooLarge(Exception):
    pass


async def read_bounded(request: web.Request, limit: int) -> bytes:
    """Read at most ``limit`` bytes; stop reading (413) as soon as the body is larger."""
    if request.content_length is not None and request.content_length > limit:
        raise TooLarge
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


class Intake:
    def __init__(self, config: Config, storage: Storage, planner: Planner, clock: Clock,
                 metrics: Metrics, on_committed: Callable[[], Awaitable[None]]) -> None:
        self.config = config
        self.storage = storage
        self.planner = planner
        self.clock = clock
        self.metrics = metrics
        self.on_committed = on_committed

    def _error(self, status: int, code: str, **extra: Any) -> web.Response:
        lang = self.config.service.language
        message = MESSAGES[code][lang].format(limit=self.config.webhook.max_body_bytes,
                                              detail=extra.pop("detail", ""))
        headers = {"Retry-After": "5"} if status == 503 else None
        if status == 401:
            headers = {"WWW-Authenticate": "Bearer"}
        return web.json_response({"error": code, "message": message, **extra}, status=status,
                                 headers=headers)

    async def handle(self, request: web.Request) -> web.Response:
        webhook = self.config.webhook
        if request.content_type != "application/json":
            return self._error(415, "unsupported_media_type")
        bearer_only = authenticate(webhook, request.headers, None, time.time())
        if bearer_only is not None and webhook.secret is None:
            return self._error(401, "unauthorized")
        try:
            body = await read_bounded(request, webhook.max_body_bytes)
        except TooLarge:
            return self._error(413, "too_large")
        if bearer_only is not None:
            problem = authenticate(webhook, request.headers, body, time.time())
            if problem is not None:
                log.info("webhook rejected: %s", problem)
                return self._error(401, "unauthorized")
        try:
            payload = json.loads(body.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return self._error(400, "invalid_json", detail=str(exc))
        events, problems = validate_events(payload, webhook.max_batch)
        if problems:
            return self._error(400, "invalid_events", problems=problems)
        try:
            result = await self.storage.write(lambda tx: self.store(tx, events))
        except StorageUnavailable as exc:
            log.warning("storage unavailable, answering 503: %s", exc)
            return self._error(503, "storage_unavailable")
        accepted, duplicates, planned = result
        self.metrics.events_accepted.inc(len(accepted))
        self.metrics.events_duplicate.inc(len(duplicates))
        if planned:
            await self.on_committed()
        return web.json_response({"accepted": accepted, "duplicates": duplicates,
                                  "planned": planned}, status=202)

    async def store(self, tx: Tx, events: list[EventIn]) -> tuple[list[str], list[str], int]:
        """One transaction for the whole batch: every event or none."""
        now = self.clock.now()
        known = await tx.existing_events([e.id for e in events])
        accepted: list[str] = []
        duplicates: list[str] = []
        rows: list[JournalRow] = []
        await self.planner.refresh_rules(tx)
        for event in events:
            if event.id in known:
                duplicates.append(event.id)
                continue
            known.add(event.id)
            accepted.append(event.id)
            rows += await self.store_one(tx, event, now)
        await tx.insert_journal_bulk(rows)
        for row in rows:
            self.metrics.planned.labels(row.channel, row.status).inc()
        return accepted, duplicates, len(rows)

    async def store_one(self, tx: Tx, event: EventIn, now: datetime) -> list[JournalRow]:
        tz = self.config.service.tz
        event.occurred_at = to_utc(event.occurred_at, tz) if event.occurred_at else now
        if event.order is not None:
            for name in ("planned_start", "planned_finish"):
                value = getattr(event.order, name)
                if value is not None:
                    setattr(event.order, name, to_utc(value, tz))
        persons = await self.planner.upsert_persons(tx, event)
        document = self.planner.document(event, persons)
        await tx.insert_event(StoredEvent(
            id=event.id, type=event.type, occurred_at=event.occurred_at, received_at=now,
            payload=event.model_dump(mode="json", exclude_none=True),
            order_id=event.order.id if event.order else None,
            order_number=event.order.number if event.order else None))
        return await self.planner.plan(tx, event, document, persons, now)
