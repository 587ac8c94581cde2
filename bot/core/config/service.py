"""``[service]``: the database, time zone, language, customers' quiet hours and the run
switches (dry run, lease, log level)."""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from bot.core.config.values import Section, parse_quiet_hours


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
