"""Shared setup of the conversation tests: a registered customer with an order, and helpers
to find what the fake Bot API received."""

from __future__ import annotations

from typing import Any

from tests.conftest import booked
from tests.fakes.telegram_api import FakeTelegram, Sent, contact

CUSTOMER = 1001  # Telegram chat of customer C-001 "Иван Петров", +7 916 123-45-67
STAFF_CHAT = -100777


async def register_customer(app: Any) -> None:
    """The ERP posts an order of C-001; the customer shares their phone in the bot."""
    status, _ = await app.running.post(booked("conv-1"))
    assert status == 202
    await app.send(contact(CUSTOMER, "+79161234567", user_id=CUSTOMER), CUSTOMER)


def copies(fake: FakeTelegram, chat_id: int) -> list[Sent]:
    return [s for s in fake.to(chat_id) if s.method == "copyMessage"]


def texts(fake: FakeTelegram, chat_id: int) -> list[Sent]:
    return [s for s in fake.to(chat_id) if s.method == "sendMessage"]
