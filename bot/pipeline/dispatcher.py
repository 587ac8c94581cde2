"""The dispatcher: claims due journal rows under a lease, sends them, records the outcome.

It wakes when rows are committed (``wake()``, or another process's notification) and
otherwise sleeps exactly until the next ``due_at`` (expired leases are recovered by the
periodic ``leases`` job and, at most every ``RECOVERY_EVERY``, by the loop itself). Each
channel has its own concurrency budget, so a slow channel never holds up another. Rows with ``sent_at`` or
``failed_at`` are never claimed (the DALION rule); transient failures climb the backoff
ladder, permanent ones fail at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.core.channels import CHANNELS
from bot.core.config import Config, parse_duration
from bot.core.metrics import Metrics
from bot.core.retry import RetryPolicy
from bot.core.sending import (
    OutgoingMessage,
    PermanentError,
    Sender,
    SendError,
    SendResult,
    TransientError,
)
from bot.core.timeutil import Clock
from storage.base import Storage, StorageUnavailable, Tx
from storage.models import JournalRow, StopEntry

log = logging.getLogger("vestnik.dispatcher")

IDLE_CAP = 30.0  # seconds; a safety net: other processes' commits wake us (data_version,
# NOTIFY) and dead senders' rows are the leader's to settle
RECOVERY_EVERY = timedelta(seconds=5)  # the loop's own lease recovery, at most this often
CLAIM_BATCH = 200

# Called with a claimed row right before it is sent; returns the row to send (status
# "sending", possibly on another channel or address), or the row with its final status
# (skipped, stopped, failed) and reason, which the dispatcher records instead of sending.


class DueStage(Protocol):
    """The step between claiming a row and sending it (:class:`bot.pipeline.due.ResolveWhenDue`)."""

    async def __call__(self, row: JournalRow) -> JournalRow: ...


def unclassified(exc: BaseException) -> TransientError:
    """An exception no sender classified: a transient failure that counts as an attempt, so
    after the ladder the row fails with this text instead of cycling forever."""
    return TransientError(f"{type(exc).__name__}: {exc}"[:500])


def new_owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Dispatcher:
    def __init__(
        self,
        storage: Storage,
        senders: Mapping[str, Sender],
        config: Config,
        clock: Clock,
        metrics: Metrics,
        *,
        owner: str | None = None,
        due_stage: DueStage | None = None,
    ) -> None:
        self.storage = storage
        self.senders = senders
        self.config = config
        self.clock = clock
        self.metrics = metrics
        self.owner = owner or new_owner_id()
        self.policy = RetryPolicy(tuple(config.schedule.backoff))
        self.lease = timedelta(seconds=config.service.lease_seconds)
        self.first_receipt_poll = parse_duration(config.receipts.first_poll)
        self.due_stage = due_stage  # the look-up-when-due step (bot.pipeline.due)
        self.inflight: dict[str, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._stopping = False
        self._loop_task: asyncio.Task[None] | None = None
        self._next_recovery: datetime | None = None
        self.last_error: dict[str, str] = {}

    # lifecycle ----------------------------------------------------------------------------------
    def start(self) -> None:
        self.storage.add_wakeup_listener(self.wake)
        self.clock.subscribe(self.wake)  # a clock that jumps (tests) wakes us when it moves
        self._loop_task = asyncio.create_task(self.run(), name="dispatcher")

    def wake(self) -> None:
        self._wake.set()

    async def recover_leases(self) -> int:
        """Rows whose sender died mid-send (lease expired) become pending again (a periodic
        job; the loop also does it whenever it wakes)."""
        now = self.clock.now()
        recovered = await self.storage.write(lambda tx: tx.recover_expired(now))
        if recovered:
            log.info("recovered %d rows whose lease expired", recovered)
            self.wake()
        return recovered

    async def stop(self, grace: float = 10.0) -> None:
        """Stop claiming; let in-flight sends finish for ``grace`` s; release the rest."""
        self._stopping = True
        self._wake.set()
        if self._loop_task is not None:
            await self._loop_task
        if self._tasks:
            done, pending = await asyncio.wait(self._tasks, timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        try:
            released = await self.storage.write(lambda tx: tx.release_owner(self.owner))
            if released:
                log.info("released %d unfinished rows for another run", released)
        except StorageUnavailable:
            log.warning("could not release rows at shutdown; their leases will expire")

    # the loop -------------------------------------------------------------------------------------
    def channels(self) -> list[str]:
        return list(dict.fromkeys([*self.senders, *CHANNELS]))

    async def run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                claimed = await self.tick()
                timeout = await self.sleep_time(claimed)
            except StorageUnavailable as exc:
                log.warning("storage unavailable, dispatcher pauses: %s", exc)
                timeout = 2.0
            except Exception:  # never let one bad row stop all delivery
                log.exception("dispatcher tick failed")
                timeout = 2.0
            if self._stopping:
                break
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                pass

    async def tick(self) -> int:
        now = self.clock.now()
        if (
            self._next_recovery is None
            or now >= self._next_recovery
            or now < self._next_recovery - RECOVERY_EVERY
        ):  # (a clock set back)
            self._next_recovery = now + RECOVERY_EVERY
            if await self.storage.try_leadership():  # one process recovers dead ones' leases
                await self.storage.write(lambda tx: tx.recover_expired(now))
                await self.storage.recover_dead_senders()
        async with self.storage.reader() as tx:
            due = await tx.due_by_channel(self.channels())
        claimed = 0
        for channel in self.channels():
            when = due.get(channel)
            if when is None or when > now:
                continue  # nothing due on this channel: no write transaction for it
            sender = self.senders.get(channel)
            free = self._free(channel)
            if free <= 0:
                continue
            rows = await self.storage.write(self._claim(now, channel, min(free, CLAIM_BATCH)))
            claimed += len(rows)
            for row in rows:
                self.inflight[channel] = self.inflight.get(channel, 0) + 1
                task = asyncio.create_task(self.deliver(row, sender))
                self._tasks.add(task)
                task.add_done_callback(self._done)
        return claimed

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._wake.set()

    async def sleep_time(self, claimed: int) -> float:
        """Until the earliest due row; leases that expire are the periodic recovery's job
        (and the loop's, at most every ``RECOVERY_EVERY``)."""
        async with self.storage.reader() as tx:
            due = await tx.due_by_channel(self.channels())
        now = self.clock.now()
        waiting = {c: t for c, t in due.items() if t <= now}
        # rows that fell due while this tick ran, on a channel with room: claim them now
        if any(self._free(channel) > 0 for channel in waiting):
            # (nothing claimed: another process holds them, or they became due just after
            # this tick's claim; look again shortly instead of spinning)
            return 0.0 if claimed else 0.02
        # the rest wait for a busy channel (a finishing send wakes us; never spin) or later
        ahead = [t for c, t in due.items() if c not in waiting]
        if not ahead:
            return 1.0 if waiting else IDLE_CAP
        return min(max(0.0, (min(ahead) - now).total_seconds()), IDLE_CAP)

    def _free(self, channel: str) -> int:
        sender = self.senders.get(channel)
        return (sender.concurrency if sender else CLAIM_BATCH) - self.inflight.get(channel, 0)

    # one row ----------------------------------------------------------------------------------
    async def deliver(self, row: JournalRow, sender: Sender | None) -> None:
        try:
            await self._deliver(row, sender)
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
        finally:
            self.inflight[row.channel] = self.inflight.get(row.channel, 1) - 1

    async def _deliver(self, row: JournalRow, sender: Sender | None) -> None:
        assert row.id is not None
        if sender is None:
            await self._finish(row, "skipped", reason=f"channel {row.channel} is not configured")
            return
        if self.due_stage is not None:
            row = await self.due_stage(row)
            if row.status != "sending":  # looked up again and found nowhere to go
                await self._finish(
                    row, row.status, reason=row.reason, error=row.error, failed_at=row.failed_at
                )
                return
            sender = self.senders.get(row.channel)
            if sender is None:
                await self._finish(
                    row, "skipped", reason=f"channel {row.channel} is not configured"
                )
                return
        async with self.storage.reader() as tx:
            stop = await tx.find_stop(row.plan.stop_keys, row.event_type, row.channel)
        if stop is not None:
            await self._finish(row, "stopped", reason=f"stop list entry {stop.id}")
            return
        if self.config.service.dry_run:
            await self._finish(row, "skipped", reason="dry run: not sent (service.dry_run)")
            return
        message = OutgoingMessage(
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
        await self._success(row, result)

    async def _success(self, row: JournalRow, result: SendResult) -> None:
        now = self.clock.now()
        fields: dict[str, Any] = {
            "status": "sent",
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
            fields["receipt_poll_at"] = now + self.first_receipt_poll
        await self._finish(row, **fields)
        if row.due_at is not None:
            self.metrics.dispatch_latency.labels(row.channel).observe(
                max(0.0, (now - row.due_at).total_seconds())
            )
        self.last_error.pop(row.channel, None)

    async def _failure(self, row: JournalRow, exc: SendError) -> None:
        now = self.clock.now()
        error = str(exc) or type(exc).__name__
        self.last_error[row.channel] = error
        attempts = row.attempts + (1 if exc.counts_as_attempt else 0)
        fields: dict[str, Any] = {"error": error, "attempts": attempts}
        if exc.provider:
            fields["provider"] = exc.provider
        if isinstance(exc, PermanentError):
            await self._finish(
                row,
                "failed",
                failed_at=now,
                **fields,
                on_tx=self._deactivate(row, error) if exc.deactivate_chat else None,
            )
            return
        delay = (
            timedelta(seconds=exc.retry_after)
            if exc.retry_after is not None
            else self.policy.delay_after(attempts)
        )
        if delay is None or (not exc.counts_as_attempt and attempts >= self.policy.max_attempts):
            await self._finish(row, "failed", failed_at=now, **fields)
            return
        log.info("row %s: %s; retry in %s", row.id, error, delay)
        await self._finish(row, "pending", due_at=now + delay, metric="retry", **fields)

    def _claim(
        self, now: datetime, channel: str, limit: int
    ) -> Callable[[Tx], Awaitable[list[JournalRow]]]:
        def claim(tx: Tx) -> Awaitable[list[JournalRow]]:
            return tx.claim_due(
                now=now,
                channel=channel,
                limit=limit,
                owner=self.owner,
                lease_until=now + self.lease,
            )

        return claim

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
                if self._stopping or loop.time() + delay > give_up:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
