"""SMS answers through the pty modem emulator: a multipart UCS-2 SMS announced by +CMTI
reaches staff and leaves the SIM, a stop word unsubscribes, a staff reply goes back by SMS;
and the SMS-DELIVER decoder on its own."""

# ruff: noqa: F811  (pytest fixtures imported by name)
from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from senders.modem.inbound import PARTS_WAIT, assemble, parse_listing
from senders.modem.pdu_decode import decode_deliver
from tests.conftest import booked
from tests.conversation_fixtures import texts
from tests.fakes.modem import FakeModem
from tests.fakes.modem_sim import deliver_pdus
from tests.fakes.telegram_api import message
from tests.telegram_fixtures import (  # noqa: F401
    ADMIN_ID,
    bot_app,
    fake_telegram,
    telegram_config,
)

PHONE = "+79161234567"  # customer C-001 of booked()
LONG = "Добрый день! Можно перенести запись на пятницу после обеда? " * 3


async def eventually(condition, limit: float = 30.0) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), limit)


async def answer_of(app, update, chat_id: int):
    """Push ``update`` and wait for the bot's (one) answer in ``chat_id``."""
    before = len(app.fake.to(chat_id))
    await app.fake.push(update)
    found = await app.fake.wait_sent(chat_id=chat_id, count=before + 1, timeout=30)
    return found[before]


@pytest.fixture
async def modem_app(bot_app, smtp, tmp_path):
    fake = FakeModem(tmp_path / "tty-gsm1")
    app = await bot_app(
        sms={"modems": [{"name": "gsm1", "port": str(fake.port)}]},
        conversations={"sms_sweep_seconds": 1},
    )
    status, _ = await app.running.post(booked("sms-1"))
    assert status == 202
    await eventually(lambda: fake.sim.indications)
    yield app, fake
    await fake.close()


async def test_multipart_sms_reaches_staff_and_a_reply_goes_back_by_sms(modem_app):
    app, fake = modem_app
    indexes = fake.sim.receive(PHONE, LONG)
    assert len(indexes) == 3
    [sms] = await app.fake.wait_sent(lambda s: s.text == LONG, chat_id=ADMIN_ID, timeout=30)
    assert sms.parse_mode is None  # a customer's text is never parsed as HTML
    header = texts(app.fake, ADMIN_ID)[-2]
    assert "SMS от +7 916 123-45-67" in header.text and "Иван Петров" in header.text
    assert "ЗН-000123" in header.text and sms.reply_to == header.message_id
    await eventually(lambda: not fake.sim.stored)
    assert sorted(fake.sim.deleted) == sorted(indexes)
    reply = message(
        ADMIN_ID,
        "Да, в пятницу в 15:00 ждём",
        reply_to_message=app.fake.messages[(ADMIN_ID, sms.message_id)],
    )
    confirmation = await answer_of(app, reply, ADMIN_ID)
    assert confirmation.text == "✓ Отправлено по SMS (1 SMS, модем gsm1)"
    [sent] = fake.messages
    assert (sent.number, sent.text) == (PHONE, "Да, в пятницу в 15:00 ждём")
    [row] = await app.running.journal(event_type="conversation_reply")
    assert (row.channel, row.status, row.segments, row.provider) == ("modem", "sent", 1, "gsm1")
    async with app.storage.reader() as tx:
        history = list(reversed(await tx.list_conversation(customer_key="C-001")))
    assert [(m.direction, m.channel, m.status) for m in history] == [
        ("in", "sms", "delivered"),
        ("out", "sms", "delivered"),
    ]


async def test_a_reply_with_media_cannot_go_by_sms(modem_app):
    app, fake = modem_app
    fake.sim.receive(PHONE, "Фото пришлёте?")
    [sms] = await app.fake.wait_sent(
        lambda s: "Фото пришлёте?" in s.text, chat_id=ADMIN_ID, timeout=30
    )
    photo = [{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}]
    reply = message(
        ADMIN_ID, None, photo=photo, reply_to_message=app.fake.messages[(ADMIN_ID, sms.message_id)]
    )
    answer = await answer_of(app, reply, ADMIN_ID)
    assert answer.text == "✗ Не доставлено: по SMS можно отправить только текст"
    assert fake.messages == []


