"""``vestnik check-config``: every problem of the configuration in one run (the model's,
the cross-key ones and the SMS portals' credentials), and warnings for values copied from
``config.example.toml`` that are placeholders, not credentials."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.core.config import Config, SmsConfig, read_config_data, validate_config

# values config.example.toml shows as examples: left in place they cannot work
PLACEHOLDERS = {
    "app-password",
    "secret",
    "00000000-0000-0000-0000-000000000000",
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "random-string",
    "another-random-string",
    "123456:ABC...",
    "1234",
    "sever",
    "owner@example.ru",
    "service@example.ru",
}


@dataclass
class ConfigReport:
    config: Config | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)


def _portal_problems(sms: SmsConfig) -> list[tuple[str, str]]:
    if not sms.portals:
        return []
    from senders.sms import portal_problems

    return portal_problems(sms)


def _placeholders(data: Any, key: str = "") -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if isinstance(data, dict):
        for name, value in data.items():
            out += _placeholders(value, f"{key}.{name}" if key else str(name))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            out += _placeholders(value, f"{key}[{index}]")
    elif isinstance(data, str) and data in PLACEHOLDERS:
        out.append(
            (
                key,
                f"{data!r} is the example value from config.example.toml, not a "
                "real one: put your own here (or in the environment)",
            )
        )
    return out


def check_config(path: str | Path | None, environ: dict[str, str] | None = None) -> ConfigReport:
    """Everything wrong with the config at ``path``, errors and warnings, all at once."""
    from bot.core.config import ConfigError

    report = ConfigReport()
    try:
        data = read_config_data(path, environ)
    except ConfigError as exc:
        report.errors = exc.problems
        return report
    report.config, report.errors = validate_config(data)
    if report.config is not None:
        report.errors += _portal_problems(report.config.sms)
    else:  # the SMS section may still be checkable on its own
        try:
            sms = SmsConfig.model_validate(data.get("sms", {}))
        except Exception:  # its own errors are already among the model's
            sms = None
        if sms is not None:
            report.errors += [
                (key, msg) for key, msg in _portal_problems(sms) if key.startswith("sms.")
            ]
    report.warnings = _placeholders(data)
    return report
