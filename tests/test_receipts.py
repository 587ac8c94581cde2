"""Delivery receipts from the SMS portals: a delivered and an undelivered SMS per portal,
through the portal's status callback and through the receipt poller, against the portal
fakes; forged, replayed and unknown callbacks; the journal columns over HTTP; resending an
undelivered row."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from bot.cli import main as cli
from bot.keys import CONFIG, METRICS, RECEIPTS
from bot.receipts import sms_portals
from bot.services.receipts import ReceiptPoller
from tests import time_fixtures
from tests.conftest import RunningApp, booked
from tests.fakes.sms_portals import PHONE, SmsPortalsServer

SMS_RULE = """
[[rules]]
name = "booked, sms"
event = "order_booked"
recipients = ["customer"]
channels = ["sms"]
"""
PUBLIC = "https://vestnik.example.ru"
clock, service = time_fixtures.clock, time_fixtures.service  # the fixtures, by their names
CALLBACK_PORTALS = ["smsru", "smsc", "smsaero", "devino"]
POLLING_PORTALS = ["smsru", "smsc", "smsaero", "prostor", "sms16", "mirsms"]


@pytest.fixture
async def portals() -> AsyncIterator[SmsPortalsServer]:
    async with SmsPortalsServer() as server:
        yield server


async def sent_sms(
    service, portals: SmsPortalsServer, fake: str, event_id: str = "r-1"
) -> tuple[RunningApp, int, str]:
    """The service on one portal, one SMS sent through it: (app, row id, message id)."""
    app = await service(
        sms={"portals": [portals.entry(fake)]}, receipts={"public_url": PUBLIC, "poll_every": "1h"}
    )
    await app.rules(SMS_RULE)
    await app.post(booked(event_id))
    rows = await app.wait_rows(
        lambda rows: any(r.status == "sent" for r in rows), event_id=event_id
    )
    row = rows[0]
    assert row.provider == fake and row.address == PHONE and row.provider_message_id
    return app, row.id, row.provider_message_id


def callback_target(app: RunningApp, portals: SmsPortalsServer, fake: str, message_id: str) -> str:
    """Where the portal posts: the address it was given (callbackUrl with the send, or the
    cabinet setting the operator copied), on this test's port."""
    book = app.app[RECEIPTS]
    expected = f"{PUBLIC}/receipts/{fake}/{book.secrets[fake]}"
    item = portals.fakes[fake].find(message_id)
    if fake in ("smsaero", "devino"):  # the service told the portal with the message
        assert item is not None and item.callback_url == expected
    return app.url + urlsplit(expected).path


def poller(app: RunningApp) -> ReceiptPoller:
    return ReceiptPoller(app.app[RECEIPTS], sms_portals(app.app), app.app[CONFIG].receipts)


def ignored(app: RunningApp, provider: str, reason: str) -> float:
    value = app.app[METRICS].registry.get_sample_value(
        "vestnik_receipts_ignored_total", {"provider": provider, "reason": reason}
    )
    return value or 0.0


def counted(app: RunningApp, provider: str, status: str) -> float:
    value = app.app[METRICS].registry.get_sample_value(
        "vestnik_receipts_total", {"channel": "sms", "provider": provider, "status": status}
    )
    return value or 0.0


ANSWERS = {"smsru": "100", "smsc": "OK", "smsaero": "OK", "devino": "OK"}


@pytest.mark.parametrize("fake", CALLBACK_PORTALS)
@pytest.mark.parametrize("fate", ["delivered", "undelivered"])
async def test_a_callback_settles_the_row(service, portals, clock, fake, fate):
    app, row_id, message_id = await sent_sms(service, portals, fake)
    portals.settle(fake, message_id, fate)

    status, answer = await portals.post_callback(
        fake, message_id, url=callback_target(app, portals, fake, message_id)
    )

    assert (status, answer) == (200, ANSWERS[fake])
    [row] = await app.journal()
    assert row.status == fate and row.receipt
    if fate == "delivered":
        assert row.delivered_at is not None and row.failed_at is None
    else:
        assert row.failed_at is not None and row.delivered_at is None
        assert row.error.startswith(f"{fake}: ")
    assert row.receipt_poll_at is None  # final: no more polling
    assert counted(app, fake, fate) == 1


@pytest.mark.parametrize("fake", POLLING_PORTALS)
@pytest.mark.parametrize("fate", ["delivered", "undelivered"])
async def test_the_poller_settles_the_row(service, portals, clock, fake, fate):
    app, row_id, message_id = await sent_sms(service, portals, fake)
    portals.settle(fake, message_id, fate)

    assert await poller(app).run() == 0  # the first poll waits for receipts.first_poll
    assert portals.fakes[fake].status_requests == 0
    clock.advance(seconds=25)  # within 30 s of the send
    assert await poller(app).run() == 1

    [row] = await app.journal()
    assert row.status == fate and row.receipt
    assert (row.delivered_at is not None) == (fate == "delivered")
    assert row.receipt_poll_at is None
    assert await poller(app).run() == 0  # a settled row is not asked about again


async def test_polling_backs_off_and_stops_at_the_horizon(service, portals, clock):
    app, row_id, message_id = await sent_sms(service, portals, "smsru")
    clock.advance(seconds=25)

    await poller(app).run()  # the portal still says "in transit"

    [row] = await app.journal()
    assert row.status == "sent" and row.receipt.startswith("102")
    assert row.receipt_poll_at == clock.now() + timedelta(seconds=25)  # the wait doubled
    clock.advance(hours=30)
    await poller(app).run()
    [row] = await app.journal()
    assert row.receipt_poll_at - clock.now() == timedelta(hours=1)  # capped
    clock.advance(hours=19)  # past the 48 h horizon
    await poller(app).run()
    [row] = await app.journal()
    assert row.status == "sent" and row.receipt_poll_at is None


