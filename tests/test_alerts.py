"""Staff alerts: failed rows grouped per channel per ``alerts.every`` (inbox, e-mail,
Telegram to the admins), an alert that cannot be sent is only logged, the daily digest,
portal down/up and low balance, a modem without signal, and a lagging queue."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.alerts import check_alerts, send_digest
from bot.core.sending import OutgoingMessage, SendError
from bot.keys import DISPATCHER, METRICS, RECEIPTS, SENDERS
from bot.periodic import refresh_channels
from storage.models import JournalRow
from tests import telegram_fixtures, time_fixtures
from tests.conftest import CUSTOMER_EMAIL_RULE, RunningApp, booked
from tests.fakes.modem import FakeModem
from tests.fakes.sms_portals import PHONE, SmsPortalsServer
from tests.telegram_fixtures import ADMIN_ID

clock, service = time_fixtures.clock, time_fixtures.service  # the fixtures, by their names
fake_telegram = telegram_fixtures.fake_telegram
telegram_config = telegram_fixtures.telegram_config
STAFF = "S-ops"
OPS = "ops@example.ru"
ALERTS = {"staff": [STAFF], "emails": [OPS], "digest_at": ""}


@pytest.fixture
async def portals() -> AsyncIterator[SmsPortalsServer]:
    async with SmsPortalsServer() as server:
        yield server


async def inbox(app: RunningApp) -> list[str]:
    async with app.storage.reader() as tx:
        return [item.text for item in reversed(await tx.list_inbox(STAFF, limit=100))]


async def fail_orders(app: RunningApp, *ids: str) -> None:
    for event_id in ids:
        await app.post(booked(event_id))
    await app.wait_rows(lambda rows: {r.event_id for r in rows if r.status == "failed"} >= set(ids))


def alerts_metric(app: RunningApp, kind: str, outcome: str) -> float:
    return (
        app.app[METRICS].registry.get_sample_value(
            "vestnik_alerts_total", {"kind": kind, "outcome": outcome}
        )
        or 0.0
    )


async def test_failures_are_grouped_per_channel_and_period(service, smtp, clock):
    smtp.recorder.refused.add("ivan@example.ru")  # every customer e-mail bounces at RCPT
    app = await service(alerts=ALERTS)
    await app.rules(CUSTOMER_EMAIL_RULE)
    await fail_orders(app, "f-1", "f-2", "f-3")

    assert await check_alerts(app.app) == 1
    [text] = await inbox(app)
    assert "email" in text and ": 3 " in text and text.count("550") == 3
    assert len(smtp.recorder.by_recipient(OPS)) == 1

    await fail_orders(app, "f-4", "f-5")
    assert await check_alerts(app.app) == 0  # within alerts.every: held for the next one
    clock.advance(minutes=10)
    assert await check_alerts(app.app) == 1
    texts = await inbox(app)
    assert len(texts) == 2 and ": 2 " in texts[1]
    assert await check_alerts(app.app) == 0  # nothing new
    assert len(smtp.recorder.by_recipient(OPS)) == 2


async def test_the_admins_get_alerts_in_telegram(telegram_config, start_app, smtp, fake_telegram):
    smtp.recorder.refused.add("ivan@example.ru")
    app = await start_app(telegram_config(alerts={"digest_at": ""}))
    await app.rules(CUSTOMER_EMAIL_RULE)
    await fail_orders(app, "t-1")

    assert await check_alerts(app.app) == 1
    [sent] = await fake_telegram.wait_sent(chat_id=ADMIN_ID)
    assert "email" in sent.text and "550" in sent.text


async def test_an_alert_that_cannot_be_sent_is_logged_not_alerted(service, smtp, clock, caplog):
    smtp.recorder.refused.update({"ivan@example.ru", OPS})
    app = await service(alerts={"emails": [OPS], "digest_at": ""})
    await app.rules(CUSTOMER_EMAIL_RULE)
    await fail_orders(app, "l-1")

    with caplog.at_level(logging.WARNING, logger="vestnik.alerts"):
        await check_alerts(app.app)
    assert any("not sent to email" in r.getMessage() for r in caplog.records)
    assert alerts_metric(app, "failures", "failed") == 1
    clock.advance(minutes=30)
    assert await check_alerts(app.app) == 0  # the lost alert is no failure to alert about
    assert len(await app.journal()) == 1  # and it never became a journal row


async def test_the_daily_digest(service, smtp, portals, clock):
    smtp.recorder.refused.add("bounced@example.ru")
    app = await service(
        alerts=ALERTS,
        sms={"portals": [portals.entry("smsru")]},
        receipts={"public_url": "https://v.example.ru", "poll_every": "1h"},
    )
    await app.rules(
        CUSTOMER_EMAIL_RULE
        + CUSTOMER_EMAIL_RULE.replace("booked, customer", "booked, sms").replace(
            '["email"]', '["sms"]'
        )
    )
    await app.post(booked("d-1"))
    bounced = booked("d-2")
    bounced["customer"] = {**bounced["customer"], "email": "bounced@example.ru"}
    await app.post(bounced)
    rows = await app.wait_rows(
        lambda rows: len(rows) == 4 and all(r.status in ("sent", "failed") for r in rows)
    )
    sms = next(r for r in rows if r.channel == "sms" and r.event_id == "d-1")
    await app.app[RECEIPTS].apply("smsru", [_delivered(sms.provider_message_id)])
    await refresh_channels(app.app)

    assert await send_digest(app.app) == 2  # inbox and e-mail
    text = (await inbox(app))[-1]
    assert "email / booked, customer: отправлено 1, доставлено 0, ошибок 1" in text
    assert "sms / booked, sms: отправлено 2, доставлено 1, ошибок 0" in text
    assert "smsru 500.0 RUB" in text and "1 × " in text and "550" in text
    [mail] = smtp.recorder.by_recipient(OPS)
    assert mail["Subject"].startswith("Vestnik: сводка за")


def _delivered(message_id: str):
    from bot.core.sending import Delivery, DeliveryReport

    return DeliveryReport(message_id, Delivery.DELIVERED, "103 delivered", phone=PHONE)


async def test_portal_down_up_and_low_balance(service, portals, clock):
    portals.fakes["smsru"].balance = 40.0
    app = await service(
        alerts={**ALERTS, "min_balance": 100},
        sms={"portals": [portals.entry("smsru", down_after=2)]},
    )
    sms = app.app[SENDERS]["sms"]
    await refresh_channels(app.app)
    assert await check_alerts(app.app) == 1
    assert "40.0 RUB" in (await inbox(app))[-1]
    assert (
        app.app[METRICS].registry.get_sample_value("vestnik_portal_balance", {"provider": "smsru"})
        == 40.0
    )

    portals.fakes["smsru"].outage = 503
    for _ in range(2):
        with pytest.raises(SendError):
            await sms.send(OutgoingMessage(row_id=0, channel="sms", address=PHONE, text="x"))
    assert await check_alerts(app.app) == 1
    assert "smsru" in (await inbox(app))[-1] and "503" in (await inbox(app))[-1]
    assert await check_alerts(app.app) == 0  # still down: said once

    portals.fakes["smsru"].outage = None
    clock.advance(minutes=6)  # past the cooldown: the next send probes it
    await sms.send(OutgoingMessage(row_id=0, channel="sms", address=PHONE, text="x"))
    assert await check_alerts(app.app) == 1
    assert "снова работает" in (await inbox(app))[-1]


async def test_a_modem_without_signal(service, clock, tmp_path: Path):
    modem = FakeModem(tmp_path / "tty-gsm1", csq=(99, 99))
    try:
        app = await service(
            alerts=ALERTS, sms={"modems": [{"name": "gsm1", "port": str(modem.port)}]}
        )
        assert await check_alerts(app.app) == 1
        assert "Модем gsm1: нет сигнала сети" in (await inbox(app))[-1]
        modem.csq = (18, 99)
        await refresh_channels(app.app)
        assert await check_alerts(app.app) == 1
        assert "снова в работе" in (await inbox(app))[-1]
    finally:
        await modem.close()


async def test_a_lagging_queue(service, clock):
    app = await service(alerts={**ALERTS, "max_lag": "15m"})
    await app.app[DISPATCHER].stop()  # nothing sends: the queue can only grow old
    row = JournalRow(
        event_id="lag-1",
        event_type="order_booked",
        rule="r",
        recipient_role="customer",
        channel="email",
        status="pending",
        created_at=clock.now(),
        due_at=clock.now(),
        address="a@example.ru",
    )
    await app.storage.write(lambda tx: tx.insert_journal([row]))

    assert await check_alerts(app.app) == 0
    clock.advance(minutes=20)
    assert await check_alerts(app.app) == 1
    assert "email" in (await inbox(app))[-1]
    assert await check_alerts(app.app) == 0
    clock.advance(timedelta(minutes=10))
    assert await check_alerts(app.app) == 1  # still behind after alerts.every: said again
