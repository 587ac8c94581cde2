"""sms.ru: ``POST /sms/send`` with ``api_id``, ``json=1`` answers (from the portal's published API).

The answer has a request-level ``status`` and one entry per number under ``sms``; both are
checked. ``status_text`` is the portal's own words.
"""

from __future__ import annotations

from typing import Any, ClassVar

from senders.sms.portal import Fault, Portal, Receipt, digits, secret

# status_code -> fault. Unknown codes are transient (retried, then failed).
CODES: dict[int, Fault] = {
    200: Fault.ACCOUNT,  # bad api_id
    201: Fault.ACCOUNT,  # not enough money
    202: Fault.RECIPIENT,  # bad recipient number
    203: Fault.RECIPIENT,  # empty text
    204: Fault.ACCOUNT,  # sender name not approved
    205: Fault.RECIPIENT,  # text longer than 8 segments
    206: Fault.TRANSIENT,  # daily limit of the account
    207: Fault.RECIPIENT,  # no route to this number
    208: Fault.ACCOUNT,  # bad time parameter
    209: Fault.RECIPIENT,  # number in the stop list
    210: Fault.ACCOUNT,  # GET where POST is required
    211: Fault.ACCOUNT,  # method not found: base_url is wrong
    212: Fault.ACCOUNT,  # text not in UTF-8
    213: Fault.ACCOUNT,  # more than 100 numbers
    220: Fault.TRANSIENT,  # service temporarily unavailable
    230: Fault.TRANSIENT,  # daily limit per number
    231: Fault.TRANSIENT,  # same text to the number within a minute
    232: Fault.TRANSIENT,  # same text to the number within a day
    233: Fault.TRANSIENT,  # repeated codes to the number (anti-fraud)
    300: Fault.ACCOUNT,
    301: Fault.ACCOUNT,  # bad login/password
    302: Fault.ACCOUNT,
    303: Fault.ACCOUNT,
    304: Fault.ACCOUNT,
    305: Fault.ACCOUNT,
    500: Fault.TRANSIENT,  # server error
}


class SmsRuPortal(Portal):
    kind = "smsru"
    default_base_url = "https://sms.ru"
    credentials: ClassVar[tuple[tuple[str, ...], ...]] = (("api_id",),)
    has_balance = True

    async def send(self, phone: str, text: str, sender: str) -> Receipt:
        to = digits(phone)
        form = {"api_id": secret(self.config.api_id), "to": to, "msg": text, "json": "1"}
        if sender:
            form["from"] = sender
        answer = await self.request("POST", "/sms/send", data=form)
        body = self.json_of(answer)
        if not isinstance(body, dict):
            raise self.unexpected(answer)
        self._check(body, answer)
        sms = body.get("sms")
        item = sms.get(to) if isinstance(sms, dict) else None
        if not isinstance(item, dict):
            raise self.unexpected(answer)
        self._check(item, answer)
        if not item.get("sms_id"):
            raise self.unexpected(answer)
        balance = body.get("balance")
        return Receipt(str(item["sms_id"]), answer.text,
                       balance=None if balance is None else f"{balance} RUB")

    def _check(self, part: dict[str, Any], answer: Any) -> None:
        """One level of the answer (the request or one number): OK, or raise its error."""
        if part.get("status") == "OK":
            return
        if part.get("status") != "ERROR":
            raise self.unexpected(answer)
        code = part.get("status_code")
        words = f"{code} {part.get('status_text') or ''}".strip()
        fault = CODES.get(code, Fault.TRANSIENT) if isinstance(code, int) else Fault.TRANSIENT
        raise self.fail(fault, words)

    async def balance(self) -> str | None:
        answer = await self.request("POST", "/my/balance",
                                    data={"api_id": secret(self.config.api_id), "json": "1"})
        body = self.json_of(answer)
        if not isinstance(body, dict):
            raise self.unexpected(answer)
        self._check(body, answer)
        if body.get("balance") is None:
            raise self.unexpected(answer)
        return f"{body['balance']} RUB"
