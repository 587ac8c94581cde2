"""Fuzzing the webhook (hypothesis, bounded): no body ever gets a 5xx, on either backend,
and a batch with one bad event is refused whole, naming that event's index."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import init_app
from bot.keys import CONFIG, STORAGE
from bot.pipeline.rule_file import import_rules
from tests.conftest import CUSTOMER_EMAIL_RULE, booked

FUZZ = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class ThreadedApp:
    """The real app on a loop of its own thread, so hypothesis can drive it synchronously."""

    def __init__(self, config: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.app = init_app(config)
        self.runner = web.AppRunner(self.app, shutdown_timeout=2)
        self.call(self._start())

    async def _start(self) -> None:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = self.runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}{self.app[CONFIG].webhook.path}"
        await import_rules(self.app[STORAGE], CUSTOMER_EMAIL_RULE)

    def call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    def post(self, body: bytes) -> tuple[int, Any]:
        request = urllib.request.Request(
            self.url, data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            text = exc.read()
            try:
                return exc.code, json.loads(text)
            except ValueError:
                return exc.code, text

    def stored(self, ids: list[str]) -> set[str]:
        async def look() -> set[str]:
            async with self.app[STORAGE].reader() as tx:
                return set(await tx.existing_events(ids))

        return set(self.call(look()))

    def close(self) -> None:
        self.call(self.runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture
def threaded_app(make_config) -> Iterator[ThreadedApp]:
    app = ThreadedApp(make_config())
    yield app
    app.close()


HOSTILE_STRINGS = st.sampled_from(
    [
        "\ud800",
        "\udfff",
        "a\u0000b",
        "0001-01-01T00:00:00",
        "0001-01-01",
        "9999-12-31T23:59:59-14:00",
        "NaN",
        "sNaN",
        "-Infinity",
        "1e999999",
        "",
        " ",
        "ЗН-000123",
        "8 916 123-45-67",
        "+7",
        "x" * 300,
        "2026-02-30",
        "--02-29",
        "2026-11-27",
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    HOSTILE_STRINGS,
)
JSONISH = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
FIELDS = [
    "id",
    "type",
    "occurred_at",
    "customer",
    "customer.id",
    "customer.phone",
    "customer.email",
    "customer.telegram_id",
    "customer.birthday",
    "customer.language",
    "customer.timezone",
    "manager",
    "order",
    "order.planned_start",
    "order.planned_finish",
    "order.amount",
    "order.paid",
    "items",
    "vehicle",
    "vehicle.mileage",
    "data",
    "data.starts_at",
    "extra",
]


def mutate(event: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    if "." in path:
        section, key = path.split(".")
        if not isinstance(event.get(section), dict):
            event[section] = {}
        event[section][key] = value
    else:
        event[path] = value
    return event


@st.composite
def events(draw: Any, prefix: str) -> dict[str, Any]:
    event = booked(f"{prefix}-{draw(st.integers(0, 10**9))}")
    for _ in range(draw(st.integers(0, 3))):
        event = mutate(event, draw(st.sampled_from(FIELDS)), draw(JSONISH))
    return event


@st.composite
def bodies(draw: Any) -> bytes:
    shape = draw(st.sampled_from(["event", "batch", "any", "bytes"]))
    if shape == "bytes":
        return draw(st.binary(max_size=200))
    if shape == "any":
        value: Any = draw(JSONISH)
    elif shape == "event":
        value = draw(events("f"))
    else:
        value = {"events": draw(st.lists(events("fb"), max_size=4))}
    return json.dumps(value, ensure_ascii=draw(st.booleans()), allow_nan=True).encode(
        "utf-8", "surrogatepass"
    )


@FUZZ
@given(body=bodies())
def test_no_body_gets_a_5xx(threaded_app, body):
    status, answer = threaded_app.post(body)
    assert status < 500, (status, answer, body[:300])
    if status == 400:
        assert answer["message"]


BAD_VALUES = [
    ("order.planned_start", "9999-12-31T23:59:59-14:00"),
    ("customer.telegram_id", 2**63),
    ("customer.name", "\ud800"),
    ("order.number", "ЗН\u0000"),
    ("customer.birthday", "1990-02-30"),
    ("order.amount", "sNaN"),
    ("id", ""),
]


@FUZZ
@given(size=st.integers(1, 6), data=st.data())
def test_a_batch_with_one_bad_event_is_refused_whole(threaded_app, size, data):
    batch = [
        mutate(booked(f"ok-{i}-{data.draw(st.integers(0, 10**9))}"), "data", {})
        for i in range(size)
    ]
    bad_index = data.draw(st.integers(0, size - 1))
    path, value = data.draw(st.sampled_from(BAD_VALUES))
    mutate(batch[bad_index], path, value)
    body = json.dumps({"events": batch}, ensure_ascii=True).encode()
    status, answer = threaded_app.post(body)
    assert status == 400, answer
    assert {p["path"] for p in answer["problems"]} == {f"events[{bad_index}].{path}"}
    assert threaded_app.stored([e["id"] for e in batch if e["id"]]) == set()
