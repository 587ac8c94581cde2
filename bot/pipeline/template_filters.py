"""The filters a template may use (``|money``, ``|date``, ``|datetime``, ``|time``,
``|phone``): amounts, moments in the service's time zone and phone numbers, written the way
the message's language writes them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from bot.core.phones import format_phone

CURRENCY_SIGNS = {
    "RUB": "₽",
    "RUR": "₽",
    "USD": "$",
    "EUR": "€",
    "KZT": "₸",
    "BYN": "Br",
    "UAH": "₴",
    "CNY": "¥",
    "GBP": "£",
}
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _as_datetime(value: Any) -> datetime | date | None:
    if value is None or value == "":
        return None
    if isinstance(value, (datetime, date)):
        return value
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


class TemplateFilters:
    """The filters for one service: its time zone and phone region."""

    def __init__(self, tz: ZoneInfo, region: str) -> None:
        self.tz = tz
        self.region = region

    def table(self) -> dict[str, Callable[..., str]]:
        """Name -> filter, as a jinja2 environment's ``filters`` takes them."""
        return {
            "money": self._money,
            "date": self._date,
            "datetime": self._datetime,
            "time": self._time,
            "phone": self._phone,
        }

    @staticmethod
    def _lang(ctx: Any) -> str:
        return ctx.get("lang", "ru") if hasattr(ctx, "get") else "ru"

    def _local(self, value: Any) -> datetime | date | None:
        moment = _as_datetime(value)
        if isinstance(moment, datetime):
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=self.tz)
            return moment.astimezone(self.tz)
        return moment

    @jinja2.pass_context
    def _money(self, ctx: Any, value: Any, currency: str | None = "RUB") -> str:
        if value is None or value == "":
            return ""
        try:
            amount = Decimal(str(value)).quantize(Decimal("0.01"))
        except InvalidOperation:
            return str(value)
        sign = CURRENCY_SIGNS.get((currency or "RUB").upper(), (currency or "").upper())
        whole = f"{amount:,.2f}"
        if self._lang(ctx) == "ru":
            whole = whole.replace(",", "\u00a0").replace(".", ",")
            return f"{whole}\u00a0{sign}".strip()
        return f"{whole} {sign}".strip()

    @jinja2.pass_context
    def _date(self, ctx: Any, value: Any) -> str:
        moment = self._local(value)
        if moment is None:
            return "" if value is None else str(value)
        if self._lang(ctx) == "ru":
            return moment.strftime("%d.%m.%Y")
        return f"{moment.day} {MONTHS_EN[moment.month - 1]} {moment.year}"

    @jinja2.pass_context
    def _datetime(self, ctx: Any, value: Any) -> str:
        moment = self._local(value)
        if not isinstance(moment, datetime):
            return self._date(ctx, value)
        return f"{self._date(ctx, moment)} {moment.strftime('%H:%M')}"

    def _time(self, value: Any) -> str:
        moment = self._local(value)
        return moment.strftime("%H:%M") if isinstance(moment, datetime) else ""

    def _phone(self, value: Any) -> str:
        return format_phone(value, self.region) if value else ""
