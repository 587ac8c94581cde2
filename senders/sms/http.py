"""The ``http`` portal: a portal described entirely in config, for portals without an adapter
(smsportal.pro, whose API is not public, is connected this way). See docs/sms-http-portal.md.

The request (URL, method, query/form/JSON parameters, headers) is jinja2 templates rendered in
a sandbox over ``phone``, ``phone_e164``, ``text``, ``sender``, ``timestamp`` and the entry's
credentials. The answer is judged by a regex or a JSON path + expected value; the message id is
taken by a regex or a JSON path; a failure is classified by two regexes, else transient.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import time
from typing import Any, Literal

import aiohttp
from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.core.config import SmsPortal
from bot.core.sending import SendError
from senders.sms.portal import Answer, Fault, Portal, Receipt, digits, secret

_PATH_TOKEN = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


class HttpPortalSpec(BaseModel):
    """The extra keys of an ``[[sms.portals]]`` entry of kind ``http``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    url: str
    method: Literal["GET", "POST"] = "POST"
    params: dict[str, str] = {}  # query string
    form: dict[str, str] = {}  # form-urlencoded body
    json_body: dict[str, Any] | list[Any] | None = Field(None, alias="json")  # JSON body
    headers: dict[str, str] = {}
    success_regex: str = ""
    success_json_path: str = ""
    success_value: str | int | float | bool | None = None
    message_id_regex: str = ""
    message_id_json_path: str = ""
    error_regex: str = ""
    error_json_path: str = ""
    recipient_error_regex: str = ""
    account_error_regex: str = ""
    balance_url: str = ""
    balance_method: Literal["GET", "POST"] = "GET"
    balance_params: dict[str, str] = {}
    balance_json_path: str = ""
    balance_regex: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> HttpPortalSpec:
        if bool(self.success_regex) == bool(self.success_json_path):
            raise ValueError(
                "set exactly one of success_regex and success_json_path "
                "(HTTP 200 alone does not mean the portal accepted the SMS)"
            )
        if self.success_json_path and self.success_value is None:
            raise ValueError("success_json_path needs success_value")
        if self.message_id_regex and self.message_id_json_path:
            raise ValueError("set only one of message_id_regex and message_id_json_path")
        if self.form and self.json_body is not None:
            raise ValueError("set only one of form and json (one request body)")
        if self.method == "GET" and (self.form or self.json_body is not None):
            raise ValueError('form and json need method = "POST"')
        if self.balance_url and not (self.balance_json_path or self.balance_regex):
            raise ValueError("balance_url needs balance_json_path or balance_regex")
        for key in (
            "success_regex",
            "message_id_regex",
            "error_regex",
            "recipient_error_regex",
            "account_error_regex",
            "balance_regex",
        ):
            try:
                re.compile(getattr(self, key))
            except re.error as exc:
                raise ValueError(f"{key}: not a regular expression: {exc}") from None
        return self


def json_path(data: Any, path: str) -> Any:
    """``result[0].messageId`` (or ``$.result.0.messageId``) in parsed JSON; LookupError if
    the answer has no such place."""
    node = data
    for index, key in _PATH_TOKEN.findall(path.removeprefix("$").lstrip(".")):
        if index or (isinstance(node, list) and key.isdigit()):
            position = int(index or key)
            if not isinstance(node, list) or position >= len(node):
                raise LookupError(path)
            node = node[position]
        elif isinstance(node, dict) and key in node:
            node = node[key]
        else:
            raise LookupError(path)
    return node