@pytest.mark.parametrize("word", ["STOP", "стоп", " Отписаться "])
async def test_a_stop_word_adds_stop_entries_and_is_journaled(modem_app, word):
    app, fake = modem_app
    fake.sim.receive(PHONE, word)
    await eventually(lambda: not fake.sim.stored)
    async with app.storage.reader() as tx:
        stops = await tx.list_stops()
    assert sorted((s.who, s.who_kind, s.event_type, s.channel, s.reason) for s in stops) == [
        (PHONE, "phone", "*", "modem", "SMS STOP"),
        (PHONE, "phone", "*", "sms", "SMS STOP"),
    ]
    [row] = await app.running.journal(event_type="sms_stop")
    assert (row.status, row.address, row.reason) == ("stopped", PHONE, "SMS STOP")
    assert not [s for s in texts(app.fake, ADMIN_ID) if "SMS" in s.text]


async def test_stored_sms_are_found_by_the_sweep_without_an_indication(modem_app):
    app, fake = modem_app
    fake.sim.receive("+79035550011", "Hello, is my car ready?", announce=False)
    await app.fake.wait_sent(
        lambda s: "Hello, is my car ready?" in s.text, chat_id=ADMIN_ID, timeout=30
    )
    assert "номер не найден среди клиентов" in texts(app.fake, ADMIN_ID)[-2].text
    await eventually(lambda: not fake.sim.stored)


# the decoder and the assembly on their own -------------------------------------------------------
def test_decoder_reads_a_published_gsm7_deliver() -> None:
    part = decode_deliver(
        "07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07"
    )
    assert (part.sender, part.text, part.concat) == ("+31641600986", "How are you?", None)
    assert part.sent_at is not None and part.sent_at.year == 2002


def test_decoder_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        decode_deliver("07911326")
    with pytest.raises(ValueError):
        decode_deliver("zz")


def test_parts_are_reassembled_and_a_lost_part_is_delivered_late() -> None:
    pdus = deliver_pdus(
        PHONE, LONG, smsc="+79168999100", reference=9, moment=datetime(2026, 12, 1, 9, 0, 0)
    )
    lines = []
    for index, pdu in enumerate(pdus):
        lines += [f"+CMGL: {index},0,,{len(pdu) // 2 - 8}", pdu]
    stored, broken = parse_listing(lines + ["+CMGL: 9,0,,3", "ZZ"])
    assert broken == [9]
    [(whole, indexes)] = assemble(stored, {}, 0.0, "gsm1")
    assert whole.text == LONG and indexes == [0, 1, 2] and whole.parts == 3
    first_seen: dict = {}
    assert assemble(stored[:2], first_seen, 0.0, "gsm1") == []  # waits for part 3
    [(late, _)] = assemble(stored[:2], first_seen, PARTS_WAIT + 1, "gsm1")
    assert late.text.endswith("[…]") and late.parts == 2


async def test_an_sms_arriving_during_a_send_does_not_disturb_it(modem_app):
    from bot.core.sending import OutgoingMessage
    from bot.keys import SENDERS

    app, fake = modem_app
    fake.cmgs_delay = 0.3
    pool = app.app[SENDERS]["modem"]
    outgoing = OutgoingMessage(
        row_id=1, channel="modem", address="+79035550022", text="Ваш автомобиль готов"
    )
    send = asyncio.create_task(pool.send(outgoing))
    await eventually(lambda: fake.pending)  # the submit is in flight
    fake.sim.receive(PHONE, "Спасибо, заеду")  # +CMTI arrives in the middle of it
    result = await send
    assert result.segments == 1 and [m.text for m in fake.messages] == ["Ваш автомобиль готов"]
    await app.fake.wait_sent(lambda s: s.text == "Спасибо, заеду", chat_id=ADMIN_ID, timeout=30)
    await eventually(lambda: not fake.sim.stored)
