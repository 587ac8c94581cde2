"""One reading of "who" for the stop list, the same from ``vestnik stoplist add`` and from
the bot's ``/stoplist add``: prefixes, guesses, and the same refusals."""

from __future__ import annotations

import json

import pytest

from bot.cli import main as cli
from bot.services.who import WhoError, parse_who
from tests.telegram_fixtures import (  # noqa: F401
    ADMIN_ID,
    bot_app,
    fake_telegram,
    telegram_config,
)

GOOD = [
    ("8 916 123-45-67", ("phone", "+79161234567")),
    ("+7 (916) 123-45-67", ("phone", "+79161234567")),
    ("phone:89161234567", ("phone", "+79161234567")),
    ("Ivan@Example.RU", ("email", "ivan@example.ru")),
    ("email:Ivan@Example.RU", ("email", "ivan@example.ru")),
    ("C-001", ("customer", "C-001")),
    ("customer:12345678901", ("customer", "12345678901")),  # a prefix beats the guess
    ("chat:-1001234", ("chat", "-1001234")),
]
BAD = [
    ("phone:12", "phone", "12 — не номер телефона."),
    ("chat:abc", "chat", "abc — не id чата Telegram"),
    ("email:nobody", "email", "nobody — не адрес e-mail."),
    ("customer:", "empty", "Не указано, кого вносить."),
]


@pytest.mark.parametrize(("raw", "expected"), GOOD)
def test_parse_who_reads_prefixes_and_guesses(raw, expected):
    assert parse_who(raw, "RU") == expected


@pytest.mark.parametrize(("raw", "problem", "_"), BAD)
def test_parse_who_refuses_what_its_prefix_cannot_be(raw, problem, _):
    with pytest.raises(WhoError) as caught:
        parse_who(raw, "RU")
    assert caught.value.problem == problem


def cli_config(tmp_path, database_url, capsys):
    config = tmp_path / "cli.toml"
    config.write_text(f'[service]\ndatabase = "{database_url}"\n')
    assert cli(["migrate", "--config", str(config)]) == 0  # only serve and migrate create it
    capsys.readouterr()
    return str(config)


def test_the_cli_and_the_bot_agree_on_good_values(tmp_path, capsys, database_url):
    config = cli_config(tmp_path, database_url, capsys)
    for raw, (kind, value) in GOOD:
        assert cli(["stoplist", "add", raw, "--json", "--config", config]) == 0, raw
        saved = json.loads(capsys.readouterr().out)
        assert (saved["who_kind"], saved["who"]) == (kind, value), raw


def test_the_cli_refuses_what_the_bot_refuses(tmp_path, capsys, database_url):
    config = cli_config(tmp_path, database_url, capsys)
    expected = {
        "phone": "12 is not a phone number.",
        "chat": "abc is not a Telegram chat id",
        "email": "nobody is not an e-mail address.",
        "empty": "Nobody given.",
    }
    for raw, problem, _ in BAD:
        assert cli(["stoplist", "add", raw, "--config", config]) == 2, raw
        assert expected[problem] in capsys.readouterr().err, raw
    assert cli(["stoplist", "add", "C-1", "--channel", "pigeon", "--config", config]) == 2
    assert "--channel 'pigeon' is not a channel" in capsys.readouterr().err
    assert cli(["stoplist", "list", "--json", "--config", config]) == 0
    assert json.loads(capsys.readouterr().out) == []


async def test_the_bot_reads_who_the_same_way(bot_app, smtp):
    tg = await bot_app()
    for raw, (kind, value) in GOOD:
        answer = await tg.reply(ADMIN_ID, f"/stoplist add {raw.replace(' ', '')}")
        assert f"{kind}:{value} · * · *" in answer, raw
    for raw, _, message in BAD:
        assert (await tg.reply(ADMIN_ID, f"/stoplist add {raw}")).startswith(message), raw
    assert (await tg.reply(ADMIN_ID, "/stoplist add phone:12", language="en")).startswith(
        "12 is not a phone number."
    )


def test_the_cli_templates_share_the_bots_texts_and_examples(tmp_path, capsys, database_url):
    from bot.services.templates_help import default_text

    config = cli_config(tmp_path, database_url, capsys)
    assert cli(["templates", "payment_received", "--channel", "sms", "--config", config]) == 0
    out = capsys.readouterr().out
    assert "# payment_received / sms / ru" in out and "# payment_received / sms / en" in out
    assert default_text("payment_received", "sms", "ru")[1] in out
    assert "{{ data.amount }}" in out and "5000" in out  # the sample event's value
    assert cli(["templates", "nosuch", "--config", config]) == 2
    assert cli(["templates", "shipped", "--channel", "pigeon", "--config", config]) == 2
