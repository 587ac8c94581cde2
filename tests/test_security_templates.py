"""Templates are code staff write: what they can reach, how long and how much they may
render, what the rule import refuses; messages that must finish; recipient injection."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.keys import TEMPLATES
from bot.pipeline.template_context import template_context
from storage.models import StoredRule
from tests.conftest import CUSTOMER_EMAIL_RULE, booked
from tests.fakes.telegram_api import document
from tests.hostile import vestnik, write_config
from tests.telegram_fixtures import ADMIN_ID, bot_app, fake_telegram, telegram_config  # noqa: F401

LINK_SECRET = "sec-link-secret-0123456789abcdef"
WALKS = [
    "{{ telegram_link.secret }}",
    "{{ telegram_link.__self__ }}",
    "{{ telegram_link.__self__.secret }}",
    "{{ telegram_link.__globals__ }}",
    "{{ telegram_link.__closure__ }}",
    "{{ telegram_link.__closure__[0].cell_contents.secret }}",
    "{{ telegram_link.__call__.__self__.secret }}",
    "{{ telegram_link.__wrapped__ }}",
    "{{ customer.get.__self__._data }}",
    "{{ customer._data }}",
    "{{ telegram_link | attr('secret') }}",
    "{{ telegram_link['secret'] }}",
    "{{ (telegram_link.__class__.__mro__) }}",
    "{{ self.__init__.__globals__ }}",
    "{{ range.__globals__ }}",
    "{{ dict.__base__.__subclasses__() }}",
]


def rule(name: str, body: str, channel: str = "email", **extra: Any) -> str:
    lines = [
        f"name = {json.dumps(name)}",
        'event = "order_booked"',
        'recipients = ["customer"]',
        f'channels = ["{channel}"]',
        f"body = {json.dumps(body, ensure_ascii=False)}",
    ]
    lines += [f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in extra.items()]
    return "[[rules]]\n" + "\n".join(lines) + "\n\n"


async def test_attribute_walks_never_reach_the_deep_link_key(make_config, start_app, smtp):
    app = await start_app(make_config(telegram={"link_secret": LINK_SECRET}))
    await app.rules("".join(rule(f"walk {i}", body + " end") for i, body in enumerate(WALKS)))
    status, _ = await app.post(booked("walk-1"))
    assert status == 202
    rows = await app.wait_rows(
        lambda rows: len(rows) == len(WALKS) and all(r.status in ("sent", "failed") for r in rows)
    )
    seen = json.dumps([[r.text, r.error, r.subject] for r in rows], ensure_ascii=False)
    mails = "".join(m.get_content() for m in smtp.recorder.messages)
    for text in (seen, mails):
        assert LINK_SECRET not in text and "sec-link-secret" not in text
        assert "__globals__" not in text and "<function" not in text.replace("&lt;", "<")


async def test_nothing_a_template_sees_holds_a_secret_config_or_storage(make_config, start_app):
    """Walk every public attribute (as the sandbox allows) of every global and context value."""
    app = await start_app(make_config(telegram={"link_secret": LINK_SECRET}))
    templates = app.app[TEMPLATES]
    env = templates._plain  # the sandbox itself decides what a walk may touch
    context = template_context(
        booked("ctx-1"),
        {"name": "Иван", "role": "customer"},
        company="Север",
        extra=templates.globals,
    )
    found: list[str] = []

    def walk(value: Any, path: str, depth: int) -> None:
        text = repr(value)
        if (
            LINK_SECRET in text
            or "Storage" in type(value).__name__
            or type(value).__name__ in ("Config", "TelegramConfig", "bytes")
        ):
            found.append(f"{path}: {type(value).__name__}")
        if depth == 0 or isinstance(value, (str, int, float, type(None))):
            return
        for name in dir(value):
            attr = env.getattr(value, name)
            if (
                env.is_safe_attribute(value, name, attr)
                and not callable(attr)
                or name in ("secret", "key", "config", "storage")
            ):
                walk(attr, f"{path}.{name}", depth - 1)

    for name, value in context.items():
        walk(value, name, 3)
    assert "telegram_link" in context and found == []
    assert templates.globals["telegram_link"]({"id": "C-1"}) == ""  # bot not known: a string


async def test_a_slow_template_fails_its_row_and_intake_goes_on(make_config, start_app, smtp):
    app = await start_app(make_config())
    slow = "{% for i in range(100000) %}{% for j in range(5000) %}{% endfor %}{% endfor %}x"
    await app.rules(CUSTOMER_EMAIL_RULE + rule("slow", slow))
    status, answer = await app.post(booked("slow-1"))
    assert status == 202 and answer["planned"] == 2
    rows = await app.wait_rows(lambda rows: any(r.status == "sent" for r in rows))
    by_rule = {r.rule: r for r in rows}
    assert by_rule["slow"].status == "failed"
    assert "longer than 1 s" in by_rule["slow"].error
    # the next event fails that template at once instead of spending the budget again
    status, _ = await app.post(booked("slow-2", order={"id": "ORD-2", "number": "2"}))
    assert status == 202
    rows = await app.wait_rows(lambda rows: len([r for r in rows if r.rule == "slow"]) == 2)
    assert "an earlier render" in [r for r in rows if r.rule == "slow"][-1].error


@pytest.mark.parametrize(
    "body, words",
    [
        ("{{ 'x' * 50000000 }}", "the limit is"),
        ("{{ [1] * 10000000 }}", "the limit is"),
        ("{% for i in range(100000) %}xxxxxxxxxx{% endfor %}", "longer than 65536 characters"),
        ("{{ 'x'|center(100000000) }}", "too large"),
        ("{{ '%100000000s' % 'x' }}", "width"),
        ("{{ 'x'.ljust(100000000) }}", "too large"),
        ("{% set a = 'x' * 200000 %}{{ a ~ a }}", "the limit is"),
        ("{{ 9 ** 99999999 }}", "exponent"),
    ],
)
async def test_a_template_over_a_size_limit_fails_that_notification(
    make_config, start_app, body: str, words: str
):
    app = await start_app(make_config())
    await app.rules(rule("huge", body))
    status, _ = await app.post(booked("huge-1"))
    assert status == 202
    [row] = await app.wait_rows(lambda rows: rows and rows[0].status == "failed")
    assert words in row.error and "template over a limit" in row.error
    assert not row.text


async def test_an_sms_body_is_capped_before_its_segments_are_counted(make_config, start_app):
    app = await start_app(
        make_config(sms={"portals": [{"name": "p", "kind": "smsru", "api_id": "x" * 20}]})
    )
    await app.rules(rule("long sms", "{% for i in range(20000) %}y{% endfor %}", "sms"))
    await app.post(booked("sms-1"))
    [row] = await app.wait_rows(lambda rows: rows and rows[0].status == "failed")
    assert "longer than 16384 characters" in row.error


BAD_RULES = [
    (rule("no compile", "{{ order.number "), "rule 'no compile': body: template"),
    (rule("bad filter", "{{ x | nope }}"), "rule 'bad filter': body: template error"),
    (rule("bad subject tpl", "ok", subject="{% if %}"), "rule 'bad subject tpl': subject:"),
    (
        rule("crlf name", "ok", sender_name="Север\r\nBcc: x@evil.example"),
        "rule 'crlf name': sender_name: must be one line",
    ),
    (
        rule("lf subject", "ok", subject="Hello\nBcc: x@evil.example"),
        "rule 'lf subject': subject: must be one line",
    ),
    (
        rule("spaced staff", "ok").replace('["customer"]', '["staff:S 7"]'),
        "rule 'spaced staff': recipients.0:",
    ),
    (
        rule("huge chat", "ok").replace('["customer"]', '["chat:99999999999999999999"]'),
        "rule 'huge chat': recipients",
    ),
    (
        rule("trailing lf", "ok").replace('["customer"]', '["customer\\n"]'),
        "rule 'trailing lf': recipients",
    ),
]


@pytest.mark.parametrize("text, words", BAD_RULES)
def test_rules_import_refuses_what_would_fail_later(tmp_path: Path, text: str, words: str):
    config = write_config(
        tmp_path / "config.toml", f'[service]\ndatabase = "sqlite:///{tmp_path}/v.db"\n'
    )
    assert vestnik("migrate", "--config", config).returncode == 0
    rules = tmp_path / "rules.toml"
    rules.write_text(text, encoding="utf-8")
    done = vestnik("rules", "import", str(rules), "--config", config)
    assert done.returncode == 1, done.stdout
    assert "nothing imported" in done.stderr and words in done.stderr, done.stderr
    listed = vestnik("rules", "list", "--config", config)
    assert listed.returncode == 0 and listed.stdout.strip() == ""


async def test_the_bot_refuses_the_same_rule_files(bot_app, smtp):  # noqa: F811
    tg = await bot_app()
    text = "".join(t for t, _ in BAD_RULES)
    tg.fake.add_file("bad", text.encode())
    answer = "".join(
        s.text
        for s in await tg.send(document(ADMIN_ID, "bad", "r.toml", len(text.encode())), ADMIN_ID)
    )
    assert answer.startswith("Файл не импортирован")
    for _, words in BAD_RULES:
        assert words.replace("'", "&#39;") in answer, words
    async with tg.storage.reader() as tx:
        assert await tx.list_rules() == []


async def test_a_row_whose_sender_raises_climbs_the_ladder_and_fails(make_config, start_app, smtp):
    app = await start_app(make_config())
    # stored before the import refused line breaks (the import would refuse it now)
    stored = StoredRule(
        name="crlf",
        event="order_booked",
        definition={
            "name": "crlf",
            "event": "order_booked",
            "recipients": ["customer"],
            "channels": ["email"],
            "sender_name": "Север\r\nBcc: x@evil.example",
        },
    )
    await app.storage.write(lambda tx: tx.upsert_rules([stored]))
    assert (await app.post(booked("crlf-1")))[0] == 202
    [row] = await app.wait_rows(lambda rows: rows and rows[0].status == "failed", timeout=30)
    assert row.attempts == 4  # the first try and the ladder of three retries, each counted
    assert "ValueError" in row.error and ("linefeed" in row.error or "CR or LF" in row.error)
    assert smtp.recorder.messages == []


@pytest.mark.parametrize(
    "address",
    [
        "ivan@example.ru,attacker@evil.example",
        "attacker@evil.example,ivan@example.ru",
        "ivan@example.ru>,<attacker@evil.example",
        "ivan@[127.0.0.1]x.ru",
        "ivan@[127.0.0.1]",
        "Ivan <ivan@example.ru>",
        "ivan@example.ru\r\nRCPT TO:<attacker@evil.example>",
    ],
)
async def test_an_injected_address_never_becomes_a_recipient(
    make_config, start_app, smtp, address: str
):
    app = await start_app(make_config())
    await app.rules(CUSTOMER_EMAIL_RULE)
    event = booked("inj-1")
    event["customer"]["email"] = address
    status, _ = await app.post(event)
    assert status in (202, 400)
    if status == 202:
        [row] = await app.wait_rows(lambda rows: rows and rows[0].status == "skipped")
        assert row.reason.startswith("invalid e-mail")
    assert smtp.recorder.envelopes == []


async def test_the_envelope_is_the_parsed_mailbox(make_config, start_app, smtp):
    app = await start_app(make_config())
    await app.rules(CUSTOMER_EMAIL_RULE)
    event = booked("env-1")
    event["customer"]["email"] = " Ivan.Petrov@EXAMPLE.RU "
    await app.post(event)
    await app.wait_rows(lambda rows: rows and rows[0].status == "sent")
    assert smtp.recorder.envelopes == [("service@example.ru", ["Ivan.Petrov@example.ru"])]


def test_send_test_refuses_an_address_list(tmp_path: Path, smtp):
    config = write_config(
        tmp_path / "config.toml",
        f"""
[service]
database = "sqlite:///{tmp_path}/v.db"
[[email.accounts]]
name = "main"
host = "127.0.0.1"
port = {smtp.port}
tls = "none"
from_address = "service@example.ru"
""",
    )
    done = vestnik(
        "send-test", "email", "ivan@example.ru,attacker@evil.example", "--config", config
    )
    assert done.returncode == 1 and "invalid e-mail" in done.stdout + done.stderr
    assert smtp.recorder.envelopes == []


async def test_a_telegram_text_over_16k_fails_that_notification(bot_app, smtp):  # noqa: F811
    tg = await bot_app()
    await tg.running.rules(
        rule("long telegram", "{% for i in range(20000) %}y{% endfor %}", "telegram").replace(
            '["customer"]', '["chat:5005"]'
        )
    )
    assert (await tg.running.post(booked("tg-long-1")))[0] == 202
    [row] = await tg.running.wait_rows(lambda rows: rows and rows[0].status == "failed")
    assert "longer than 16384 characters" in row.error
