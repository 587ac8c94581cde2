"""sms.ru: ``POST /sms/send`` with ``api_id``, ``json=1`` answers (from the portal's published API).

The answer has a request-level ``status`` and one entry per number under ``sms``; both are
checked. ``status_text`` is the portal's own words.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from bot.core.sending import Delivery, DeliveryReport
from senders.sms.portal import (
    CallbackReading,
    CallbackRefused,
    CallbackRequest,
    Fault,
    Portal,
    Receipt,
    digits,
    report,
    secret,
    unix_time,
)

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


# delivery status codes (sms/status and the sms_status callback); -1 "not found" is left out
STATUSES: dict[int, tuple[Delivery, str]] = {
    100: (Delivery.TRYING, "queued"),
    101: (Delivery.TRYING, "passing to the operator"),
    102: (Delivery.TRYING, "sent, in transit"),
    103: (Delivery.DELIVERED, "delivered"),
    104: (Delivery.FAILED, "expired"),
    105: (Delivery.FAILED, "deleted by the operator"),
    106: (Delivery.FAILED, "phone failure"),
    107: (Delivery.FAILED, "unknown reason"),
    108: (Delivery.FAILED, "rejected"),
    110: (Delivery.DELIVERED, "read"),
    150: (Delivery.FAILED, "no route"),
}


class SmsRuPortal(Portal):
    kind = "smsru"
    default_base_url = "https://sms.ru"
    credentials: ClassVar[tuple[tuple[str, ...], ...]] = (("api_id",),)
    has_balance = True
    has_status = True
    has_callback = True  # set the URL in the cabinet ("API callback")

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
        return Receipt(
            str(item["sms_id"]), answer.text, balance=None if balance is None else f"{balance} RUB"
        )

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
        answer = await self.request(
            "POST", "/my/balance", data={"api_id": secret(self.config.api_id), "json": "1"}
        )
        body = self.json_of(answer)
        if not isinstance(body, dict):
            raise self.unexpected(answer)
        self._check(body, answer)
        if body.get("balance") is None:
            raise self.unexpected(answer)
        return f"{body['balance']} RUB"

    async def statuses(self, messages: Sequence[tuple[str, str]]) -> list[DeliveryReport]:
        ids = [message_id for message_id, _ in messages]
        answer = await self.request(
            "POST",
            "/sms/status",
            data={"api_id": secret(self.config.api_id), "sms_id": ",".join(ids), "json": "1"},
        )
        body = self.json_of(answer)
        if not isinstance(body, dict):
            raise self.unexpected(answer)
        self._check(body, answer)
        found = body.get("sms")
        if not isinstance(found, dict):
            found = {}
        out = []
        for message_id, item in found.items():
            code = item.get("status_code") if isinstance(item, dict) else None
            if isinstance(code, int) and code in STATUSES:
                state, meaning = STATUSES[code]
                out.append(
                    report(message_id, state, f"{code} {item.get('status_text') or meaning}")
                )
        return out

    def read_callback(self, request: CallbackRequest) -> CallbackReading:
        """``data[]`` entries ``sms_status\\n<id>\\n<code>\\n<unix time>``; answer ``100``."""
        entries = [value for key, value in request.form if key.startswith("data[")]
        if not entries:
            raise CallbackRefused("no data[] entries")
        out = []
        for entry in entries:
            lines = entry.replace("\r", "").split("\n")
            if lines[0] != "sms_status":
                continue  # other callback kinds (callcheck) are not receipts
            if len(lines) < 3 or not lines[2].strip().lstrip("-").isdigit():
                raise CallbackRefused("an sms_status entry without id and code")
            code = int(lines[2])
            if code in STATUSES:
                state, meaning = STATUSES[code]
                out.append(
                    report(
                        lines[1].strip(),
                        state,
                        f"{code} {meaning}",
                        at=unix_time(lines[3]) if len(lines) > 3 else None,
                    )
                )
        return CallbackReading(out, answer="100")
