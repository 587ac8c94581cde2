"""The first hour at the command line: a 1C customer export, typos, a missing database, a
busy port, ``| head``, check-config, the journal's clock."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main as cli

ROOT = Path(__file__).resolve().parent.parent


def vestnik(*args: str, cwd: Path, shell_tail: str = "") -> subprocess.CompletedProcess[str]:
    """The real ``vestnik`` in a subprocess, run from ``cwd`` (not the worktree)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "bot", *args]
    if shell_tail:
        line = " ".join(f"'{part}'" for part in command) + " " + shell_tail
        return subprocess.run(
            ["bash", "-o", "pipefail", "-c", line],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> str:
    path = tmp_path / "config.toml"
    path.write_text(f'[service]\ndatabase = "{database_url}"\n', encoding="utf-8")
    assert cli(["migrate", "--config", str(path)]) == 0
    return str(path)


CP1251_EXPORT = (
    "id;name;phone;email;birthday;language\r\n"
    "C-1;Иван Петров;8 916 123-45-67;ivan@example.ru;1985-05-05;ru\r\n"
    "C-2;Пётр\r\n"
    "C-3;Анна;+79161234568;anna@example.ru;1990-02-30;de\r\n"
    "C-4;Олег;not a phone;;0001-01-01;en\r\n"
    "C-1;Иван again;;;;\r\n"
    "C-5;Мария;+79161234569;;--03-08;RU\r\n"
)


def test_customers_import_windows_1251_semicolons_rejects_rows_alone(tmp_path, config, capsys):
    export = tmp_path / "export.csv"
    export.write_bytes(CP1251_EXPORT.encode("cp1251"))
    assert cli(["customers", "import", str(export), "--config", config]) == 1
    out, err = capsys.readouterr()
    assert "customers imported: 2, rejected: 4 (read as cp1251)" in out
    assert "usage:" not in err
    blocks = err.split("  line ")[1:]
    by_line = {int(block.split(":")[0]): block for block in blocks}
    assert set(by_line) == {3, 4, 5, 6}
    assert "столько же значений, сколько колонок в заголовке (6)" in by_line[3]
    assert "birthday: получено 1990-02-30" in by_line[4] and "такой даты нет" in by_line[4]
    assert "language: получено de" in by_line[4]  # every problem of the row
    assert "phone: получено not a phone" in by_line[5]
    assert "id 'C-1' уже был в строке 2" in by_line[6]
    assert cli(["customers", "list", "--json", "--config", config]) == 0
    people = json.loads(capsys.readouterr().out)
    assert [(p["id"], p["name"], p["birthday"], p["language"]) for p in people] == [
        ("C-1", "Иван Петров", "1985-05-05", "ru"),
        ("C-5", "Мария", "--03-08", "ru"),
    ]
    assert cli(["customers", "list", "--search", "иван", "--config", config]) == 0
    out = capsys.readouterr().out
    assert "Иван Петров" in out and "Мария" not in out and "1 customer(s)" in out


def test_customers_import_utf8_bom_commas_and_forced_encoding(tmp_path, config, capsys):
    export = tmp_path / "export.csv"
    export.write_bytes("\ufeffid,name,phone\nC-7,Ёлкина,+79161234570\n".encode())
    assert cli(["customers", "import", str(export), "--config", config]) == 0
    assert "imported: 1, rejected: 0 (read as utf-8-sig)" in capsys.readouterr().out
    latin = tmp_path / "latin.csv"
    latin.write_bytes("id;name\nC-8;Ёж\n".encode("cp1251"))
    assert cli(["customers", "import", str(latin), "--encoding", "cp1251", "--config", config]) == 0
    assert (
        cli(["customers", "import", str(latin), "--encoding", "klingon", "--config", config]) == 2
    )
    assert "error: --encoding 'klingon'" in capsys.readouterr().err
    assert cli(["customers", "list", "--json", "--search", "ёж", "--config", config]) == 0
    assert [p["name"] for p in json.loads(capsys.readouterr().out)] == ["Ёж"]


def test_customers_import_of_a_missing_file_is_an_error_not_usage(tmp_path, config, capsys):
    assert cli(["customers", "import", str(tmp_path / "nope.csv"), "--config", config]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: file not found") and "usage:" not in err


def test_a_command_on_a_missing_database_does_not_create_one(tmp_path):
    for args in (["journal"], ["rules", "export"], ["stoplist", "list"], ["customers", "list"]):
        result = vestnik(*args, cwd=tmp_path)
        assert result.returncode == 2, result
        assert f"no database at {tmp_path / 'vestnik.db'}" in result.stderr
        assert "vestnik migrate" in result.stderr and "usage:" not in result.stderr
        assert not (tmp_path / "vestnik.db").exists()
    assert vestnik("migrate", cwd=tmp_path).returncode == 0
    result = vestnik("journal", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.split()[0] == "id"


@pytest.mark.parametrize(
    "args,expected",
    [
        (["--channel", "smss"], "--channel 'smss' is not a channel"),
        (["--type", "order_bookd"], "(did you mean 'order_booked'?)"),
    ],
)
def test_stoplist_typos_are_refused(config, capsys, args, expected):
    assert cli(["stoplist", "add", "+79161234567", *args, "--config", config]) == 2
    err = capsys.readouterr().err
    assert expected in err and "usage:" not in err
    assert cli(["stoplist", "list", "--json", "--config", config]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_rule_for_a_type_nobody_posts_is_warned_with_did_you_mean(tmp_path, config, capsys):
    rules = tmp_path / "rules.toml"
    rules.write_text(
        '[[rules]]\nname = "typo"\nevent = "order_bookd"\n'
        'recipients = ["customer"]\nchannels = ["email"]\n',
        encoding="utf-8",
    )
    assert cli(["rules", "import", str(rules), "--config", config]) == 0
    err = capsys.readouterr().err
    assert "warning: правило 'typo': тип события 'order_bookd'" in err
    assert "(может быть, 'order_booked'?)" in err


@pytest.mark.parametrize("key", ["subject", "body", "html"])
def test_a_template_that_does_not_compile_is_refused_naming_key_and_line(
    tmp_path, config, capsys, key
):
    rules = tmp_path / "rules.toml"
    rules.write_text(
        '[[rules]]\nname = "broken"\nevent = "order_booked"\n'
        'recipients = ["customer"]\nchannels = ["email"]\n'
        f'{key} = """Здравствуйте!\n{{{{ customer.name }}\n"""\n',
        encoding="utf-8",
    )
    assert cli(["rules", "import", str(rules), "--config", config]) == 1
    err = capsys.readouterr().err
    assert f"rule 'broken': {key}: template does not compile, line 2" in err


def test_serve_on_a_busy_port_says_so_and_which_setting(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        (tmp_path / "config.toml").write_text(
            f'[webhook]\nlisten = "127.0.0.1:{port}"\n', encoding="utf-8"
        )
        result = vestnik("serve", cwd=tmp_path)
    assert result.returncode == 2, result
    assert f"port {port} on 127.0.0.1 is busy" in result.stderr
    assert "webhook.listen" in result.stderr
    assert "Traceback" not in result.stderr and "webhook on" not in result.stdout


def test_output_into_head_ends_quietly(tmp_path, config, capsys):
    export = tmp_path / "many.csv"
    export.write_text(
        "id;name;phone\n"
        + "".join(f"C-{i:05};Клиент номер {i} с длинным именем;\n" for i in range(3000)),
        encoding="utf-8",
    )
    assert cli(["customers", "import", str(export), "--config", config]) == 0
    result = vestnik(
        "customers", "list", "--config", config, cwd=tmp_path, shell_tail="| head -n 2"
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert len(result.stdout.splitlines()) == 2


def test_check_config_reports_every_problem_in_one_run(tmp_path, capsys):
    path = tmp_path / "config.toml"
    path.write_text(
        """
[service]
timezone = "Europe/Moskow"
quiet_hour = "21:00-09:00"

[webhook]
listen = "0.0.0.0:8080"

[[email.accounts]]
name = "main"
host = "smtp.example.ru"
port = 70000
from_address = "service.example.ru"
password = "app-password"

[[sms.portals]]
name = "smsc"
kind = "smsc"
sender = "Sever"
""",
        encoding="utf-8",
    )
    assert cli(["check-config", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "service.timezone: unknown time zone 'Europe/Moskow'" in err
    assert "service.quiet_hour: unknown key 'quiet_hour' (did you mean 'quiet_hours'?)" in err
    assert "email.accounts[0].port:" in err
    assert "email.accounts[0].from_address: 'service.example.ru' is not an e-mail" in err
    assert "sms.portals[0]: smsc (smsc): set login + password or api_key" in err
    assert "email.accounts[0].password: 'app-password' is the example value" in err
    # the cross-key webhook.listen problem no longer hides the portal's
    path.write_text(
        '[webhook]\nlisten = "0.0.0.0:8080"\n\n[[sms.portals]]\nname = "smsc"\nkind = "smsc"\n',
        encoding="utf-8",
    )
    assert cli(["check-config", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "webhook.listen: 0.0.0.0:8080 is reachable" in err and "sms.portals[0]" in err
    path.write_text('[webhook]\nlisten = "127.0.0.1:0"\n', encoding="utf-8")
    assert cli(["check-config", "--config", str(path)]) == 2
    assert "port 0 is outside 1-65535" in capsys.readouterr().err
