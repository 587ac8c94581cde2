"""``[receipts]``: delivery receipts — the public address portals call back on, and the
pacing of polls for the portals that must be asked."""

from __future__ import annotations

from pydantic import Field, field_validator

from bot.core.config.values import Section, duration_key


class ReceiptsConfig(Section):
    """Delivery receipts: portal callbacks on ``public_url`` and polling of the rest."""

    public_url: str = ""  # how portals reach this service, e.g. https://vestnik.example.ru
    poll_every: str = "10s"  # how often the poller looks for rows due a poll
    first_poll: str = "20s"  # after the send; then the wait doubles
    max_poll_interval: str = "1h"
    horizon: str = "48h"  # after this, a row without a receipt stays "sent"
    batch: int = Field(100, ge=1, le=1000)  # ids per status request

    _durations = field_validator("poll_every", "first_poll", "max_poll_interval", "horizon")(
        duration_key
    )

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("use the address portals reach, e.g. https://vestnik.example.ru")
        return value.rstrip("/")
