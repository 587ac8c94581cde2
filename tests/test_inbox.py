"""The staff inbox keeps one message per journal row: a send the dispatcher repeats after a
crash (stored, then the process died before recording it) does not show it twice."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.core.sending import OutgoingMessage
from bot.core.timeutil import SystemClock
from bot.pipeline.inbox import StorageInbox
from senders.internal import InternalSender
from storage.base import Storage
from storage.open import open_storage


@pytest.fixture
async def storage(database_url: str) -> AsyncIterator[Storage]:
    opened = open_storage(database_url)
    await opened.open()
    yield opened
    await opened.close()


def message(row_id: int, text: str) -> OutgoingMessage:
    return OutgoingMessage(
        row_id=row_id,
        channel="internal",
        address="S-7",
        text=text,
        subject="",
        recipient_id="S-7",
        recipient_role="manager",
    )


async def test_a_repeated_send_of_one_row_is_stored_once(storage: Storage):
    sender = InternalSender(StorageInbox(storage, SystemClock()))

    first = await sender.send(message(41, "Заказ-наряд ЗН-1 ждёт запчасти"))
    again = await sender.send(message(41, "Заказ-наряд ЗН-1 ждёт запчасти"))
    other = await sender.send(message(42, "Оплата по ЗН-1 получена"))

    assert first.provider_message_id == again.provider_message_id != other.provider_message_id
    async with storage.reader() as tx:
        items = await tx.list_inbox("S-7", limit=10)
    assert sorted(item.text for item in items) == [
        "Заказ-наряд ЗН-1 ждёт запчасти",
        "Оплата по ЗН-1 получена",
    ]


async def test_messages_without_a_journal_row_are_all_kept(storage: Storage):
    sender = InternalSender(StorageInbox(storage, SystemClock()))

    await sender.send(message(0, "проверка"))  # /test: no journal row
    await sender.send(message(0, "проверка"))

    async with storage.reader() as tx:
        assert len(await tx.list_inbox("S-7", limit=10)) == 2
