"""smsc.ru and its white-labels: ``POST /sys/send.php`` with ``charset=utf-8`` and ``fmt=3``
(JSON answers), ``login`` + ``psw`` or ``apikey`` (from the portal's published API).

One number per request, so the request's answer is the recipient's: ``{"id", "cnt"}`` on
success (``cnt`` = SMS billed, which must be at least 1), ``{"error", "error_code"}`` otherwise.
``cost=3`` makes the answer carry the new balance as well.
"""

from __future__ import annotations

from typing import ClassVar

from senders.sms.portal import Answer, Fault, Portal, Receipt, secret

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


class SmscPortal(Portal):
    kind = "smsc"
    default_base_url = "https://smsc.ru"
    credentials: ClassVar[tuple[tuple[str, ...], ...]] = (("login", "password"), ("api_key",))
    has_balance = True

    def _auth(self) -> dict[str, str]:
        if self.config.login and self.config.password is not None:
            return {"login": self.config.login, "psw": secret(self.config.password)}
        return {"apikey": secret(self.config.api_key)}

    async def send(self, phone: str, text: str, sender: str) -> Receipt:
        # with the "+" smsc uses the number as given instead of "correcting" it
        form = {**self._auth(), "phones": phone, "mes": text, "charset": "utf-8", "fmt": "3",
                "cost": "3"}
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
        return Receipt(str(body["id"]), answer.text, segments=int(count),
                       balance=None if balance is None else f"{balance} RUB")

    def _body(self, answer: Answer) -> dict[str, object]:
        body = self.json_of(answer)
        if not isinstance(body, dict):
            raise self.unexpected(answer)
        if "error_code" in body or "error" in body:
            code = body.get("error_code")
            words = f"{code} {body.get('error') or ''}".strip()
            fault = CODES.get(code, Fault.TRANSIENT) if isinstance(code, int) \
                else Fault.TRANSIENT
            raise self.fail(fault, words)
        return body

    async def balance(self) -> str | None:
        answer = await self.request("POST", "/sys/balance.php",
                                    data={**self._auth(), "fmt": "3", "cur": "1"})
        body = self._body(answer)
        if body.get("balance") is None:
            raise self.unexpected(answer)
        return f"{body['balance']} {body.get('currency') or 'RUB'}"
