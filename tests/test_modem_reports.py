"""The modem's delivery receipts: TP-SRR on each submit, ``+CDS`` pushed (and acknowledged
with ``AT+CNMA`` when the modem is in ``AT+CSMS=1``), ``+CDSI`` read with ``AT+CMGR`` and
deleted, TP-ST decoded into delivered / still trying / failed, and the report matched to
its journal row by message reference and phone — through the service, on the pty modem."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.sending import Delivery
from bot.keys import SENDERS
from senders.modem.reports import ReportTracker, classify, decode_status_report
from tests.conftest import RunningApp, booked
from tests.fakes.modem import FakeModem

SMS_RULE = """
[[rules]]
name = "booked, sms"
event = "order_booked"
recipients = ["customer"]
channels = ["sms"]
"""
PHONE = "+79161234567"
# research gsm-modem.md §5, verified there: ref 5, +79161234567, discharged 10:30:35+03:00
PUBLISHED = "0006050B919761214365F7521152010303215211520103532100"


def test_a_published_status_report_decodes():
    report = decode_status_report(PUBLISHED)

    assert (report.reference, report.recipient, report.status) == (5, PHONE, 0)
    assert report.discharged_at == datetime(2025, 11, 25, 7, 30, 35, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "state"),
    [
        (0x00, Delivery.DELIVERED),
        (0x02, Delivery.DELIVERED),
        (0x1F, Delivery.DELIVERED),
        (0x20, Delivery.TRYING),
        (0x21, Delivery.TRYING),
        (0x3F, Delivery.TRYING),
        (0x41, Delivery.FAILED),
        (0x46, Delivery.FAILED),
        (0x62, Delivery.FAILED),
        (0x7F, Delivery.FAILED),
        (0x80, Delivery.FAILED),
    ],
)
def test_tp_st_ranges(status, state):
    assert classify(status)[0] is state


def test_a_long_message_is_delivered_when_every_part_is():
    tracker = ReportTracker()
    tracker.sent(PHONE, [7, 8])
    part = decode_status_report(PUBLISHED.replace("000605", "000607", 1))

    assert tracker.match(part) is None  # part 1 of 2
    done = tracker.match(decode_status_report(PUBLISHED.replace("000605", "000608", 1)))
    assert done is not None and done.message_id == "7,8" and done.state is Delivery.DELIVERED


def test_a_report_for_another_number_is_not_ours():
    tracker = ReportTracker()
    tracker.sent("+79990000000", [5])  # MR 5 went to someone else this time round

    assert tracker.match(decode_status_report(PUBLISHED)) is None


@pytest.fixture
async def modem(tmp_path: Path) -> AsyncIterator[FakeModem]:
    fake = FakeModem(tmp_path / "tty-gsm1")
    yield fake
    await fake.close()


async def sent_by_modem(
    start_app, make_config, modem: FakeModem, event_id: str = "m-1"
) -> tuple[RunningApp, int]:
    app = await start_app(make_config(sms={"modems": [{"name": "gsm1", "port": str(modem.port)}]}))
    await app.rules(SMS_RULE)
    await app.post(booked(event_id))
    rows = await app.wait_rows(lambda rows: rows and rows[0].status == "sent")
    assert rows[0].provider == "gsm1" and modem.submits[-1].srr  # a report was asked for
    assert modem.cnmi == "2,1,0,1,0"
    return app, int(rows[0].provider_message_id)


async def test_a_pushed_report_marks_the_row_delivered(make_config, start_app, modem):
    app, mr = await sent_by_modem(start_app, make_config, modem)

    modem.report(mr, 0x00)

    rows = await app.wait_rows(lambda rows: rows[0].status == "delivered")
    assert rows[0].receipt == "TP-ST 0x00 received by the recipient"
    assert rows[0].delivered_at == datetime(2026, 12, 1, 7, 0, 5, tzinfo=UTC)
    assert modem.acks == 0  # AT+CSMS=0: no acknowledgement expected


async def test_a_modem_in_phase_2_plus_gets_each_report_acknowledged(make_config, start_app, modem):
    modem.csms = 1
    app, mr = await sent_by_modem(start_app, make_config, modem)

    modem.report(mr, 0x46)  # validity period expired

    rows = await app.wait_rows(lambda rows: rows[0].status == "undelivered")
    assert rows[0].error == "gsm1: TP-ST 0x46 validity period expired"
    assert modem.acks == 1


async def test_a_stored_report_is_read_and_deleted(make_config, start_app, modem):
    app, mr = await sent_by_modem(start_app, make_config, modem)

    modem.report(mr, 0x00, stored=True)

    await app.wait_rows(lambda rows: rows[0].status == "delivered")
    assert "AT+CMGR=1" in modem.log and "AT+CMGD=1" in modem.log
    assert modem.stored_reports == {}


async def test_still_trying_then_failed(make_config, start_app, modem):
    app, mr = await sent_by_modem(start_app, make_config, modem)

    modem.report(mr, 0x21)  # recipient busy, the centre keeps trying
    rows = await app.wait_rows(lambda rows: rows[0].receipt is not None)
    assert rows[0].status == "sent" and "still trying" in rows[0].receipt
    modem.report(mr, 0x61)
    await app.wait_rows(lambda rows: rows[0].status == "undelivered")


async def test_a_report_for_another_phone_leaves_the_row(make_config, start_app, modem):
    app, mr = await sent_by_modem(start_app, make_config, modem)

    modem.report(mr, 0x00, number="+79990000000")
    modem.report(mr, 0x21)  # then a genuine one, so we know the first was handled

    rows = await app.wait_rows(lambda rows: rows[0].receipt is not None)
    assert rows[0].status == "sent"
    assert app.app[SENDERS]["modem"].modems["gsm1"].reports.unmatched == 1
