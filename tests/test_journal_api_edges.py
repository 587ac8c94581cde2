"""The journal API validates every parameter: a 400 naming it and why, never a 500 and never
a way around the 1000-row cap (both backends)."""

from __future__ import annotations

import pytest

from tests.conftest import CUSTOMER_EMAIL_RULE, booked


async def get(app, path: str, **headers: str):
    async with app.session.get(app.url + path, headers=headers) as response:
        return response.status, await response.json(content_type=None)


async def post(app, path: str):
    async with app.session.post(app.url + path) as response:
        return response.status, await response.json(content_type=None)


@pytest.fixture
async def app_with_rows(make_config, start_app):
    app = await start_app(make_config())
    await app.rules(CUSTOMER_EMAIL_RULE)
    status, _ = await app.post({"events": [booked(f"j-{i}") for i in range(3)]})
    assert status == 202
    return app


@pytest.mark.parametrize(
    "query,parameter",
    [
        ("limit=-1", "limit"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=abc", "limit"),
        ("limit=99999999999999999999", "limit"),
        ("limit=1.5", "limit"),
        ("status=bogus", "status"),
        ("channel=smss", "channel"),
        ("before_id=-5", "before_id"),
        ("before_id=99999999999999999999", "before_id"),
        ("colour=red", "colour"),
    ],
)
async def test_bad_query_parameters_are_400_with_the_reason(app_with_rows, query, parameter):
    status, body = await get(app_with_rows, f"/journal?{query}")
    assert status == 400, body
    assert body["parameter"] == parameter
    assert parameter in body["message"]


async def test_status_bogus_says_what_is_allowed_in_english_when_asked(app_with_rows):
    status, body = await get(app_with_rows, "/journal?status=bogus", **{"Accept-Language": "en"})
    assert status == 400
    assert body["message"].startswith("status must be one of scheduled, pending")
    status, body = await get(app_with_rows, "/journal?status=bogus")
    assert "один из" in body["message"]


async def test_good_parameters_still_work(app_with_rows):
    status, rows = await get(app_with_rows, "/journal?limit=2&status=pending&channel=email")
    assert status == 200 and len(rows) <= 2
    status, rows = await get(app_with_rows, "/journal?limit=1000")
    assert status == 200 and len(rows) == 3


@pytest.mark.parametrize("row", ["99999999999999999999", "0", "abc", "-1", "9223372036854775808"])
async def test_bad_row_ids_are_400(app_with_rows, row):
    status, body = await get(app_with_rows, f"/journal/{row}")
    assert status == 400, body
    assert body["parameter"] == "id"
    status, body = await post(app_with_rows, f"/journal/{row}/resend")
    assert status == 400, body
    assert body["parameter"] == "id"


async def test_largest_row_id_is_a_404_not_a_500(app_with_rows):
    status, body = await get(app_with_rows, "/journal/9223372036854775807")
    assert status == 404
    status, body = await post(app_with_rows, "/journal/9223372036854775807/resend")
    assert status == 404
