"""One attempt at one claimed row, top to bottom: the checks before sending (channel not
configured, nowhere to go when looked up again, the stop list, a dry run), the send within
the lease, and the outcome (``outcomes.py``) recorded while the lease is still ours.

Every exception is an outcome: a send that raises climbs the retry ladder like any transient
failure; a database that is down is waited for about a lease, after which the lease expires
and the row is recovered (never sent twice while it is ours).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any, Protocol

from bot.core.config import Config, parse_duration
from bot.core.metrics import Metrics
from bot.core.retry import RetryPolicy
from bot.core.sending import OutgoingMessage, Sender, SendError
from bot.core.timeutil import Clock
from bot.pipeline.outcomes import Outcome, after_failure, after_success, error_text, unclassified
from storage.base import Storage, StorageUnavailable, Tx
from storage.models import JournalRow, StopEntry

log = logging.getLogger("vestnik.dispatcher")


class DueStage(Protocol):
    """The step between claiming a row and sending it (:class:`bot.pipeline.due.ResolveWhenDue`).

    Called with a claimed row right before it is sent; returns the row to send (status
    "sending", possibly on another channel or address), or the row with its final status
    (skipped, stopped, failed) and reason, which is recorded instead of sending."""

    async def __call__(self, row: JournalRow) -> JournalRow: ...


class Attempts:
    """Sends claimed rows and records what became of them, under the lease of ``owner``."""

    def __init__(
        self,
        storage: Storage,
        senders: Mapping[str, Sender],
        config: Config,
        clock: Clock,
        metrics: Metrics,
        *,
        owner: str,
        lease: timedelta,
        due_stage: DueStage | None,
        stopping: Callable[[], bool],
    ) -> None:
        self.storage = storage
        self.senders = senders
        self.config = config
        self.clock = clock
        self.metrics = metrics
        self.owner = owner
        self.lease = lease
        self.due_stage = due_stage  # the look-up-when-due step (bot.pipeline.due)
        self.stopping = stopping  # the dispatcher is stopping: stop waiting for the database
        self.policy = RetryPolicy(tuple(config.schedule.backoff))
        self.first_receipt_poll = parse_duration(config.receipts.first_poll)
        self.last_error: dict[str, str] = {}  # channel -> the last failure, until a success

    async def run(self, row: JournalRow, sender: Sender | None) -> None:
        """One attempt; whatever happens, it ends as an outcome or a lease left to expire."""
        try:
            await self._attempt(row, sender)
        except StorageUnavailable as exc:
            log.warning(
                "row %s: outcome not recorded (storage down); the lease will expire: %s",
                row.id,
                exc,
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # still an attempt: the row climbs the ladder, never loops
            log.exception("row %s: unexpected failure", row.id)
            try:
                await self._failure(row, unclassified(exc))
            except Exception:
                log.exception("row %s: the failure could not be recorded", row.id)

    async def _attempt(self, row: JournalRow, sender: Sender | None) -> None:
        assert row.id is not None
        ready = await self._ready(row, sender)
        if ready is not None:
            await self._send(*ready)

    # before sending -----------------------------------------------------------------------------
    async def _ready(
        self, row: JournalRow, sender: Sender | None
    ) -> tuple[JournalRow, Sender] | None:
        """The row and its sender if it is to be sent now; else its final status is recorded."""
        if sender is None:
            await self._finish(row, "skipped", reason=f"channel {row.channel} is not configured")
            return None
        if self.due_stage is not None:
            row = await self.due_stage(row)
            if row.status != "sending":  # looked up again and found nowhere to go
                await self._finish(
                    row, row.status, reason=row.reason, error=row.error, failed_at=row.failed_at
                )
                return None
            sender = self.senders.get(row.channel)
            if sender is None:
                await self._finish(
                    row, "skipped", reason=f"channel {row.channel} is not configured"
                )
                return None
        async with self.storage.reader() as tx:
            stop = await tx.find_stop(row.plan.stop_keys, row.event_type, row.channel)
        if stop is not None:
            await self._finish(row, "stopped", reason=f"stop list entry {stop.id}")
            return None
        if self.config.service.dry_run:
            await self._finish(row, "skipped", reason="dry run: not sent (service.dry_run)")
            return None
        return row, sender

    def _message(self, row: JournalRow) -> OutgoingMessage:
        return OutgoingMessage(
            row_id=row.id or 0,
            channel=row.channel,
            address=row.address or "",
            text=row.text or "",
            subject=row.subject or "",
            html=row.html,
            providers=list(row.plan.providers),
            sender_name=row.plan.sender_name,
            language=row.plan.language or self.config.service.language,
            recipient_name=row.recipient_name or "",
            recipient_id=row.recipient_id,
            recipient_role=row.recipient_role,
        )

    # the send -----------------------------------------------------------------------------------
    async def _send(self, row: JournalRow, sender: Sender) -> None:
        message = self._message(row)
        timeout = max(1.0, self.lease.total_seconds() - 5)
        try:
            result = await asyncio.wait_for(sender.send(message), timeout)
        except SendError as exc:
            await self._failure(row, exc)
            return
        except TimeoutError:
            await self._failure(row, SendError(f"no answer within {timeout:.0f} s"))
            return
        except Exception as exc:  # not classified by the sender: an attempt all the same
            log.warning("row %s: %s sender raised %s", row.id, row.channel, unclassified(exc))
            await self._failure(row, unclassified(exc))
            return
        now = self.clock.now()
        await self._record_outcome(row, after_success(row, result, now, self.first_receipt_poll))
        if row.due_at is not None:
            self.metrics.dispatch_latency.labels(row.channel).observe(
                max(0.0, (now - row.due_at).total_seconds())
            )
        self.last_error.pop(row.channel, None)

    async def _failure(self, row: JournalRow, exc: SendError) -> None:
        self.last_error[row.channel] = error_text(exc)
        outcome = after_failure(row, exc, self.policy, self.clock.now())
        if outcome.retry_in is not None:
            log.info("row %s: %s; retry in %s", row.id, error_text(exc), outcome.retry_in)
        await self._record_outcome(row, outcome)

    # recording ----------------------------------------------------------------------------------
    async def _record_outcome(self, row: JournalRow, outcome: Outcome) -> None:
        on_tx = self._deactivate(row, outcome.fields["error"]) if outcome.deactivate_chat else None
        await self._finish(
            row, outcome.status, metric=outcome.metric, on_tx=on_tx, **outcome.fields
        )

    def _deactivate(self, row: JournalRow, error: str) -> Callable[[Tx], Awaitable[None]]:
        """Telegram 403: the chat link goes inactive and a stop entry explains why."""

        async def apply(tx: Tx) -> None:
            if row.address and row.address.lstrip("-").isdigit():
                await tx.set_link_active(int(row.address), False)
                await tx.add_stop(
                    StopEntry(
                        who=row.address,
                        who_kind="chat",
                        channel="telegram",
                        reason=f"telegram: {error}",
                        author="telegram",
                        created_at=self.clock.now(),
                    )
                )

        return apply

    async def _finish(
        self,
        row: JournalRow,
        status: str,
        *,
        metric: str | None = None,
        on_tx: Callable[[Tx], Awaitable[None]] | None = None,
        **fields: Any,
    ) -> None:
        assert row.id is not None

        async def job(tx: Tx) -> bool:
            held = await tx.finish(row.id, self.owner, status=status, **fields)  # type: ignore[arg-type]
            if held and on_tx is not None:
                await on_tx(tx)
            return held

        if not await self._record(job):
            log.warning("row %s: lease lost before the outcome was recorded", row.id)
        self.metrics.notifications.labels(row.channel, metric or status).inc()

    async def _record(self, job: Callable[[Tx], Awaitable[bool]]) -> bool:
        """Write an outcome; while the database is down, keep trying for about a lease (the
        row stays ours until recovered), so a short outage does not send the row twice."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + max(1.0, self.lease.total_seconds() - 5)
        delay = 0.2
        while True:
            try:
                return await self.storage.write(job)
            except StorageUnavailable:
                if self.stopping() or loop.time() + delay > give_up:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
