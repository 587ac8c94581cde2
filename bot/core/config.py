"""Configuration: ``config.toml`` loaded into pydantic models (docs/configuration.md).

Every section is one model. Secrets may come from the environment as
``VESTNIK_<SECTION>_<KEY>`` (``VESTNIK_TELEGRAM_TOKEN``, ``VESTNIK_WEBHOOK_SECRET``); for
list sections the entry's name goes in between: ``VESTNIK_EMAIL_MAIN_PASSWORD``,
``VESTNIK_SMS_SMSRU_API_ID``. With no file at all the embedded defaults apply.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import re
import tomllib
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

DEFAULT_CONFIG_PATH = Path("config.toml")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)?\s*$")
# one mailbox: local part, @, a domain with a dot; no spaces, commas or angle brackets
EMAIL_ADDRESS = re.compile(r"[^@\s,;<>\"()\[\]]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}


def parse_duration(value: str | int | float) -> timedelta:
    """``"90m"``, ``"2h"``, ``"3d"``, ``"45s"`` or a number of seconds."""
    if isinstance(value, (int, float)):
        return timedelta(seconds=value)
    match = _DURATION.match(value)
    if not match:
        raise ValueError(f"not a duration: {value!r} (use e.g. 90m, 2h, 3d)")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class ServiceConfig(Section):
    database: str = "sqlite:///vestnik.db"
    timezone: str = "Europe/Moscow"
    language: Literal["ru", "en"] = "ru"
    default_region: str = "RU"
    quiet_hours: str = "21:00-09:00"  # customers; "" switches it off
    quiet_hours_staff: bool = False  # staff are not deferred by quiet hours unless this is on
    dry_run: bool = False
    company_name: str = ""
    lease_seconds: int = Field(120, ge=5)
    log_level: str = "INFO"

    @field_validator("database")
    @classmethod
    def _database(cls, value: str) -> str:
        if not (
            value.startswith("sqlite://") or value.startswith(("postgresql://", "postgres://"))
        ):
            raise ValueError("use sqlite:///path/to/file.db or postgresql://user@host/db")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use e.g. Europe/Moscow)") from None
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        if not value.strip():
            return ""
        window = parse_quiet_hours(value)
        if window is None:
            raise ValueError('use "HH:MM-HH:MM", e.g. "21:00-09:00", or "" for none')
        if window[0] == window[1]:
            raise ValueError(
                "start and end are the same time: give a real window, "
                'e.g. "21:00-09:00", or "" for none'
            )
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def parse_quiet_hours(value: str) -> tuple[time, time] | None:
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", value or "")
    if not match:
        return None
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        return None
    return time(h1, m1), time(h2, m2)


MIN_TOKEN_LENGTH = 16


def check_token(raw: str) -> None:
    """Refuse tokens anyone could guess or send by accident: empty, blank, short, or with
    spaces/control characters (a Unicode space must never match a blank token)."""
    if not raw or raw.isspace() or not raw.strip():
        raise ValueError(
            "a token must not be empty or blank: use at least "
            f"{MIN_TOKEN_LENGTH} random characters (e.g. openssl rand -hex 24)"
        )
    if len(raw) < MIN_TOKEN_LENGTH:
        raise ValueError(
            f"a token of {len(raw)} characters is too short: use at least "
            f"{MIN_TOKEN_LENGTH} random characters (e.g. openssl rand -hex 24)"
        )
    if any(ch.isspace() or not ch.isprintable() for ch in raw):
        raise ValueError("a token must not contain spaces or control characters")


class WebhookConfig(Section):
    listen: str = "127.0.0.1:8080"
    path: str = "/events"
    tokens: list[SecretStr] = []
    secret: SecretStr | None = None
    tolerance_seconds: int = Field(300, ge=1)
    max_body_bytes: int = Field(1024 * 1024, ge=1024)
    max_batch: int = Field(1000, ge=1, le=10000)
    metrics_token: SecretStr | None = None  # /metrics and /healthz details; else loopback only
    max_connections: int = Field(512, ge=8)  # open connections; more are answered 503
    header_timeout: float = Field(15, gt=0)  # seconds for a request's headers; idle keep-alive
    body_timeout: float = Field(30, gt=0)  # seconds to read a request body

    @field_validator("tokens", "metrics_token")
    @classmethod
    def _tokens(cls, value: Any) -> Any:
        for token in value if isinstance(value, list) else [value] if value else []:
            check_token(token.get_secret_value())
        return value

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError("use host:port, e.g. 127.0.0.1:8080")
        if not 1 <= int(port) <= 65535:
            raise ValueError(f"port {port} is outside 1-65535 (use e.g. 127.0.0.1:8080)")
        return value

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must start with /")
        return value

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        raw = value.get_secret_value()
        if not raw.startswith("whsec_"):
            raise ValueError('must look like "whsec_<base64 key>" (Standard Webhooks)')
        try:
            key = base64.b64decode(raw[len("whsec_") :], validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("the part after whsec_ is not valid base64") from None
        if len(key) < 16:
            raise ValueError("the key is too short: use at least 24 random bytes")
        return value

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])

    @property
    def secret_key(self) -> bytes | None:
        if self.secret is None:
            return None
        return base64.b64decode(self.secret.get_secret_value()[len("whsec_") :])

    def is_loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


class TelegramConfig(Section):
    token: SecretStr | None = None
    api_base: str = "https://api.telegram.org"
    mode: Literal["polling", "webhook"] = "polling"
    admins: list[int] = []
    rate_per_second: float = Field(25, gt=0)
    webhook_url: str = ""  # public URL Telegram posts updates to (mode = "webhook")
    webhook_path: str = "/telegram"
    webhook_secret: SecretStr | None = None
    link_secret: SecretStr | None = None  # HMAC key for /start deep-link tokens
    link_ttl_days: int = Field(30, ge=1)
    # besides the admins, who may change rules in the chat: Telegram ids, or "staff" for
    # every verified staff member
    rule_editors: list[int] | Literal["staff"] = []
    dialogue_ttl_hours: float = Field(24, gt=0)  # an untouched /rules new dialogue is dropped

    @property
    def enabled(self) -> bool:
        return bool(self.token and self.token.get_secret_value())


class BounceImap(Section):
    """The mailbox bounces (DSN, RFC 3464) of one e-mail account arrive in."""

    host: str
    port: int = 993
    tls: Literal["ssl", "none"] = "ssl"
    username: str = ""
    password: SecretStr | None = None
    mailbox: str = "INBOX"
    every: str = "5m"  # how often the mailbox is read
    timeout: float = Field(30, gt=0)

    _every = field_validator("every")(lambda value: _duration_key(value))


class EmailAccount(Section):
    name: str = "main"
    host: str
    port: int = Field(465, ge=1, le=65535)
    tls: Literal["ssl", "starttls", "none"] = "ssl"
    username: str = ""
    password: SecretStr | None = None
    from_address: str
    from_name: str = ""
    reply_to: str = ""
    timeout: float = Field(30, gt=0)
    max_connections: int = Field(2, ge=1, le=32)
    bounce_imap: BounceImap | None = None  # read DSN bounces: rows become "undelivered"

    @field_validator("from_address", "reply_to")
    @classmethod
    def _address(cls, value: str, info: Any) -> str:
        if (value or info.field_name == "from_address") and not EMAIL_ADDRESS.fullmatch(value):
            raise ValueError(f"{value!r} is not an e-mail address (use e.g. service@example.ru)")
        return value


class EmailConfig(Section):
    accounts: list[EmailAccount] = []


class SmsPortal(Section):
    model_config = ConfigDict(extra="allow")  # the http kind carries its own keys

    name: str
    kind: Literal["smsru", "smsc", "smsaero", "devino", "prostor", "sms16", "mirsms", "http"]
    base_url: str = ""
    sender: str = ""
    api_id: SecretStr | None = None
    login: str = ""
    password: SecretStr | None = None
    api_key: SecretStr | None = None
    email: str = ""
    timeout: float = Field(15, gt=0)
    max_connections: int = Field(8, ge=1, le=64)
    down_after: int = Field(3, ge=1)  # consecutive failures that mark the portal down
    cooldown: str = "5m"  # then the primary is probed again


class SmsModem(Section):
    name: str
    port: str
    baudrate: int = 115200
    pin: SecretStr | None = None
    smsc: str = ""
    command_timeout: float = Field(10, gt=0)
    send_timeout: float = Field(60, gt=0)
    delivery_reports: bool = True  # TP-SRR on each submit; reports mark rows delivered


class SmsConfig(Section):
    portals: list[SmsPortal] = []
    modems: list[SmsModem] = []
    max_segments: int = Field(6, ge=1, le=255)


class ScheduleConfig(Section):
    daily_at: str = "10:00"
    holidays: list[date] = []
    retry_backoff: list[str] = ["1m", "5m", "15m", "1h", "3h"]
    retention_days: int = Field(365, ge=1)

    @field_validator("retry_backoff")
    @classmethod
    def _ladder(cls, value: list[str]) -> list[str]:
        for step in value:
            parse_duration(step)
        return value

    @field_validator("daily_at")
    @classmethod
    def _daily_at(cls, value: str) -> str:
        if not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", value):
            raise ValueError('use "HH:MM", e.g. "10:00"')
        return value

    @property
    def backoff(self) -> list[timedelta]:
        return [parse_duration(step) for step in self.retry_backoff]


class WebConfig(Section):
    """The managers' pages under ``/web/`` (login links come from the bot or the CLI)."""

    enabled: bool = True
    base_url: str = ""  # how browsers reach the service; default http://<webhook.listen>
    session_hours: float = Field(12, gt=0, le=24 * 90)
    secret: SecretStr | None = None  # signs links and cookies; default: one kept in the database

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("use the address browsers open, e.g. https://vestnik.example.ru")
        return value

    @property
    def secure(self) -> bool:
        return self.base_url.startswith("https://")


