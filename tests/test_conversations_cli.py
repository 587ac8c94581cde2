"""``vestnik conversations``: everyone's latest messages, one customer's time line with their
notifications, ``--json``, and an unknown customer; the storage's claim on (chat, message)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

from bot.cli import main as cli
from storage.models import ConversationMessage, JournalRow, Person
from storage.open import open_storage

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def message(n: int, direction: str, text: str, **extra) -> ConversationMessage:
    return ConversationMessage(
        direction=direction,
        channel="telegram",
        customer_key="C-001",
        source_chat_id=1001 if direction == "in" else 500,
        source_message=str(n),
        status="delivered",
        created_at=T0 + timedelta(minutes=n),
        customer_id="C-001",
        customer_chat_id=1001,
        text=text,
        **extra,
    )


async def fill(url: str) -> list[int | None]:
    storage = open_storage(url)
    await storage.open()
    try:

        async def job(tx):
            await tx.upsert_person(
                Person(kind="customer", id="C-001", name="Иван Петров", phone="+79161234567")
            )
            await tx.insert_journal(
                [
                    JournalRow(
                        event_id="e1",
                        event_type="order_booked",
                        rule="r",
                        recipient_role="customer",
                        recipient_id="C-001",
                        channel="sms",
                        status="sent",
                        created_at=T0,
                        due_at=T0,
                        sent_at=T0 + timedelta(minutes=2, seconds=30),
                        address="+79161234567",
                    )
                ]
            )
            claims = [
                await tx.claim_conversation_message(message(1, "in", "Можно в 11?")),
                await tx.claim_conversation_message(
                    message(3, "out", "Да", staff_user_id=500, staff_name="Ольга")
                ),
                await tx.claim_conversation_message(message(1, "in", "повтор")),
            ]
            return claims

        return await storage.write(job)
    finally:
        await storage.close()


def test_conversations_cli(tmp_path, capsys, database_url):
    config = tmp_path / "config.toml"
    config.write_text(f'[service]\ndatabase = "{database_url}"\n')
    claims = asyncio.run(fill(database_url))
    assert claims[0] and claims[1] and claims[2] is None  # (chat, message) is claimed once
    assert cli(["conversations", "--config", str(config)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "-> telegram" in out[0] and "Ольга" in out[0] and "Да" in out[0]
    assert "<- telegram" in out[1] and "Можно в 11?" in out[1]
    assert (
        cli(["conversations", "--customer", "8 916 123 45 67", "--json", "--config", str(config)])
        == 0
    )
    timeline = json.loads(capsys.readouterr().out)
    assert [(e["entry"], e.get("text") or e.get("event_type")) for e in timeline] == [
        ("message", "Можно в 11?"),
        ("notification", "order_booked"),
        ("message", "Да"),
    ]
    assert timeline[2]["staff_name"] == "Ольга" and timeline[2]["direction"] == "out"
    assert (
        cli(["conversations", "--customer", "C-001", "--no-notifications", "--config", str(config)])
        == 0
    )
    assert len(capsys.readouterr().out.splitlines()) == 2
    assert cli(["conversations", "--customer", "+79990000000", "--config", str(config)]) == 1
    assert "not found" in capsys.readouterr().err
