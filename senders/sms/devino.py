"""Devino Online: ``POST /sms/messages`` with a JSON body, ``Authorization: Key <api_key>``
or HTTP Basic ``login:password`` (from the portal's published API).

HTTP 200 also carries rejections: each ``result`` item has ``code`` ``OK`` or ``REJECTED``
with ``reasons[{key, ref}]``, where ``ref`` names the offending field. 401/403 are the
credentials.
"""

from __future__ import annotations

from typing import Any, ClassVar

from bot.core.sending import Delivery
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

BY_STATUS: dict[int, Fault] = {401: Fault.ACCOUNT, 403: Fault.ACCOUNT}

# (reason key, offending field or None for any) -> fault; unknown keys are transient
REASONS: dict[tuple[str, str | None], Fault] = {
    ("billing.error", None): Fault.ACCOUNT,  # no money
    ("forbidden", None): Fault.ACCOUNT,  # sender or route not allowed
    ("invalid", "to"): Fault.RECIPIENT,
    ("invalid", "text"): Fault.RECIPIENT,
    ("invalid", "from"): Fault.ACCOUNT,
    ("invalid", None): Fault.ACCOUNT,
    ("length.too.long", None): Fault.RECIPIENT,
    ("must.be.not.null", "to"): Fault.RECIPIENT,
    ("must.be.not.null", "text"): Fault.RECIPIENT,
    ("must.be.not.null", None): Fault.ACCOUNT,
    ("too.many.messages", None): Fault.TRANSIENT,
    ("unknown", None): Fault.TRANSIENT,
}
# several reasons: the one that says most about the message wins
PRECEDENCE = (Fault.RECIPIENT, Fault.ACCOUNT, Fault.TRANSIENT)


# the callback's status words; anything else (ENROUTE, SENT, ...) is not final yet
STATUSES: dict[str, Delivery] = {
    "DELIVERED": Delivery.DELIVERED,
    "CLICKED": Delivery.DELIVERED,
    "UNDELIVERED": Delivery.FAILED,
    "EXPIRED": Delivery.FAILED,
    "REJECTED": Delivery.FAILED,
    "DELETED": Delivery.FAILED,
}


def _field(ref: object) -> str:
    """``messages[0].to`` -> ``to``."""
    return str(ref or "").rsplit(".", 1)[-1].split("[", 1)[0]


class DevinoPortal(Portal):
    kind = "devino"
    default_base_url = "https://api.devino.online"
    credentials: ClassVar[tuple[tuple[str, ...], ...]] = (("api_key",), ("login", "password"))
    has_balance = True
    has_callback = True  # callbackUrl per message; no polling call is documented

    def _auth(self) -> dict[str, str]:
        if secret(self.config.api_key):
            return {"Authorization": f"Key {secret(self.config.api_key)}"}
        return basic_auth(self.config.login, secret(self.config.password))

    async def send(self, phone: str, text: str, sender: str) -> Receipt:
        message: dict[str, Any] = {"to": digits(phone), "text": text}
        if sender:
            message["from"] = sender
        if self.callback_url:
            message["callbackUrl"] = self.callback_url
        answer = await self.request(
            "POST", "/sms/messages", json_body={"messages": [message]}, headers=self._auth()
        )
        body = self._body(answer)
        result = body.get("result")
        item = result[0] if isinstance(result, list) and result else None
        if not isinstance(item, dict):
            raise self.unexpected(answer)
        if item.get("code") == "OK" and item.get("messageId"):
            return Receipt(str(item["messageId"]), answer.text)
        if item.get("code") != "REJECTED":
            raise self.unexpected(answer)
        reasons = [r for r in item.get("reasons") or [] if isinstance(r, dict)]
        faults = {self._reason_fault(r) for r in reasons} or {Fault.TRANSIENT}
        fault = next(f for f in PRECEDENCE if f in faults)
        named = ", ".join(f"{r.get('key')} {r.get('ref') or ''}".strip() for r in reasons)
        words = f"REJECTED: {item.get('description') or 'no description'}"
        raise self.fail(fault, f"{words} ({named})" if named else words)

    @staticmethod
    def _reason_fault(reason: dict[str, Any]) -> Fault:
        key = str(reason.get("key"))
        return REASONS.get(
            (key, _field(reason.get("ref"))), REASONS.get((key, None), Fault.TRANSIENT)
        )

    def _body(self, answer: Answer) -> dict[str, Any]:
        if answer.status in BY_STATUS:
            raise self.fail(BY_STATUS[answer.status], f"HTTP {answer.status}: {answer.excerpt}")
        body = self.json_of(answer)
        if not isinstance(body, dict):
            raise self.unexpected(answer)
        return body

    async def balance(self) -> str | None:
        answer = await self.request(
            "GET", "/billing-api/companies/current/account", headers=self._auth()
        )
        result = self._body(answer).get("result")
        account = result.get("account") if isinstance(result, dict) else None
        if not isinstance(account, dict) or account.get("balance") is None:
            raise self.unexpected(answer)
        currency = next(
            (str(v) for k, v in account.items() if k.lower().startswith("currency") and v), ""
        )
        return f"{account['balance']} {currency}".strip()

    def read_callback(self, request: CallbackRequest) -> CallbackReading:
        """One status object or a list of them, each with ``messageId`` and ``status``."""
        body = request.json
        items = (
            body
            if isinstance(body, list)
            else body.get("result", [body])
            if isinstance(body, dict)
            else None
        )
        if not isinstance(items, list) or not items:
            raise CallbackRefused("a JSON status object is required")
        out = []
        for item in items:
            if not isinstance(item, dict) or not item.get("messageId") or not item.get("status"):
                raise CallbackRefused("messageId and status are required")
            status = str(item["status"]).upper()
            words = status + (f" {item['description']}" if item.get("description") else "")
            out.append(report(item["messageId"], STATUSES.get(status, Delivery.TRYING), words))
        return CallbackReading(out, answer="OK")
