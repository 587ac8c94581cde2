"""The contract documents (event JSON Schema, OpenAPI) and the samples, against the running app."""

from __future__ import annotations

import json

import jsonschema
import pytest
from openapi_spec_validator import validate as validate_openapi

from bot.core.catalog import CATALOG
from bot.keys import CONFIG
from tests.conftest import CUSTOMER_EMAIL_RULE
from tests.erp_fixtures import samples, vestnik

TOKENS = {"tokens": ["tok-erp-0123456789abcdef"]}
AUTH = {"Authorization": "Bearer tok-erp-0123456789abcdef"}


async def get_json(app, path: str) -> tuple[int, str, object]:
    async with app.session.get(app.url + path) as answer:  # no credentials on purpose
        return answer.status, answer.content_type, json.loads(await answer.text())


def checker(schema: dict) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


async def test_served_event_schema_is_valid_2020_12_without_authentication(make_config, start_app):
    app = await start_app(make_config(webhook=TOKENS))
    status, content_type, schema = await get_json(app, "/schema/event.json")
    assert status == 200 and content_type == "application/schema+json"
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    assert {"id", "type", "occurred_at", "customer", "order", "items"} <= set(schema["properties"])
    assert schema["required"] == ["id", "type"]


async def test_served_openapi_is_valid_3_1_and_names_every_answer(make_config, start_app):
    app = await start_app(make_config(webhook={**TOKENS, "max_batch": 250}))
    status, _, document = await get_json(app, "/openapi.json")
    assert status == 200
    validate_openapi(document)
    assert document["openapi"].startswith("3.1")
    webhook = document["paths"]["/events"]["post"]
    assert set(webhook["responses"]) == {"202", "400", "401", "413", "415", "503"}
    forms = webhook["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
    assert [f["$ref"].rsplit("/", 1)[1] for f in forms] == ["Event", "Batch"]
    batch = document["components"]["schemas"]["Batch"]
    assert batch["properties"]["events"]["maxItems"] == 250  # the config's limit
    assert {"/healthz", "/journal", "/journal/{id}", "/journal/{id}/resend"} <= set(
        document["paths"]
    )


async def test_cli_schema_prints_the_served_documents(make_config, start_app, tmp_path):
    config = make_config()
    app = await start_app(config)
    config_path = tmp_path / "schema.toml"
    config_path.write_text(f'[service]\ndatabase = "{config.service.database}"\n', encoding="utf-8")
    for flag, path in ((), "/schema/event.json"), (("--openapi",), "/openapi.json"):
        code, out, err = await vestnik("schema", *flag, "--config", str(config_path))
        assert code == 0, err
        _, _, served = await get_json(app, path)
        assert json.loads(out) == served


def test_samples_cover_every_type_the_erp_posts():
    posted = {name for name, t in CATALOG.items() if t.kind != "derived"}
    assert set(samples()) == posted
    assert {"customer_updated", "staff_updated", "order_cancelled", "invoice_issued"} <= posted


async def test_every_sample_is_schema_valid_and_accepted(make_config, start_app):
    app = await start_app(make_config(webhook=TOKENS))
    _, _, schema = await get_json(app, "/schema/event.json")
    validator = checker(schema)
    for name, body in samples().items():
        errors = [e.message for e in validator.iter_errors(body)]
        assert not errors, f"{name}: {errors}"
        assert body["type"] == name
        status, answer = await app.post(body, headers=AUTH)
        assert (status, answer["accepted"]) == (202, [body["id"]]), (name, answer)


async def test_a_schema_valid_batch_is_accepted_and_planned(make_config, start_app):
    app = await start_app(make_config())
    await app.rules(CUSTOMER_EMAIL_RULE)
    _, _, document = await get_json(app, "/openapi.json")
    body = {"events": list(samples().values())}
    components = {"$defs": document["components"]["schemas"]}
    text = json.dumps(components).replace("#/components/schemas/", "#/$defs/")
    batch_schema = {**json.loads(text), "$ref": "#/$defs/Batch"}
    assert not list(checker(batch_schema).iter_errors(body))
    status, answer = await app.post(body)
    assert status == 202 and len(answer["accepted"]) == len(body["events"])
    assert answer["planned"] == 1  # the booking sample, e-mailed to its customer


@pytest.mark.parametrize(
    "broken",
    [
        {"type": "order_booked"},  # no id
        {"id": "x", "type": "Order Booked"},
        {"id": "x", "type": "order_booked", "occurred_at": "вчера"},
        {"id": "x", "type": "order_booked", "customer": {"birthday": "17.03.1984"}},
        {"id": "x", "type": "order_booked", "order": {"amount": "много"}},
    ],
)
async def test_what_the_schema_rejects_the_webhook_rejects(make_config, start_app, broken):
    app = await start_app(make_config())
    _, _, schema = await get_json(app, "/schema/event.json")
    assert list(checker(schema).iter_errors(broken))
    status, answer = await app.post(broken)
    assert status == 400 and answer["problems"]


async def test_webhook_path_in_openapi_follows_the_config(make_config, start_app):
    app = await start_app(make_config(webhook={"path": "/erp/hook"}))
    _, _, document = await get_json(app, "/openapi.json")
    assert app.app[CONFIG].webhook.path in document["paths"]
    assert "/events" not in document["paths"]
