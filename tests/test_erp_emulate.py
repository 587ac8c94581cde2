"""``vestnik emulate`` against the running app over real sockets."""

from __future__ import annotations

import asyncio
import base64
import json
import random
import socket
import subprocess
import sys
from collections import defaultdict
from datetime import datetime

import aiohttp

from bot.emulate.runner import Target, emulate
from bot.emulate.stories import STORY_TYPES, StoryMaker, make_stories
from bot.keys import CONFIG
from tests.erp_fixtures import ROOT, cli_config, vestnik

TOKEN = "tok-emulate-0123456789abcdef"
SECRET = "whsec_" + base64.b64encode(b"emulate-secret-key-24byt").decode()
RULES = """
[[rules]]
name = "booked, customer"
event = "order_booked"
recipients = ["customer"]
channels = ["sms"]

[[rules]]
name = "invoice, manager"
event = "invoice_issued"
recipients = ["manager"]
channels = ["sms"]
"""


def maker(seed: int = 7) -> StoryMaker:
    return StoryMaker(random.Random(seed), f"t{seed}", datetime(2026, 11, 25, 12, 0))


def listen_of(app) -> str:
    return app.url.removeprefix("http://")


def test_stories_are_coherent_and_cover_their_types():
    stories = make_stories(400, None, maker())
    events = [e for story in stories for e in story]
    assert len(events) == 400
    assert len({e["id"] for e in events}) == 400
    assert {e["type"] for e in events} == STORY_TYPES
    by_order = defaultdict(list)
    for story in stories:
        times = [e["occurred_at"] for e in story]
        assert times == sorted(times) and len(set(times)) == len(times)
        for event in story:
            if "order" in event:
                by_order[event["order"]["id"]].append(event["type"])
    repairs = [types for types in by_order.values() if types[0] == "order_booked"]
    full = [t for t in repairs if len(t) == 8]
    assert full and full[0] == [
        "order_booked",
        "order_rescheduled",
        "supplier_order_placed",
        "parts_arrived",
        "all_parts_arrived",
        "repair_completed",
        "payment_received",
        "fully_paid",
    ]
    today = "-11-25"
    assert any(
        e["type"] == "customer_updated" and e["customer"]["birthday"].endswith(today)
        for e in events
    )
    assert all("T" in e["occurred_at"] and "+" not in e["occurred_at"] for e in events)


def test_type_filter_keeps_only_those_types():
    stories = make_stories(50, frozenset({"invoice_issued", "staff_updated"}), maker(3))
    types = {e["type"] for story in stories for e in story}
    assert types == {"invoice_issued", "staff_updated"}


async def test_cli_emulate_with_the_configs_token(make_config, start_app, tmp_path):
    app = await start_app(make_config(webhook={"tokens": [TOKEN]}))
    await app.rules(RULES)
    config = cli_config(
        tmp_path,
        app.app[CONFIG].service.database,
        listen=listen_of(app),
        extra=f'tokens = ["{TOKEN}"]\n',
    )
    code, out, err = await vestnik(
        "emulate", "--config", config, "--count", "60", "--rate", "0", "--batch", "3", "--json"
    )
    assert code == 0, out + err
    report = json.loads(out)
    assert (report["accepted"], report["duplicates"], report["errors"]) == (60, 0, 0)
    assert report["statuses"] == {"202": report["requests"]} and report["requests"] >= 20
    assert (
        report["latency_ms"]["p50"] > 0
        and report["latency_ms"]["p99"] >= report["latency_ms"]["p50"]
    )
    rows = await app.journal()
    assert rows and {r.event_type for r in rows} <= {"order_booked", "invoice_issued"}
    ids = {r.event_id for r in rows}
    async with app.storage.reader() as tx:
        assert await tx.existing_events(sorted(ids)) == ids
    assert all(i.startswith("emu-") for i in ids)
    assert "\r[" not in err  # not a terminal: no progress bar


