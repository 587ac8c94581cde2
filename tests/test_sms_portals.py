"""SMS portals (docs/architecture.md): every adapter against its protocol fake through one shared table of
cases, then the channel's failover chain, down-marking, pool reuse, balances, send-test and
credential hygiene."""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import tomllib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import aiohttp
import pytest

from bot.core.config import SmsConfig, SmsPortal
from bot.core.sending import OutgoingMessage, PermanentError, SendError, SendResult, TransientError
from senders.sms import SmsSender, build_portal, portal_problems, send_test
from senders.sms.portal import AccountError
from tests.fakes.sms_portals import BAD_PHONE, CREDENTIALS, PHONE, SENDER, SmsPortalsServer

DOC = Path(__file__).resolve().parent.parent / "docs" / "sms-http-portal.md"
TEXT = "Запись подтверждена: 27.11 в 09:00, Lada Vesta & «Север» +100% ok?"
SECRET_KEYS = ("api_id", "password", "api_key")

ADAPTERS = [
    "smsru",
    "smsc",
    "smsaero",
    "devino",
    "prostor",
    "sms16",
    "mirsms",
    "smsportal",
    "textportal",
]
# how each portal wants the number (from the portal's published API)
PHONE_AS_SENT = {name: PHONE.lstrip("+") for name in ADAPTERS} | {"smsc": PHONE, "prostor": PHONE}

SENT, ACCOUNT, RECIPIENT, TRANSIENT = "sent", "account", "recipient", "transient"


@dataclass
class Case:
    outcome: str
    entry: dict[str, Any]  # overrides of the portal entry
    phone: str = PHONE
    sender: str = SENDER
    balance: float | None = None
    outage: int | None = None
    delay: float = 0.0
    garbage: bool = False


def wrong_credentials(fake: str) -> dict[str, Any]:
    return {key: "wrong-" + value for key, value in CREDENTIALS[fake].items() if key in SECRET_KEYS}


CASES: dict[str, Callable[[str], Case]] = {
    "accepted": lambda fake: Case(SENT, {}),
    "bad auth": lambda fake: Case(ACCOUNT, wrong_credentials(fake)),
    "no money": lambda fake: Case(ACCOUNT, {}, balance=0),
    "bad phone": lambda fake: Case(RECIPIENT, {}, phone=BAD_PHONE),
    "bad sender": lambda fake: Case(ACCOUNT, {}, sender="NotApproved"),
    "server error": lambda fake: Case(TRANSIENT, {}, outage=503),
    "timeout": lambda fake: Case(TRANSIENT, {"timeout": 0.5}, delay=3),
    "garbage": lambda fake: Case(TRANSIENT, {}, garbage=True),
}

# the portal's own words each refusal must carry
WORDS: dict[str, dict[str, str]] = {
    "smsru": {
        "bad auth": "Неправильный api_id",
        "no money": "Не хватает средств",
        "bad phone": "Неправильно указан номер",
        "bad sender": "не согласовано",
    },
    "smsc": {
        "bad auth": "authorise error",
        "no money": "no money",
        "bad phone": "invalid phone",
        "bad sender": "message is denied",
    },
    "smsaero": {
        "bad auth": "Unauthorized",
        "no money": "Недостаточно средств",
        "bad phone": "Неверный номер",
        "bad sender": "Подпись не одобрена",
    },
    "devino": {
        "bad auth": "Invalid API key",
        "no money": "Insufficient funds",
        "bad phone": "Invalid destination address",
        "bad sender": "Source address is not allowed",
    },
    "prostor": {
        "bad auth": "error authorization",
        "no money": "not enough balance",
        "bad phone": "invalid mobile phone",
        "bad sender": "sender address invalid",
    },
    "sms16": {
        "bad auth": "error 6",
        "no money": "error 32",
        "bad phone": "error 33",
        "bad sender": "error 9",
    },
    "mirsms": {
        "bad auth": "error 6",
        "no money": "error 32",
        "bad phone": "error 33",
        "bad sender": "error 9",
    },
    "smsportal": {
        "bad auth": "Неверный логин или пароль",
        "no money": "Недостаточно средств",
        "bad phone": "Некорректный номер",
        "bad sender": "не зарегистрировано",
    },
    "textportal": {
        "bad auth": "Invalid user or key",
        "no money": "Insufficient funds",
        "bad phone": "Invalid phone number",
        "bad sender": "Sender name not allowed",
    },
}
COMMON_WORDS = {
    "server error": "HTTP 503",
    "timeout": "no answer within 0.5 s",
    "garbage": "Gateway error",
}