def _as_text(value: Any) -> str:
    """JSON scalars as a config author writes them: ``true``, ``null``, ``0``, ``ok``."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    return str(value)


def _environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
    env.filters["b64encode"] = lambda value: base64.b64encode(str(value).encode()).decode()
    env.filters["md5"] = lambda value: hashlib.md5(str(value).encode()).hexdigest()
    env.filters["sha256"] = lambda value: hashlib.sha256(str(value).encode()).hexdigest()
    return env


class HttpPortal(Portal):
    kind = "http"
    default_base_url = ""

    def __init__(self, config: SmsPortal, session: aiohttp.ClientSession) -> None:
        super().__init__(config, session)
        self.spec = self.read_spec(config)
        self.has_balance = bool(self.spec.balance_url)
        env = _environment()
        try:
            self._request = self._compile(
                env,
                {
                    "url": self.spec.url,
                    "params": self.spec.params,
                    "form": self.spec.form,
                    "json": self.spec.json_body,
                    "headers": self.spec.headers,
                    "balance_url": self.spec.balance_url,
                    "balance_params": self.spec.balance_params,
                },
            )
        except TemplateError as exc:
            raise ValueError(f"sms portal {config.name!r} (http): template error: {exc}") from None

    @staticmethod
    def read_spec(config: SmsPortal) -> HttpPortalSpec:
        """The entry's extra keys, validated; ValueError names the key that is wrong."""
        try:
            return HttpPortalSpec.model_validate(config.model_extra or {})
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'entry'}: {e['msg']}" for e in exc.errors()
            )
            raise ValueError(f"sms portal {config.name!r} (http): {problems}") from None

    @classmethod
    def _compile(cls, env: SandboxedEnvironment, node: Any) -> Any:
        """The same structure with every string turned into a template."""
        if isinstance(node, str):
            return env.from_string(node)
        if isinstance(node, dict):
            return {key: cls._compile(env, value) for key, value in node.items()}
        if isinstance(node, list):
            return [cls._compile(env, value) for value in node]
        return node

    @classmethod
    def _render(cls, node: Any, variables: dict[str, Any]) -> Any:
        if isinstance(node, Template):
            return node.render(variables)
        if isinstance(node, dict):
            return {key: cls._render(value, variables) for key, value in node.items()}
        if isinstance(node, list):
            return [cls._render(value, variables) for value in node]
        return node

    def _variables(self, **message: str) -> dict[str, Any]:
        c = self.config
        return {
            "login": c.login,
            "email": c.email,
            "password": secret(c.password),
            "api_key": secret(c.api_key),
            "api_id": secret(c.api_id),
            "timestamp": str(int(time.time())),
            **message,
        }

    def _rendered(self, key: str, variables: dict[str, Any]) -> Any:
        try:
            return self._render(self._request[key], variables)
        except TemplateError as exc:  # an undefined name, a sandbox refusal: the config's
            raise self.fail(Fault.ACCOUNT, f"template {key}: {exc}") from None

    async def send(self, phone: str, text: str, sender: str) -> Receipt:
        variables = self._variables(phone=digits(phone), phone_e164=phone, text=text, sender=sender)
        spec = self.spec
        answer = await self.request(
            spec.method,
            "",
            url=self._rendered("url", variables),
            params=self._rendered("params", variables) or None,
            data=self._rendered("form", variables) or None,
            json_body=self._rendered("json", variables),
            headers=self._rendered("headers", variables) or None,
        )
        if self._succeeded(answer):
            return Receipt(self._message_id(answer), answer.text)
        raise self._refusal(answer)

    def _succeeded(self, answer: Answer) -> bool:
        spec = self.spec
        if spec.success_regex:
            return re.search(spec.success_regex, answer.text) is not None
        body = self.json_of(answer)
        try:
            value = json_path(body, spec.success_json_path)
        except LookupError:
            return False
        return _as_text(value) == _as_text(spec.success_value)

    def _message_id(self, answer: Answer) -> str | None:
        """The id, or ``None`` when the answer lacks it: the SMS is accepted all the same, and
        failing it now would send it twice on retry."""
        spec = self.spec
        if spec.message_id_regex:
            match = re.search(spec.message_id_regex, answer.text)
            if match is None:
                return None
            if "id" in match.groupdict():
                return match.group("id")
            return match.group(1) if match.groups() else match.group(0)
        if spec.message_id_json_path:
            try:
                return _as_text(json_path(json.loads(answer.text), spec.message_id_json_path))
            except (ValueError, LookupError):
                return None
        return None

    def _refusal(self, answer: Answer) -> SendError:
        spec = self.spec
        words = answer.excerpt
        if spec.error_json_path:
            with contextlib.suppress(ValueError, LookupError):
                words = _as_text(json_path(json.loads(answer.text), spec.error_json_path))
        elif spec.error_regex:
            match = re.search(spec.error_regex, answer.text)
            if match is not None:
                words = match.group(1) if match.groups() else match.group(0)
        if answer.status != 200:
            words = f"HTTP {answer.status}: {words}"
        if spec.recipient_error_regex and re.search(spec.recipient_error_regex, answer.text):
            return self.fail(Fault.RECIPIENT, words)
        if spec.account_error_regex and re.search(spec.account_error_regex, answer.text):
            return self.fail(Fault.ACCOUNT, words)
        if answer.status in (401, 403, 404):  # credentials or URL: not going to change by itself
            return self.fail(Fault.ACCOUNT, words)
        return self.fail(Fault.TRANSIENT, words)

    async def balance(self) -> str | None:
        spec = self.spec
        if not spec.balance_url:
            return None
        variables = self._variables()
        params = self._rendered("balance_params", variables) or None
        answer = await self.request(
            spec.balance_method,
            "",
            url=self._rendered("balance_url", variables),
            params=params if spec.balance_method == "GET" else None,
            data=params if spec.balance_method == "POST" else None,
            headers=self._rendered("headers", variables) or None,
        )
        if spec.balance_json_path:
            try:
                return _as_text(json_path(self.json_of(answer), spec.balance_json_path))
            except LookupError:
                raise self.unexpected(answer) from None
        match = re.search(spec.balance_regex, answer.text)
        if match is None:
            raise self.unexpected(answer)
        return match.group(1) if match.groups() else match.group(0)
