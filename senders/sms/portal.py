"""What every SMS portal adapter shares: one HTTP call under the portal's timeout and
connection cap, credential scrubbing, and the three things a failed answer can mean.

An adapter (``senders/sms/smsru.py`` and its siblings) only knows its portal's protocol: how to
ask, and how to read the answer at both levels (the request, then the one recipient). It maps
the portal's codes to a :class:`Fault` with a table and raises through :meth:`Portal.fail`,
keeping the portal's own words. The chain in ``senders/sms/__init__.py`` decides what a fault
means for failover.

Credentials travel in query strings, form bodies and headers, so nothing here ever puts a URL,
a request body or an aiohttp exception text into a message or a log line without passing it
through :meth:`Portal.scrub` first, and never a URL with its query at all.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar
from urllib.parse import quote, quote_plus

import aiohttp
from pydantic import SecretStr

from bot.core.config import SmsPortal
from bot.core.sending import (
    Delivery,
    DeliveryReport,
    PermanentError,
    SendError,
    TransientError,
)

log = logging.getLogger("vestnik.sms")

EXCERPT_CHARS = 300  # of an answer quoted in an error message
ANSWER_CHARS = 2000  # of an answer kept for ``send-test``


class Fault(StrEnum):
    """What a portal's refusal is about, which decides what the chain does next."""

    RECIPIENT = "recipient"  # the number or the text: no portal will take it; the chain stops
    ACCOUNT = "account"  # this account (credentials, money, sender name): the next portal may
    TRANSIENT = "transient"  # try the next portal now, and this one again later


class AccountError(PermanentError):
    """Permanent for this portal account (bad credentials, no money, sender name not approved,
    portal misconfigured); another portal in the chain may still deliver the message."""


def fault_error(fault: Fault, words: str, provider: str) -> SendError:
    if fault is Fault.RECIPIENT:
        return PermanentError(words, provider=provider)
    if fault is Fault.ACCOUNT:
        return AccountError(words, provider=provider)
    return TransientError(words, provider=provider)


@dataclass(slots=True)
class Receipt:
    """A portal accepted the message."""

    message_id: str | None
    answer: str  # the portal's answer, credentials removed, for ``send-test``
    segments: int | None = None  # when the portal says how many it billed
    balance: str | None = None  # when the send answer carries the new balance


@dataclass(slots=True)
class CallbackRequest:
    """A portal's status callback as the HTTP layer received it."""

    form: list[tuple[str, str]]  # query and form fields in order; repeated keys repeat
    json: Any = None  # the parsed body when it was JSON
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def first(self, *names: str) -> str | None:
        """The first value of any of ``names``, from the form or a JSON object."""
        for name in names:
            for key, value in self.form:
                if key == name:
                    return value
            if isinstance(self.json, dict) and self.json.get(name) is not None:
                return str(self.json[name])
        return None


@dataclass(slots=True)
class CallbackReading:
    """What a callback said, and what the portal expects back."""

    reports: list[DeliveryReport]
    answer: str = "OK"


class CallbackRefused(ValueError):
    """The callback is not in the portal's format (or its signature is wrong)."""


def unix_time(value: object) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(str(value).strip()), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def report(
    message_id: object,
    state: Delivery,
    words: str,
    *,
    at: datetime | None = None,
    phone: str | None = None,
) -> DeliveryReport:
    return DeliveryReport(str(message_id), state, " ".join(words.split()), at=at, phone=phone)


@dataclass(slots=True)
class Answer:
    """One HTTP answer with its body already scrubbed of credentials."""

    status: int
    text: str

    @property
    def excerpt(self) -> str:
        return excerpt(self.text)


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def digits(e164: str) -> str:
    """``+79161234567`` -> ``79161234567``, the format most portals want (from the portal's published API)."""
    return e164.lstrip("+")


def secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value is not None else ""