def secret_forms(entry: dict[str, Any]) -> list[str]:
    """Every way a credential of ``entry`` could leak: plain, URL-encoded, inside Basic."""
    values = [str(entry[key]) for key in SECRET_KEYS if entry.get(key)]
    for user_key, secret_key in (("login", "password"), ("email", "api_key")):
        if entry.get(user_key) and entry.get(secret_key):
            pair = f"{entry[user_key]}:{entry[secret_key]}"
            values.append(base64.b64encode(pair.encode()).decode())
    return [form for value in values for form in {value, quote(value, safe=""), quote_plus(value)}]


class FakeClock:
    def __init__(self) -> None:
        self.moment = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


class FakeModemPool:
    """Stands in for senders.modem's pool: the chain only needs the Sender protocol."""

    channel = "modem"
    concurrency = 1

    def __init__(self) -> None:
        self.messages: list[OutgoingMessage] = []

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def refresh(self) -> None:
        return None

    async def send(self, message: OutgoingMessage) -> SendResult:
        self.messages.append(message)
        return SendResult(provider="modem-1", provider_message_id="42", segments=1)

    def status(self) -> dict[str, Any]:
        return {}


@pytest.fixture
async def portals() -> AsyncIterator[SmsPortalsServer]:
    async with SmsPortalsServer() as server:
        yield server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_sender(
    portals: SmsPortalsServer, session: aiohttp.ClientSession, clock: FakeClock
) -> Callable[..., SmsSender]:
    def build(*entries: dict[str, Any], modem_pool: Any = None) -> SmsSender:
        config = SmsConfig.model_validate({"portals": list(entries)})
        return SmsSender(config, session, modem_pool=modem_pool, clock=clock)

    return build


def sms(*providers: str, address: str = PHONE, sender_name: str | None = None) -> OutgoingMessage:
    return OutgoingMessage(
        row_id=1,
        channel="sms",
        address=address,
        text=TEXT,
        providers=list(providers),
        sender_name=sender_name,
    )


# -- every adapter, every case -----------------------------------------------------------------


@pytest.mark.parametrize("case_name", list(CASES))
@pytest.mark.parametrize("fake_name", ADAPTERS)
async def test_every_adapter_classifies_every_answer(
    portals: SmsPortalsServer, session: aiohttp.ClientSession, fake_name: str, case_name: str
) -> None:
    case = CASES[case_name](fake_name)
    fake = portals.fakes[fake_name]
    entry = portals.entry(fake_name, **case.entry)
    fake.balance = fake.balance if case.balance is None else case.balance
    fake.outage, fake.delay, fake.garbage = case.outage, case.delay, case.garbage
    portal = build_portal(SmsPortal.model_validate(entry), session)

    try:
        receipt = await portal.send(case.phone, TEXT, case.sender)
    except SendError as exc:
        outcome = (
            TRANSIENT
            if isinstance(exc, TransientError)
            else ACCOUNT
            if isinstance(exc, AccountError)
            else RECIPIENT
        )
        assert outcome == case.outcome, f"{fake_name}/{case_name}: {exc!r}"
        words = WORDS[fake_name].get(case_name) or COMMON_WORDS[case_name]
        assert words in str(exc)
        assert exc.provider == fake_name
        for leak in secret_forms(entry) + secret_forms(portals.entry(fake_name)):
            assert leak not in str(exc), f"{fake_name}/{case_name} leaks a credential: {exc}"
        assert not fake.sent
        return

    assert case.outcome == SENT, f"{fake_name}/{case_name} was accepted: {receipt}"
    [record] = fake.sent
    assert receipt.message_id == record.message_id
    assert (record.phone, record.text, record.sender) == (PHONE_AS_SENT[fake_name], TEXT, SENDER)
    if fake_name in ("sms16", "mirsms"):
        assert fake.signatures == [True]


# -- the chain -----------------------------------------------------------------------------------


