"""The ERP webhook (docs/webhook.md): authenticate, read a bounded body, validate, deduplicate, and
store events with their planned notifications in one transaction before answering 202.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from bot.core.config import Config
from bot.core.metrics import Metrics
from bot.core.redact import redact_urls
from bot.core.timeutil import Clock, to_utc
from bot.pipeline.birthdays import greetings_for
from bot.pipeline.body import BodyError, decode_json
from bot.pipeline.events import LANGUAGES, EventIn, validate_payload
from bot.pipeline.planner import Planner
from bot.pipeline.typos import unread_type_warnings
from bot.pipeline.webhook_auth import AuthFailure, authenticate_events
from storage.base import Storage, StorageUnavailable, Tx
from storage.models import JournalRow, Person, StoredEvent

log = logging.getLogger("vestnik.intake")

MESSAGES = {
    "unsupported_media_type": {
        "ru": "Нужен Content-Type: application/json",
        "en": "Content-Type must be application/json",
    },
    "unauthorized": {
        "ru": "Нет доступа: проверьте токен или подпись",
        "en": "Not authorised: check the token or the signature",
    },
    "too_large": {
        "ru": "Тело запроса больше {limit} байт: отправляйте события частями",
        "en": "The body is over {limit} bytes: send the events in smaller batches",
    },
    "invalid_json": {
        "ru": "Тело запроса — не JSON: {detail}",
        "en": "The body is not JSON: {detail}",
    },
    "not_utf8": {"ru": "{detail}", "en": "{detail}"},  # the body's own words: where and why
    "too_deep": {"ru": "{detail}", "en": "{detail}"},
    "invalid_events": {
        "ru": "События не приняты: исправьте ошибки и отправьте снова",
        "en": "No events stored: fix the problems and send again",
    },
    "storage_unavailable": {
        "ru": "База данных недоступна, повторите позже ({detail})",
        "en": "The database is unavailable, retry later ({detail})",
    },
    "client_gone": {
        "ru": "Соединение закрыто до конца тела запроса",
        "en": "The connection closed before the body was complete",
    },
    "body_timeout": {
        "ru": "Тело запроса не дочитано за отведённое время",
        "en": "The request body did not arrive in time",
    },
    "internal_error": {
        "ru": "Внутренняя ошибка при приёме событий, ничего не сохранено; "
        "повторите позже (подробности в журнале сервиса)",
        "en": "Internal error while taking the events, nothing stored; retry "
        "later (details in the service log)",
    },
}


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)  # Cyrillic readable in curl and 1C's logs


def answer_language(accept_language: str | None, default: str) -> str:
    """Russian unless ``Accept-Language`` prefers a language we have texts for."""
    best, best_q = default, -1.0
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        lang = tag.strip().lower()[:2]
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if lang in LANGUAGES and q > best_q:
            best, best_q = lang, q
    return best


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
    def __init__(
        self,
        config: Config,
        storage: Storage,
        planner: Planner,
        clock: Clock,
        metrics: Metrics,
        on_committed: Callable[[], Awaitable[None]],
    ) -> None:
        self.config = config
        self.storage = storage
        self.planner = planner
        self.clock = clock
        self.metrics = metrics
        self.on_committed = on_committed
        self._forget_at: datetime | None = None

    def _error(self, status: int, code: str, lang: str | None = None, **extra: Any) -> web.Response:
        lang = lang or self.config.service.language
        message = MESSAGES[code][lang].format(
            limit=self.config.webhook.max_body_bytes, detail=extra.pop("detail", "")
        )
        headers = {"Retry-After": "5"} if status == 503 else None
        if status == 401:
            headers = {"WWW-Authenticate": "Bearer"}
        return web.json_response(
            {"error": code, "message": message, **extra},
            status=status,
            headers=headers,
            dumps=_dumps,
        )

    def _unauthorized(self, failure: AuthFailure) -> web.Response:
        log.info("webhook rejected: %s", failure)
        return self._error(401, "unauthorized", reason=failure.text(self.config.service.language))

    async def handle(self, request: web.Request) -> web.Response:
        """Every outcome is an answer that says why: no exception leaves the intake."""
        try:
            return await self._handle(request)
        except (ConnectionError, web.HTTPException):
            raise  # a client gone mid-body, or an answer aiohttp gives: theirs to handle
        except Exception:
            # a bug of ours: 503 so the ERP retries after the fix, never a bare 500
            log.exception("intake failed on a request; answered 503")
            return self._error(503, "internal_error")

    async def _handle(self, request: web.Request) -> web.Response:
        webhook = self.config.webhook
        if request.content_type != "application/json":
            return self._error(415, "unsupported_media_type")
        early = authenticate_events(webhook, request.headers, None, time.time())
        if early is not None and (webhook.secret is None or early.code != "body_needed"):
            return self._unauthorized(early)
        body = await self._read_body(request)
        if isinstance(body, web.Response):
            return body
        delivery: str | None = None
        if early is not None:
            problem = authenticate_events(webhook, request.headers, body, time.time())
            if problem is not None:
                return self._unauthorized(problem)
            delivery = request.headers["webhook-id"]
        lang = answer_language(request.headers.get("Accept-Language"), self.config.service.language)
        try:
            payload = decode_json(body, lang)
        except BodyError as exc:
            return self._error(400, exc.code, lang, detail=exc.message)
        events, problems = validate_payload(payload, lang, webhook.max_batch)
        if problems:
            return self._error(400, "invalid_events", lang, problems=problems)
        return await self._store_and_answer(events, delivery, lang)

    async def _read_body(self, request: web.Request) -> bytes | web.Response:
        """The body within the size and time limits, or the answer saying which one it broke."""
        webhook = self.config.webhook
        try:
            async with asyncio.timeout(webhook.body_timeout):
                return await read_bounded(request, webhook.max_body_bytes)
        except TooLarge:
            return self._error(413, "too_large")
        except TimeoutError:
            return self._error(408, "body_timeout", seconds=webhook.body_timeout)
        except ConnectionResetError as exc:  # the client went away mid-body: one line
            log.info("a client went away before its body arrived: %s", exc)
            return self._error(400, "client_gone")

    async def _store_and_answer(
        self, events: list[EventIn], delivery: str | None, lang: str
    ) -> web.Response:
        """Store the valid events in one transaction, then answer 202 with what became of them."""
        try:
            result = await self.storage.write(lambda tx: self.store(tx, events, delivery))
        except StorageUnavailable as exc:
            detail = redact_urls(str(exc)) or type(exc).__name__
            log.warning("storage unavailable, answering 503: %s", detail)
            return self._error(503, "storage_unavailable", detail=detail)
        if result is None:  # a signed request seen before: nothing stored again
            log.info("webhook-id %r seen before: answered as a duplicate delivery", delivery)
            self.metrics.events_duplicate.inc(len(events))
            return web.json_response(
                {
                    "accepted": [],
                    "duplicates": [e.id for e in events],
                    "planned": 0,
                    "duplicate_delivery": delivery,
                },
                status=202,
                dumps=_dumps,
            )
        accepted, duplicates, planned = result
        self.metrics.events_accepted.inc(len(accepted))
        self.metrics.events_duplicate.inc(len(duplicates))
        if planned:
            await self.on_committed()
        answer: dict[str, Any] = {
            "accepted": accepted,
            "duplicates": duplicates,
            "planned": planned,
        }
        warnings = unread_type_warnings([e.type for e in events], self.planner.rules_for, (), lang)
        if warnings:
            answer["warnings"] = warnings
        return web.json_response(answer, status=202, dumps=_dumps)

    async def _new_delivery(self, tx: Tx, webhook_id: str, now: datetime) -> bool:
        """A signed delivery's id is kept for twice the tolerance (the timestamp may be that
        far on either side); old ids are dropped about once a minute."""
        window = timedelta(seconds=2 * self.config.webhook.tolerance_seconds)
        if self._forget_at is None or now >= self._forget_at:
            self._forget_at = now + timedelta(seconds=60)
            await tx.forget_deliveries(now)
        return await tx.remember_delivery(webhook_id, now, now + window)

    async def store(
        self,
        tx: Tx,
        events: list[EventIn],
        delivery: str | None = None,
    ) -> tuple[list[str], list[str], int] | None:
        """One transaction for the whole batch: every event or none. None when ``delivery``
        (a signed request's webhook-id) was stored before: a replay changes nothing."""
        now = self.clock.now()
        if delivery is not None and not await self._new_delivery(tx, delivery, now):
            return None
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
        await tx.insert_event(
            StoredEvent(
                id=event.id,
                type=event.type,
                occurred_at=event.occurred_at,
                received_at=now,
                payload=event.model_dump(mode="json", exclude_none=True),
                order_id=event.order.id if event.order else None,
                order_number=event.order.number if event.order else None,
            )
        )
        rows = await self.planner.plan(tx, event, document, persons, now)
        if event.type != "birthday":  # the event showed a customer born today: greet them
            rows += await self.born_today_rows(tx, list(persons.values()), now)
        return rows

    async def born_today_rows(
        self, tx: Tx, persons: list[Person], now: datetime
    ) -> list[JournalRow]:
        """Today's greetings of those of ``persons`` born today and not greeted this year
        (the rules must be refreshed in this transaction)."""
        greetings = greetings_for(persons, now, self.config)
        if not greetings or not self.planner.rules_for("birthday"):
            return []
        known = await tx.existing_events([g.id for g in greetings])
        rows: list[JournalRow] = []
        for greeting in greetings:
            if greeting.id not in known:
                known.add(greeting.id)
                rows += await self.store_one(tx, greeting, now)
        return rows

    async def greet_born_today(self, tx: Tx, persons: list[Person]) -> int:
        """A directory import's batch: plan and store today's greetings; the rows planned."""
        await self.planner.refresh_rules(tx)
        rows = await self.born_today_rows(tx, persons, self.clock.now())
        await tx.insert_journal_bulk(rows)
        return len(rows)
