"""Message templates: jinja2 in a sandbox, default texts per event type, channel and language.

Telegram bodies are rendered with autoescape, so every variable is escaped for Telegram's HTML
parse mode; the literal tags of the template itself (``<b>``) stay. Email and SMS bodies are
plain text. A template error is reported as :class:`TemplateFailure` for that one message.
"""

from __future__ import annotations

import asyncio
import functools
import tomllib
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from bot.core.phones import format_phone
from bot.pipeline.sandbox import LimitedEnvironment, RenderLimit, render_within

LANGUAGES = ("ru", "en")
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
# which default-template key a channel's subject and body come from
CHANNEL_BODY_KEY = {
    "email": "email",
    "telegram": "telegram",
    "sms": "sms",
    "modem": "sms",
    "internal": "telegram",
}
FALLBACK_TYPE = "_fallback"
RENDER_SECONDS = 1.0  # one template's time budget
# the longest text a template may produce, per channel (SMS: the segment limit applies after)
OUTPUT_LIMITS = {
    "email": 64 * 1024,
    "telegram": 16 * 1024,
    "internal": 16 * 1024,
    "sms": 16 * 1024,
    "modem": 16 * 1024,
    "subject": 1024,
}


class TemplateFailure(Exception):
    """A template could not be compiled or rendered; the text says where and why."""


class Record:
    """Attribute access over a mapping for templates: a missing field is ``None``."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self._data = dict(data or {})

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._data.get(name)

    def __getitem__(self, name: str) -> Any:
        return self._data.get(name)

    def __iter__(self) -> Any:
        return iter(self._data)

    def __bool__(self) -> bool:
        return any(v not in (None, "", [], {}) for v in self._data.values())

    def __str__(self) -> str:
        return str(self._data.get("name") or "")

    def get(self, name: str, default: Any = None) -> Any:
        return self._data.get(name, default)


def wrap(value: Any) -> Any:
    if isinstance(value, Mapping):
        return Record({k: wrap(v) for k, v in value.items()})
    if isinstance(value, list):
        return [wrap(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str | None = None


def _as_datetime(value: Any) -> datetime | date | None:
    if value is None or value == "":
        return None
    if isinstance(value, (datetime, date)):
        return value
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


class Templates:
    """Compiles and renders templates; one instance per app (timezone, region, globals)."""

    def __init__(
        self, *, timezone: str, region: str = "RU", defaults: Mapping[str, Any] | None = None
    ) -> None:
        self.tz = ZoneInfo(timezone)
        self.region = region
        self.defaults = dict(defaults if defaults is not None else load_default_templates())
        # only plain functions returning strings (register_function): nothing a template can
        # reach holds a secret, the config or the storage
        self.globals: dict[str, Callable[..., str]] = {}
        self._plain = self._environment(autoescape=False)
        self._html = self._environment(autoescape=True)
        self._cache: dict[tuple[bool, str], jinja2.Template] = {}
        self._over_time: dict[str, str] = {}  # sources that hit the time limit: fail fast
        self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="render")

    def _environment(self, *, autoescape: bool) -> LimitedEnvironment:
        env = LimitedEnvironment(
            autoescape=autoescape, undefined=jinja2.Undefined, trim_blocks=True, lstrip_blocks=True
        )
        env.filters.update(
            money=self._money,
            date=self._date,
            datetime=self._datetime,
            time=self._time,
            phone=self._phone,
        )
        env.guard_filters()
        return env

    def register_function(self, name: str, func: Callable[..., Any]) -> None:
        """A template global: the template sees a plain function whose result is a string,
        never the object behind it (``telegram_link.secret`` finds nothing)."""

        def call(*args: Any, **kwargs: Any) -> str:
            return str(func(*args, **kwargs))

        call.__name__ = call.__qualname__ = name
        self.globals[name] = call

    # filters ---------------------------------------------------------------------------------
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

    # compiling and rendering --------------------------------------------------------------------
    def compile(self, source: str, *, html: bool) -> jinja2.Template:
        key = (html, source)
        template = self._cache.get(key)
        if template is None:
            try:
                template = (self._html if html else self._plain).from_string(source)
            except jinja2.TemplateSyntaxError as exc:
                raise TemplateFailure(
                    f"template error (line {exc.lineno}): {exc.message}"
                ) from None
            if len(self._cache) > 2048:
                self._cache.clear()
            self._cache[key] = template
        return template

    def check(self, source: str) -> str | None:
        """The syntax error of a template, or None (rule import uses it)."""
        try:
            self.compile(source, html=False)
        except TemplateFailure as exc:
            return str(exc)
        return None

    def _render(self, source: str, context: Mapping[str, Any], *, html: bool, limit: str) -> str:
        template = self.compile(source, html=html)
        if source in self._over_time:
            raise TemplateFailure(
                f"template over a limit: {self._over_time[source]} "
                "(an earlier render; fix the template and import it again)"
            )
        try:
            return render_within(
                template,
                {**self.globals, **context},
                seconds=RENDER_SECONDS,
                max_chars=OUTPUT_LIMITS[limit],
            ).strip()
        except RenderLimit as exc:
            if exc.over_time:
                self._over_time[source] = str(exc)
            raise TemplateFailure(f"template over a limit: {exc}") from None
        except jinja2.TemplateError as exc:
            raise TemplateFailure(f"template error: {exc}") from None
        except Exception as exc:  # a filter or attribute raised inside the sandbox
            raise TemplateFailure(f"template error: {type(exc).__name__}: {exc}") from None

    def default(self, event_type: str, language: str) -> Mapping[str, str]:
        entry = self.defaults.get(event_type) or self.defaults[FALLBACK_TYPE]
        return entry.get(language) or entry["ru"]

    def render(
        self,
        *,
        event_type: str,
        channel: str,
        language: str,
        context: Mapping[str, Any],
        subject: str | None = None,
        body: str | None = None,
        html_body: str | None = None,
    ) -> Rendered:
        """A rule's own subject/body when given, else the type's default for the channel."""
        language = language if language in LANGUAGES else "ru"
        context = {**context, "lang": language}
        default = self.default(event_type, language)
        is_html = channel in ("telegram", "internal")
        body_source = body if body is not None else default[CHANNEL_BODY_KEY[channel]]
        subject_source = subject if subject is not None else default.get("subject", "")
        text = self._render(body_source, context, html=is_html, limit=channel)
        subject_text = (
            self._render(subject_source, context, html=False, limit="subject")
            if channel == "email" or channel == "internal"
            else ""
        )
        html = (
            self._render(html_body, context, html=True, limit="email")
            if html_body and channel == "email"
            else None
        )
        return Rendered(subject=" ".join(subject_text.split()), text=text, html=html)

    async def render_async(self, **kwargs: Any) -> Rendered:
        """:meth:`render` on a worker thread: a slow template never holds the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(self.render, **kwargs))

    def variables(self) -> Iterable[tuple[str, str]]:
        return TEMPLATE_VARIABLES


