"""Birthdays the day's scan could not see: a customer who gets a birthday today through a
directory change after the scan (an ERP event, ``vestnik customers import``) is greeted once;
``vestnik birthdays run [--date D]`` runs the scan by hand and says what it planned."""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.cli import main as cli
from bot.periodic import birthday_job
from tests.time_fixtures import clock, service  # noqa: F401

MOSCOW = ZoneInfo("Europe/Moscow")
GREETING = """
[[rules]]
name = "birthday, customer"
event = "birthday"
recipients = ["customer"]
channels = ["email"]
quiet_hours = false
"""


def customer_updated(event_id: str, cid: str, born: str) -> dict:
    return {
        "id": event_id,
        "type": "customer_updated",
        "customer": {
            "id": cid,
            "name": f"Клиент {cid}",
            "email": f"{cid.lower()}@example.ru",
            "birthday": born,
        },
    }


async def test_a_customer_given_a_birthday_after_the_days_scan_is_greeted_once(
    service, clock, smtp
):
    clock.set(datetime(2026, 11, 25, 12, 0, tzinfo=MOSCOW))  # after daily_at 10:00
    app = await service()  # the first start scans today: nobody in the directory yet
    await app.rules(GREETING)
    assert await birthday_job(app.app) == 0
    status, body = await app.post(customer_updated("cu-1", "C-1", "1990-11-25"))
    assert status == 202 and body["planned"] == 1
    rows = await app.wait_rows(
        lambda rows: [r.status for r in rows] == ["sent"], event_type="birthday"
    )
    assert rows[0].event_id == "birthday:C-1:2026" and rows[0].address == "c-1@example.ru"
    # later changes, the next scan, a restart: greeted once
    status, body = await app.post(customer_updated("cu-2", "C-1", "1990-11-25"))
    assert body["planned"] == 0
    assert await birthday_job(app.app) == 0
    await service.stop(app)
    app = await service()
    assert [r.event_id for r in await app.journal(event_type="birthday")] == ["birthday:C-1:2026"]
    assert len(smtp.recorder.by_recipient("c-1@example.ru")) == 1


async def test_before_daily_at_a_directory_change_leaves_the_greeting_to_the_scan(service, clock):
    clock.set(datetime(2026, 11, 25, 8, 0, tzinfo=MOSCOW))
    app = await service()
    await app.rules(GREETING)
    status, body = await app.post(customer_updated("cu-1", "C-1", "--11-25"))
    assert body["planned"] == 0
    clock.set(datetime(2026, 11, 25, 10, 0, tzinfo=MOSCOW))
    assert await birthday_job(app.app) == 1
    status, body = await app.post(customer_updated("cu-2", "C-1", "--11-25"))
    assert body["planned"] == 0  # the scan greeted them already


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    code = cli(args)
    out = capsys.readouterr()
    return code, out.out, out.err


async def test_customers_import_greets_who_is_born_today_and_birthdays_run_says_what_it_did(
    tmp_path, make_config, capsys
):
    config = make_config(schedule={"daily_at": "00:00"})  # the day's hour has always passed
    path = tmp_path / "config.toml"
    smtp_port = config.email.accounts[0].port
    path.write_text(
        f'[service]\ndatabase = "{config.service.database}"\nquiet_hours = ""\n'
        '[schedule]\ndaily_at = "00:00"\n'
        f'[[email.accounts]]\nname = "main"\nhost = "127.0.0.1"\n'
        f'port = {smtp_port}\ntls = "none"\nfrom_address = "s@example.ru"\n',
        encoding="utf-8",
    )
    rules = tmp_path / "rules.toml"
    rules.write_text(GREETING, encoding="utf-8")
    today = datetime.now(MOSCOW).date()
    assert (await asyncio.to_thread(run_cli, ["migrate", "--config", str(path)], capsys))[0] == 0
    code, _, err = await asyncio.to_thread(
        run_cli, ["birthdays", "run", "--config", str(path)], capsys
    )
    assert code == 1 and "Нет правил для события birthday" in err
    assert (
        await asyncio.to_thread(
            run_cli, ["rules", "import", str(rules), "--config", str(path)], capsys
        )
    )[0] == 0
    customers = tmp_path / "customers.csv"
    customers.write_text(
        "id,name,email,birthday\n"
        f"B-1,Анна Соколова,anna@example.ru,1990-{today:%m-%d}\n"
        "B-2,Олег Белов,oleg@example.ru,1980-01-01\n",
        encoding="utf-8",
    )
    code, out, _ = await asyncio.to_thread(
        run_cli, ["customers", "import", str(customers), "--config", str(path)], capsys
    )
    assert code == 0 and "customers imported: 2" in out
    assert "birthday greetings planned: 1" in out
    # by hand, the same day: already planned; another day: planned now, and said so
    code, out, _ = await asyncio.to_thread(
        run_cli, ["birthdays", "run", "--config", str(path)], capsys
    )
    assert code == 0
    assert f"Дни рождения {today.isoformat()}: клиентов 1, запланировано уведомлений: 0" in out
    assert "B-1 Анна Соколова: уже запланировано раньше" in out
    day = f"{today.year}-01-01"
    code, out, _ = await asyncio.to_thread(
        run_cli, ["birthdays", "run", "--date", day, "--config", str(path)], capsys
    )
    assert code == 0
    assert f"Дни рождения {day}: клиентов 1, запланировано уведомлений: 1" in out
    assert "B-2 Олег Белов: email pending" in out
    # an unusable channel is named with its reason
    customers.write_text("id,name,birthday\nB-3,Ия Ким,1975-01-01\n", encoding="utf-8")
    await asyncio.to_thread(
        run_cli, ["customers", "import", str(customers), "--config", str(path)], capsys
    )
    code, out, _ = await asyncio.to_thread(
        run_cli, ["birthdays", "run", "--date", day, "--config", str(path)], capsys
    )
    assert "B-2 Олег Белов: уже запланировано раньше" in out
    assert "B-3 Ия Ким: email skipped (no address: no e-mail)" in out
    code, _, err = await asyncio.to_thread(
        run_cli, ["birthdays", "run", "--date", "01.01.2026", "--config", str(path)], capsys
    )
    assert code == 2 and "YYYY-MM-DD" in err
