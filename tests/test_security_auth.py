"""Hostile input at the door: tokens, malformed headers, replays, what /healthz and /metrics
tell a stranger. Every request here is sent as raw bytes through the real app."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.app import init_app
from bot.pipeline.webhook_auth import sign
from tests.conftest import CUSTOMER_EMAIL_RULE, booked
from tests.hostile import raw_request, vestnik, write_config

TOKEN = "erp-token-0123456789abcdef"
KEY = b"0123456789abcdef01234567"
SECRET = "whsec_" + base64.b64encode(KEY).decode()
JSON = (b"Content-Type", b"application/json")


def signed(
    body: bytes, msg_id: str, *, timestamp: int | None = None, key: bytes = KEY
) -> list[tuple[bytes, bytes]]:
    ts = int(time.time()) if timestamp is None else timestamp
    return [
        (b"webhook-id", msg_id.encode()),
        (b"webhook-timestamp", str(ts).encode()),
        (b"webhook-signature", sign(key, msg_id, ts, body).encode()),
    ]


@pytest.mark.parametrize(
    "token",
    ["", " ", "\u00a0", "\u3000", "\u2003", "\u2028", "\u0085", "short-token", "sixteen chars ok"],
)
def test_blank_short_or_spaced_tokens_are_refused_by_check_config_and_serve(
    tmp_path: Path, token: str
) -> None:
    config = write_config(
        tmp_path / "config.toml",
        f"""
[service]
database = "sqlite:///{tmp_path}/v.db"
[webhook]
listen = "0.0.0.0:0"
tokens = [{json.dumps(token)}]
""",
    )
    for command in ("check-config", "serve"):
        done = vestnik(command, "--config", config)
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        assert "webhook.tokens" in done.stderr
        assert ("16" in done.stderr) or ("spaces" in done.stderr)
    assert not (tmp_path / "v.db").exists()  # serve refused before opening anything


def test_a_long_token_passes_check_config(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "config.toml",
        f"""
