"""The modem channel: PDU encoder against published PDUs, and the whole AT path against the
pty modem emulator in tests/fakes/modem.py (PIN, errors, timeouts, unplug, a pool of two)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.config import SmsConfig
from bot.core.sending import OutgoingMessage, PermanentError, Sender, TransientError
from senders.modem import ModemPool
from senders.modem.at import AtChannel, AtError
from senders.modem.pdu import encode_submit, relative_validity, smsc_field
from tests.fakes.modem import FakeModem, decode_submit

PHONE = "+79161234567"
LONG_RU = (
    "Здравствуйте! Ваш автомобиль готов, его можно забрать в любое время до 20:00. "
    "Сумма к оплате 12 500 руб. Спасибо, что выбрали наш автосервис! "
) * 2

# Known-answer PDUs, each checked with three independent decoders.
KNOWN_PDUS = [
    # (text, validity, length for AT+CMGS, PDU)
    ("Hello", timedelta(days=4), 19, "0011000B919761214365F70000AA05C8329BFD06"),
    ("Hello", timedelta(hours=24), 19, "0011000B919761214365F70000A705C8329BFD06"),
    ("Hello", None, 18, "0001000B919761214365F7000005C8329BFD06"),
    ("Привет", timedelta(days=4), 26, "0011000B919761214365F70008AA0C041F04400438043204350442"),
    ("Привет", None, 25, "0001000B919761214365F700080C041F04400438043204350442"),
    ("Cost: 5€ [ok]", None, 27, "0001000B919761214365F7000010C3F79CAE03D53665D086F75E6F7C"),
]


@pytest.mark.parametrize(("text", "validity", "length", "pdu"), KNOWN_PDUS)
def test_encoder_reproduces_the_worked_examples(
    text: str, validity: timedelta | None, length: int, pdu: str
) -> None:
    [encoded] = encode_submit(PHONE, text, validity=validity)
    assert encoded.hex == pdu
    assert encoded.tpdu_length == length


def test_encoder_concatenates_with_the_worked_udh() -> None:
    # docs/webhook.md: 170 GSM-7 characters, CSMS reference 0x42 -> 153 + 17 septets
    parts = encode_submit(PHONE, "A" * 170, reference=0x42, validity=None)
    assert [p.tpdu_length for p in parts] == [153, 34]
    assert parts[0].hex.startswith("0041000B919761214365F70000A0050003420201")
    assert parts[1].hex.startswith("0041000B919761214365F7000018050003420202")


def test_encoder_puts_a_configured_smsc_into_the_pdu() -> None:
    assert smsc_field("+79168999100").hex().upper() == "07919761989901F0"
    [pdu] = encode_submit(PHONE, "Hello", smsc="+79168999100", validity=None)
    assert pdu.hex == "07919761989901F0" + "01000B919761214365F7000005C8329BFD06"
    assert pdu.tpdu_length == 18  # the SMSC field is not counted


@pytest.mark.parametrize(
    ("period", "vp"),
    [
        (timedelta(minutes=5), 0),
        (timedelta(hours=12), 143),
        (timedelta(hours=24), 167),
        (timedelta(days=4), 170),
        (timedelta(days=30), 196),
        (timedelta(weeks=5), 197),
    ],
)
def test_relative_validity_period(period: timedelta, vp: int) -> None:
    assert relative_validity(period) == vp


@pytest.mark.parametrize(
    ("pdu", "number", "text"),
    [
        # python-gsmmodem's test vector and Lars Pettersson's, as published
        ("0001000B917228001011F100000CC8329BFD065DDF72363904", "+27820001111", "Hello World!"),
        ("0011000B916407281553F80000AA0AE8329BFD4697D9EC37", "+46708251358", "hellohello"),
        ("0001000B919761214365F7000010C3F79CAE03D53665D086F75E6F7C", PHONE, "Cost: 5€ [ok]"),
    ],
)
def test_the_emulator_decoder_reads_published_pdus(pdu: str, number: str, text: str) -> None:
    decoded = decode_submit(pdu)
    assert (decoded.number, decoded.text) == (number, text)


def test_the_emulator_decoder_reads_the_nokia_concatenated_part() -> None:
    # part 3/3 "QRSTUVWXYZ", reference 3: UDL 0x11 = 7 + 10 septets, UDH 050003030303
    # (Nokia developer forum)
    decoded = decode_submit("0041000B919761214365F7000011" + "050003030303" + "A2D229B56ABD62B35A")
    assert decoded.concat == (3, 3, 3)
    assert decoded.text == "QRSTUVWXYZ"


# --- through the emulator ----------------------------------------------------------------------
ModemFactory = Callable[..., FakeModem]


@pytest.fixture
async def make_fake(tmp_path: Path) -> AsyncIterator[ModemFactory]:
    fakes: list[FakeModem] = []

    def make(name: str = "gsm1", **knobs: Any) -> FakeModem:
        fake = FakeModem(tmp_path / f"tty-{name}", **knobs)
        fakes.append(fake)
        return fake

    yield make
    for fake in fakes:
        await fake.close()


@pytest.fixture
async def make_pool() -> AsyncIterator[Callable[..., Awaitable[ModemPool]]]:
    pools: list[ModemPool] = []

    async def make(*entries: dict[str, Any]) -> ModemPool:
        pool = ModemPool(SmsConfig.model_validate({"modems": list(entries)}))
        pools.append(pool)
        await pool.start()
        return pool

    yield make
    for pool in pools:
        await pool.close()


def entry(fake: FakeModem, name: str = "gsm1", **keys: Any) -> dict[str, Any]:
    return {"name": name, "port": str(fake.port), **keys}


def sms(text: str, address: str = PHONE, providers: list[str] | None = None) -> OutgoingMessage:
    return OutgoingMessage(
        row_id=1, channel="modem", address=address, text=text, providers=providers or []
    )


async def eventually(condition: Callable[[], bool], limit: float = 5.0) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), limit)


async def test_pool_is_a_sender_on_channel_modem(make_fake: ModemFactory, make_pool: Any) -> None:
    pool = await make_pool(entry(make_fake()))
    assert isinstance(pool, Sender)
    assert (pool.channel, pool.concurrency) == ("modem", 1)


async def test_sends_a_gsm_text_after_the_init_dialogue(
    make_fake: ModemFactory, make_pool: Any
) -> None:
    fake = make_fake()
    pool = await make_pool(entry(fake))
    result = await pool.send(sms("Vash avtomobil gotov. Zhdem vas!"))
    assert (result.provider, result.provider_message_id, result.segments) == ("gsm1", "0", 1)
    [submit] = fake.submits
    assert (submit.number, submit.toa) == (PHONE, 0x91)
    assert submit.text == "Vash avtomobil gotov. Zhdem vas!"
    assert (submit.dcs, submit.smsc, submit.concat, submit.srr) == (0x00, "", None, True)
    assert fake.log[:9] == [
        "AT",
        "ATE0",
        "AT+CMEE=1",
        "AT+CPIN?",
        "AT+CREG?",
        "AT+CSQ",
        "AT+CMGF=0",
        "AT+CSCA?",
        "AT+COPS?",
    ]
    assert fake.log[-1] == f"AT+CMGS={submit.tpdu_length}"
    state = pool.status()["gsm1"]
    assert state["state"] == "ready"
    assert (state["signal"], state["operator"], state["sent"]) == ("-77 dBm (CSQ 18)", "MegaFon", 1)


async def test_long_cyrillic_text_arrives_as_concatenated_parts(
    make_fake: ModemFactory, make_pool: Any
) -> None:
    fake = make_fake()
    pool = await make_pool(entry(fake))
    first = await pool.send(sms(LONG_RU))
    second = await pool.send(sms(LONG_RU[:100]))
    assert first.segments == 5 and second.segments == 2
    assert first.provider_message_id == "0,1,2,3,4"
    one, two = fake.messages
    assert (one.text, two.text) == (LONG_RU, LONG_RU[:100])
    for message in (one, two):
        assert [p.concat[2] for p in message.parts] == list(range(1, len(message.parts) + 1))
        assert {p.concat[1] for p in message.parts} == {len(message.parts)}
        assert len({p.concat[0] for p in message.parts}) == 1
        assert all(p.udhi and p.dcs == 0x08 and p.text_units <= 134 for p in message.parts)
    assert one.reference != two.reference


async def test_extension_characters_stay_gsm7(make_fake: ModemFactory, make_pool: Any) -> None:
    fake = make_fake()
    pool = await make_pool(entry(fake))
    text = "Order {A-17} [paid] 1500€ ~ok~ a|b \\ ^"
    await pool.send(sms(text))
    # an € straddling the 153-septet boundary must move to the next part whole
    boundary = "x" * 152 + "€" + "y" * 20
    result = await pool.send(sms(boundary))
    short, long = fake.messages
    assert short.text == text and short.parts[0].dcs == 0x00
    assert short.parts[0].udl == len(text) + 10  # ten extension characters, 2 septets each
    assert long.text == boundary and result.segments == 2
    assert [p.text_units for p in long.parts] == [152, 22]


@pytest.mark.parametrize("prompt", [b"\r\n> ", b"\r\n>\r\n"])
async def test_both_prompt_styles_and_unsolicited_lines(
    make_fake: ModemFactory, make_pool: Any, prompt: bytes
) -> None:
    fake = make_fake(prompt=prompt)
    fake.urc = "^RSSI:18"
    pool = await make_pool(entry(fake))
    result = await pool.send(sms("Hello"))
    assert result.provider_message_id == "0"
    assert [m.text for m in fake.messages] == ["Hello"]


async def test_sim_pin_is_given_once(make_fake: ModemFactory, make_pool: Any) -> None:
    fake = make_fake(pin="4321")
    pool = await make_pool(entry(fake, pin="4321"))
    await pool.send(sms("Hello"))
    assert fake.log.count('AT+CPIN="4321"') == 1
    assert fake.log.index('AT+CPIN="4321"') < fake.log.index("AT+CMGF=0")
    assert [m.text for m in fake.messages] == ["Hello"]


async def test_wrong_pin_stops_with_a_clear_error(make_fake: ModemFactory, make_pool: Any) -> None:
    fake = make_fake(pin="4321")
    pool = await make_pool(entry(fake, pin="0000"))
    state = pool.status()["gsm1"]
    assert state["state"] == "failed"
    assert "rejected the PIN" in state["last_error"] and "+CME ERROR: 16" in state["last_error"]
    with pytest.raises(TransientError, match="rejected the PIN"):
        await pool.send(sms("Hello"))
    await asyncio.sleep(0.6)  # longer than the first reconnect backoffs: no second PIN try
    assert sum(line.startswith("AT+CPIN=") for line in fake.log) == 1
    assert fake.pin_attempts == 2


async def test_missing_pin_says_where_to_set_it(make_fake: ModemFactory, make_pool: Any) -> None:
    fake = make_fake(pin="4321")
    pool = await make_pool(entry(fake))
    assert "set pin" in pool.status()["gsm1"]["last_error"]
    assert not any(line.startswith("AT+CPIN=") for line in fake.log)


@pytest.mark.parametrize(
    ("code", "error", "meaning"),
    [
        (1, PermanentError, "unassigned (unallocated) number"),
        (21, PermanentError, "short message transfer rejected"),
        (304, PermanentError, "invalid PDU mode parameter"),
        (42, TransientError, "congestion"),
        (332, TransientError, "network timeout"),
        (500, TransientError, "unknown error"),
    ],
)
async def test_cms_errors_are_classified(
    make_fake: ModemFactory, make_pool: Any, code: int, error: type[Exception], meaning: str
) -> None:
    fake = make_fake()
    pool = await make_pool(entry(fake))
    fake.cms_errors.append(code)
    with pytest.raises(error) as raised:
        await pool.send(sms("Hello"))
    assert type(raised.value) is error
    assert f"+CMS ERROR: {code} ({meaning})" in str(raised.value)
    assert raised.value.provider == "gsm1"
    # the modem is still usable afterwards
    assert (await pool.send(sms("Again"))).provider == "gsm1"


async def test_a_modem_that_lost_its_sim_state_is_reinitialised(
    make_fake: ModemFactory, make_pool: Any
) -> None:
    fake = make_fake(pin="4321")
    pool = await make_pool(entry(fake, pin="4321"))
    fake.sim_ready = False  # e.g. the modem rebooted by itself: +CMS ERROR: 311 on AT+CMGS
    with pytest.raises(TransientError, match=r"\+CMS ERROR: 311 \(SIM PIN required\)"):
        await pool.send(sms("Hello"))
    await eventually(lambda: fake.log.count('AT+CPIN="4321"') == 2)
    await asyncio.wait_for(pool.modems["gsm1"].wait_ready(), 5)
    assert (await pool.send(sms("Hello again"))).provider == "gsm1"
    assert [m.text for m in fake.messages] == ["Hello again"]


async def test_a_slow_modem_hits_the_send_timeout(make_fake: ModemFactory, make_pool: Any) -> None:
    fake = make_fake(cmgs_delay=0.6)
    pool = await make_pool(entry(fake, send_timeout=0.2))
    with pytest.raises(TransientError, match="may have been sent"):
        await pool.send(sms("Slow one"))
    fake.cmgs_delay = 0
    result = await pool.send(sms("Fast one"))
    assert result.provider == "gsm1"
    await eventually(lambda: len(fake.messages) == 2)  # the slow one did go out, late
    assert sorted(m.text for m in fake.messages) == ["Fast one", "Slow one"]
    # a late answer to the timed-out send is not mistaken for a later command's answer
    assert (await pool.send(sms("Third"))).provider_message_id == "2"


async def test_unplugged_mid_send_raises_transient_and_reconnects(
    make_fake: ModemFactory, make_pool: Any
) -> None:
    fake = make_fake(pin="4321")
    pool = await make_pool(entry(fake, pin="4321"))
    fake.vanish_on_submit = True
    with pytest.raises(TransientError, match="disappeared"):
        await pool.send(sms("Lost in the cable"))
    await eventually(lambda: pool.status()["gsm1"]["state"] == "reconnecting")
    with pytest.raises(TransientError, match="no modem ready"):
        await pool.send(sms("While unplugged"))
    fake.plug()
    await asyncio.wait_for(pool.modems["gsm1"].wait_ready(), 5)
    result = await pool.send(sms("Back again"))
    assert result.provider == "gsm1"
    assert [m.text for m in fake.messages] == ["Back again"]
    assert fake.log.count('AT+CPIN="4321"') == 2  # the full init ran again
    assert pool.status()["gsm1"]["reconnects"] == 1


async def test_a_modem_missing_at_start_is_retried_in_background(
    tmp_path: Path, make_fake: ModemFactory, make_pool: Any
) -> None:
    port = tmp_path / "tty-gsm1"
    pool = await make_pool({"name": "gsm1", "port": str(port)})
    state = pool.status()["gsm1"]
    assert state["state"] == "reconnecting" and "cannot open" in state["last_error"]
    fake = make_fake("gsm1")
    await asyncio.wait_for(pool.modems["gsm1"].wait_ready(), 5)
    await pool.send(sms("Hello"))
    assert [m.text for m in fake.messages] == ["Hello"]


async def test_two_modems_send_concurrently(make_fake: ModemFactory, make_pool: Any) -> None:
    one, two = make_fake("gsm1"), make_fake("gsm2")
    hold = asyncio.Event()
    one.hold = two.hold = hold
    pool = await make_pool(entry(one, "gsm1"), entry(two, "gsm2"))
    assert pool.concurrency == 2
    sends = [asyncio.create_task(pool.send(sms(f"message {n}"))) for n in range(3)]
    # both modems hold a submit at the same time; the third message waits for a free modem
    await eventually(lambda: one.pending == 1 and two.pending == 1)
    assert not any(task.done() for task in sends)
    hold.set()
    results = await asyncio.gather(*sends)
    assert sorted(r.provider or "" for r in results[:2]) == ["gsm1", "gsm2"]
    assert len(one.messages) + len(two.messages) == 3


async def test_a_named_modem_is_used(make_fake: ModemFactory, make_pool: Any) -> None:
    one, two = make_fake("gsm1"), make_fake("gsm2")
    pool = await make_pool(entry(one, "gsm1"), entry(two, "gsm2"))
    result = await pool.send(sms("Via the second", providers=["gsm2"]))
    assert result.provider == "gsm2"
    assert (len(one.messages), len(two.messages)) == (0, 1)
    with pytest.raises(PermanentError, match="no modem named"):
        await pool.send(sms("Nowhere", providers=["gsm9"]))


async def test_a_bad_number_is_permanent(make_fake: ModemFactory, make_pool: Any) -> None:
    pool = await make_pool(entry(make_fake()))
    with pytest.raises(PermanentError, match="not a phone number"):
        await pool.send(sms("Hello", address="+7 916 CALL-ME"))


# --- the AT parser on its own ------------------------------------------------------------------
class _Wire:
    """The write side of a serial stream, recording what the client sent."""

    def __init__(self) -> None:
        self.sent = bytearray()

    def write(self, data: bytes) -> None:
        self.sent += data

    def close(self) -> None:
        return None


async def _channel(*answers: bytes) -> tuple[AtChannel, _Wire]:
    reader = asyncio.StreamReader()
    for answer in answers:
        reader.feed_data(answer)
    wire = _Wire()
    return AtChannel(reader, wire, "test"), wire  # type: ignore[arg-type]


async def test_a_stale_ok_is_not_the_answer_to_a_query() -> None:
    at, wire = await _channel(b"\r\nOK\r\n", b"^RSSI:18\r\n\r\n+CSQ: 18,99\r\n\r\nOK\r\n")
    assert await at.command("AT+CSQ", 1, prefix="+CSQ:") == ["18,99"]
    assert wire.sent == b"AT+CSQ\r"
    await at.close()


async def test_a_stale_ok_is_not_the_answer_to_a_submit() -> None:
    at, wire = await _channel(b"\r\nOK\r\n\r\n> ", b"\r\nOK\r\n\r\n+CMGS: 7\r\n\r\nOK\r\n")
    assert await at.submit_pdu(18, "00AB", 1, 1) == 7
    assert wire.sent == b"AT+CMGS=18\r00AB\x1a"
    await at.close()


async def test_echo_and_textual_errors_are_understood() -> None:
    at, _ = await _channel(b"AT+CMGS=18\r\r\n+CMS ERROR: SMSC address unknown\r\n")
    with pytest.raises(AtError) as raised:
        await at.submit_pdu(18, "00AB", 1, 1)
    assert (raised.value.kind, raised.value.code, raised.value.text) == (
        "CMS",
        None,
        "SMSC address unknown",
    )
    await at.close()