def _duration_key(value: str) -> str:
    parse_duration(value)
    return value


def _hh_mm(value: str, empty_ok: bool = False) -> str:
    if empty_ok and not value.strip():
        return ""
    if not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", value):
        raise ValueError('use "HH:MM", e.g. "09:00"' + (' or "" for none' if empty_ok else ""))
    return value


class ReceiptsConfig(Section):
    """Delivery receipts: portal callbacks on ``public_url`` and polling of the rest."""

    public_url: str = ""  # how portals reach this service, e.g. https://vestnik.example.ru
    poll_every: str = "10s"  # how often the poller looks for rows due a poll
    first_poll: str = "20s"  # after the send; then the wait doubles
    max_poll_interval: str = "1h"
    horizon: str = "48h"  # after this, a row without a receipt stays "sent"
    batch: int = Field(100, ge=1, le=1000)  # ids per status request

    _durations = field_validator("poll_every", "first_poll", "max_poll_interval", "horizon")(
        _duration_key
    )

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("use the address portals reach, e.g. https://vestnik.example.ru")
        return value.rstrip("/")


class AlertsConfig(Section):
    """Staff alerts: Telegram to telegram.admins, the inbox of ``staff``, e-mail to
    ``emails``. Alerts are sent directly, never through the journal, so they cannot loop."""

    enabled: bool = True
    every: str = "10m"  # at most one failure alert per channel this often
    min_balance: float | None = None  # alert when a portal's balance drops below
    max_lag: str = "15m"  # alert when a due row has waited longer than this
    digest_at: str = "09:00"  # the daily digest, service time zone; "" for none
    staff: list[str] = []  # staff ids whose internal inbox gets the alerts
    emails: list[str] = []  # addresses, through the first [[email.accounts]] entry
    first_errors: int = Field(3, ge=1, le=20)  # error lines quoted per alert

    _durations = field_validator("every", "max_lag")(_duration_key)

    @field_validator("digest_at")
    @classmethod
    def _digest_at(cls, value: str) -> str:
        return _hh_mm(value, empty_ok=True)