async def test_failover_from_a_failing_portal_to_the_next(
    portals: SmsPortalsServer, make_sender: Callable[..., SmsSender]
) -> None:
    sender = make_sender(portals.entry("smsru"), portals.entry("smsc"))
    portals.fakes["smsru"].outage = 503

    result = await sender.send(sms("smsru", "smsc"))

    assert result.provider == "smsc"
    assert result.provider_message_id == portals.fakes["smsc"].sent[0].message_id
    assert result.hops is not None and result.hops.startswith("smsru: HTTP 503")
    assert sender.status()["portals"]["smsru"]["last_error"].startswith("HTTP 503")
    assert sender.status()["portals"]["smsc"]["balance"] == "500.00 RUB"  # from the send answer


async def test_an_account_refusal_moves_on_and_a_recipient_refusal_stops_the_chain(
    portals: SmsPortalsServer, make_sender: Callable[..., SmsSender]
) -> None:
    sender = make_sender(portals.entry("smsru"), portals.entry("devino"))
    portals.fakes["smsru"].balance = 0

    result = await sender.send(sms("smsru", "devino"))
    assert result.provider == "devino"
    assert "smsru: 201 Не хватает средств" in (result.hops or "")

    portals.fakes["smsru"].balance = 500
    with pytest.raises(PermanentError) as refused:
        await sender.send(sms("smsru", "devino", address=BAD_PHONE))
    assert "smsru: 202 Неправильно указан номер" in str(refused.value)
    assert refused.value.provider == "smsru"
    assert len(portals.fakes["devino"].sent) == 1  # only the first message


async def test_total_failure_names_every_hop_and_the_last_provider(
    portals: SmsPortalsServer, make_sender: Callable[..., SmsSender]
) -> None:
    sender = make_sender(portals.entry("smsru"), portals.entry("smsc"), portals.entry("sms16"))
    portals.fakes["smsru"].outage = 502
    portals.fakes["smsc"].balance = 0
    portals.fakes["sms16"].garbage = True

    with pytest.raises(TransientError) as failed:
        await sender.send(sms("smsru", "smsc", "sms16"))

    hops = str(failed.value).split("; ")
    assert [hop.split(":")[0] for hop in hops] == ["smsru", "smsc", "sms16"]
    assert "HTTP 502" in hops[0] and "no money" in hops[1] and "unexpected answer" in hops[2]
    assert failed.value.provider == "sms16"
    assert failed.value.counts_as_attempt


async def test_account_refusals_everywhere_fail_permanently(
    portals: SmsPortalsServer, make_sender: Callable[..., SmsSender]
) -> None:
    sender = make_sender(portals.entry("smsru"), portals.entry("prostor"))
    portals.fakes["smsru"].balance = portals.fakes["prostor"].balance = 0

    with pytest.raises(PermanentError) as failed:
        await sender.send(sms("smsru", "prostor"))

    assert "smsru: 201" in str(failed.value)
    assert "prostor: not enough balance" in str(failed.value)


async def test_a_portal_is_marked_down_after_n_failures_and_probed_after_cooldown(
    portals: SmsPortalsServer, make_sender: Callable[..., SmsSender], clock: FakeClock
) -> None:
    sender = make_sender(portals.entry("smsru", down_after=2, cooldown="5m"), portals.entry("smsc"))
    smsru = portals.fakes["smsru"]
    smsru.outage = 503

    for _ in range(2):
        assert (await sender.send(sms("smsru", "smsc"))).provider == "smsc"
    assert sender.status()["portals"]["smsru"]["state"] == "down"
    assert smsru.requests == 2

    clock.advance(minutes=4)  # within the cooldown: smsru is not asked at all
    result = await sender.send(sms("smsru", "smsc"))
    assert result.provider == "smsc" and "smsru: down after 2 failures" in (result.hops or "")
    assert smsru.requests == 2

    clock.advance(minutes=1, seconds=1)  # cooldown over, still broken: one probe, down again
    assert (await sender.send(sms("smsru", "smsc"))).provider == "smsc"
    assert smsru.requests == 3
    assert sender.status()["portals"]["smsru"]["state"] == "down"
    await sender.send(sms("smsru", "smsc"))
    assert smsru.requests == 3  # a failed probe starts a new cooldown

    smsru.outage = None
    clock.advance(minutes=5, seconds=1)
    result = await sender.send(sms("smsru", "smsc"))
    assert (result.provider, result.hops) == ("smsru", None)
    state = sender.status()["portals"]["smsru"]
    assert (state["state"], state["consecutive_failures"]) == ("up", 0)