def basic_auth(user: str, password: str) -> dict[str, str]:
    """The HTTP Basic ``Authorization`` header."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


class Portal(ABC):
    """One configured portal account. Subclasses set the class attributes and implement
    :meth:`send` (and :meth:`balance` where the portal has a balance call)."""

    kind: ClassVar[str]
    default_base_url: ClassVar[str]
    # alternative sets of config keys, one of which must be filled in (docs/architecture.md table)
    credentials: ClassVar[tuple[tuple[str, ...], ...]] = ()
    has_balance: bool = False  # the portal has a balance call
    has_status: bool = False  # the portal has a status call the receipt poller may use
    has_callback: bool = False  # the portal posts status callbacks to /receipts/<name>/...
    callback_url: str | None = None  # set by the service when receipts.public_url is set

    def __init__(self, config: SmsPortal, session: aiohttp.ClientSession) -> None:
        self.config = config
        self.name = config.name
        self.session = session
        self.base_url = (config.base_url or self.default_base_url).rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=config.timeout)
        self.slots = asyncio.Semaphore(config.max_connections)
        problem = self.credential_problem(config)
        if problem:
            raise ValueError(f"sms portal {config.name!r} ({config.kind}): {problem}")
        self._secrets = self._secret_forms()

    @classmethod
    def credential_problem(cls, config: SmsPortal) -> str | None:
        """Why the entry's credentials do not fit its kind, or ``None``."""
        if not cls.credentials:
            return None
        for keys in cls.credentials:
            if all(_filled(getattr(config, key, None)) for key in keys):
                return None
        wanted = " or ".join(" + ".join(keys) for keys in cls.credentials)
        return f"set {wanted}"

    def _secret_forms(self) -> list[str]:
        c = self.config
        values = [secret(c.api_id), secret(c.password), secret(c.api_key)]
        for user, password in ((c.login, secret(c.password)), (c.email, secret(c.api_key))):
            if user and password:  # what an HTTP Basic header carries
                values.append(base64.b64encode(f"{user}:{password}".encode()).decode())
        forms: set[str] = set()
        for value in values:
            if len(value) >= 3:  # too short to scrub without mangling the portal's words
                forms.update({value, quote(value, safe=""), quote_plus(value)})
        return sorted(forms, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        """``text`` with every credential value (plain, URL-encoded, Basic) replaced."""
        for value in self._secrets:
            text = text.replace(value, "***")
        return text

    def fail(self, fault: Fault, words: str) -> SendError:
        return fault_error(fault, self.scrub(words), self.name)

    def unexpected(self, answer: Answer) -> SendError:
        """An answer the protocol does not allow: a 4xx page (wrong URL, proxy refusing) is
        about the setup; anything else (a maintenance page on 200) may pass."""
        fault = Fault.ACCOUNT if 400 <= answer.status < 500 else Fault.TRANSIENT
        return self.fail(fault, f"unexpected answer (HTTP {answer.status}): {answer.excerpt}")

    def json_of(self, answer: Answer) -> Any:
        try:
            return json.loads(answer.text)
        except ValueError:
            raise self.unexpected(answer) from None

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
        url: str | None = None,
    ) -> Answer:
        """One call to the portal. Timeouts, refused connections, 5xx and 429 raise
        :class:`TransientError`; every other answer is returned for the adapter to read."""
        target = url or self.base_url + path
        shown = self.scrub(target.split("?", 1)[0])  # never the query: credentials
        async with self.slots:
            try:
                async with self.session.request(
                    method,
                    target,
                    params=params,
                    data=data,
                    json=json_body,
                    headers=headers,
                    timeout=self.timeout,
                ) as response:
                    body = await response.text(errors="replace")
                    status = response.status
            except TimeoutError:
                raise TransientError(
                    f"no answer within {self.config.timeout:g} s", provider=self.name
                ) from None
            except aiohttp.ClientConnectorError as exc:
                reason = exc.os_error.strerror or type(exc.os_error).__name__
                raise TransientError(
                    self.scrub(f"cannot connect to {exc.host}:{exc.port}: {reason}"),
                    provider=self.name,
                ) from None
            except aiohttp.InvalidURL:  # its str() is the URL
                raise AccountError(f"invalid URL {shown!r}", provider=self.name) from None
            except aiohttp.ClientResponseError as exc:  # its str() holds the URL
                raise TransientError(
                    self.scrub(f"HTTP {exc.status}: {exc.message}"), provider=self.name
                ) from None
            except aiohttp.ClientError as exc:
                raise TransientError(
                    self.scrub(f"connection failed: {type(exc).__name__}"), provider=self.name
                ) from None
        answer = Answer(status, self.scrub(body))
        log.debug(
            "%s: %s %s -> HTTP %s: %s", self.name, method, shown, status, excerpt(answer.text, 200)
        )
        if status >= 500 or status == 429:
            raise TransientError(f"HTTP {status}: {answer.excerpt}", provider=self.name)
        return answer

    @abstractmethod
    async def send(self, phone: str, text: str, sender: str) -> Receipt:
        """Send ``text`` to ``phone`` (E.164 with ``+``) as ``sender`` (may be empty)."""

    async def balance(self) -> str | None:
        """The account balance as the portal states it (``"250.80 RUB"``), or ``None`` when the
        portal has no balance call."""
        return None

    async def statuses(self, messages: Sequence[tuple[str, str]]) -> list[DeliveryReport]:
        """Ask the portal about ``(message id, E.164 phone)`` pairs; ids it does not know
        are left out. Failures raise :class:`SendError` like a send."""
        return []

    def read_callback(self, request: CallbackRequest) -> CallbackReading:
        """The reports of one status callback; :class:`CallbackRefused` when it is not in the
        portal's format."""
        raise CallbackRefused(f"{self.kind} has no status callbacks")


def _filled(value: object) -> bool:
    if isinstance(value, SecretStr):
        return bool(value.get_secret_value())
    return bool(value)
