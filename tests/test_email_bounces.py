"""E-mail bounces: a DSN (RFC 3464) in the account's ``bounce_imap`` mailbox, read from a
local IMAP server, marks the row ``undelivered``; a "delayed" DSN only notes the receipt;
other mail and DSNs for messages we never sent change nothing; a refused login is logged."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from bot.keys import CONFIG, METRICS
from bot.receipts import read_bounces
from senders.email_bounces import BounceMailbox, parse_dsn
from tests.conftest import CUSTOMER_EMAIL_RULE, RunningApp, booked
from tests.fakes.imap import ImapServer
from tests.telegram_fixtures import ADMIN_ID, bot_app, fake_telegram, telegram_config  # noqa: F401


@pytest.fixture
async def imap() -> AsyncIterator[ImapServer]:
    async with ImapServer() as server:
        yield server


def dsn(
    message_id: str,
    recipient: str = "ivan@example.ru",
    action: str = "failed",
    status: str = "5.1.1",
    diagnostic: str = "smtp; 550 5.1.1 <ivan@example.ru>: "
    "Recipient address rejected: User unknown in virtual mailbox table",
) -> bytes:
    """A bounce as Postfix writes it: explanation, delivery-status, original headers."""
    return (
        "From: MAILER-DAEMON@mx.example.ru\r\nTo: service@example.ru\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you...\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.ru\r\nArrival-Date: Tue, 1 Dec 2026 10:00:00 +0300\r\n"
        f"\r\nFinal-Recipient: rfc822; {recipient}\r\nOriginal-Recipient: rfc822;{recipient}\r\n"
        f"Action: {action}\r\nStatus: {status}\r\nDiagnostic-Code: {diagnostic}\r\n\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: service@example.ru\r\nTo: {recipient}\r\nMessage-ID: {message_id}\r\n"
        "Subject: Запись на ремонт\r\n\r\n--B--\r\n"
    ).encode()


async def sent_email(
    make_config, start_app, smtp, imap: ImapServer, password: str | None = None
) -> tuple[RunningApp, BounceMailbox, str]:
    account = {
        "name": "main",
        "host": "127.0.0.1",
        "port": smtp.port,
        "tls": "none",
        "from_address": "service@example.ru",
        "timeout": 5,
        "bounce_imap": {
            "host": "127.0.0.1",
            "port": imap.port,
            "tls": "none",
            "username": imap.username,
            "password": password or imap.password,
            "every": "1h",
        },
    }
    app = await start_app(make_config(email={"accounts": [account]}))
    await app.rules(CUSTOMER_EMAIL_RULE)
    await app.post(booked("b-1"))
    [row] = await app.wait_rows(lambda rows: rows and rows[0].status == "sent")
    assert row.provider == "main" and "vestnik" in row.provider_message_id
    settings = app.app[CONFIG].email.accounts[0].bounce_imap
    return app, BounceMailbox("main", settings), row.provider_message_id


def test_a_postfix_bounce_parses():
    [report] = parse_dsn(dsn("<m1@example.ru>"))

    assert (report.message_id, report.phone, report.state.value) == (
        "<m1@example.ru>",
        "ivan@example.ru",
        "failed",
    )
    assert report.words.startswith("5.1.1 550 5.1.1 <ivan@example.ru>: Recipient address")


async def test_a_bounce_marks_the_row_undelivered(make_config, start_app, smtp, imap):
    app, mailbox, message_id = await sent_email(make_config, start_app, smtp, imap)
    imap.deliver(b"From: boss@example.ru\r\nSubject: hi\r\n\r\nnot a bounce\r\n")
    imap.deliver(dsn(message_id))

    assert await read_bounces(app.app, mailbox) == 1

    [row] = await app.journal()
    assert row.status == "undelivered" and row.failed_at is not None
    assert "User unknown" in row.receipt and row.error.startswith("main: 5.1.1")
    assert imap.seen == {1, 2}  # read once: the next run finds nothing new
    assert await read_bounces(app.app, mailbox) == 0


async def test_a_delayed_notice_and_a_stranger(make_config, start_app, smtp, imap):
    app, mailbox, message_id = await sent_email(make_config, start_app, smtp, imap)
    imap.deliver(
        dsn(
            message_id,
            action="delayed",
            status="4.4.1",
            diagnostic="smtp; 421 4.4.1 connection timed out",
        )
    )
    imap.deliver(dsn("<not-ours@example.ru>"))

    assert await read_bounces(app.app, mailbox) == 2

    [row] = await app.journal()
    assert row.status == "sent" and row.receipt.startswith("4.4.1")
    assert (
        app.app[METRICS].registry.get_sample_value(
            "vestnik_receipts_ignored_total", {"provider": "main", "reason": "unknown"}
        )
        == 1
    )


async def test_a_refused_mailbox_login_is_logged(make_config, start_app, smtp, imap, caplog):
    app, mailbox, message_id = await sent_email(
        make_config, start_app, smtp, imap, password="wrong"
    )
    imap.deliver(dsn(message_id))

    with caplog.at_level(logging.WARNING, logger="vestnik.receipts"):
        assert await read_bounces(app.app, mailbox) == 0

    assert any("bounce mailbox 127.0.0.1" in r.getMessage() for r in caplog.records)
    assert "wrong" not in caplog.text
    [row] = await app.journal()
    assert row.status == "sent" and imap.seen == set()


async def test_the_bot_shows_the_receipt_and_lists_undelivered_as_failed(
    bot_app, smtp, imap, caplog
):
    account = {
        "name": "main",
        "host": "127.0.0.1",
        "port": smtp.port,
        "tls": "none",
        "from_address": "service@example.ru",
        "timeout": 5,
        "bounce_imap": {
            "host": "127.0.0.1",
            "port": imap.port,
            "tls": "none",
            "username": imap.username,
            "password": imap.password,
        },
    }
    tg = await bot_app(email={"accounts": [account]})
    await tg.running.rules(CUSTOMER_EMAIL_RULE)
    await tg.running.post(booked("bot-1"))
    [row] = await tg.running.wait_rows(lambda rows: rows and rows[0].status == "sent")
    imap.deliver(dsn(row.provider_message_id))
    mailbox = BounceMailbox("main", tg.app[CONFIG].email.accounts[0].bounce_imap)
    assert await read_bounces(tg.app, mailbox) == 1

    failed = await tg.reply(ADMIN_ID, "/journal failed")
    assert f"#{row.id}" in failed and "undelivered" in failed and "5.1.1" in failed
    full = await tg.reply(ADMIN_ID, f"/journal #{row.id}")
    assert "<b>receipt</b>: 5.1.1" in full and "<b>failed_at</b>" in full
