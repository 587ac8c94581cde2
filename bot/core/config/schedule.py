"""``[schedule]``: the daily run's time, holidays, the retry ladder and how long journal
rows are kept."""

from __future__ import annotations

import re
from datetime import date, timedelta

from pydantic import Field, field_validator

from bot.core.config.values import Section, parse_duration


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
