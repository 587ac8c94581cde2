"""What a real 1C base sends, through the running app: the empty date, Windows-1251 bodies,
readable UTF-8 answers, problems in the answer's language, warnings for types no rule reads."""

from __future__ import annotations

import json

import pytest

from tests.conftest import CUSTOMER_EMAIL_RULE, booked

EMPTY_DATES = ["0001-01-01T00:00:00", "0001-01-01"]


@pytest.mark.parametrize("empty", EMPTY_DATES)
@pytest.mark.parametrize("field", ["order.planned_start", "order.planned_finish", "occurred_at"])
async def test_1c_empty_date_means_not_set(make_config, start_app, field, empty):
    app = await start_app(make_config())
    await app.rules(
        CUSTOMER_EMAIL_RULE
        + """
[[rules]]
name = "start reminder"
event = "repair_start_reminder"
recipients = ["customer"]
channels = ["email"]
before = "2h"
"""
    )
    event = booked(f"empty-{field}-{len(empty)}")
    if "." in field:
        event["order"][field.split(".")[1]] = empty
    else:
        event[field] = empty
    status, answer = await app.post(event)
    assert status == 202, answer
    async with app.storage.reader() as tx:
        stored = await tx.get_event(event["id"])
    if field == "occurred_at":  # not set: the time it arrived
        assert stored.occurred_at.year >= 2026
    else:
        assert field.split(".")[1] not in stored.payload["order"]
    if field == "order.planned_start":
        rows = await app.journal(event_id=event["id"])
        reminder = [r for r in rows if r.event_type == "repair_start_reminder"]
        assert reminder and reminder[0].status == "skipped"
        assert reminder[0].reason == "no order.planned_start in the event"


@pytest.mark.parametrize("empty", EMPTY_DATES)
async def test_1c_empty_birthday_is_no_birthday(make_config, start_app, empty):
    app = await start_app(make_config())
    status, answer = await app.post(booked("bd", customer={"id": "C-5", "birthday": empty}))
    assert status == 202, answer
    async with app.storage.reader() as tx:
        person = await tx.get_person("customer", "C-5")
    assert person is not None and person.birthday is None


async def test_1c_empty_date_in_data_anchor_is_not_set(make_config, start_app):
    app = await start_app(make_config())
    await app.rules("""
[[rules]]
name = "task"
event = "task_reminder"
recipients = ["customer"]
channels = ["email"]
before = "1h"
""")
    status, answer = await app.post(
        booked(
            "task-1",
            type="task_scheduled",
            data={"task_id": "T-1", "starts_at": "0001-01-01T00:00:00"},
        )
    )
    assert status == 202, answer
    [row] = await app.journal(event_id="task-1")
    assert row.status == "skipped" and row.reason == "no data.starts_at in the event"


async def test_windows_1251_body_says_it_must_be_utf8_and_where(make_config, start_app):
    app = await start_app(make_config())
    text = json.dumps(booked("cp"), ensure_ascii=False)
    body = text.encode("cp1251")
    offset = len(text[: text.index("Иван")].encode("cp1251"))
    status, answer = await app.post(None, raw=body)
    assert status == 400
    assert answer["error"] == "not_utf8"
    assert (
        answer["message"].startswith("Тело запроса должно быть в UTF-8")
        and f"позиции {offset}" in answer["message"]
    )
    assert "0xC8" in answer["message"]  # И in Windows-1251
    status, answer = await app.post(None, raw=body, headers={"Accept-Language": "en-US,en"})
    assert answer["message"].startswith(f"The body must be UTF-8: byte 0xC8 at offset {offset}")


async def test_answers_are_utf8_not_escapes(make_config, start_app):
    app = await start_app(make_config())
    async with app.session.post(
        app.url + "/events",
        data=b'{"type": "order_booked"}',
        headers={"Content-Type": "application/json"},
    ) as response:
        raw = await response.read()
    assert response.status == 400
    assert "\\u04" not in raw.decode() and "События не приняты" in raw.decode("utf-8")


async def test_problems_in_the_language_of_the_message(make_config, start_app):
    app = await start_app(make_config())
    event = booked("lang", customer={"id": "C-1", "telegram_id": "много"})
    status, answer = await app.post(event)
    assert status == 400
    [problem] = answer["problems"]
    assert answer["message"].startswith("События не приняты")
    assert problem == {
        "path": "customer.telegram_id",
        "code": "integer",
        "value": "много",
        "expected": "целое число",
        "message": "customer.telegram_id: получено много; ожидается целое число",
    }
    status, answer = await app.post(event, headers={"Accept-Language": "en;q=0.9, ru;q=0.1"})
    [problem] = answer["problems"]
    assert answer["message"].startswith("No events stored")
    assert problem["message"] == "customer.telegram_id: given много; expected an integer"


async def test_every_problem_names_path_value_and_expected(make_config, start_app):
    app = await start_app(make_config())
    long_number = "З" * 500
    status, answer = await app.post(
        {
            "type": "Order Booked",
            "occurred_at": "вчера",
            "order": {"amount": long_number},
            "customer": {"birthday": "1990-02-30"},
        }
    )
    assert status == 400
    by_path = {p["path"]: p for p in answer["problems"]}
    assert set(by_path) == {"id", "type", "occurred_at", "order.amount", "customer.birthday"}
    assert "value" not in by_path["id"] and by_path["id"]["expected"] == "обязательное поле"
    assert by_path["type"]["value"] == "Order Booked"
    assert len(by_path["order.amount"]["value"]) == 100
    assert "такой даты нет" in by_path["customer.birthday"]["expected"]
    for item in answer["problems"]:
        assert item["expected"] and item["message"].startswith(item["path"] + ": ")


async def test_202_warns_about_a_type_no_rule_reads(make_config, start_app):
    app = await start_app(make_config())
    await app.rules(CUSTOMER_EMAIL_RULE)
    status, answer = await app.post(booked("typo", type="order_bookd"))
    assert status == 202
    [warning] = answer["warnings"]
    assert warning["type"] == "order_bookd" and "'order_booked'" in warning["message"]
    status, answer = await app.post(booked("fine"))
    assert status == 202 and "warnings" not in answer
    # a source type whose derived type has a rule is read
    await app.rules("""
[[rules]]
name = "unpaid"
event = "invoice_unpaid"
recipients = ["customer"]
channels = ["email"]
""")
    status, answer = await app.post(booked("inv", type="invoice_issued"))
    assert status == 202 and "warnings" not in answer