[service]
database = "sqlite:///{tmp_path}/v.db"
[webhook]
listen = "0.0.0.0:8080"
tokens = ["{TOKEN}"]
metrics_token = "metrics-0123456789abcdef"
""",
    )
    done = vestnik("check-config", "--config", config)
    assert done.returncode == 0, done.stderr
    assert TOKEN not in done.stdout


@pytest.mark.parametrize("space", ["\u00a0", "\u3000", "\u2003", "\u2028", "\u0085", " "])
async def test_unicode_spaces_are_never_a_token(make_config, start_app, space: str) -> None:
    app = await start_app(make_config(webhook={"tokens": [TOKEN]}))
    auth = (b"Authorization", f"Bearer {space}".encode())
    body = json.dumps(booked("space-1")).encode()
    status, answer = await raw_request(app.url, "POST", "/events", [JSON, auth], body)
    assert status == 401, answer
    status, answer = await raw_request(app.url, "GET", "/journal", [auth])
    assert status == 401, answer
    # the token with a Unicode space glued on is not the token either
    glued = (b"Authorization", f"Bearer {TOKEN}{space}".encode())
    status, _ = await raw_request(app.url, "POST", "/events", [JSON, glued], body)
    assert status == 401 if space != " " else status == 202


GARBAGE = b"\xff\xfe\x80 bad"


@pytest.mark.parametrize("header", [b"Authorization", b"webhook-id", b"webhook-signature"])
async def test_garbage_bytes_in_auth_headers_are_401_with_the_header_named(
    make_config, start_app, header: bytes
) -> None:
    app = await start_app(make_config(webhook={"tokens": [TOKEN], "secret": SECRET}))
    body = json.dumps(booked("garbage-1")).encode()
    if header == b"Authorization":
        headers = [(header, b"Bearer " + GARBAGE)]
    else:
        headers = [h for h in signed(body, "msg-garbage") if h[0] != header] + [(header, GARBAGE)]
    status, answer = await raw_request(app.url, "POST", "/events", [JSON, *headers], body)
    assert status == 401, answer
    assert header.decode() in answer["reason"] and "UTF-8" in answer["reason"]
    if header == b"Authorization":
        status, answer = await raw_request(
            app.url, "GET", "/journal", [(header, b"Bearer " + GARBAGE)]
        )
        assert status == 401 and "Authorization" in answer["reason"]
    assert await app.journal() == []


async def test_a_huge_timestamp_is_401_not_500(make_config, start_app) -> None:
    app = await start_app(make_config(webhook={"secret": SECRET}))
    body = json.dumps(booked("ts-1")).encode()
    huge = "1" + "0" * 400
    headers = [
        (b"webhook-id", b"msg-ts"),
        (b"webhook-timestamp", huge.encode()),
        (b"webhook-signature", sign(KEY, "msg-ts", huge, body).encode()),
    ]
    status, answer = await raw_request(app.url, "POST", "/events", [JSON, *headers], body)
    assert status == 401 and "webhook-timestamp" in answer["reason"]


async def test_every_401_says_which_scheme_failed_and_why(make_config, start_app) -> None:
    app = await start_app(
        make_config(webhook={"tokens": [TOKEN], "secret": SECRET}, service={"language": "en"})
    )
    body = json.dumps(booked("why-1")).encode()

    async def reason(headers: list[tuple[bytes, bytes]]) -> str:
        status, answer = await raw_request(app.url, "POST", "/events", [JSON, *headers], body)
        assert status == 401, answer
        text = json.dumps(answer, ensure_ascii=False)
        assert TOKEN not in text and SECRET not in text
        return answer["reason"]

    assert "Authorization" in await reason([])
    assert "webhook.tokens" in await reason([(b"Authorization", b"Bearer not-the-token-at-all")])
    assert "Bearer" in await reason([(b"Authorization", b"Basic dXNlcjpwYXNz")])
    assert "webhook-signature" in await reason(
        signed(body, "msg-why-1", key=b"another-key-another-key!")
    )
    assert "webhook-id" in await reason(signed(body, "msg-why-2")[1:])
    late = await reason(signed(body, "msg-why-3", timestamp=int(time.time()) - 1000))
    assert "behind" in late and "tolerance 300" in late
    assert any(f"{n} s" in late for n in range(995, 1010))  # by how much
    early = await reason(signed(body, "msg-why-4", timestamp=int(time.time()) + 700))
    assert "ahead" in early
    assert await app.journal() == []


async def test_a_signature_never_opens_the_journal_api(make_config, start_app) -> None:
    app = await start_app(make_config(webhook={"tokens": [TOKEN], "secret": SECRET}))
    await app.rules(CUSTOMER_EMAIL_RULE)
    status, _ = await app.post(booked("j-1"), headers={"Authorization": f"Bearer {TOKEN}"})
    assert status == 202
    for method, path in (
        ("GET", "/journal"),
        ("GET", "/journal?limit=1000"),
        ("GET", "/journal/1"),
        ("POST", "/journal/1/resend"),
    ):
        status, answer = await raw_request(app.url, method, path, signed(b"", "msg-journal"))
        assert status == 401, (path, answer)
        assert "Bearer" in answer["reason"]
    status, rows = await raw_request(
        app.url, "GET", "/journal", [(b"Authorization", f"Bearer {TOKEN}".encode())]
    )
    assert status == 200 and len(rows) == 1


async def test_a_replayed_webhook_id_is_a_duplicate_delivery_in_every_process(
    make_config, start_app
) -> None:
    config = make_config(webhook={"secret": SECRET})
    first = await start_app(config)
    # one database; SQLite allows one vestnik serve per file, so there the same process
    # answers twice, PostgreSQL gets a second process
    second = first if config.service.database.startswith("sqlite") else await start_app(config)
    await first.rules(CUSTOMER_EMAIL_RULE)
    body = json.dumps(booked("replay-1")).encode()
    status, answer = await raw_request(
        first.url, "POST", "/events", [JSON, *signed(body, "msg-replay")], body
    )
    assert status == 202 and answer["accepted"] == ["replay-1"]
    # the same webhook-id, a new body signed again: to the other process
    other = json.dumps(booked("replay-2")).encode()
    status, answer = await raw_request(
        second.url, "POST", "/events", [JSON, *signed(other, "msg-replay")], other
    )
    assert status == 202, answer
    assert answer["accepted"] == [] and answer["duplicates"] == ["replay-2"]
    assert answer["duplicate_delivery"] == "msg-replay"
    # and the very same request again
    status, answer = await raw_request(
        first.url, "POST", "/events", [JSON, *signed(body, "msg-replay")], body
    )
    assert status == 202 and answer["accepted"] == []
    rows = await first.journal()
    assert [r.event_id for r in rows] == ["replay-1"]
    async with first.storage.reader() as tx:
        assert await tx.get_event("replay-2") is None
    # a new webhook-id is a new delivery
    status, answer = await raw_request(
        second.url, "POST", "/events", [JSON, *signed(other, "msg-replay-2")], other
    )
    assert status == 202 and answer["accepted"] == ["replay-2"]


async def test_healthz_tells_a_stranger_only_the_states(make_config, start_app, smtp) -> None:
    victim = "victim.private@example.ru"
    smtp.recorder.refused.add(victim)
    app = await start_app(make_config(webhook={"tokens": [TOKEN]}))
    await app.rules(CUSTOMER_EMAIL_RULE)
    event = booked("h-1")
    event["customer"]["email"] = victim
    assert (await app.post(event, headers={"Authorization": f"Bearer {TOKEN}"}))[0] == 202
    await app.wait_rows(lambda rows: rows and rows[0].status == "failed")
    status, plain = await raw_request(app.url, "GET", "/healthz", [])
    assert status == 200
    assert plain == {
        "status": "ok",
        "database": "ok",
        "channels": {"email": "degraded", "internal": "ok"},
        "leader": True,
    }
    assert victim not in json.dumps(plain)
    status, full = await raw_request(
        app.url, "GET", "/healthz", [(b"Authorization", f"Bearer {TOKEN}".encode())]
    )
    assert status == 200 and victim in json.dumps(full, ensure_ascii=False)
    assert "queue" in full and "last_errors" in full


async def test_metrics_take_the_metrics_token(make_config, start_app, smtp) -> None:
    app = await start_app(make_config(webhook={"metrics_token": "metrics-0123456789abcdef"}))
    await app.rules(CUSTOMER_EMAIL_RULE)
    assert (await app.post(booked("mt-1")))[0] == 202
    await app.wait_rows(lambda rows: rows and rows[0].status == "sent")
    status, answer = await raw_request(app.url, "GET", "/metrics", [])
    assert status == 401 and "metrics_token" in answer["reason"]
    status, _ = await raw_request(
        app.url, "GET", "/metrics", [(b"Authorization", f"Bearer {TOKEN}".encode())]
    )
    assert status == 401
    status, text = await raw_request(
        app.url, "GET", "/metrics", [(b"Authorization", b"Bearer metrics-0123456789abcdef")]
    )
    assert status == 200 and "vestnik_notifications_total" in text
    assert "@" not in text and "79161234567" not in text  # no addresses in any label


def _non_loopback_address() -> str | None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: picks the outgoing address
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


async def test_without_a_metrics_token_only_this_machine_reads_metrics(make_config) -> None:
    address = _non_loopback_address()
    if address is None:
        pytest.skip("this machine has no address other than loopback")
    config = make_config(webhook={"tokens": [TOKEN]})
    runner = web.AppRunner(init_app(config), shutdown_timeout=2)
    await runner.setup()
    site = web.TCPSite(runner, "0.0.0.0", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
                assert response.status == 200
            async with session.get(f"http://{address}:{port}/metrics") as response:
                assert response.status == 401
            async with session.get(f"http://{address}:{port}/healthz") as response:
                assert response.status == 200
                assert "queue" not in await response.json()
    finally:
        await runner.cleanup()
    await asyncio.sleep(0)
