"""SMS Aero, API v2: ``POST /sms/send`` with a JSON body, HTTP Basic ``email:api_key``
(from the portal's published API).

The envelope is ``{"success", "data", "message"}``; ``success`` must be true, and the one
message in ``data`` must not already be "not delivered" or "rejected". v2 has no error codes,
so a refusal is classified by the HTTP status, then by the fields a validation error names,
then by the words of ``message`` — three tables below.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, ClassVar

from bot.core.sending import Delivery, DeliveryReport
from senders.sms.portal import (
    Answer,
    CallbackReading,
    CallbackRefused,
    CallbackRequest,
    Fault,
    Portal,
    Receipt,
    basic_auth,
    digits,
    report,
    secret,
)

BY_STATUS: dict[int, Fault] = {401: Fault.ACCOUNT, 402: Fault.ACCOUNT, 403: Fault.ACCOUNT}

# a validation error names the offending request field
BY_FIELD: dict[str, Fault] = {
    "number": Fault.RECIPIENT,
    "numbers": Fault.RECIPIENT,
    "text": Fault.RECIPIENT,
    "sign": Fault.ACCOUNT,
}

# the words of ``message`` (and of v1-style ``result``/``reason``); first match wins
BY_WORDS: list[tuple[re.Pattern[str], Fault]] = [
    (re.compile(r"no credits|money|balance|funds|средств|баланс", re.IGNORECASE), Fault.ACCOUNT),
    (re.compile(r"sign|sender|подпис|отправител", re.IGNORECASE), Fault.ACCOUNT),
    (re.compile(r"auth|credential|api.?key|логин|ключ|парол", re.IGNORECASE), Fault.ACCOUNT),
    (re.compile(r"number|phone|номер|телефон", re.IGNORECASE), Fault.RECIPIENT),
    (re.compile(r"text|текст", re.IGNORECASE), Fault.RECIPIENT),
]

# data.status of a message that is already lost when the send returns
FAILED_STATUS: dict[int, Fault] = {
    2: Fault.RECIPIENT,  # not delivered
    6: Fault.ACCOUNT,  # rejected (moderation of text or sign)
}


# data.status of sms/status and of the callbackUrl notification
STATUSES: dict[int, tuple[Delivery, str]] = {
    0: (Delivery.TRYING, "queue"),
    1: (Delivery.DELIVERED, "delivered"),
    2: (Delivery.FAILED, "not delivered"),
    3: (Delivery.TRYING, "transferred"),
    4: (Delivery.TRYING, "waiting for status"),
    6: (Delivery.FAILED, "rejected"),
    8: (Delivery.TRYING, "on moderation"),
}


def _status(message_id: object, status: object, extend: object) -> DeliveryReport | None:
    code = int(str(status)) if str(status).isdigit() else None
    if code not in STATUSES:
        return None
    state, meaning = STATUSES[code]
    return report(message_id, state, f"status {code} {extend or meaning}")


class SmsAeroPortal(Portal):
    kind = "smsaero"
    default_base_url = "https://gate.smsaero.ru/v2"
    credentials: ClassVar[tuple[tuple[str, ...], ...]] = (("email", "api_key"),)
    has_balance = True
    has_status = True
    has_callback = True  # callbackUrl on each send, when receipts.public_url is set

    def _auth(self) -> dict[str, str]:
        return basic_auth(self.config.email, secret(self.config.api_key))

    async def send(self, phone: str, text: str, sender: str) -> Receipt:
        payload: dict[str, Any] = {"number": digits(phone), "text": text}
        if sender:  # without it the portal uses its free shared sender
            payload["sign"] = sender
        if self.callback_url:
            payload["callbackUrl"] = self.callback_url
        answer = await self.request("POST", "/sms/send", json_body=payload, headers=self._auth())
        data = self._data(answer)
        if isinstance(data, list):  # the numbers[] form answers with a list
            data = data[0] if data else None
        if not isinstance(data, dict) or data.get("id") is None:
            raise self.unexpected(answer)
        status = data.get("status")
        if isinstance(status, int) and status in FAILED_STATUS:
            words = f"status {status} {data.get('extendStatus') or ''}".strip()
            raise self.fail(FAILED_STATUS[status], words)
        return Receipt(str(data["id"]), answer.text)

    def _data(self, answer: Answer) -> Any:
        """``data`` of a successful answer, or raise the refusal in the portal's words."""
        try:
            body = json.loads(answer.text)
        except ValueError:
            body = None
        if not isinstance(body, dict) or "success" not in body:
            if answer.status in BY_STATUS:  # a bare 401 page
                raise self.fail(BY_STATUS[answer.status], f"HTTP {answer.status}: {answer.excerpt}")
            raise self.unexpected(answer)
        if body.get("success") is True:
            return body.get("data")
        raise self.fail(*self._classify(answer.status, body))

    def _classify(self, status: int, body: dict[str, Any]) -> tuple[Fault, str]:
        parts = [str(body[k]) for k in ("message", "result", "reason") if body.get(k)]
        data = body.get("data")
        fields: dict[str, Any] = data if isinstance(data, dict) else {}
        for name, problems in fields.items():
            parts.append(f"{name}: {_flat(problems)}")
        words = f"HTTP {status}: " + "; ".join(parts or ["no reason given"])
        if status in BY_STATUS:
            return BY_STATUS[status], words
        for name in fields:
            if name in BY_FIELD:
                return BY_FIELD[name], words
        for pattern, fault in BY_WORDS:
            if pattern.search(words):
                return fault, words
        return (Fault.ACCOUNT if 400 <= status < 500 else Fault.TRANSIENT), words

    async def balance(self) -> str | None:
        answer = await self.request("POST", "/balance", headers=self._auth())
        data = self._data(answer)
        if not isinstance(data, dict) or data.get("balance") is None:
            raise self.unexpected(answer)
        return f"{data['balance']} RUB"

    async def statuses(self, messages: Sequence[tuple[str, str]]) -> list[DeliveryReport]:
        """``sms/status`` takes one id per request."""
        out = []
        for message_id, _ in messages:
            answer = await self.request(
                "POST", "/sms/status", json_body={"id": message_id}, headers=self._auth()
            )
            data = self._data(answer)
            if isinstance(data, dict):
                found = _status(
                    data.get("id", message_id), data.get("status"), data.get("extendStatus")
                )
                if found is not None:
                    out.append(found)
        return out

    def read_callback(self, request: CallbackRequest) -> CallbackReading:
        """The notification carries the message's ``id`` and ``status`` (JSON or form)."""
        data = request.json.get("data") if isinstance(request.json, dict) else None
        source = CallbackRequest([], json=data) if isinstance(data, dict) else request
        message_id, status = source.first("id"), source.first("status")
        if not message_id or status is None or not status.isdigit():
            raise CallbackRefused("id and a numeric status are required")
        found = _status(message_id, status, source.first("extendStatus"))
        return CallbackReading([found] if found else [], answer="OK")


def _flat(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
