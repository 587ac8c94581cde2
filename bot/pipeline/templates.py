"""Message templates: jinja2 in a sandbox, compiled once and rendered within a time and size
budget, from a rule's own texts or the type's default (``default_templates.py``).

Telegram bodies are rendered with autoescape, so every variable is escaped for Telegram's HTML
parse mode; the literal tags of the template itself (``<b>``) stay. Email and SMS bodies are
plain text. A template error is reported as :class:`TemplateFailure` for that one message.
What a template sees is ``template_context.py``; its filters are ``template_filters.py``.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from bot.pipeline.default_templates import CHANNEL_BODY_KEY, FALLBACK_TYPE, load_default_templates
from bot.pipeline.sandbox import LimitedEnvironment, RenderLimit, render_within
from bot.pipeline.template_context import TEMPLATE_VARIABLES
from bot.pipeline.template_filters import TemplateFilters

LANGUAGES = ("ru", "en")
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


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str | None = None


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
        self._filters = TemplateFilters(self.tz, self.region)
        self._plain = self._environment(autoescape=False)
        self._html = self._environment(autoescape=True)
        self._cache: dict[tuple[bool, str], jinja2.Template] = {}
        self._over_time: dict[str, str] = {}  # sources that hit the time limit: fail fast
        self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="render")

    def _environment(self, *, autoescape: bool) -> LimitedEnvironment:
        env = LimitedEnvironment(
            autoescape=autoescape, undefined=jinja2.Undefined, trim_blocks=True, lstrip_blocks=True
        )
        env.filters.update(self._filters.table())
        env.guard_filters()
        return env

    def register_function(self, name: str, func: Callable[..., Any]) -> None:
        """A template global: the template sees a plain function whose result is a string,
        never the object behind it (``telegram_link.secret`` finds nothing)."""

        def call(*args: Any, **kwargs: Any) -> str:
            return str(func(*args, **kwargs))

        call.__name__ = call.__qualname__ = name
        self.globals[name] = call

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


@lru_cache(maxsize=1)
def _checker() -> Templates:
    return Templates(timezone="UTC", defaults={})


def syntax_problem(source: str) -> str | None:
    """The compile error of a template (rule import: unknown filters count), or None."""
    return _checker().check(source)
