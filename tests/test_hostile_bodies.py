"""Bodies that must be a 400 naming the field, never a 500, on both backends: deep nesting,
huge integers, int64 overflow, dates that overflow, lone surrogates, NUL, NaN in a filtered
field. A batch with one such event is refused whole, naming that event's index."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import CUSTOMER_EMAIL_RULE, booked


def raw(body: Any) -> bytes:
    """ASCII JSON: lone surrogates and NUL travel as \\u escapes, as an ERP would send them."""
    return json.dumps(body, ensure_ascii=True).encode()


def paths(body: dict[str, Any]) -> set[str]:
    return {p["path"] for p in body["problems"]}


async def assert_nothing_stored(app, *event_ids: str) -> None:
    async with app.storage.reader() as tx:
        assert await tx.existing_events(list(event_ids)) == set()
    assert await app.journal() == []


async def test_json_nested_100000_deep_is_400(make_config, start_app):
    app = await start_app(make_config())
    body = (
        b'{"id": "deep", "type": "order_booked", "data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    )
    status, answer = await app.post(None, raw=body)
    assert status == 400, answer
    assert answer["error"] == "too_deep"
    assert "вложенный слишком глубоко (больше 64 уровней)" in answer["message"]
    await assert_nothing_stored(app, "deep")


async def test_data_nested_500_levels_is_400_with_the_depth_limit(make_config, start_app):
    app = await start_app(make_config())
    nested: Any = "bottom"
    for _ in range(500):
        nested = {"a": nested}
    status, answer = await app.post(None, raw=raw(booked("nest", data=nested)))
    assert status == 400, answer
    [problem] = answer["problems"]
    assert problem["path"].startswith("data.a.a.") and problem["code"] == "depth"
    assert "64" in problem["expected"]
    await assert_nothing_stored(app, "nest")


@pytest.mark.parametrize("where", ["data.n", "order.amount", "customer.telegram_id"])
async def test_integer_over_4300_digits_is_400(make_config, start_app, where):
    app = await start_app(make_config())
    event = booked("big")
    section, key = where.split(".")
    event.setdefault(section, {})[key] = "BIG"
    body = raw(event).replace(b'"BIG"', b"9" * 5000)
    status, answer = await app.post(None, raw=body)
    assert status == 400, answer
    assert paths(answer) == {where}
    assert answer["problems"][0]["code"] == "big_integer"
    assert len(answer["problems"][0]["value"]) <= 100


async def test_telegram_id_at_2_63_is_400_and_just_below_is_accepted(make_config, start_app):
    app = await start_app(make_config())
    status, answer = await app.post(booked("tg-big", customer={"id": "C-9", "telegram_id": 2**63}))
    assert status == 400, answer
    assert paths(answer) == {"customer.telegram_id"}
    assert answer["problems"][0]["value"] == str(2**63)
    status, answer = await app.post(
        booked("tg-ok", customer={"id": "C-9", "telegram_id": 2**63 - 1})
    )
    assert status == 202, answer


@pytest.mark.parametrize(
    "field,value",
    [
        ("order.planned_start", "9999-12-31T23:59:59-14:00"),
        ("order.planned_finish", "9999-12-31T23:59:59"),
        ("order.planned_start", "0001-01-02T00:00:00"),
        ("occurred_at", "0002-06-01T12:00:00+14:00"),
        ("occurred_at", "9999-12-31T23:59:59.999999-01:00"),
    ],
)
async def test_dates_that_overflow_are_400_naming_the_field(make_config, start_app, field, value):
    app = await start_app(make_config())
    await app.rules(CUSTOMER_EMAIL_RULE)
    event = booked("far")
    if "." in field:
        section, key = field.split(".")
        event[section][key] = value
    else:
        event[field] = value
    status, answer = await app.post(event)
    assert status == 400, answer
    assert paths(answer) == {field}
    [problem] = answer["problems"]
    assert problem["code"] == "date_range" and problem["value"] == value
    await assert_nothing_stored(app, "far")


SURROGATE_FIELDS = [
    "id",
    "type",
    "customer.id",
    "customer.name",
    "customer.phone",
    "customer.email",
    "customer.group",
    "customer.birthday",
    "customer.language",
    "customer.timezone",
    "manager.name",
    "manager.phone",
    "order.id",
    "order.number",
    "order.kind",
    "order.status",
    "order.territory",
    "order.organization",
    "order.warehouse",
    "order.currency",
    "order.url",
    "vehicle.make",
    "vehicle.model",
    "vehicle.plate",
    "vehicle.vin",
    "data.comment",
    "Склад",
]


def with_value(path: str, value: Any) -> dict[str, Any]:
    event = booked("bad-string")
    event["data"] = {}
    if "." in path:
        section, key = path.split(".")
        event.setdefault(section, {})[key] = value
    else:
        event[path] = value
    return event


@pytest.mark.parametrize("field", SURROGATE_FIELDS)
async def test_lone_surrogate_in_any_string_is_400(make_config, start_app, field):
    app = await start_app(make_config())
    status, answer = await app.post(None, raw=raw(with_value(field, "Иван\ud800")))
    assert status == 400, answer
    assert paths(answer) == {field}  # an unknown top-level field is named as sent
    assert answer["problems"][0]["code"] == "unicode"
    assert answer["problems"][0]["value"] == "Иван\\ud800"


async def test_lone_surrogate_in_a_key_is_400(make_config, start_app):
    app = await start_app(make_config())
    status, answer = await app.post(None, raw=raw(booked("key", data={"k\udc00": 1})))
    assert status == 400 and paths(answer) == {"data"}, answer


@pytest.mark.parametrize("field", ["customer.name", "order.number", "data.comment", "id"])
async def test_nul_in_a_string_is_400_on_both_backends(make_config, start_app, field):
    app = await start_app(make_config())
    status, answer = await app.post(None, raw=raw(with_value(field, "ЗН\u0000123")))
    assert status == 400, answer
    assert paths(answer) == {field}
    assert answer["problems"][0]["code"] == "no_nul"


GTE_RULE = """
[[rules]]
name = "big orders"
event = "order_booked"
recipients = ["customer"]
channels = ["email"]
filters = { "data.total" = { gte = 1000 }, "order.amount" = { gte = 1000 } }
"""


@pytest.mark.parametrize("text", ["NaN", "sNaN", "-Infinity", "nan"])
async def test_nan_strings_in_a_gte_field_are_accepted_and_do_not_match(
    make_config, start_app, text
):
    app = await start_app(make_config())
    await app.rules(GTE_RULE)
    status, answer = await app.post(booked(f"nan-{text}", data={"total": text}))
    assert status == 202, answer
    assert answer["planned"] == 0
    status, answer = await app.post(booked(f"num-{text}", data={"total": 5000}))
    assert status == 202 and answer["planned"] == 1


@pytest.mark.parametrize("text", ["NaN", "sNaN", "Infinity"])
async def test_nan_in_a_typed_amount_is_400(make_config, start_app, text):
    app = await start_app(make_config())
    await app.rules(GTE_RULE)
    event = booked("amount-nan")
    event["order"]["amount"] = text
    status, answer = await app.post(event)
    assert status == 400, answer
    assert paths(answer) == {"order.amount"}


@pytest.mark.parametrize("literal", [b"NaN", b"-Infinity", b"1e400"])
async def test_json_nan_literals_are_400(make_config, start_app, literal):
    app = await start_app(make_config())
    await app.rules(GTE_RULE)
    body = raw(booked("lit", data={"total": "X"})).replace(b'"X"', literal)
    status, answer = await app.post(None, raw=body)
    assert status == 400, answer
    assert paths(answer) == {"data.total"} and answer["problems"][0]["code"] == "json_number"


async def test_batch_with_one_hostile_event_is_refused_whole_with_its_index(make_config, start_app):
    app = await start_app(make_config())
    await app.rules(CUSTOMER_EMAIL_RULE)
    events = [
        booked(f"h-{i}", customer={"id": f"C-{i}", "email": f"c{i}@example.ru"}) for i in range(5)
    ]
    events[3]["order"]["planned_start"] = "9999-12-31T23:59:59-14:00"
    status, answer = await app.post({"events": events})
    assert status == 400, answer
    assert paths(answer) == {"events[3].order.planned_start"}
    await assert_nothing_stored(app, *(e["id"] for e in events))
