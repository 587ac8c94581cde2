"""The Intis platform (sms16.ru, mirsms.ru, webcom.mobi): ``GET /send.php`` signed with MD5
over the server's own timestamp (from the portal's published API).

Each call first reads ``/timestamp.php``; the signature is the MD5 of every parameter's value
sorted by parameter name, followed by the API key. The key itself never travels. The answer is
keyed by phone (``{"7916…": {"error": "0", "id_sms": …}}``, sometimes wrapped in a list);
a request-level refusal is ``{"error": N}``. The platform gives codes only; the meaning of
each is in the table.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, ClassVar

from bot.core.sending import Delivery, DeliveryReport
from senders.sms.portal import Answer, Fault, Portal, Receipt, digits, report, secret

# error -> (fault, meaning)
CODES: dict[int, tuple[Fault, str]] = {
    0: (Fault.ACCOUNT, "service disabled"),  # at request level; per phone 0 is success
    1: (Fault.ACCOUNT, "signature not given"),
    2: (Fault.ACCOUNT, "login not given"),
    3: (Fault.RECIPIENT, "text not given"),
    4: (Fault.RECIPIENT, "phone not given"),
    5: (Fault.ACCOUNT, "sender not given"),
    6: (Fault.ACCOUNT, "bad signature"),
    7: (Fault.ACCOUNT, "bad login"),
    8: (Fault.ACCOUNT, "bad sender name"),
    9: (Fault.ACCOUNT, "sender name not registered"),
    10: (Fault.ACCOUNT, "sender name not approved"),
    11: (Fault.RECIPIENT, "forbidden words in text"),
    12: (Fault.TRANSIENT, "send error"),
    13: (Fault.RECIPIENT, "number in stop list"),
    14: (Fault.ACCOUNT, "more than 50 numbers"),
    16: (Fault.RECIPIENT, "invalid number"),
    24: (Fault.ACCOUNT, "timestamp not given"),
    31: (Fault.RECIPIENT, "unavailable direction"),
    32: (Fault.ACCOUNT, "low balance"),
    33: (Fault.RECIPIENT, "wrong phone number"),
    34: (Fault.RECIPIENT, "number in global stop list"),
    35: (Fault.TRANSIENT, "billing failed"),
}


# status.php states; error 18 (status not received yet) leaves the id out
STATUSES: dict[str, Delivery] = {
    "deliver": Delivery.DELIVERED,
    "not_deliver": Delivery.FAILED,
    "expired": Delivery.FAILED,
    "partly_deliver": Delivery.TRYING,
}


def signature(params: dict[str, str], api_key: str) -> str:
    """MD5 hex of the values sorted by parameter name, then the API key."""
    joined = "".join(params[name] for name in sorted(params) if name != "signature")
    return hashlib.md5((joined + api_key).encode("utf-8")).hexdigest()


class IntisPortal(Portal):
    """Shared by the sms16 and mirsms kinds, which differ only in their default host."""

    credentials: ClassVar[tuple[tuple[str, ...], ...]] = (("login", "api_key"),)
    has_balance = True
    has_status = True  # status.php with state=<ids>; the platform has no callbacks

    async def _signed(self, **params: str) -> dict[str, str]:
        answer = await self.request("GET", "/timestamp.php")
        stamp = answer.text.strip().strip('"')
        if answer.status != 200 or not stamp.isdigit():
            raise self.unexpected(answer)
        signed = {"login": self.config.login, "timestamp": stamp, **params}
        signed["signature"] = signature(signed, secret(self.config.api_key))
        return signed

    async def send(self, phone: str, text: str, sender: str) -> Receipt:
        to = digits(phone)
        params = {"phone": to, "text": text, "return": "json"}
        if sender:
            params["sender"] = sender
        answer = await self.request("GET", "/send.php", params=await self._signed(**params))
        body = self._body(answer)
        item = body.get(to)
        if not isinstance(item, dict):
            raise self.unexpected(answer)
        self._check(item.get("error"), answer)
        if not item.get("id_sms"):
            raise self.unexpected(answer)
        count = item.get("count_sms")
        segments = int(count) if isinstance(count, int | str) and str(count).isdigit() else None
        return Receipt(str(item["id_sms"]), answer.text, segments=segments)

    def _body(self, answer: Answer) -> dict[str, Any]:
        body = self.json_of(answer)
        if isinstance(body, list):  # the list-wrapped variant
            body = body[0] if body else None
        if not isinstance(body, dict):
            raise self.unexpected(answer)
        if "error" in body:  # phone-keyed answers never have this key
            self._check(body["error"], answer, request_level=True)
        return body

    def _check(self, error: object, answer: Answer, *, request_level: bool = False) -> None:
        code = int(error) if isinstance(error, int | str) and str(error).isdigit() else None
        if code is None:
            raise self.unexpected(answer)
        if code == 0 and not request_level:
            return
        fault, meaning = CODES.get(code, (Fault.TRANSIENT, "unknown error"))
        raise self.fail(fault, f"error {code}: {meaning}")

    async def balance(self) -> str | None:
        answer = await self.request("GET", "/balance.php", params=await self._signed())
        body = self._body(answer)
        if body.get("money") is None:
            raise self.unexpected(answer)
        return f"{body['money']} {body.get('currency') or ''}".strip()

    async def statuses(self, messages: Sequence[tuple[str, str]]) -> list[DeliveryReport]:
        ids = ",".join(message_id for message_id, _ in messages)
        answer = await self.request(
            "GET", "/status.php", params=await self._signed(state=ids, **{"return": "json"})
        )
        body = self.json_of(answer)
        if isinstance(body, list):
            body = body[0] if body else {}
        if not isinstance(body, dict):
            raise self.unexpected(answer)
        if set(body) == {"error"}:
            if str(body["error"]) == "18":  # nothing known yet
                return []
            self._check(body["error"], answer, request_level=True)
        out = []
        for message_id, item in body.items():
            state = STATUSES.get(str(item.get("status"))) if isinstance(item, dict) else None
            if state is not None:
                words = f"{item['status']}" + (f" at {item['time']}" if item.get("time") else "")
                out.append(report(message_id, state, words))
        return out
