"""Up/down bookkeeping of one portal for failover: consecutive failures, the moment it went
down, and the single probe that may test it again once its cooldown has passed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.core.timeutil import rfc3339


@dataclass
class PortalHealth:
    down_after: int  # consecutive failures that mark the portal down
    cooldown: timedelta  # how long a down portal is skipped before one probe
    failures: int = 0
    down_since: datetime | None = None
    probing: bool = False  # a probe is in flight; other sends keep skipping the portal
    last_error: str | None = None
    last_error_at: datetime | None = None
    sent: int = 0
    balance: str | None = None
    balance_at: datetime | None = None

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def probe_at(self) -> datetime | None:
        return None if self.down_since is None else self.down_since + self.cooldown

    def take(self, now: datetime) -> bool | None:
        """May a send use the portal now? ``None``: no (down, cooling off or being probed);
        ``True``: yes, as the probe of a down portal; ``False``: yes, it is up."""
        probe_at = self.probe_at()
        if probe_at is None:
            return False
        if self.probing or now < probe_at:
            return None
        self.probing = True
        return True

    def release(self) -> None:
        """The probe ended without a verdict (cancelled): the next send may probe."""
        self.probing = False

    def succeeded(self) -> None:
        self.failures = 0
        self.down_since = None
        self.probing = False
        self.sent += 1

    def answered(self) -> None:
        """The portal refused the recipient or the text: it works, whatever the message."""
        self.failures = 0
        self.down_since = None
        self.probing = False

    def failed(self, error: str, now: datetime) -> bool:
        """Count one failure; ``True`` when it marks the portal down."""
        self.failures += 1
        self.last_error, self.last_error_at = error, now
        if self.probing:  # the probe failed: down again, for another cooldown
            self.probing = False
            self.down_since = now
            return False
        if self.down_since is None and self.failures >= self.down_after:
            self.down_since = now
            return True
        return False

    def state(self) -> dict[str, Any]:
        return {
            "state": "down" if self.down else "up",
            "down_since": rfc3339(self.down_since),
            "next_probe": rfc3339(self.probe_at()),
            "consecutive_failures": self.failures,
            "last_error": self.last_error,
            "last_error_at": rfc3339(self.last_error_at),
            "sent": self.sent,
            "balance": self.balance,
            "balance_at": rfc3339(self.balance_at),
        }
