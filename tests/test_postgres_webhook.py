"""The bot in webhook mode behind one URL with several processes: any process handles any
update, because nothing of a conversation is held in process memory (links, subscriptions
and the stop list live in the database; the bot has no FSM)."""

from __future__ import annotations

import itertools

import pytest

from tests.conftest import booked
from tests.fakes.telegram_api import contact, message
from tests.telegram_fixtures import fake_telegram, telegram_config  # noqa: F401

IVAN = 1001  # customer C-001, phone 8 (916) 123-45-67 in booked()
TELEGRAM_RULE = """
[[rules]]
name = "booked, customer"
event = "order_booked"
recipients = ["customer"]
channels = ["telegram"]
"""
SECRET = "s3cret-token"
_update_ids = itertools.count(1)


async def push(running, body) -> None:  # type: ignore[no-untyped-def]
    """Telegram posts the update to whichever process the load balancer picked."""
    async with running.session.post(
        running.url + "/telegram",
        json={"update_id": next(_update_ids), **body},
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
    ) as r:
        assert r.status == 200


@pytest.mark.parametrize(
    "backend", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_webhook_updates_can_land_on_any_process(
    telegram_config,
    start_app,  # noqa: F811
    fake_telegram,
):  # noqa: F811
    config = telegram_config(
        telegram={
            "mode": "webhook",
            "webhook_url": "https://bot.example.org",
            "webhook_secret": SECRET,
        }
    )
    one, two = await start_app(config), await start_app(config)
    status, _ = await two.post(booked("wh-0"))  # the ERP makes the customer known
    assert status == 202
    await one.rules(TELEGRAM_RULE)

    # the customer shares the phone with process one ...
    await push(one, contact(IVAN, "+79161234567", user_id=IVAN))
    await fake_telegram.wait_sent(chat_id=IVAN)
    async with two.storage.reader() as tx:
        link = await tx.get_link(IVAN)
    assert link is not None and link.customer_id == "C-001"

    # ... an order event posted to process two reaches the chat ...
    before = len(fake_telegram.to(IVAN))
    status, body = await two.post(booked("wh-1"))
    assert status == 202 and body["planned"] == 1
    await fake_telegram.wait_sent(chat_id=IVAN, count=before + 1)
    rows = await two.wait_rows(lambda rows: [r.status for r in rows] == ["sent"])
    assert rows[0].channel == "telegram" and rows[0].event_id == "wh-1"

    # ... and /stop, handled by process two, stops what process one would send
    await push(two, message(IVAN, "/stop"))
    await fake_telegram.wait_sent(chat_id=IVAN, count=before + 2)
    status, _ = await one.post(booked("wh-2"))
    assert status == 202
    rows = await one.wait_rows(
        lambda rows: (
            len(rows) == 2 and rows[-1].status != "pending" and rows[-1].status != "sending"
        )
    )
    assert rows[-1].status == "stopped", rows[-1]
