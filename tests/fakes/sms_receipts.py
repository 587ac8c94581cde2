"""The delivery-status half of the SMS portal fakes (mixed into
:class:`tests.fakes.sms_portals.SmsPortalsServer`): each portal's status call, and its status
callback posted to the service the way the portal posts it.

A test sets a message's fate with :meth:`ReceiptsFake.settle` (``delivered`` or
``undelivered``); the status calls then answer it in the portal's words, and
:meth:`ReceiptsFake.post_callback` posts it to the URL the portal knows (the cabinet's
``callback_url`` for sms.ru and smsc.ru, the ``callbackUrl`` sent with the message for SMS
Aero and Devino), returning what the service answered.
"""

from __future__ import annotations

import time
from typing import Any

import aiohttp
from aiohttp import web


class ReceiptsFake:
    fakes: dict[str, base.PortalFake]

    def settle(self, fake: str, message_id: str, state: str) -> base.Sent:
        item = self.fakes[fake].find(message_id)
        assert item is not None, f"{fake} never accepted {message_id}"
        item.state = state
        return item

    async def post_callback(
        self, fake: str, message_id: str, *, url: str | None = None, replay_of: Any = None
    ) -> tuple[int, str]:
        """Post the portal's callback for the message's current state; ``(status, body)``."""
        portal = self.fakes[fake]
        item = portal.find(message_id)
        assert item is not None
        target = url or item.callback_url or portal.callback_url
        assert target, f"{fake} has no callback URL for {message_id}"
        word, stamp = portal.word(item), str(int(time.time()))
        kwargs: dict[str, Any]
        if fake == "smsru":
            kwargs = {"data": {"data[0]": f"sms_status\n{message_id}\n{word}\n{stamp}"}}
        elif fake == "smsc":
            kwargs = {
                "data": {
                    "id": message_id,
                    "phone": item.phone,
                    "status": str(word),
                    "err": "0" if item.state != "undelivered" else "1",
                    "time": stamp,
                }
            }
        elif fake == "smsaero":
            kwargs = {
                "json": {
                    "id": int(message_id),
                    "number": item.phone,
                    "status": word,
                    "extendStatus": item.state,
                    "dateAnswer": int(stamp),
                }
            }
        elif fake == "devino":
            kwargs = {
                "json": [
                    {"messageId": message_id, "to": item.phone, "status": word, "statusTime": stamp}
                ]
            }
        else:
            raise AssertionError(f"{fake} posts no callbacks")
        async with aiohttp.ClientSession() as session, session.post(target, **kwargs) as answer:
            return answer.status, await answer.text()

    # -- status calls --------------------------------------------------------------------------

    async def smsru_status(self, request: web.Request) -> web.Response:
        fake, p = self.fakes["smsru"], await base.form_and_query(request)
        fake.status_requests += 1
        if p.get("api_id") != fake.credentials["api_id"]:
            return base.smsru_error(200, "Неправильный api_id")
        out: dict[str, Any] = {}
        for message_id in filter(None, p.get("sms_id", "").split(",")):
            item = fake.find(message_id)
            if item is None:
                out[message_id] = {
                    "status": "ERROR",
                    "status_code": -1,
                    "status_text": "Сообщение не найдено",
                }
            else:
                out[message_id] = {
                    "status": "OK",
                    "status_code": fake.word(item),
                    "cost": 0.5,
                    "status_text": {
                        "delivered": "Сообщение доставлено",
                        "undelivered": "Истекло время жизни",
                    }.get(item.state, "Передано оператору"),
                }
        return web.json_response({"status": "OK", "status_code": 100, "sms": out})

    async def smsc_status(self, request: web.Request) -> web.Response:
        fake, p = self.fakes["smsc"], await base.form_and_query(request)
        fake.status_requests += 1
        creds = fake.credentials
        if (p.get("login"), p.get("psw")) != (creds["login"], creds["password"]):
            return web.json_response({"error": "authorise error", "error_code": 2})
        ids, phones = p.get("id", "").split(","), p.get("phone", "").split(",")
        out = []
        for message_id, phone in zip(ids, phones, strict=False):
            item = fake.find(message_id)
            status = fake.word(item) if item is not None and item.phone == phone else -3
            out.append(
                {
                    "id": message_id,
                    "phone": phone,
                    "status": status,
                    "last_timestamp": int(time.time()),
                    "err": 1 if item is not None and item.state == "undelivered" else 0,
                }
            )
        if len(out) == 1:  # one message: its fields alone, without id and phone
            return web.json_response({k: v for k, v in out[0].items() if k not in ("id", "phone")})
        return web.json_response(out)

    async def smsaero_status(self, request: web.Request) -> web.Response:
        fake = self.fakes["smsaero"]
        fake.status_requests += 1
        if base.basic(request) != (fake.credentials["email"], fake.credentials["api_key"]):
            return web.json_response(
                {"success": False, "data": None, "message": "Unauthorized"}, status=401
            )
        item = fake.find(str((await request.json()).get("id")))
        if item is None:
            return web.json_response(
                {"success": False, "data": None, "message": "Message not found"}, status=404
            )
        return web.json_response(
            {
                "success": True,
                "message": None,
                "data": {
                    "id": int(item.message_id),
                    "number": item.phone,
                    "status": fake.word(item),
                    "extendStatus": item.state,
                    "dateAnswer": int(time.time()),
                },
            }
        )

    async def prostor_status(self, request: web.Request) -> web.Response:
        fake = self.fakes["prostor"]
        fake.status_requests += 1
        if base.basic(request) != (fake.credentials["login"], fake.credentials["password"]):
            return web.Response(text="error authorization")
        lines = []
        for message_id in request.query.getall("id", []):
            item = fake.find(message_id)
            lines.append(f"{message_id};{fake.word(item) if item else 'incorrect id'}")
        return web.Response(text="\n".join(lines))

    def intis_status(self, fake: base.PortalFake, p: dict[str, str]) -> web.Response:
        fake.status_requests += 1
        out: dict[str, Any] = {}
        for message_id in filter(None, p.get("state", "").split(",")):
            item = fake.find(message_id)
            if item is not None and fake.word(item):
                out[message_id] = {"status": fake.word(item), "time": "2026-12-01 10:00:00"}
        return web.json_response(out or {"error": 18})


# last: the base module imports this one for its mixin, and its names are read at call time
import tests.fakes.sms_portals as base  # noqa: E402
