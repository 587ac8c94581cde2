"""``[alerts]``: staff alerts — who gets them, how often, the thresholds that raise them
and the daily digest."""

from __future__ import annotations

from pydantic import Field, field_validator

from bot.core.config.values import Section, duration_key, hh_mm


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

    _durations = field_validator("every", "max_lag")(duration_key)

    @field_validator("digest_at")
    @classmethod
    def _digest_at(cls, value: str) -> str:
        return hh_mm(value, empty_ok=True)
