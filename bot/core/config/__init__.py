"""Configuration: ``config.toml`` loaded into pydantic models (docs/configuration.md).

Every section is one model, in the module named for it (``service``, ``webhook``,
``telegram``, ``email``, ``sms``, ``schedule``, ``web``, ``receipts``, ``alerts``,
``conversations``; the shared value syntaxes in ``values``). This package is the public
face: the top-level :class:`Config`, :func:`load_config` and every section's names.

Secrets may come from the environment as
``VESTNIK_<SECTION>_<KEY>`` (``VESTNIK_TELEGRAM_TOKEN``, ``VESTNIK_WEBHOOK_SECRET``); for
list sections the entry's name goes in between: ``VESTNIK_EMAIL_MAIN_PASSWORD``,
``VESTNIK_SMS_SMSRU_API_ID``. With no file at all the embedded defaults apply.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot.core.config.alerts import AlertsConfig
from bot.core.config.conversations import ConversationsConfig
from bot.core.config.email import BounceImap, EmailAccount, EmailConfig
from bot.core.config.receipts import ReceiptsConfig
from bot.core.config.schedule import ScheduleConfig
from bot.core.config.service import ServiceConfig
from bot.core.config.sms import SmsConfig, SmsModem, SmsPortal
from bot.core.config.telegram import TelegramConfig
from bot.core.config.values import (
    EMAIL_ADDRESS,
    MIN_TOKEN_LENGTH,
    Section,
    check_token,
    parse_duration,
    parse_quiet_hours,
)
from bot.core.config.web import WebConfig
from bot.core.config.webhook import WebhookConfig

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "EMAIL_ADDRESS",
    "MIN_TOKEN_LENGTH",
    "AlertsConfig",
    "BounceImap",
    "Config",
    "ConfigError",
    "ConversationsConfig",
    "EmailAccount",
    "EmailConfig",
    "ReceiptsConfig",
    "ScheduleConfig",
    "Section",
    "ServiceConfig",
    "SmsConfig",
    "SmsModem",
    "SmsPortal",
    "TelegramConfig",
    "WebConfig",
    "WebhookConfig",
    "check_token",
    "load_config",
    "parse_duration",
    "parse_quiet_hours",
    "read_config_data",
    "validate_config",
]

DEFAULT_CONFIG_PATH = Path("config.toml")


class Config(Section):
    service: ServiceConfig = ServiceConfig()
    webhook: WebhookConfig = WebhookConfig()
    telegram: TelegramConfig = TelegramConfig()
    email: EmailConfig = EmailConfig()
    sms: SmsConfig = SmsConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    web: WebConfig = WebConfig()
    receipts: ReceiptsConfig = ReceiptsConfig()
    alerts: AlertsConfig = AlertsConfig()
    conversations: ConversationsConfig = ConversationsConfig()

    def web_base_url(self) -> str:
        """``web.base_url``, or the webhook's own address (loopback installs)."""
        if self.web.base_url:
            return self.web.base_url
        host = self.webhook.host
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.webhook.port}"

    def problems(self) -> list[tuple[str, str]]:
        """Cross-field problems (the model itself already validated each key)."""
        out: list[tuple[str, str]] = []
        if not self.webhook.is_loopback() and not self.webhook.tokens and not self.webhook.secret:
            out.append(
                (
                    "webhook.listen",
                    f"{self.webhook.listen} is reachable from other machines but neither "
                    "webhook.tokens nor webhook.secret is set: anyone could post events. "
                    "Set one of them, or listen on 127.0.0.1",
                )
            )
        named: tuple[tuple[str, list[str]], ...] = (
            ("email.accounts", [a.name for a in self.email.accounts]),
            ("sms.portals", [p.name for p in self.sms.portals]),
            ("sms.modems", [m.name for m in self.sms.modems]),
        )
        for section, names in named:
            seen: set[str] = set()
            for i, name in enumerate(names):
                if name in seen:
                    out.append((f"{section}[{i}].name", f"duplicate name {name!r}"))
                seen.add(name)
        if (
            self.telegram.mode == "webhook"
            and self.telegram.enabled
            and not self.telegram.webhook_url
        ):
            out.append(("telegram.webhook_url", 'mode = "webhook" needs the public URL'))
        return out


