"""The retry policy as data: the backoff ladder from ``schedule.retry_backoff``.

A transient failure after attempt *n* waits ``ladder[n-1]`` (with up to 10% jitter so a
recovering portal is not hit by every row at once); when the ladder is exhausted the row
fails. Permanent failures never reach the ladder.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    ladder: tuple[timedelta, ...]
    jitter: float = 0.1

    @property
    def max_attempts(self) -> int:
        return len(self.ladder) + 1

    def delay_after(self, attempts: int) -> timedelta | None:
        """The wait after ``attempts`` failed attempts, or None when it is time to give up."""
        if attempts < 1 or attempts > len(self.ladder):
            return None
        base = self.ladder[attempts - 1]
        return base + base * random.uniform(0, self.jitter)
