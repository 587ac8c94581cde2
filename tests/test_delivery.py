"""End to end: event over HTTP -> journal -> dispatcher -> a real SMTP server."""

from __future__ import annotations

import asyncio

from bot.cli import main as cli
from bot.keys import DISPATCHER
from storage.models import StopEntry, StoredRule
from tests.conftest import CUSTOMER_EMAIL_RULE, booked


async def test_email_reaches_the_customer_with_proper_headers(make_config, start_app, smtp):
    app = await start_app(make_config())
    await app.rules(CUSTOMER_EMAIL_RULE + 'sender_name = "Сервис <Север>"\n')
    status, _ = await app.post(booked("d-1"))
    assert status == 202
    rows = await app.wait_rows(lambda rows: rows and rows[0].status == "sent")
    row = rows[0]
    assert row.sent_at is not None and row.failed_at is None and row.error is None
    assert row.attempts == 1 and row.provider == "main"
    [mail] = smtp.recorder.by_recipient("ivan@example.ru")
    assert mail["Message-ID"] == row.provider_message_id
    assert mail["Date"] is not None
    assert "Север" in str(mail["From"]) and "service@example.ru" in str(mail["From"])
    assert "ЗН-000123" in str(mail["Subject"])
    body = mail.get_body(("plain",)).get_content()
    assert "Иван" in body and "ЗН-000123" in body


async def test_html_alternative_and_rule_templates(make_config, start_app, smtp):
    app = await start_app(make_config())
    await app.rules(
        CUSTOMER_EMAIL_RULE
        + """subject = "Заказ {{ order.number }}"
body = "Сумма {{ order.amount|money(order.currency) }}"
html = "<p>Клиент {{ customer.name }}</p>"
"""
    )
    await app.post(
        booked("h-1", customer={"id": "C-9", "name": "<b>Хакер</b>", "email": "h@example.ru"})
    )
    await app.wait_rows(lambda rows: rows and rows[0].status == "sent")
    [mail] = smtp.recorder.by_recipient("h@example.ru")
    assert mail["Subject"] == "Заказ ЗН-000123"
    assert mail.get_body(("plain",)).get_content().strip() == "Сумма 15\u00a0000,00\u00a0₽"
    html = mail.get_body(("html",)).get_content()
    assert "&lt;b&gt;Хакер&lt;/b&gt;" in html


async def test_template_error_fails_only_that_notification(make_config, start_app, smtp):
    app = await start_app(make_config())
    # a template that does not compile is refused by the import (tests/test_security_templates.py);
    # one stored before that check still fails only its own row
    broken = StoredRule(
        name="broken",
        event="order_booked",
        definition={
            "name": "broken",
            "event": "order_booked",
            "recipients": ["customer"],
            "channels": ["email"],
            "body": "{{ order.number | no_such_filter }}",
        },
    )
    await app.storage.write(lambda tx: tx.upsert_rules([broken]))
    await app.rules(
        CUSTOMER_EMAIL_RULE
        + """
[[rules]]
name = "raises"
event = "order_booked"
recipients = ["customer"]
channels = ["email"]
body = "{{ 1 / 0 }}"
"""
    )
    status, body = await app.post(booked("te-1"))
    assert status == 202 and body["planned"] == 3
    rows = await app.wait_rows(lambda rows: any(r.status == "sent" for r in rows))
    by_rule = {r.rule: r for r in rows}
    assert by_rule["broken"].status == "failed" and "no_such_filter" in by_rule["broken"].error
    assert by_rule["raises"].status == "failed" and "division" in by_rule["raises"].error
    assert by_rule["broken"].failed_at is not None
    assert by_rule["booked, customer"].status == "sent"


async def test_stop_list_at_planning(make_config, start_app, smtp):
    app = await start_app(make_config())
    await app.rules(CUSTOMER_EMAIL_RULE)
    entry = await app.storage.write(
        lambda tx: tx.add_stop(
            StopEntry(who="+79161234567", who_kind="phone", reason="asked by phone")
        )
    )
    await app.post(booked("s-1"))
    [row] = await app.journal()
    assert row.status == "stopped" and row.reason == f"stop list entry {entry.id}"
    other_type = await app.storage.write(lambda tx: tx.remove_stop(entry.id))
    assert other_type
    await app.storage.write(
        lambda tx: tx.add_stop(
            StopEntry(who="C-001", who_kind="customer", event_type="payment_received")
        )
    )
    await app.post(booked("s-2"))  # a different type is not stopped
    rows = await app.wait_rows(lambda rows: rows[-1].status == "sent")
    assert rows[-1].event_id == "s-2"


async def test_stop_list_checked_again_before_sending(make_config, start_app, smtp):
    app = await start_app(make_config(schedule={"retry_backoff": ["2s", "2s"]}))
    await app.rules(CUSTOMER_EMAIL_RULE)
    smtp.recorder.rcpt_failures.append("451 4.7.1 Greylisted, try again later")
    await app.post(booked("s-3"))
    rows = await app.wait_rows(lambda rows: rows and rows[0].attempts == 1)
    assert rows[0].status == "pending" and "451" in rows[0].error
    entry = await app.storage.write(
        lambda tx: tx.add_stop(StopEntry(who="ivan@example.ru", who_kind="email", channel="email"))
    )
    rows = await app.wait_rows(lambda rows: rows[0].status == "stopped")
    assert rows[0].reason == f"stop list entry {entry.id}"
    assert smtp.recorder.by_recipient("ivan@example.ru") == []