class ConversationsConfig(Section):
    """Customers' answers routed to staff, staff replies back (docs/conversations.md)."""

    enabled: bool = True
    staff_chat: int | None = None  # a group or (forum) supergroup id, e.g. -1001234567890
    stop_words: list[str] = ["STOP", "СТОП", "ОТПИСАТЬСЯ", "ОТПИСКА"]
    flood_per_minute: int = Field(10, ge=1)  # more inbound messages a minute are held back
    sms_inbound: bool = True  # read SMS arriving at the modems (and delete them from the SIM)
    sms_sweep_seconds: float = Field(60, ge=1)  # how often stored SMS are listed anyway

    @field_validator("staff_chat")
    @classmethod
    def _staff_chat(cls, value: int | None) -> int | None:
        if value is not None and value >= 0:
            raise ValueError(
                "a group id is negative, e.g. -1001234567890 (see "
                "docs/conversations.md for how to find it)"
            )
        return value


class Config(Section):
    service: ServiceConfig = ServiceConfig()
    webhook: WebhookConfig = WebhookConfig()
    telegram: TelegramConfig = TelegramConfig()
    email: EmailConfig = EmailConfig()
    sms: SmsConfig = SmsConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    web: WebConfig = WebConfig()

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

    receipts: ReceiptsConfig = ReceiptsConfig()
    alerts: AlertsConfig = AlertsConfig()
    conversations: ConversationsConfig = ConversationsConfig()

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
