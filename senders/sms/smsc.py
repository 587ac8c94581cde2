"""smsc.ru and its white-labels: ``POST /sys/send.php`` with ``charset=utf-8`` and ``fmt=3``
(JSON answers), ``login`` + ``psw`` or ``apikey`` (from the portal's published API).

One number per request, so the request's answer is the recipient's: ``{"id", "cnt"}`` on
success (``cnt`` = SMS billed, which must be at least 1), ``{"error", "error_code"}`` otherwise.
``cost=3`` makes the answer carry the new balance as well.
"""

from __future__ import annotations

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
    report,
    secret,
    unix_time,
)

# error_code -> fault (the smsc.ru send-answer table)
CODES: dict[int, Fault] = {
    1: Fault.ACCOUNT,  # bad parameters
    2: Fault.ACCOUNT,  # bad login/password or IP not allowed
    3: Fault.ACCOUNT,  # not enough money
    4: Fault.TRANSIENT,  # IP temporarily blocked after too many bad requests
    5: Fault.ACCOUNT,  # bad date format
    6: Fault.ACCOUNT,  # message forbidden (by text or sender name)
    7: Fault.RECIPIENT,  # bad phone number format
    8: Fault.RECIPIENT,  # cannot be delivered to this number
    9: Fault.TRANSIENT,  # duplicate request or too many concurrent connections
}


# delivery status codes (status.php and the callback); -3 "not found" is left out
STATUSES: dict[int, tuple[Delivery, str]] = {
    -2: (Delivery.FAILED, "stopped"),
    -1: (Delivery.TRYING, "waiting"),
    0: (Delivery.TRYING, "passed to the operator"),
    1: (Delivery.DELIVERED, "delivered"),
    2: (Delivery.DELIVERED, "read"),
    3: (Delivery.FAILED, "expired"),
    4: (Delivery.DELIVERED, "link clicked"),
    20: (Delivery.FAILED, "cannot be delivered"),
    22: (Delivery.FAILED, "bad number"),
    23: (Delivery.FAILED, "forbidden"),
    24: (Delivery.FAILED, "not enough money"),
    25: (Delivery.FAILED, "unreachable number"),
}


def _status(
    message_id: object, status: object, err: object, at: Any = None, phone: str | None = None
) -> DeliveryReport | None:
    code = int(str(status)) if str(status).lstrip("-").isdigit() else None
    if code not in STATUSES:
        return None
    state, meaning = STATUSES[code]
    words = f"{code} {meaning}" + (
        f", operator error {err}" if err not in (None, "", "0", 0) else ""
    )
    return report(message_id, state, words, at=unix_time(at) if at else None, phone=phone)


class SmscPortal(Portal):
    kind = "smsc"
    default_base_url = "https://smsc.ru"
    credentials: ClassVar[tuple[tuple[str, ...], ...]] = (("login", "password"), ("api_key",))
    has_balance = True
    has_status = True
    has_callback = True  # set the URL in the cabinet ("event notifications")

    def _auth(self) -> dict[str, str]:
        if self.config.login and self.config.password is not None:
            return {"login": self.config.login, "psw": secret(self.config.password)}
        return {"apikey": secret(self.config.api_key)}

    async def send(self, phone: str, text: str, sender: str) -> Receipt:
        # with the "+" smsc uses the number as given instead of "correcting" it
        form = {
            **self._auth(),
            "phones": phone,
            "mes": text,
            "charset": "utf-8",
            "fmt": "3",
            "cost": "3",
        }
        if sender:
            form["sender"] = sender
        answer = await self.request("POST", "/sys/send.php", data=form)
        body = self._body(answer)
        count = body.get("cnt")
        if body.get("id") is None or not isinstance(count, int | str) or not str(count).isdigit():
            raise self.unexpected(answer)
        if int(count) < 1:
            raise self.fail(Fault.TRANSIENT, f"accepted no SMS: {answer.excerpt}")
        balance = body.get("balance")
        return Receipt(
            str(body["id"]),
            answer.text,
            segments=int(count),
            balance=None if balance is None else f"{balance} RUB",
        )

    def _body(self, answer: Answer) -> dict[str, object]:
        body = self.json_of(answer)
        if not isinstance(body, dict):
            raise self.unexpected(answer)
        if "error_code" in body or "error" in body:
            code = body.get("error_code")
            words = f"{code} {body.get('error') or ''}".strip()
            fault = CODES.get(code, Fault.TRANSIENT) if isinstance(code, int) else Fault.TRANSIENT
            raise self.fail(fault, words)
        return body

    async def balance(self) -> str | None:
        answer = await self.request(
            "POST", "/sys/balance.php", data={**self._auth(), "fmt": "3", "cur": "1"}
        )
        body = self._body(answer)
        if body.get("balance") is None:
            raise self.unexpected(answer)
        return f"{body['balance']} {body.get('currency') or 'RUB'}"

    async def statuses(self, messages: Sequence[tuple[str, str]]) -> list[DeliveryReport]:
        """``status.php`` with matching comma-separated ``phone`` and ``id`` lists."""
        answer = await self.request(
            "POST",
            "/sys/status.php",
            data={
                **self._auth(),
                "phone": ",".join(phone for _, phone in messages),
                "id": ",".join(message_id for message_id, _ in messages),
                "fmt": "3",
            },
        )
        body = self.json_of(answer)
        if isinstance(body, dict):
            self._body(answer)  # an error answer raises
            # one message: the answer does not repeat its id
            body = [{"id": messages[0][0], **body}] if len(messages) == 1 else [body]
        if not isinstance(body, list):
            raise self.unexpected(answer)
        out = []
        for item in body:
            if isinstance(item, dict) and item.get("id") is not None:
                found = _status(
                    item["id"],
                    item.get("status"),
                    item.get("err"),
                    item.get("last_timestamp"),
                    item.get("phone"),
                )
                if found is not None:
                    out.append(found)
        return out

    def read_callback(self, request: CallbackRequest) -> CallbackReading:
        """Fields ``id``, ``phone``, ``status``, ``err`` (and ``time``); answer ``OK``."""
        message_id, status = request.first("id"), request.first("status")
        if not message_id or status is None or not status.lstrip("-").isdigit():
            raise CallbackRefused("id and a numeric status are required")
        found = _status(
            message_id, status, request.first("err"), request.first("time"), request.first("phone")
        )
        return CallbackReading([found] if found else [], answer="OK")
