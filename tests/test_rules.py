"""Rules (docs/rules.md): import/export, validation errors, filters, recipients, channel choice."""

from __future__ import annotations

import json

import pytest

from bot.cli import main as cli
from bot.pipeline.rule_file import RuleFileError, parse_rules_toml
from bot.pipeline.rule_filters import condition_holds, filters_match, resolve_path
from storage.models import Person, TelegramLink
from tests.conftest import booked

RULES = """
[[rules]]
name = "parts, customer, Moscow"
event = "parts_arrived"
recipients = ["customer", "manager"]
channels = ["telegram", "email", "sms"]
delivery = "first"
filters = { "order.territory" = ["Moscow", "Khimki"], "customer.group" = { not_in = ["wholesale"] } }

[[rules]]
name = "big orders to the boss"
event = "order_booked"
recipients = ["staff:S-BOSS"]
channels = ["email", "internal"]
delivery = "all"
filters = { "order.amount" = { gte = 100000 } }
"""


def test_invalid_file_is_rejected_whole_with_rule_and_key():
    text = (
        RULES
        + """
[[rules]]
name = "bad one"
event = "order_booked"
recipients = ["customer", "boss"]
channels = ["pigeon"]
delivery = "sometimes"
before = "soon"
filters = { "order.amount" = { bigger = 1 } }

[[rules]]
name = "internal to customer"
event = "order_booked"
recipients = ["customer"]
channels = ["internal"]
"""
    )
    with pytest.raises(RuleFileError) as caught:
        parse_rules_toml(text)
    errors = caught.value.errors
    assert any(e.startswith("rule 'bad one': recipients:") and "boss" in e for e in errors)
    assert any(e.startswith("rule 'bad one': channels.0:") for e in errors)
    assert any(e.startswith("rule 'bad one': delivery:") for e in errors)
    assert any(e.startswith("rule 'bad one': before:") for e in errors)
    assert any(e.startswith("rule 'bad one': filters:") and "bigger" in e for e in errors)
    assert any(e.startswith("rule 'internal to customer': channels:") for e in errors)
    with pytest.raises(RuleFileError, match="not valid TOML"):
        parse_rules_toml("[[rules]\nname=")


def test_before_is_refused_on_a_type_that_happens_when_posted():
    text = """
[[rules]]
name = "paid, 1h before"
event = "payment_received"
recipients = ["customer"]
channels = ["email"]
before = "1h"

[[rules]]
name = "expiring bonus, 3d before"
event = "bonus_expiring"
recipients = ["customer"]
channels = ["email"]
before = "3d"
"""
    with pytest.raises(RuleFileError) as caught:
        parse_rules_toml(text)
    [error] = caught.value.errors
    assert error.startswith("rule 'paid, 1h before': before:") and "after" in error


def test_import_export_round_trip_through_the_cli(tmp_path, capsys, database_url):
    config = tmp_path / "config.toml"
    config.write_text(f'[service]\ndatabase = "{database_url}"\n')
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES, encoding="utf-8")
    assert cli(["migrate", "--config", str(config)]) == 0  # only migrate/serve create it
    capsys.readouterr()
    assert cli(["rules", "import", str(rules), "--config", str(config)]) == 0
    assert "2 new, 0 updated" in capsys.readouterr().out
    assert cli(["rules", "import", str(rules), "--config", str(config)]) == 0
    assert "0 new, 2 updated" in capsys.readouterr().out
    assert cli(["rules", "export", "--config", str(config)]) == 0
    exported = capsys.readouterr().out
    assert [r.definition for r in parse_rules_toml(exported)] == [
        r.definition for r in parse_rules_toml(RULES)
    ]
    assert cli(["rules", "export", "--json", "--config", str(config)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data[0]["name"] == "parts, customer, Moscow" and data[0]["id"] == 1
    assert data[1]["delivery"] == "all" and data[1]["blocked"] is False
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[rules]]\nname = "x"\nevent = "order_booked"\nrecipients = []\nchannels = ["email"]\n',
        encoding="utf-8",
    )
    assert cli(["rules", "import", str(bad), "--config", str(config)]) == 1
    assert "rule 'x': recipients:" in capsys.readouterr().err
    assert cli(["rules", "import", "--config", str(config)]) == 2


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("Moscow", True),
        ("Tver", False),
        (["Tver", "Moscow"], True),
        ({"in": ["Moscow"]}, True),
        ({"not_in": ["Moscow"]}, False),
        ({"exists": True}, True),
        ({"exists": False}, False),
        ({"equals": "Moscow"}, True),
    ],
)
def test_filter_operators_on_a_scalar(condition, expected):
    assert (
        condition_holds(
            resolve_path({"order": {"territory": "Moscow"}}, "order.territory"), condition
        )
        is expected
    )


def test_filters_on_lists_numbers_and_missing_values():
    event = {
        "items": [{"sku": "31265409"}, {"sku": "0000"}],
        "order": {"amount": 150000, "issued": "2026-11-20"},
        "customer": {"group": None},
    }
    assert filters_match({"items.sku": {"any": ["31265409", "x"]}}, event)
    assert not filters_match({"items.sku": {"any": ["x"]}}, event)
    assert filters_match({"order.amount": {"gte": 100000}}, event)
    assert not filters_match({"order.amount": {"lte": 100000}}, event)
    assert filters_match({"order.issued": {"gte": "2026-11-01"}}, event)
    assert filters_match({"customer.group": {"not_in": ["wholesale"]}}, event)
    assert filters_match({"customer.group": {"exists": False}}, event)
    assert not filters_match({"customer.group": "retail"}, event)
    assert filters_match({"order.amount": "150000"}, event)


