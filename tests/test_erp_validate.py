"""``vestnik validate``: offline, with the intake's own validation and the 400 body's words."""

from __future__ import annotations

import json

from tests.erp_fixtures import SAMPLES, cli_config, samples, vestnik


def bad_batch() -> dict:
    good = samples()["order_booked"]
    bad = {**good, "id": "bad-1", "type": "Order Booked", "customer": {"telegram_id": "не число"}}
    return {"events": [good, bad]}


async def test_valid_files_exit_0(tmp_path):
    config = cli_config(tmp_path, f"sqlite:///{tmp_path}/cli.db")
    batch = tmp_path / "batch.json"
    batch.write_text(
        json.dumps({"events": list(samples().values())}, ensure_ascii=False), encoding="utf-8"
    )
    code, out, err = await vestnik(
        "validate", str(SAMPLES / "order_booked.json"), str(batch), "--config", config
    )
    assert code == 0, out + err
    assert f"{batch}: без ошибок, событий: {len(samples())}" in out


async def test_problems_are_the_400_bodys_words_with_paths(make_config, start_app, tmp_path):
    app = await start_app(make_config())
    status, answer = await app.post(bad_batch())
    assert status == 400
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad_batch(), ensure_ascii=False), encoding="utf-8")
    code, out, err = await vestnik(
        "validate", str(path), "--config", cli_config(tmp_path, f"sqlite:///{tmp_path}/cli.db")
    )
    assert code == 2, out + err
    lines = out.strip().splitlines()
    assert len(lines) == len(answer["problems"])
    for problem in answer["problems"]:
        assert any(
            line.startswith(f"{path}: {problem['path']}: {problem['message']}") for line in lines
        ), (problem, lines)
    code, out, _ = await vestnik(
        "validate",
        str(path),
        "--json",
        "--config",
        cli_config(tmp_path, f"sqlite:///{tmp_path}/cli.db"),
    )
    assert code == 2 and json.loads(out)[0]["problems"] == answer["problems"]


async def test_json_lines_name_the_line(tmp_path):
    booked = samples()["order_booked"]
    lines = [
        json.dumps(booked, ensure_ascii=False),
        "",
        json.dumps({"id": "l-2", "type": "order_booked", "occurred_at": "вчера"}),
        "{not json",
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, _ = await vestnik(
        "validate", str(path), "--config", cli_config(tmp_path, f"sqlite:///{tmp_path}/cli.db")
    )
    assert code == 2
    assert f"{path}:1: без ошибок, событий: 1" in out
    assert f"{path}:3: occurred_at: " in out
    assert f"{path}:4: (body): Тело запроса — не JSON" in out


async def test_not_json_gets_the_webhooks_message(make_config, start_app, tmp_path):
    app = await start_app(make_config())
    status, answer = await app.post(None, raw=b'{"id": ')
    assert status == 400
    path = tmp_path / "broken.json"
    path.write_bytes(b'{"id": ')
    code, out, _ = await vestnik(
        "validate", str(path), "--config", cli_config(tmp_path, f"sqlite:///{tmp_path}/cli.db")
    )
    assert code == 2
    assert out.strip() == f"{path}: (body): {answer['message']}"


async def test_a_bom_is_tolerated_like_the_webhook_does(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + (SAMPLES / "payment_received.json").read_bytes())
    code, out, _ = await vestnik(
        "validate", str(path), "--config", cli_config(tmp_path, f"sqlite:///{tmp_path}/cli.db")
    )
    assert code == 0, out


async def test_a_missing_file_exits_2(tmp_path):
    code, out, _ = await vestnik(
        "validate",
        str(tmp_path / "nope.json"),
        "--config",
        cli_config(tmp_path, f"sqlite:///{tmp_path}/cli.db"),
    )
    assert code == 2 and "файл не прочитать" in out


async def test_english_when_the_service_speaks_english(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad_batch()), encoding="utf-8")
    config = cli_config(tmp_path, f"sqlite:///{tmp_path}/cli.db")
    text = (
        open(config, encoding="utf-8").read().replace("[service]\n", '[service]\nlanguage = "en"\n')
    )
    open(config, "w", encoding="utf-8").write(text)
    code, out, _ = await vestnik("validate", str(SAMPLES / "shipped.json"), "--config", config)
    assert code == 0 and "valid, 1 event(s)" in out