class ConfigError(Exception):
    """Every problem found, each with its key: ``[("webhook.listen", "...")]``."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{key}: {msg}" for key, msg in problems))


def _env_overrides(data: dict[str, Any], environ: dict[str, str]) -> None:
    """Apply ``VESTNIK_<SECTION>_<KEY>`` (and ``VESTNIK_<SECTION>_<NAME>_<KEY>`` for lists)."""
    fields: dict[str, type[Section]] = {
        "service": ServiceConfig,
        "webhook": WebhookConfig,
        "telegram": TelegramConfig,
        "schedule": ScheduleConfig,
        "conversations": ConversationsConfig,
        "web": WebConfig,
    }
    for section, model in fields.items():
        for key, info in model.model_fields.items():
            value = environ.get(f"VESTNIK_{section.upper()}_{key.upper()}")
            if value is None:
                continue
            annotation = str(info.annotation)
            parsed: Any = value
            if annotation.startswith("list"):
                parsed = [v.strip() for v in value.split(",") if v.strip()]
            data.setdefault(section, {})[key] = parsed
    for section, listkey in (("email", "accounts"), ("sms", "portals"), ("sms", "modems")):
        for entry in data.get(section, {}).get(listkey, []) or []:
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                continue
            prefix = (
                f"VESTNIK_{section.upper()}_{re.sub(r'[^A-Za-z0-9]', '_', entry['name']).upper()}_"
            )
            for env_key, value in environ.items():
                if env_key.startswith(prefix):
                    entry[env_key[len(prefix) :].lower()] = value


def _loc(parts: tuple[Any, ...]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _fields_at(loc: tuple[Any, ...]) -> list[str]:
    """The keys a section takes at ``loc`` (for "did you mean")."""
    model: Any = Config
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        info = getattr(model, "model_fields", {}).get(part)
        if info is None:
            return []
        annotation = info.annotation
        inner = getattr(annotation, "__args__", None)
        model = inner[0] if inner and not hasattr(annotation, "model_fields") else annotation
    return list(getattr(model, "model_fields", {}))


def _message(err: Any) -> str:
    msg = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        import difflib

        key = str(err["loc"][-1])
        close = difflib.get_close_matches(key, _fields_at(err["loc"]), n=1, cutoff=0.6)
        msg = f"unknown key {key!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
    return msg


def validate_config(data: dict[str, Any]) -> tuple[Config | None, list[tuple[str, str]]]:
    """The config model from parsed TOML, or every problem with its key."""
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        return None, [(_loc(err["loc"]), _message(err)) for err in exc.errors()]
    return config, config.problems()


def read_config_data(
    path: str | Path | None,
    environ: dict[str, str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The TOML (default ``./config.toml`` when it exists) with overrides and the
    environment applied; :class:`ConfigError` when it cannot be read at all."""
    environ = dict(os.environ if environ is None else environ)
    data: dict[str, Any] = {}
    if path is None and DEFAULT_CONFIG_PATH.exists():
        path = DEFAULT_CONFIG_PATH
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8-sig"))
        except FileNotFoundError:
            raise ConfigError([("--config", f"file not found: {path}")]) from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError([("--config", f"{path} is not valid TOML: {exc}")]) from None
    for section, values in (overrides or {}).items():
        data.setdefault(section, {}).update(values)
    _env_overrides(data, environ)
    return data


def load_config(
    path: str | Path | None = None,
    environ: dict[str, str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> Config:
    """Load ``path`` (default ``./config.toml`` when it exists, else embedded defaults).

    Raises :class:`ConfigError` listing every problem with its key.
    """
    config, problems = validate_config(read_config_data(path, environ, overrides))
    if problems or config is None:
        raise ConfigError(problems)
    return config
