"""What one attempt leaves on its journal row: sent with the provider's answer, pending for a
retry, or failed. Pure decisions, no I/O; ``attempts.py`` records them under the row's lease.

The retry policy is data (:class:`bot.core.retry.RetryPolicy`, the ``schedule.retry_backoff``
ladder) read here in one place:

* a permanent error fails the row at once (a blocked Telegram bot also deactivates the chat);
* a transient error waits the provider's ``retry_after`` if it gave one, else the ladder's
  step for the attempts made so far;
* the ladder exhausted, the row fails; an error that is not an attempt (a rate limit) fails
  it once the attempts already made reach ``max_attempts``;
* an exception no sender classified is a transient failure that counts (:func:`unclassified`),
  so a row never cycles forever.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.core.retry import RetryPolicy
from bot.core.sending import PermanentError, SendError, SendResult, TransientError
from storage.models import JournalRow


@dataclass(frozen=True, slots=True)
class Outcome:
    """The row's next status and the journal fields that go with it."""

    status: str  # "sent", "pending" (a retry) or "failed"
    fields: dict[str, Any]
    metric: str | None = None  # the notifications metric's label when not the status
    retry_in: timedelta | None = None
    deactivate_chat: bool = False


def unclassified(exc: BaseException) -> TransientError:
    """An exception no sender classified: a transient failure that counts as an attempt, so
    after the ladder the row fails with this text instead of cycling forever."""
    return TransientError(f"{type(exc).__name__}: {exc}"[:500])


def after_success(
    row: JournalRow, result: SendResult, now: datetime, first_receipt_poll: timedelta
) -> Outcome:
    fields: dict[str, Any] = {
        "sent_at": now,
        "attempts": row.attempts + 1,
        "error": result.hops,
        "reason": None,
    }
    if result.provider:
        fields["provider"] = result.provider
    if result.provider_message_id:
        fields["provider_message_id"] = result.provider_message_id
    if result.segments:
        fields["segments"] = result.segments
    if result.pollable:  # the receipt poller asks the provider later
        fields["receipt_poll_at"] = now + first_receipt_poll
    return Outcome("sent", fields)


def error_text(exc: SendError) -> str:
    """What goes into the journal's ``error`` (and the channel's last error)."""
    return str(exc) or type(exc).__name__


def after_failure(row: JournalRow, exc: SendError, policy: RetryPolicy, now: datetime) -> Outcome:
    error = error_text(exc)
    attempts = row.attempts + (1 if exc.counts_as_attempt else 0)
    fields: dict[str, Any] = {"error": error, "attempts": attempts}
    if exc.provider:
        fields["provider"] = exc.provider
    if isinstance(exc, PermanentError):
        return Outcome("failed", {"failed_at": now, **fields}, deactivate_chat=exc.deactivate_chat)
    delay = (
        timedelta(seconds=exc.retry_after)
        if exc.retry_after is not None
        else policy.delay_after(attempts)
    )
    if delay is None or (not exc.counts_as_attempt and attempts >= policy.max_attempts):
        return Outcome("failed", {"failed_at": now, **fields})
    return Outcome("pending", {"due_at": now + delay, **fields}, metric="retry", retry_in=delay)