async def test_a_chain_of_down_portals_waits_for_the_probe_without_spending_an_attempt(
    portals: SmsPortalsServer, make_sender: Callable[..., SmsSender], clock: FakeClock
) -> None:
    sender = make_sender(portals.entry("smsru", down_after=1, cooldown="10m"))
    portals.fakes["smsru"].outage = 500
    with pytest.raises(TransientError) as first:
        await sender.send(sms())
    assert first.value.counts_as_attempt

    clock.advance(minutes=3)
    with pytest.raises(TransientError) as skipped:
        await sender.send(sms())
    assert not skipped.value.counts_as_attempt
    assert skipped.value.retry_after == pytest.approx(7 * 60)
    assert "smsru: down after 1 failures (last: HTTP 500" in str(skipped.value)
    assert portals.fakes["smsru"].requests == 1


async def test_the_modem_takes_over_when_named_in_the_chain(
    portals: SmsPortalsServer, make_sender: Callable[..., SmsSender]
) -> None:
    modem = FakeModemPool()
    sender = make_sender(portals.entry("smsru", timeout=0.5), modem_pool=modem)
    portals.fakes["smsru"].delay = 3

    result = await sender.send(sms("smsru", "modem"))

    assert (result.provider, result.provider_message_id) == ("modem-1", "42")
    assert result.hops == "smsru: no answer within 0.5 s"
    assert modem.messages[0].address == PHONE and modem.messages[0].providers == []


async def test_no_providers_means_the_first_portal_and_sender_name_overrides(
    portals: SmsPortalsServer, make_sender: Callable[..., SmsSender]
) -> None:
    sender = make_sender(portals.entry("devino"), portals.entry("smsru"))
    portals.fakes["devino"].senders.add("Servis")

    result = await sender.send(sms(sender_name="Servis"))

    assert result.provider == "devino"
    assert portals.fakes["devino"].sent[0].sender == "Servis"
    assert not portals.fakes["smsru"].requests


async def test_an_address_that_is_not_e164_is_refused_before_any_portal(
    portals: SmsPortalsServer, make_sender: Callable[..., SmsSender]
) -> None:
    sender = make_sender(portals.entry("smsru"))
    with pytest.raises(PermanentError, match="E.164"):
        await sender.send(sms(address="8 916 123-45-67"))
    assert portals.fakes["smsru"].requests == 0


# -- the http portal -----------------------------------------------------------------------------


async def test_http_portal_with_json_path_posts_its_templates(
    portals: SmsPortalsServer, make_sender: Callable[..., SmsSender]
) -> None:
    sender = make_sender(portals.entry("smsportal", name="smsportal.pro"))

    result = await sender.send(sms())

    [record] = portals.fakes["smsportal"].sent
    assert (result.provider, result.provider_message_id) == ("smsportal.pro", record.message_id)
    assert record.message_id.startswith("SP-")
    assert (record.phone, record.text) == ("79161234567", TEXT)


async def test_http_portal_with_regexes_reads_a_text_answer(
    portals: SmsPortalsServer, make_sender: Callable[..., SmsSender]
) -> None:
    sender = make_sender(portals.entry("textportal"))

    result = await sender.send(sms())
    assert result.provider_message_id == portals.fakes["textportal"].sent[0].message_id

    with pytest.raises(PermanentError) as refused:
        await sender.send(sms(address=BAD_PHONE))
    assert str(refused.value) == "textportal: Invalid phone number"
    assert not isinstance(refused.value, AccountError)


