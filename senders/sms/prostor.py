"""Prostor SMS (IQSMS platform, also iqsms.ru and smsfeedback.ru): ``POST /send.json`` with
``login`` + ``password`` in the JSON body (from the portal's published API).

The JSON API answers at both levels — ``{"status": "ok"|"error", "description"}`` for the
request and ``messages[i].status`` (``accepted`` or an error phrase) for the one message — and
keeps the credentials out of the URL. The platform has no error codes, only fixed phrases.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar

from bot.core.sending import Delivery, DeliveryReport, SendError
from senders.sms.portal import Fault, Portal, Receipt, basic_auth, report, secret

# the platform's error phrases -> fault
PHRASES: dict[str, Fault] = {
    "error authorization": Fault.ACCOUNT,
    "invalid mobile phone": Fault.RECIPIENT,
    "text is empty": Fault.RECIPIENT,
    "sender address invalid": Fault.ACCOUNT,
    "wapurl invalid": Fault.ACCOUNT,
    "invalid schedule time format": Fault.ACCOUNT,
    "invalid status queue name": Fault.ACCOUNT,
    "not enough balance": Fault.ACCOUNT,
}
# the no-money phrase is not documented: any phrase about balance or money is the account's
MONEY = re.compile(r"balance|money|credit|баланс|средств", re.IGNORECASE)


# status/ answers "<id>;<status>"; "incorrect id" is left out
STATUSES: dict[str, Delivery] = {
    "accepted": Delivery.TRYING,
    "queued": Delivery.TRYING,
    "smsc submit": Delivery.TRYING,
    "delivered": Delivery.DELIVERED,
    "delivery error": Delivery.FAILED,
    "smsc reject": Delivery.FAILED,
}


class ProstorPortal(Portal):
    kind = "prostor"
    default_base_url = "https://api.prostor-sms.ru/messages/v2"
    credentials: ClassVar[tuple[tuple[str, ...], ...]] = (("login", "password"),)
    has_balance = True
    has_status = True  # status/ takes up to 200 ids; the platform has no callbacks

    async def send(self, phone: str, text: str, sender: str) -> Receipt:
        message: dict[str, Any] = {"clientId": "1", "phone": phone, "text": text}
        if sender:
            message["sender"] = sender
        payload = {
            "login": self.config.login,
            "password": secret(self.config.password),
            "messages": [message],
        }
        answer = await self.request("POST", "/send.json", json_body=payload)
        body = self.json_of(answer)
        if not isinstance(body, dict) or body.get("status") not in ("ok", "error"):
            raise self.unexpected(answer)
        if body["status"] == "error":
            raise self._refusal(str(body.get("description") or "error"))
        messages = body.get("messages")
        item = messages[0] if isinstance(messages, list) and messages else None
        if not isinstance(item, dict) or not item.get("status"):
            raise self.unexpected(answer)
        if item["status"] != "accepted":
            raise self._refusal(str(item["status"]))
        if item.get("smscId") in (None, ""):
            raise self.unexpected(answer)
        return Receipt(str(item["smscId"]), answer.text)

    def _refusal(self, phrase: str) -> SendError:
        fault = PHRASES.get(phrase.strip().lower())
        if fault is None:
            fault = Fault.ACCOUNT if MONEY.search(phrase) else Fault.TRANSIENT
        return self.fail(fault, phrase)

    async def balance(self) -> str | None:
        auth = basic_auth(self.config.login, secret(self.config.password))
        answer = await self.request("GET", "/balance/", headers=auth)
        line = answer.text.strip().splitlines()[0] if answer.text.strip() else ""
        fields = line.split(";")
        if len(fields) >= 2:  # "RUB;540.15;0.0" = type;balance[;credit]
            return f"{fields[1]} {fields[0]}"
        if line.lower() in PHRASES:
            raise self._refusal(line)
        raise self.unexpected(answer)

    async def statuses(self, messages: Sequence[tuple[str, str]]) -> list[DeliveryReport]:
        auth = basic_auth(self.config.login, secret(self.config.password))
        query = "&".join(f"id={message_id}" for message_id, _ in messages[:200])
        answer = await self.request("GET", "", headers=auth, url=f"{self.base_url}/status/?{query}")
        out = []
        for line in answer.text.strip().splitlines():
            message_id, _, status = line.strip().partition(";")
            state = STATUSES.get(status.strip().lower())
            if not status:
                if line.strip().lower() in PHRASES:
                    raise self._refusal(line.strip())
                raise self.unexpected(answer)
            if state is not None:
                out.append(report(message_id, state, status.strip()))
        return out