PARTS = {
    "id": "pa-1",
    "type": "parts_arrived",
    "customer": {
        "id": "C-1",
        "name": "Анна",
        "phone": "+79161112233",
        "email": "anna@example.ru",
        "group": "retail",
    },
    "manager": {"id": "S-1", "name": "Олег", "email": "oleg@example.ru"},
    "order": {"id": "O-1", "number": "ЗН-1", "territory": "Moscow"},
    "items": [{"sku": "31265409", "name": "Фильтр", "qty": 1}],
}


async def test_delivery_first_skips_unusable_channels_with_reasons(make_config, start_app):
    app = await start_app(make_config())
    await app.rules(RULES)
    await app.post(PARTS)
    rows = await app.journal(event_id="pa-1")
    customer = [(r.channel, r.status, r.reason) for r in rows if r.recipient_role == "customer"]
    assert customer == [
        ("telegram", "skipped", "telegram is off: no telegram.token in the config"),
        ("email", "pending", None),
    ]
    manager = [(r.channel, r.status) for r in rows if r.recipient_role == "manager"]
    assert manager == [("telegram", "skipped"), ("email", "pending")]


async def test_filters_decide_whether_a_rule_applies(make_config, start_app):
    app = await start_app(make_config())
    await app.rules(RULES)
    other = {**PARTS, "id": "pa-2", "order": {**PARTS["order"], "territory": "Tver"}}
    wholesale = {**PARTS, "id": "pa-3", "customer": {**PARTS["customer"], "group": "wholesale"}}
    for event in (other, wholesale):
        status, body = await app.post(event)
        assert status == 202 and body["planned"] == 0


async def test_missing_address_invalid_phone_and_unconfigured_channel(make_config, start_app):
    app = await start_app(make_config(email={"accounts": []}))
    await app.rules("""
[[rules]]
name = "all channels"
event = "repair_completed"
recipients = ["customer"]
channels = ["email", "sms", "telegram"]
delivery = "all"
""")
    await app.post(
        {"id": "rc-1", "type": "repair_completed", "customer": {"id": "C-5", "phone": "12345"}}
    )
    rows = {r.channel: (r.status, r.reason) for r in await app.journal()}
    assert rows["email"] == (
        "skipped",
        "channel not configured: no [[email.accounts]] in the config",
    )
    assert rows["sms"][0] == "skipped" and rows["sms"][1].startswith("channel not configured")
    assert rows["telegram"][0] == "skipped"


async def test_invalid_phone_and_no_address(make_config, start_app):
    app = await start_app(
        make_config(
            sms={
                "portals": [
                    {
                        "name": "smsru",
                        "kind": "smsru",
                        "api_id": "x",
                        "base_url": "http://127.0.0.1:9",
                    }
                ]
            }
        )
    )
    await app.rules("""
[[rules]]
name = "sms and email"
event = "repair_completed"
recipients = ["customer"]
channels = ["sms", "email"]
delivery = "all"
""")
    await app.post(
        {"id": "rc-2", "type": "repair_completed", "customer": {"id": "C-6", "phone": "12345"}}
    )
    rows = {r.channel: (r.status, r.reason) for r in await app.journal()}
    assert rows["sms"] == ("skipped", "invalid phone")
    assert rows["email"] == ("skipped", "no address: no e-mail")


async def test_staff_recipient_by_id_and_blocked_rules(make_config, start_app, smtp):
    app = await start_app(make_config())
    await app.rules(RULES)
    await app.storage.write(
        lambda tx: tx.upsert_person(
            Person(kind="staff", id="S-BOSS", name="Директор", email="boss@example.ru")
        )
    )
    await app.post(booked("big-1", order={"id": "O-9", "number": "ЗН-9", "amount": 250000}))
    rows = await app.wait_rows(lambda rows: {r.status for r in rows} == {"sent"})
    assert {(r.channel, r.address) for r in rows} == {
        ("email", "boss@example.ru"),
        ("internal", "S-BOSS"),
    }
    async with app.storage.reader() as tx:
        inbox = await tx.list_inbox("S-BOSS")
    assert len(inbox) == 1 and "ЗН-9" in inbox[0].text
    async with app.storage.reader() as tx:
        rule = await tx.get_rule("big orders to the boss")
    await app.storage.write(lambda tx: tx.set_rule_blocked(rule.id, True))
    status, body = await app.post(booked("big-2", order={"amount": 250000}))
    assert status == 202 and body["planned"] == 0


async def test_linked_telegram_chat_is_the_address(make_config, start_app):
    app = await start_app(
        make_config(telegram={"token": "42:TEST", "api_base": "http://127.0.0.1:9"})
    )
    await app.rules(RULES)
    await app.storage.write(
        lambda tx: tx.upsert_link(
            TelegramLink(chat_id=5550001, user_id=5550001, phone="+79161112233", customer_id=None)
        )
    )
    await app.post(PARTS)
    rows = [r for r in await app.journal() if r.recipient_role == "customer"]
    assert [(r.channel, r.address) for r in rows] == [("telegram", "5550001")]