async def test_the_documented_http_examples_work(
    portals: SmsPortalsServer, make_sender: Callable[..., SmsSender]
) -> None:
    blocks = re.findall(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    toml = (
        "\n".join(blocks)
        .replace("https://api.smsportal.example", portals.url + "/smsportal/api")
        .replace("https://gate.textportal.example", portals.url + "/textportal")
    )
    entries = tomllib.loads(toml)["sms"]["portals"]
    assert [e["name"] for e in entries] == ["smsportal", "textportal"]
    for entry in entries:
        entry.update(CREDENTIALS[entry["name"]])  # the fakes' instead of "change-me"
    sender = make_sender(*entries)

    for entry in entries:
        result = await sender.send(sms(entry["name"]))
        assert result.provider_message_id == portals.fakes[entry["name"]].sent[-1].message_id
    assert await sender.refresh_balances() == {"smsportal": "500.00", "textportal": "500.00"}


def test_http_portal_config_problems_are_named() -> None:
    config = SmsConfig.model_validate(
        {
            "portals": [
                {
                    "name": "x",
                    "kind": "http",
                    "url": "https://example.invalid/send",
                    "success_json_path": "status",
                    "sucess_value": "ok",
                },
                {
                    "name": "w",
                    "kind": "http",
                    "url": "https://example.invalid/send",
                    "success_json_path": "status",
                },
                {"name": "y", "kind": "smsc", "login": "only-login"},
                {"name": "z", "kind": "smsru", "api_id": "k", "url": "https://x"},
            ]
        }
    )
    problems = dict(portal_problems(config))
    assert "sucess_value" in problems["sms.portals[0]"]
    assert "success_json_path needs success_value" in problems["sms.portals[1]"]
    assert "set login + password or api_key" in problems["sms.portals[2]"]
    assert "unknown keys url" in problems["sms.portals[3]"]


# -- balances, send-test, pool, logs ------------------------------------------------------------


async def test_every_portal_with_a_balance_call_reports_it(
    portals: SmsPortalsServer, make_sender: Callable[..., SmsSender]
) -> None:
    sender = make_sender(*(portals.entry(name) for name in ADAPTERS))

    balances = await sender.refresh_balances()

    assert set(balances) == set(ADAPTERS)
    for name, balance in balances.items():
        assert balance is not None and balance.startswith("500"), (name, balance)
        assert sender.status()["portals"][name]["balance"] == balance


async def test_a_failed_balance_call_keeps_the_last_balance_and_reports_why(
    portals: SmsPortalsServer, make_sender: Callable[..., SmsSender]
) -> None:
    sender = make_sender(portals.entry("smsaero"))
    await sender.refresh_balances()
    portals.fakes["smsaero"].outage = 503

    assert await sender.refresh_balances() == {"smsaero": "500.0 RUB"}
    assert sender.status()["portals"]["smsaero"]["last_error"].startswith("balance: HTTP 503")


async def test_send_test_returns_the_portals_raw_answer(
    portals: SmsPortalsServer, make_sender: Callable[..., SmsSender]
) -> None:
    sender = make_sender(portals.entry("smsru"), portals.entry("smsc"))

    result = await send_test(sender, PHONE, "smsc", "Проверка")

    [record] = portals.fakes["smsc"].sent
    assert record.text == "Проверка"
    assert result.provider == "smsc" and result.segments == 1
    assert result.detail is not None and f'"id": {record.message_id}' in result.detail
    assert (await sender.send(sms("smsc"))).detail is None  # only send-test keeps it


async def test_many_sends_reuse_a_few_connections(
    portals: SmsPortalsServer, make_sender: Callable[..., SmsSender]
) -> None:
    sender = make_sender(portals.entry("smsru", max_connections=4))
    gate = asyncio.Semaphore(16)

    async def one() -> None:
        async with gate:
            await sender.send(sms())

    await asyncio.gather(*(one() for _ in range(200)))

    fake = portals.fakes["smsru"]
    assert len(fake.sent) == 200
    assert 1 <= len(fake.peers) <= 4, f"{len(fake.peers)} TCP connections for 200 sends"


async def test_credentials_are_never_logged(
    portals: SmsPortalsServer,
    make_sender: Callable[..., SmsSender],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    entries = [portals.entry(name) for name in ADAPTERS]
    sender = make_sender(*entries)
    for name in ADAPTERS:
        await sender.send(sms(name))
        portals.fakes[name].garbage = True
        with pytest.raises(SendError):
            await sender.send(sms(name))
        portals.fakes[name].garbage = False
    await sender.refresh_balances()
    wrong = make_sender(*(portals.entry(n, **wrong_credentials(n)) for n in ADAPTERS))
    for name in ADAPTERS:
        with pytest.raises(SendError):
            await wrong.send(sms(name))

    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert sum(r.name == "vestnik.sms" for r in caplog.records) >= 3 * len(ADAPTERS)
    leaks = [form for entry in entries for form in secret_forms(entry) if form in logged]
    leaks += [
        form
        for name in ADAPTERS
        for form in secret_forms(portals.entry(name, **wrong_credentials(name)))
        if form in logged
    ]
    assert not leaks