async def test_transient_failure_is_retried_until_sent(make_config, start_app, smtp):
    app = await start_app(make_config())
    await app.rules(CUSTOMER_EMAIL_RULE)
    smtp.recorder.rcpt_failures += ["421 4.3.0 Service busy", "452 4.2.2 Mailbox full"]
    await app.post(booked("r-1"))
    rows = await app.wait_rows(lambda rows: rows and rows[0].status == "sent")
    assert rows[0].attempts == 3 and rows[0].failed_at is None
    assert len(smtp.recorder.by_recipient("ivan@example.ru")) == 1


async def test_transient_failures_exhaust_the_ladder(make_config, start_app, smtp):
    app = await start_app(make_config(schedule={"retry_backoff": ["1s"]}))
    await app.rules(CUSTOMER_EMAIL_RULE)
    smtp.recorder.rcpt_failures += ["451 4.3.0 Local error"] * 5
    await app.post(booked("r-2"))
    rows = await app.wait_rows(lambda rows: rows and rows[0].status == "failed")
    assert rows[0].attempts == 2 and rows[0].failed_at is not None and "451" in rows[0].error


async def test_permanent_failure_stays_failed_until_resend(
    make_config, start_app, smtp, tmp_path, capsys
):
    config = make_config()
    app = await start_app(config)
    await app.rules(CUSTOMER_EMAIL_RULE)
    smtp.recorder.refused.add("ivan@example.ru")
    await app.post(booked("f-1"))
    rows = await app.wait_rows(lambda rows: rows and rows[0].status == "failed")
    row = rows[0]
    assert row.attempts == 1 and "550" in row.error and "User unknown" in row.error
    # the DALION rule: a failed row is never sent again by itself
    app.app[DISPATCHER].wake()
    rows = await app.wait_rows(lambda rows: True)
    assert rows[0].status == "failed" and rows[0].attempts == 1
    smtp.recorder.refused.clear()
    config_path = tmp_path / "cli.toml"
    config_path.write_text(f'[service]\ndatabase = "{config.service.database}"\n')
    # the CLI is another program with its own connection (a thread: it runs its own loop)
    assert (
        await asyncio.to_thread(
            cli, ["journal", "resend", str(row.id), "--config", str(config_path)]
        )
        == 0
    )
    app.app[DISPATCHER].wake()  # SQLite: the CLI is another process; the API wakes directly
    rows = await app.wait_rows(lambda rows: rows[0].status == "sent")
    assert rows[0].error is None and rows[0].failed_at is None


async def test_resend_through_the_http_api(make_config, start_app, smtp):
    app = await start_app(make_config())
    await app.rules(CUSTOMER_EMAIL_RULE)
    await app.post(booked("api-1"))
    rows = await app.wait_rows(lambda rows: rows and rows[0].status == "sent")
    async with app.session.post(f"{app.url}/journal/{rows[0].id}/resend") as response:
        assert response.status == 200
        assert (await response.json())["status"] == "pending"
    await app.wait_rows(lambda rows: rows[0].status == "sent" and rows[0].attempts == 1)
    assert len(smtp.recorder.by_recipient("ivan@example.ru")) == 2
    async with app.session.get(f"{app.url}/journal/{rows[0].id}") as response:
        data = await response.json()
    assert list(data) == [
        "id",
        "event_id",
        "event_type",
        "rule",
        "recipient_role",
        "recipient_id",
        "recipient_name",
        "channel",
        "provider",
        "address",
        "subject",
        "text",
        "segments",
        "created_at",
        "due_at",
        "sent_at",
        "failed_at",
        "error",
        "attempts",
        "provider_message_id",
        "status",
        "reason",
        "delivered_at",
        "receipt",
    ]


async def test_smtp_connections_are_reused(make_config, start_app, smtp):
    app = await start_app(make_config())
    await app.rules(CUSTOMER_EMAIL_RULE)
    before = smtp.recorder.connections
    for i in range(10):
        await app.post(booked(f"c-{i}"))
    await app.wait_rows(lambda rows: len(rows) == 10 and all(r.status == "sent" for r in rows))
    opened = smtp.recorder.connections - before
    assert opened <= 2  # max_connections of the account, not one per mail


async def test_dry_run_sends_nothing(make_config, start_app, smtp):
    app = await start_app(make_config(service={"dry_run": True}))
    await app.rules(CUSTOMER_EMAIL_RULE)
    await app.post(booked("dry-1"))
    rows = await app.wait_rows(lambda rows: rows and rows[0].status == "skipped")
    assert "dry run" in rows[0].reason and rows[0].text
    assert smtp.recorder.messages == []
