"""The SMS channel inside the service: `vestnik check-config` sees portal problems the config
model cannot, `vestnik send-test sms` prints the portal's own answer without credentials,
and portal balances reach /healthz through the periodic channel refresh."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main as cli
from bot.periodic import refresh_channels
from tests.fakes.sms_portals import CREDENTIALS, PHONE, SmsPortalsServer


@pytest.fixture
async def portals() -> AsyncIterator[SmsPortalsServer]:
    async with SmsPortalsServer() as server:
        yield server


def write_config(path: Path, database: str, portals: list[dict[str, Any]]) -> Path:
    """A config.toml with these ``[[sms.portals]]`` (JSON strings are valid TOML strings)."""
    lines = ["[service]", f"database = {json.dumps(database)}", ""]
    for entry in portals:
        lines.append("[[sms.portals]]")
        lines += [
            f"{key} = {json.dumps(value, ensure_ascii=False)}"
            for key, value in entry.items()
            if not isinstance(value, dict)
        ]
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_check_config_reports_missing_portal_credentials(tmp_path, capsys):
    entry = {"name": "main", "kind": "smsru", "sender": "SEVER"}  # no api_id
    path = write_config(tmp_path / "config.toml", f"sqlite:///{tmp_path}/v.db", [entry])

    assert cli(["check-config", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "configuration problems" in err and "sms.portals[0]" in err and "api_id" in err
    # serve refuses the same config instead of failing on the first SMS
    assert cli(["serve", "--config", str(path)]) == 2


def test_check_config_accepts_a_complete_portal(tmp_path, capsys):
    entry = {"name": "main", "kind": "smsru", "sender": "SEVER", "api_id": "A1B2"}
    path = write_config(tmp_path / "config.toml", f"sqlite:///{tmp_path}/v.db", [entry])

    assert cli(["check-config", "--config", str(path)]) == 0
    assert "config OK" in capsys.readouterr().out


async def test_send_test_sms_prints_the_portals_answer_without_credentials(
    portals: SmsPortalsServer, tmp_path, capsys
):
    entries = [portals.entry("smsru"), portals.entry("smsc")]
    path = write_config(tmp_path / "config.toml", f"sqlite:///{tmp_path}/v.db", entries)

    # the CLI runs its own event loop: a thread, while the portal fake serves on this one
    status = await asyncio.to_thread(
        cli,
        [
            "send-test",
            "sms",
            PHONE,
            "--provider",
            "smsc",
            "--text",
            "Проверка связи",
            "--config",
            str(path),
        ],
    )

    out = capsys.readouterr().out
    assert status == 0, out
    [record] = portals.fakes["smsc"].sent
    assert record.text == "Проверка связи" and not portals.fakes["smsru"].sent
    assert "sent via smsc" in out and "answer:" in out
    for secret in CREDENTIALS["smsc"].values():
        assert secret not in out


async def test_send_test_sms_failure_exits_1_with_the_portals_words(
    portals: SmsPortalsServer, tmp_path, capsys
):
    entry = portals.entry("smsru", api_id="wrong-key")
    path = write_config(tmp_path / "config.toml", f"sqlite:///{tmp_path}/v.db", [entry])

    status = await asyncio.to_thread(cli, ["send-test", "sms", PHONE, "--config", str(path)])

    captured = capsys.readouterr()
    assert status == 1
    assert "not sent" in captured.out + captured.err
    assert "wrong-key" not in captured.out + captured.err


async def test_portal_balance_reaches_healthz(portals: SmsPortalsServer, make_config, start_app):
    portals.fakes["smsru"].balance = 123.45
    app = await start_app(make_config(sms={"portals": [portals.entry("smsru")]}))

    await refresh_channels(app.app)

    async with app.session.get(app.url + "/healthz") as response:
        body = await response.json()
    smsru = body["channels"]["sms"]["portals"]["smsru"]
    assert smsru["balance"] == "123.45 RUB" and smsru["balance_at"]


def test_the_example_config_is_valid(capsys):
    """config.example.toml is what users copy: it must pass check-config as shipped."""
    example = Path(__file__).resolve().parent.parent / "config.example.toml"

    assert cli(["check-config", "--config", str(example)]) == 0
    assert "config OK" in capsys.readouterr().out