async def test_cli_emulate_signs_with_a_secret(make_config, start_app, tmp_path):
    app = await start_app(make_config(webhook={"secret": SECRET}))
    await app.rules(RULES)
    config = cli_config(tmp_path, app.app[CONFIG].service.database)
    code, out, err = await vestnik(
        "emulate",
        "--config",
        config,
        "--url",
        app.url + "/events",
        "--secret",
        SECRET,
        "--count",
        "12",
        "--rate",
        "100",
        "--type",
        "order_booked",
    )
    assert code == 0, out + err
    assert "событий 12" in out and "принято 12" in out and "ошибок 0" in out
    rows = await app.journal()  # one SMS row per booking, every booking a fresh order
    assert len(rows) == 12 and len({r.event_id for r in rows}) == 12
    assert {r.event_type for r in rows} == {"order_booked"}


async def test_refused_requests_are_errors_with_the_servers_answer(
    make_config, start_app, tmp_path
):
    app = await start_app(make_config(webhook={"tokens": [TOKEN]}))
    config = cli_config(tmp_path, app.app[CONFIG].service.database)
    code, out, _ = await vestnik(
        "emulate",
        "--config",
        config,
        "--url",
        app.url + "/events",
        "--token",
        "wrong",
        "--count",
        "4",
        "--rate",
        "0",
        "--json",
    )
    assert code == 1
    report = json.loads(out)
    assert report["errors"] == 4 and report["statuses"] == {"401": 4}
    assert "unauthorized" in report["first_errors"][0]


async def test_a_server_that_is_not_there_is_a_network_error(tmp_path):
    config = cli_config(tmp_path, f"sqlite:///{tmp_path}/x.db", listen="127.0.0.1:9")
    code, out, _ = await vestnik("emulate", "--config", config, "--count", "2", "--json")
    assert code == 1 and json.loads(out)["statuses"] == {"network": 2}


async def test_bad_options_exit_2(tmp_path):
    config = cli_config(tmp_path, f"sqlite:///{tmp_path}/x.db")
    code, _, err = await vestnik("emulate", "--config", config, "--type", "birthday")
    assert code == 2 and "--type birthday" in err
    code, _, err = await vestnik("emulate", "--config", config, "--count", "0")
    assert code == 2
    code, _, _ = await vestnik("emulate", "--config", config, "--token", "a", "--secret", SECRET)
    assert code == 2


async def test_posting_the_same_stories_again_counts_duplicates(make_config, start_app):
    app = await start_app(make_config())
    stories = make_stories(30, None, maker(11))
    target = Target(url=app.url + "/events")
    first = await emulate(target, stories, rate=0, batch=4)
    again = await emulate(target, stories, rate=0, batch=1)
    assert (first.accepted, first.duplicates) == (30, 0)
    assert (again.accepted, again.duplicates, again.errors) == (0, 30, 0)


async def test_emulate_against_vestnik_serve_fills_the_journal(tmp_path):
    """The done-when run, smaller: ``vestnik serve`` on SQLite with a starter rule."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    database = f"sqlite:///{tmp_path}/serve.db"
    config = cli_config(
        tmp_path, database, listen=f"127.0.0.1:{port}", extra=f'tokens = ["{TOKEN}"]\n'
    )
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES, encoding="utf-8")
    assert (await vestnik("migrate", "--config", config))[0] == 0  # only migrate/serve create it
    assert (await vestnik("rules", "import", str(rules), "--config", config))[0] == 0
    server = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--config", config],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(600):  # startup is slow on a busy machine: wait for the condition
                assert server.poll() is None, "vestnik serve exited"
                try:
                    async with session.get(f"http://127.0.0.1:{port}/healthz") as answer:
                        if answer.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("vestnik serve did not become healthy")
        code, out, err = await vestnik(
            "emulate", "--config", config, "--count", "150", "--rate", "0", "--json"
        )
        assert code == 0, out + err
        report = json.loads(out)
        assert report["accepted"] == 150 and report["errors"] == 0
        code, out, _ = await vestnik("journal", "--config", config, "--limit", "1000", "--json")
        rows = json.loads(out)
        assert rows and {r["event_type"] for r in rows} <= {"order_booked", "invoice_issued"}
    finally:
        server.terminate()
        server.wait(30)