async def test_a_forged_callback_is_refused_and_counted(service, portals, clock):
    app, row_id, message_id = await sent_sms(service, portals, "smsru")
    portals.settle("smsru", message_id, "delivered")

    status, _ = await portals.post_callback(
        "smsru", message_id, url=f"{app.url}/receipts/smsru/not-the-secret"
    )
    other, _ = await portals.post_callback(
        "smsru", message_id, url=f"{app.url}/receipts/nosuchportal/whatever"
    )

    assert status == other == 404
    [row] = await app.journal()
    assert row.status == "sent"
    assert ignored(app, "smsru", "forged") == 1 and ignored(app, "?", "forged") == 1


async def test_a_replayed_callback_is_ignored_and_counted(service, portals, clock):
    app, row_id, message_id = await sent_sms(service, portals, "smsc")
    target = callback_target(app, portals, "smsc", message_id)
    portals.settle("smsc", message_id, "delivered")
    assert await portals.post_callback("smsc", message_id, url=target) == (200, "OK")
    [first] = await app.journal()

    portals.settle("smsc", message_id, "undelivered")  # a late, contradicting copy
    assert await portals.post_callback("smsc", message_id, url=target) == (200, "OK")

    [row] = await app.journal()
    assert row.status == "delivered" and row.delivered_at == first.delivered_at
    assert ignored(app, "smsc", "replay") == 1 and counted(app, "smsc", "delivered") == 1


async def test_a_callback_for_an_unknown_message_is_counted(service, portals, clock):
    app, row_id, message_id = await sent_sms(service, portals, "smsru")
    stranger = portals.fakes["smsru"].accept("79160000001", "not ours", "Sever", "000000-")
    portals.settle("smsru", stranger, "delivered")

    answer = await portals.post_callback(
        "smsru", stranger, url=callback_target(app, portals, "smsru", message_id)
    )

    assert answer == (200, "100")  # the portal must not retry it forever
    assert ignored(app, "smsru", "unknown") == 1
    [row] = await app.journal()
    assert row.status == "sent"


async def test_a_callback_not_in_the_portals_format_is_a_400(service, portals, clock):
    app, row_id, message_id = await sent_sms(service, portals, "smsc")
    target = callback_target(app, portals, "smsc", message_id)

    async with app.session.post(target, data={"hello": "world"}) as response:
        assert response.status == 400
    async with app.session.post(
        target, data=b"{not json", headers={"Content-Type": "application/json"}
    ) as response:
        assert response.status == 400
    assert ignored(app, "smsc", "malformed") == 2


async def test_receipt_columns_over_http_and_an_undelivered_row_resent(service, portals, clock):
    app, row_id, message_id = await sent_sms(service, portals, "smsaero")
    portals.settle("smsaero", message_id, "undelivered")
    await portals.post_callback(
        "smsaero", message_id, url=callback_target(app, portals, "smsaero", message_id)
    )

    async with app.session.get(f"{app.url}/journal/{row_id}") as response:
        data = await response.json()
    assert data["status"] == "undelivered" and data["receipt"] == "status 2 undelivered"
    assert data["delivered_at"] is None and data["failed_at"]
    clock.advance(minutes=10)
    [row] = await app.journal()
    assert row.status == "undelivered" and len(portals.fakes["smsaero"].sent) == 1  # not re-sent

    async with app.session.post(f"{app.url}/journal/{row_id}/resend") as response:
        assert response.status == 200
    rows = await app.wait_rows(lambda rows: rows[0].status == "sent")
    assert rows[0].receipt is None and rows[0].failed_at is None
    assert len(portals.fakes["smsaero"].sent) == 2


def test_receipt_urls_prints_each_callback_address_once_made(tmp_path, capsys):
    path = tmp_path / "config.toml"
    path.write_text(
        f'[service]\ndatabase = "sqlite:///{tmp_path}/v.db"\n[receipts]\npublic_url = "{PUBLIC}"\n'
        '[[sms.portals]]\nname = "main"\nkind = "smsru"\napi_id = "A1B2"\n'
        '[[sms.portals]]\nname = "backup"\nkind = "prostor"\nlogin = "l"\npassword = "p"\n',
        encoding="utf-8",
    )

    assert cli(["migrate", "--config", str(path)]) == 0  # only serve and migrate create it
    capsys.readouterr()
    assert cli(["receipt-urls", "--config", str(path)]) == 0
    first = capsys.readouterr().out
    assert cli(["receipt-urls", "--config", str(path)]) == 0

    assert capsys.readouterr().out == first  # the secret is made once and kept
    [line] = first.splitlines()  # prostor has no callbacks: it is polled
    assert line.startswith(f"main (smsru): {PUBLIC}/receipts/main/") and len(line) > 60


async def test_a_secret_another_process_stored_is_accepted(service, portals, clock):
    """Two processes starting at once may both make a secret; the stored one wins."""
    app, row_id, message_id = await sent_sms(service, portals, "smsru")
    portals.settle("smsru", message_id, "delivered")
    await app.storage.write(lambda tx: tx.set_meta("receipts.secret.smsru", "from-the-other"))

    answer = await portals.post_callback(
        "smsru", message_id, url=f"{app.url}/receipts/smsru/from-the-other"
    )

    assert answer == (200, "100")
    [row] = await app.journal()
    assert row.status == "delivered"
    assert ignored(app, "smsru", "forged") == 0
