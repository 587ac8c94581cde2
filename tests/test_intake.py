"""The webhook contract of docs/webhook.md, over HTTP against the running app."""

from __future__ import annotations

import asyncio
import base64
import json
import sqlite3
import time
from typing import Any

import aiohttp
import pytest

from bot.pipeline.webhook_auth import sign
from tests.conftest import CUSTOMER_EMAIL_RULE, booked

SECRET_KEY = b"0123456789abcdef01234567"
SECRET = "whsec_" + base64.b64encode(SECRET_KEY).decode()


def signed_headers(
    body: bytes, *, key: bytes = SECRET_KEY, msg_id: str = "msg_1", timestamp: int | None = None
) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": sign(key, msg_id, ts, body),
    }


async def test_single_event_is_accepted_and_planned(make_config, start_app):
    app = await start_app(make_config())
    await app.rules(CUSTOMER_EMAIL_RULE)
    status, body = await app.post(booked("e-1"))
    assert status == 202
    assert body == {"accepted": ["e-1"], "duplicates": [], "planned": 1}
    rows = await app.journal(event_id="e-1")
    assert [(r.channel, r.address, r.recipient_role) for r in rows] == [
        ("email", "ivan@example.ru", "customer")
    ]


async def test_batch_and_duplicates(make_config, start_app):
    app = await start_app(make_config())
    await app.rules(CUSTOMER_EMAIL_RULE)
    status, body = await app.post({"events": [booked("b-1"), booked("b-2")]})
    assert status == 202 and body["accepted"] == ["b-1", "b-2"] and body["planned"] == 2
    status, body = await app.post({"events": [booked("b-2"), booked("b-3"), booked("b-3")]})
    assert status == 202
    assert body == {"accepted": ["b-3"], "duplicates": ["b-2", "b-3"], "planned": 1}
    assert len(await app.journal()) == 3


async def test_batch_with_one_bad_event_stores_nothing(make_config, start_app):
    app = await start_app(make_config())
    await app.rules(CUSTOMER_EMAIL_RULE)
    bad = booked("x-2", type="Order Booked", customer={"telegram_id": "not-a-number"})
    status, body = await app.post({"events": [booked("x-1"), bad, booked("x-3")]})
    assert status == 400
    assert body["error"] == "invalid_events"
    paths = {p["path"] for p in body["problems"]}
    assert paths == {"events[1].type", "events[1].customer.telegram_id"}
    assert await app.journal() == []
    async with app.storage.reader() as tx:
        assert await tx.existing_events(["x-1", "x-3"]) == set()


async def test_schema_problems_name_their_path(make_config, start_app):
    app = await start_app(make_config())
    status, body = await app.post(
        {"type": "order_booked", "order": {"amount": "lots"}, "occurred_at": "yesterday"}
    )
    assert status == 400
    paths = {p["path"] for p in body["problems"]}
    assert {"id", "order.amount", "occurred_at"} <= paths
    status, body = await app.post({"events": "nope"})
    assert status == 400 and body["problems"][0]["path"] == "events"
    status, body = await app.post([1, 2])
    assert status == 400


async def test_batch_limit(make_config, start_app):
    app = await start_app(make_config(webhook={"max_batch": 3}))
    status, body = await app.post({"events": [booked(f"l-{i}") for i in range(4)]})
    assert status == 400 and "не больше 3 событий" in body["problems"][0]["message"]


async def test_not_json_is_400(make_config, start_app):
    app = await start_app(make_config())
    status, body = await app.post(None, raw=b'{"id": "1", "type": ')
    assert status == 400 and body["error"] == "invalid_json"


async def test_utf8_bom_is_tolerated_and_unknown_fields_go_to_data(make_config, start_app):
    app = await start_app(make_config())
    raw = (
        "\ufeff".encode()
        + json.dumps(
            {"id": "bom-1", "type": "custom_thing", "Склад": "Основной", "data": {"x": 1}},
            ensure_ascii=False,
        ).encode()
    )
    status, body = await app.post(None, raw=raw)
    assert status == 202, body
    async with app.storage.reader() as tx:
        event = await tx.get_event("bom-1")
    assert event is not None and event.payload["data"] == {"Склад": "Основной", "x": 1}


async def test_wrong_content_type_is_415(make_config, start_app):
    app = await start_app(make_config())
    status, body = await app.post(booked(), headers={"Content-Type": "text/plain"})
    assert status == 415 and body["error"] == "unsupported_media_type"


async def test_body_over_limit_is_413_even_without_content_length(make_config, start_app):
    app = await start_app(make_config(webhook={"max_body_bytes": 2048}))
    big = json.dumps(booked("big", data={"blob": "x" * 5000})).encode()
    status, _ = await app.post(None, raw=big)
    assert status == 413

    sent = 0

    async def endless() -> Any:  # chunked, no Content-Length: must be cut off while reading
        nonlocal sent
        yield b'{"id": "s", "type": "t", "data": {"blob": "'
        for _ in range(10_000):
            sent += 1024
            yield b"y" * 1024

    async with app.session.post(
        app.url + "/events", data=endless(), headers={"Content-Type": "application/json"}
    ) as response:
        assert response.status == 413
    assert sent < 10_000 * 1024  # the server answered long before the client finished