TEMPLATE_VARIABLES: tuple[tuple[str, str], ...] = (
    ("event.id, event.type, event.occurred_at", "the event itself"),
    ("customer.name, .phone, .email, .group, .birthday", "the customer (any may be empty)"),
    ("manager / master / author / responsible", "staff persons, same fields"),
    ("recipient.name, recipient.role", "the person this message goes to"),
    (
        "order.number, .status, .planned_start, .planned_finish, .amount, .paid, .currency, .url",
        "the order",
    ),
    ("items[].sku, .name, .qty, .price", "order lines"),
    ("vehicle.make, .model, .plate, .vin, .mileage", "the vehicle"),
    ("data.*", "everything else the ERP sent"),
    ("company", "service.company_name from the config"),
    ("|money(currency)", "15 000,00 ₽"),
    ("|date, |datetime, |time", "25.11.2026, 25.11.2026 14:30, 14:30 (service timezone)"),
    ("|phone", "+7 916 123-45-67"),
)


@lru_cache(maxsize=1)
def _checker() -> Templates:
    return Templates(timezone="UTC", defaults={})


def syntax_problem(source: str) -> str | None:
    """The compile error of a template (rule import: unknown filters count), or None."""
    return _checker().check(source)


@lru_cache(maxsize=1)
def load_default_templates() -> dict[str, Any]:
    text = (resources.files("bot.pipeline") / "default_templates.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def template_context(
    event: Mapping[str, Any],
    recipient: Mapping[str, Any] | None,
    *,
    company: str = "",
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What a template sees: the event's parts as records, plus the recipient."""
    context: dict[str, Any] = {
        "event": Record(
            {
                "id": event.get("id"),
                "type": event.get("type"),
                "occurred_at": event.get("occurred_at"),
            }
        ),
        "items": wrap(event.get("items") or []),
        "data": wrap(event.get("data") or {}),
        "company": company,
        "recipient": wrap(recipient or {}),
    }
    for part in ("customer", "manager", "master", "author", "responsible", "order", "vehicle"):
        context[part] = wrap(event.get(part) or {})
    if extra:
        context.update(extra)
    return context


Filter = Callable[..., str]
