"""Local stand-ins for the SMS portals, speaking each one's real protocol (as the
portals publish it): paths, parameters, authentication, and the JSON or text answers, errors
included. One aiohttp server on 127.0.0.1 hosts them all under a prefix per portal.

Each fake decides like the real portal from what it receives: wrong credentials -> its
auth error, ``BAD_PHONE`` -> its bad-number error, a sender name it has not approved -> its
sender error, ``balance <= 0`` -> its no-money error. Failures that are not in the request are
switched on per fake: ``outage`` (an HTTP status for every request), ``delay`` (seconds before
answering, to outlast a client timeout) and ``garbage`` (a proxy error page on HTTP 200 that
echoes the request — query, body, Authorization — so a test can see credentials are scrubbed).

Every accepted SMS is recorded decoded (phone, text, sender); the Intis fakes record whether
each request's MD5 signature verified; every request's client address is kept, so the number
of distinct TCP connections can be counted on the server side.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import web

from tests.fakes.sms_receipts import ReceiptsFake

SENDER = "Sever"  # the sender name every fake has approved
BAD_PHONE = "+70000000000"  # every fake calls this number invalid
PHONE = "+79161234567"

# per fake: the credentials it accepts (the values are what tests look for in logs/errors)
CREDENTIALS: dict[str, dict[str, str]] = {
    "smsru": {"api_id": "A7C1E3F0-smsru-api-id"},
    "smsc": {"login": "sever", "password": "smsc pa$$&word"},
    "smsaero": {"email": "ops@sever.example", "api_key": "aero-KEY-0f9e8d7c"},
    "devino": {"api_key": "devino-KEY-55aa66bb"},
    "prostor": {"login": "sever", "password": "prostor-PW-3141"},
    "sms16": {"login": "sever16", "api_key": "sms16-KEY-5150"},
    "mirsms": {"login": "severmir", "api_key": "mirsms-KEY-4242"},
    "smsportal": {"login": "sever", "password": "smsportal-PW-2718"},
    "textportal": {"login": "sever", "api_key": "textportal-KEY-1618"},
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Sent:
    phone: str
    text: str
    sender: str
    message_id: str
    callback_url: str | None = None  # SMS Aero and Devino: given with the send
    state: str = "trying"  # trying | delivered | undelivered, set by the test


# how each portal words the three states, in its status call and its callback
STATES: dict[str, dict[str, Any]] = {
    "smsru": {"trying": 102, "delivered": 103, "undelivered": 104},
    "smsc": {"trying": 0, "delivered": 1, "undelivered": 20},
    "smsaero": {"trying": 3, "delivered": 1, "undelivered": 2},
    "devino": {"trying": "ENROUTE", "delivered": "DELIVERED", "undelivered": "UNDELIVERED"},
    "prostor": {"trying": "smsc submit", "delivered": "delivered", "undelivered": "delivery error"},
    "sms16": {"delivered": "deliver", "undelivered": "not_deliver"},
    "mirsms": {"delivered": "deliver", "undelivered": "not_deliver"},
}


@dataclass
class PortalFake:
    """State and record of one fake portal."""

    name: str
    credentials: dict[str, str]
    balance: float = 500.0
    outage: int | None = None
    delay: float = 0.0
    garbage: bool = False
    senders: set[str] = field(default_factory=lambda: {SENDER})
    sent: list[Sent] = field(default_factory=list)
    requests: int = 0
    signatures: list[bool] = field(default_factory=list)  # Intis: did each verify
    peers: set[Any] = field(default_factory=set)  # client (host, port) per TCP connection
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1001))

    callback_url: str | None = None  # sms.ru and smsc.ru: the URL set in the cabinet
    status_requests: int = 0

    def accept(
        self, phone: str, text: str, sender: str, prefix: str = "", callback_url: str | None = None
    ) -> str:
        message_id = f"{prefix}{next(self._ids)}"
        self.sent.append(Sent(phone, text, sender, message_id, callback_url))
        return message_id

    def find(self, message_id: str) -> Sent | None:
        return next((item for item in self.sent if item.message_id == message_id), None)

    def word(self, item: Sent) -> Any:
        return STATES[self.name].get(item.state)

    def reset(self) -> None:
        self.balance, self.outage, self.delay, self.garbage = 500.0, None, 0.0, False
        self.senders = {SENDER}
        self.sent.clear()
        self.signatures.clear()
        self.peers.clear()
        self.requests = self.status_requests = 0
        self.callback_url = None


def phone_ok(number: str) -> bool:
    plain = number.removeprefix("+")
    return plain.isdigit() and 10 <= len(plain) <= 15 and not plain.startswith("700")


def basic(request: web.Request) -> tuple[str, str] | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(token, validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user, password


async def form_and_query(request: web.Request) -> dict[str, str]:
    params = dict(request.query)
    if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
        params.update({k: str(v) for k, v in (await request.post()).items()})
    return params


class SmsPortalsServer(ReceiptsFake):
    """``async with SmsPortalsServer() as portals:`` then ``portals.entry("smsru")`` is an
    ``[[sms.portals]]`` entry (a dict) pointing at the fake."""

    def __init__(self) -> None:
        self.fakes = {name: PortalFake(name, dict(creds)) for name, creds in CREDENTIALS.items()}
        self.peers: set[Any] = set()
        self.url = ""
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        app = web.Application(middlewares=[self._middleware])
        r = app.router
        r.add_route("*", "/smsru/sms/send", self.smsru_send)
        r.add_route("*", "/smsru/my/balance", self.smsru_balance)
        r.add_route("*", "/smsru/sms/status", self.smsru_status)
        r.add_route("*", "/smsc/sys/status.php", self.smsc_status)
        r.add_post("/smsaero/v2/sms/status", self.smsaero_status)
        r.add_get("/prostor/messages/v2/status/", self.prostor_status)
        r.add_route("*", "/smsc/sys/send.php", self.smsc_send)
        r.add_route("*", "/smsc/sys/balance.php", self.smsc_balance)
        r.add_post("/smsaero/v2/sms/send", self.smsaero_send)
        r.add_route("*", "/smsaero/v2/balance", self.smsaero_balance)
        r.add_post("/devino/sms/messages", self.devino_send)
        r.add_get("/devino/billing-api/companies/current/account", self.devino_balance)
        r.add_post("/prostor/messages/v2/send.json", self.prostor_send)
        r.add_get("/prostor/messages/v2/balance/", self.prostor_balance)
        for name, root in (("sms16", "/sms16/get"), ("mirsms", "/mirsms/external/get")):
            r.add_get(f"{root}/timestamp.php", self.intis_timestamp)
            r.add_get(f"{root}/send.php", self._intis(name, self.intis_send))
            r.add_get(f"{root}/balance.php", self._intis(name, self.intis_balance))
            r.add_get(f"{root}/status.php", self._intis(name, self.intis_status))
        r.add_post("/smsportal/api/v1/sms/send", self.smsportal_send)
        r.add_post("/smsportal/api/v1/balance", self.smsportal_balance)
        r.add_get("/textportal/send.php", self.textportal_send)
        r.add_get("/textportal/balance.php", self.textportal_balance)
        # no access log: a portal's own log is not ours, and it would hold the credentials
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- config entries ----------------------------------------------------------------------

    def entry(self, fake: str, *, name: str | None = None, **overrides: Any) -> dict[str, Any]:
        """An ``[[sms.portals]]`` entry for ``fake`` with its accepted credentials."""
        base: dict[str, Any] = {
            "name": name or fake,
            "sender": SENDER,
            "timeout": 5,
            **CREDENTIALS[fake],
        }
        roots = {
            "smsru": "/smsru",
            "smsc": "/smsc",
            "smsaero": "/smsaero/v2",
            "devino": "/devino",
            "prostor": "/prostor/messages/v2",
            "sms16": "/sms16/get",
            "mirsms": "/mirsms/external/get",
        }
        if fake in roots:
            base.update(kind=fake, base_url=self.url + roots[fake])
        elif fake == "smsportal":
            base.update(kind="http", **smsportal_spec(self.url))
        else:
            base.update(kind="http", **textportal_spec(self.url))
        base.update(overrides)
        return base

    def reset(self) -> None:
        for fake in self.fakes.values():
            fake.reset()
        self.peers.clear()

    # -- shared behaviour --------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        fake = self.fakes[request.path.split("/")[1]]
        peer = request.transport.get_extra_info("peername") if request.transport else None
        fake.peers.add(peer)
        self.peers.add(peer)
        fake.requests += 1
        if fake.delay:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), fake.delay)
        if fake.outage:
            return web.Response(
                status=fake.outage,
                content_type="text/html",
                text=f"<html><body><h1>{fake.outage} Service Unavailable</h1></body></html>",
            )
        if fake.garbage:  # a misbehaving proxy that dumps the request it got
            body = await request.text()
            return web.Response(
                content_type="text/html",
                text=(
                    "<html><body><h1>Gateway error</h1><pre>"
                    f"{request.method} {request.path_qs}\nAuthorization: "
                    f"{request.headers.get('Authorization', '')}\n\n{body}</pre></body></html>"
                ),
            )
        return await handler(request)

    # -- sms.ru ------------------------------------------------------------------------------

    async def smsru_send(self, request: web.Request) -> web.Response:
        fake, p = self.fakes["smsru"], await form_and_query(request)
        if p.get("json") != "1":
            return web.Response(text="200\n")  # the plain-text protocol
        if p.get("api_id") != fake.credentials["api_id"]:
            return smsru_error(200, "Неправильный api_id")
        if fake.balance <= 0:
            return smsru_error(201, "Не хватает средств на лицевом счету")
        sender = p.get("from", "")
        if sender and sender not in fake.senders:
            return smsru_error(204, "Имя отправителя не согласовано с администрацией")
        to, text = p.get("to", ""), p.get("msg", "")
        if not text:
            return smsru_error(203, "Нет текста сообщения")
        if not to.isdigit() or not phone_ok(to):
            item = {
                "status": "ERROR",
                "status_code": 202,
                "status_text": "Неправильно указан номер телефона получателя, "
                "либо на него нет маршрута",
            }
        else:
            item = {
                "status": "OK",
                "status_code": 100,
                "sms_id": fake.accept(to, text, sender, "000000-"),
            }
        return web.json_response(
            {"status": "OK", "status_code": 100, "sms": {to: item}, "balance": fake.balance}
        )

    async def smsru_balance(self, request: web.Request) -> web.Response:
        fake, p = self.fakes["smsru"], await form_and_query(request)
        if p.get("api_id") != fake.credentials["api_id"]:
            return smsru_error(200, "Неправильный api_id")
        return web.json_response({"status": "OK", "status_code": 100, "balance": fake.balance})

    # -- smsc.ru -----------------------------------------------------------------------------

    def _smsc_auth(self, p: dict[str, str]) -> bool:
        creds = self.fakes["smsc"].credentials
        return (p.get("login"), p.get("psw")) == (creds["login"], creds["password"])

    async def smsc_send(self, request: web.Request) -> web.Response:
        fake, p = self.fakes["smsc"], await form_and_query(request)
        json_answers = p.get("fmt") == "3"

        def error(code: int, words: str) -> web.Response:
            if json_answers:
                return web.json_response({"error": words, "error_code": code})
            return web.Response(text=f"ERROR = {code} ({words})")

        if not self._smsc_auth(p):
            return error(2, "authorise error")
        if fake.balance <= 0:
            return error(3, "no money")
        sender = p.get("sender", "")
        if sender and sender not in fake.senders:
            return error(6, "message is denied")
        phone, text = p.get("phones", ""), p.get("mes", "")
        if not phone_ok(phone):
            return error(7, "invalid phone")
        if p.get("charset") != "utf-8":  # the default charset is windows-1251
            text = text.encode("utf-8").decode("cp1251", errors="replace")
        message_id = fake.accept(phone, text, sender)
        if not json_answers:
            return web.Response(text=f"OK - 1 SMS, ID - {message_id}")
        answer: dict[str, Any] = {"id": int(message_id), "cnt": 1}
        if p.get("cost") in ("2", "3"):
            answer["cost"] = "2.50"
        if p.get("cost") == "3":
            answer["balance"] = f"{fake.balance:.2f}"
        return web.json_response(answer)

    async def smsc_balance(self, request: web.Request) -> web.Response:
        fake, p = self.fakes["smsc"], await form_and_query(request)
        if not self._smsc_auth(p):
            return web.json_response({"error": "authorise error", "error_code": 2})
        return web.json_response({"balance": f"{fake.balance:.2f}", "currency": "RUB"})

    # -- SMS Aero v2 -------------------------------------------------------------------------

    def _smsaero_auth(self, request: web.Request) -> web.Response | None:
        creds = self.fakes["smsaero"].credentials
        if basic(request) != (creds["email"], creds["api_key"]):
            return web.json_response(
                {"success": False, "data": None, "message": "Unauthorized: wrong email or api key"},
                status=401,
            )
        return None

    async def smsaero_send(self, request: web.Request) -> web.Response:
        fake = self.fakes["smsaero"]
        refused = self._smsaero_auth(request)
        if refused is not None:
            return refused
        p = (
            await request.json()
            if request.content_type == "application/json"
            else await form_and_query(request)
        )
        if fake.balance <= 0:
            return web.json_response(
                {"success": False, "data": None, "message": "Недостаточно средств на балансе"},
                status=400,
            )
        sign, number, text = (
            str(p.get("sign", "SMS Aero")),
            str(p.get("number", "")),
            str(p.get("text", "")),
        )
        if sign not in fake.senders | {"SMS Aero"}:
            return web.json_response(
                {
                    "success": False,
                    "message": "Validation error.",
                    "data": {"sign": ["Подпись не одобрена"]},
                },
                status=400,
            )
        if not number.isdigit() or not phone_ok(number):
            return web.json_response(
                {
                    "success": False,
                    "message": "Validation error.",
                    "data": {"number": ["Неверный номер телефона"]},
                },
                status=400,
            )
        message_id = fake.accept(number, text, sign, callback_url=p.get("callbackUrl"))
        return web.json_response(
            {
                "success": True,
                "message": None,
                "data": {
                    "id": int(message_id),
                    "from": sign,
                    "number": number,
                    "text": text,
                    "status": 0,
                    "extendStatus": "queue",
                    "channel": "DIRECT",
                    "cost": 4.49,
                    "dateCreate": int(time.time()),
                    "dateSend": int(time.time()),
                },
            }
        )

    async def smsaero_balance(self, request: web.Request) -> web.Response:
        refused = self._smsaero_auth(request)
        if refused is not None:
            return refused
        return web.json_response(
            {"success": True, "message": None, "data": {"balance": self.fakes["smsaero"].balance}}
        )

    # -- Devino Online -----------------------------------------------------------------------

    def _devino_auth(self, request: web.Request) -> web.Response | None:
        key = self.fakes["devino"].credentials["api_key"]
        if request.headers.get("Authorization") != f"Key {key}":
            return web.json_response(
                {"error": "unauthorized", "description": "Invalid API key"}, status=401
            )
        return None

    async def devino_send(self, request: web.Request) -> web.Response:
        fake = self.fakes["devino"]
        refused = self._devino_auth(request)
        if refused is not None:
            return refused
        results = []
        for i, message in enumerate((await request.json()).get("messages", [])):
            sender, to = message.get("from", ""), str(message.get("to", ""))

            def rejected(description: str, key: str, ref: str) -> dict[str, Any]:
                return {
                    "code": "REJECTED",
                    "description": description,
                    "reasons": [{"key": key, "ref": ref}],
                }

            if fake.balance <= 0:
                results.append(rejected("Insufficient funds", "billing.error", f"messages[{i}]"))
            elif sender not in fake.senders:
                results.append(
                    rejected("Source address is not allowed", "forbidden", f"messages[{i}].from")
                )
            elif not to.isdigit() or not phone_ok(to):
                results.append(
                    rejected("Invalid destination address", "invalid", f"messages[{i}].to")
                )
            else:
                message_id = fake.accept(
                    to,
                    message.get("text", ""),
                    sender,
                    "348251235",
                    callback_url=message.get("callbackUrl"),
                )
                results.append(
                    {"code": "OK", "messageId": message_id, "segmentsId": [message_id + "01"]}
                )
        return web.json_response({"result": results})

    async def devino_balance(self, request: web.Request) -> web.Response:
        refused = self._devino_auth(request)
        if refused is not None:
            return refused
        return web.json_response(
            {
                "result": {
                    "account": {
                        "balance": self.fakes["devino"].balance,
                        "credit": 0,
                        "currency": "RUB",
                        "isBlocked": False,
                    }
                }
            }
        )

    # -- Prostor SMS (IQSMS) -----------------------------------------------------------------

    async def prostor_send(self, request: web.Request) -> web.Response:
        fake, body = self.fakes["prostor"], await request.json()
        creds = fake.credentials
        if (body.get("login"), body.get("password")) != (creds["login"], creds["password"]):
            return web.json_response({"status": "error", "description": "error authorization"})
        if fake.balance <= 0:
            return web.json_response({"status": "error", "description": "not enough balance"})
        results = []
        for message in body.get("messages", []):
            sender, phone = message.get("sender", ""), str(message.get("phone", ""))
            item = {"clientId": message.get("clientId")}
            if sender and sender not in fake.senders:
                item["status"] = "sender address invalid"
            elif not phone_ok(phone):
                item["status"] = "invalid mobile phone"
            else:
                item.update(
                    status="accepted",
                    smscId=int(fake.accept(phone, message.get("text", ""), sender)),
                )
            results.append(item)
        return web.json_response({"status": "ok", "messages": results})

    async def prostor_balance(self, request: web.Request) -> web.Response:
        fake = self.fakes["prostor"]
        if basic(request) != (fake.credentials["login"], fake.credentials["password"]):
            return web.Response(text="error authorization")
        return web.Response(text=f"RUB;{fake.balance:.2f};0.0")

    # -- Intis (sms16, mirsms) ---------------------------------------------------------------

    async def intis_timestamp(self, request: web.Request) -> web.Response:
        return web.Response(text=str(int(time.time())))

    def _intis(
        self, name: str, handler: Callable[[PortalFake, dict[str, str]], web.Response]
    ) -> Handler:
        async def checked(request: web.Request) -> web.StreamResponse:
            fake, p = self.fakes[name], dict(request.query)
            if not p.get("signature"):
                return web.json_response({"error": 1})
            if p.get("login") != fake.credentials["login"]:
                return web.json_response({"error": 7})
            if not p.get("timestamp"):
                return web.json_response({"error": 24})
            joined = "".join(p[k] for k in sorted(p) if k != "signature")
            expected = hashlib.md5((joined + fake.credentials["api_key"]).encode()).hexdigest()
            fake.signatures.append(p["signature"] == expected)
            if p["signature"] != expected:
                return web.json_response({"error": 6})
            return handler(fake, p)

        return checked

    def intis_send(self, fake: PortalFake, p: dict[str, str]) -> web.Response:
        sender, phone, text = p.get("sender", ""), p.get("phone", ""), p.get("text", "")
        if not sender:
            return web.json_response({"error": 5})
        if sender not in fake.senders:
            return web.json_response({"error": 9})
        if fake.balance <= 0:
            item: dict[str, Any] = {"error": 32}
        elif not phone.isdigit() or not phone_ok(phone):
            item = {"error": 33}
        else:
            item = {
                "error": "0",
                "id_sms": fake.accept(phone, text, sender, "43846077713471"),
                "cost": 1,
                "count_sms": 1,
                "sender": sender,
                "network": "MTS",
                "ported": 0,
            }
        answer = {phone: item}
        # without return=json the platform wraps the answer in a list
        return web.json_response(answer if p.get("return") == "json" else [answer])

    def intis_balance(self, fake: PortalFake, p: dict[str, str]) -> web.Response:
        return web.json_response({"money": f"{fake.balance:g}", "currency": "RUB"})

    # -- two portals only the http kind can reach --------------------------------------------

    async def smsportal_send(self, request: web.Request) -> web.Response:
        """A JSON API: login/password in the body, ``{"status": "ok", "message_id"}``."""
        fake, body = self.fakes["smsportal"], await request.json()

        def error(code: str, words: str) -> web.Response:
            return web.json_response({"status": "error", "error": {"code": code, "message": words}})

        creds = fake.credentials
        if (body.get("login"), body.get("password")) != (creds["login"], creds["password"]):
            return error("AUTH_FAILED", "Неверный логин или пароль")
        if fake.balance <= 0:
            return error("NO_MONEY", "Недостаточно средств на счёте")
        sender, phone = body.get("sender", ""), str(body.get("phone", ""))
        if sender not in fake.senders:
            return error("BAD_SENDER", "Имя отправителя не зарегистрировано")
        if not phone_ok(phone):
            return error("BAD_PHONE", "Некорректный номер получателя")
        message_id = fake.accept(phone, body.get("text", ""), sender, "SP-")
        return web.json_response({"status": "ok", "message_id": message_id, "parts": 1})

    async def smsportal_balance(self, request: web.Request) -> web.Response:
        fake, p = self.fakes["smsportal"], await form_and_query(request)
        if (p.get("login"), p.get("password")) != (
            fake.credentials["login"],
            fake.credentials["password"],
        ):
            return web.json_response({"status": "error", "error": {"code": "AUTH_FAILED"}})
        return web.json_response({"status": "ok", "balance": f"{fake.balance:.2f}"})

    async def textportal_send(self, request: web.Request) -> web.Response:
        """A text API with the key in the query: ``OK;ID=…`` or ``ERROR;<n>;<words>``."""
        fake, p = self.fakes["textportal"], dict(request.query)
        if (p.get("user"), p.get("key")) != (
            fake.credentials["login"],
            fake.credentials["api_key"],
        ):
            return web.Response(text="ERROR;1;Invalid user or key")
        if fake.balance <= 0:
            return web.Response(text="ERROR;3;Insufficient funds")
        sender, phone = p.get("from", ""), p.get("to", "")
        if sender not in fake.senders:
            return web.Response(text="ERROR;4;Sender name not allowed")
        if not phone_ok(phone):
            return web.Response(text="ERROR;2;Invalid phone number")
        return web.Response(text=f"OK;ID={fake.accept(phone, p.get('msg', ''), sender, 'T')}")

    async def textportal_balance(self, request: web.Request) -> web.Response:
        fake, p = self.fakes["textportal"], dict(request.query)
        if (p.get("user"), p.get("key")) != (
            fake.credentials["login"],
            fake.credentials["api_key"],
        ):
            return web.Response(text="ERROR;1;Invalid user or key")
        return web.Response(text=f"BALANCE={fake.balance:.2f}")


def smsru_error(code: int, words: str) -> web.Response:
    return web.json_response({"status": "ERROR", "status_code": code, "status_text": words})


def smsportal_spec(url: str) -> dict[str, Any]:
    """The ``http``-kind keys for the JSON fake (as in docs/sms-http-portal.md)."""
    return {
        "url": url + "/smsportal/api/v1/sms/send",
        "method": "POST",
        "json": {
            "login": "{{ login }}",
            "password": "{{ password }}",
            "phone": "{{ phone }}",
            "sender": "{{ sender }}",
            "text": "{{ text }}",
        },
        "success_json_path": "status",
        "success_value": "ok",
        "message_id_json_path": "message_id",
        "error_json_path": "error.message",
        "recipient_error_regex": '"code":\\s*"BAD_PHONE"',
        "account_error_regex": '"code":\\s*"(AUTH_FAILED|NO_MONEY|BAD_SENDER)"',
        "balance_url": url + "/smsportal/api/v1/balance",
        "balance_method": "POST",
        "balance_params": {"login": "{{ login }}", "password": "{{ password }}"},
        "balance_json_path": "balance",
    }


def textportal_spec(url: str) -> dict[str, Any]:
    """The ``http``-kind keys for the text fake: regexes only, credentials in the query."""
    return {
        "url": url + "/textportal/send.php",
        "method": "GET",
        "params": {
            "user": "{{ login }}",
            "key": "{{ api_key }}",
            "to": "{{ phone }}",
            "msg": "{{ text }}",
            "from": "{{ sender }}",
        },
        "success_regex": "^OK;",
        "message_id_regex": "ID=(?P<id>\\w+)",
        "error_regex": "^ERROR;\\d+;(.*)$",
        "recipient_error_regex": "^ERROR;2;",
        "account_error_regex": "^ERROR;[134];",
        "balance_url": url + "/textportal/balance.php",
        "balance_params": {"user": "{{ login }}", "key": "{{ api_key }}"},
        "balance_regex": "BALANCE=([\\d.]+)",
    }