async def test_bearer_tokens(make_config, start_app):
    app = await start_app(
        make_config(webhook={"tokens": ["first-token-0123456789", "second-token-0123456789"]})
    )
    status, _ = await app.post(booked("t-1"))
    assert status == 401
    status, _ = await app.post(booked("t-1"), headers={"Authorization": "Bearer wrong"})
    assert status == 401
    status, _ = await app.post(
        booked("t-1"), headers={"Authorization": "Bearer second-token-0123456789"}
    )
    assert status == 202


async def test_standard_webhooks_signature(make_config, start_app):
    app = await start_app(make_config(webhook={"secret": SECRET}))
    body = json.dumps(booked("sig-1")).encode()
    status, _ = await app.post(None, raw=body, headers=signed_headers(body))
    assert status == 202
    # tampered body
    status, _ = await app.post(
        None, raw=body.replace(b"sig-1", b"sig-2"), headers=signed_headers(body)
    )
    assert status == 401
    # outside the tolerance window, either way
    for skew in (-301, 301):
        status, _ = await app.post(
            None, raw=body, headers=signed_headers(body, timestamp=int(time.time()) + skew)
        )
        assert status == 401
    # several signatures (key rotation): one valid among them is enough
    body2 = json.dumps(booked("sig-2")).encode()
    headers = signed_headers(body2, msg_id="msg_2")
    old = sign(b"an-old-key-that-was-rotated", "msg_2", headers["webhook-timestamp"], body2)
    headers["webhook-signature"] = f"{old} {headers['webhook-signature']}"
    status, answer = await app.post(None, raw=body2, headers=headers)
    assert status == 202 and answer["accepted"] == ["sig-2"]
    status, _ = await app.post(None, raw=body2, headers={})
    assert status == 401


async def test_either_method_passes_when_both_configured(make_config, start_app):
    app = await start_app(
        make_config(webhook={"secret": SECRET, "tokens": ["tok-0123456789abcdef"]})
    )
    status, _ = await app.post(
        booked("both-1"), headers={"Authorization": "Bearer tok-0123456789abcdef"}
    )
    assert status == 202
    body = json.dumps(booked("both-2")).encode()
    status, _ = await app.post(None, raw=body, headers=signed_headers(body))
    assert status == 202
    status, _ = await app.post(booked("both-3"), headers={"Authorization": "Bearer nope"})
    assert status == 401


async def test_storage_unavailable_is_503_then_recovers(make_config, start_app, tmp_path, backend):
    if backend != "sqlite":
        pytest.skip("SQLite locking; PostgreSQL outages: tests/test_postgres_outage.py")
    config = make_config(service={"database": f"sqlite:///{tmp_path}/v.db?busy_timeout=300"})
    app = await start_app(config)
    # another program holds the database (a thread: the app's loop must keep running)
    blocker = sqlite3.connect(tmp_path / "v.db", timeout=10, check_same_thread=False)
    await asyncio.to_thread(blocker.execute, "BEGIN EXCLUSIVE")
    try:
        status, body = await app.post(booked("down-1"))
        assert status == 503 and body["error"] == "storage_unavailable"
        async with app.session.get(app.url + "/healthz") as response:
            assert response.status == 503
    finally:
        blocker.rollback()
        blocker.close()
    status, body = await app.post(booked("down-1"))
    assert status == 202 and body["accepted"] == ["down-1"]
    async with app.session.get(app.url + "/healthz") as response:
        assert response.status == 200
        health = await response.json()
    assert health["database"] == "ok"


async def test_persons_are_upserted_with_normalised_phones(make_config, start_app):
    app = await start_app(make_config())
    await app.post(booked("p-1"))
    await app.post(
        {
            "id": "p-2",
            "type": "customer_updated",
            "customer": {"id": "C-001", "birthday": "1985-03-14", "group": "VIP"},
        }
    )
    await app.post(
        {
            "id": "p-3",
            "type": "customer_updated",
            "customer": {"phone": "+7 (903) 555-11-22", "name": "Без кода"},
        }
    )
    async with app.storage.reader() as tx:
        ivan = await tx.get_person("customer", "C-001")
        manager = await tx.get_person("staff", "S-7")
        anonymous = await tx.find_person_by_phone("customer", "+79035551122")
    assert ivan is not None and ivan.phone == "+79161234567"
    assert ivan.birthday == "1985-03-14" and ivan.group == "VIP" and ivan.name == "Иван Петров"
    assert manager is not None and manager.phone == "+79160000007"
    assert anonymous is not None and anonymous.id == "phone:+79035551122"


async def test_metrics_and_health(make_config, start_app):
    app = await start_app(make_config())
    await app.rules(CUSTOMER_EMAIL_RULE)
    await app.post(booked("m-1"))
    async with aiohttp.ClientSession() as session:
        async with session.get(app.url + "/metrics") as response:
            text = await response.text()
        async with session.get(app.url + "/healthz") as response:
            health = await response.json()
    assert "vestnik_events_accepted_total 1.0" in text
    assert "vestnik_queue_depth" in text and "vestnik_dispatch_latency_seconds" in text
    assert health["status"] == "ok" and "email" in health["channels"]
