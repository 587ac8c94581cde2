"""Delivery receipts applied to the journal, from portal callbacks, the receipt poller and
the modem's status reports.

A receipt names the provider's message id. The row it belongs to is found by provider and id
(and phone, when the receipt names one); a final verdict turns the ``sent`` row into
``delivered`` or ``undelivered``, a "still trying" one only updates ``receipt``. Receipts for
ids nobody sent are *unknown*, receipts that change nothing are *replays*: both are ignored
and counted (``vestnik_receipts_ignored_total``).

The poller asks each portal that has a status call about the rows still ``sent``: first
``receipts.first_poll`` after the send, then after a wait that doubles with the row's age
(capped at ``receipts.max_poll_interval``), until ``receipts.horizon``.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.config import Config, ReceiptsConfig, parse_duration
from bot.core.metrics import Metrics
from bot.core.sending import Delivery, DeliveryReport, SendError
from bot.core.timeutil import Clock
from senders.sms.portal import Portal
from storage.base import Storage, Tx
from storage.models import JournalRow

log = logging.getLogger("vestnik.receipts")

SECRET_KEY = "receipts.secret."  # + portal name, in the meta table
POLL_LIMIT = 1000  # rows taken per poller run


@dataclass(slots=True)
class Applied:
    """What one batch of receipts did."""

    final: list[int] = field(default_factory=list)  # row ids now delivered or undelivered
    noted: int = 0  # "still trying" receipts recorded
    unknown: int = 0
    replays: int = 0


def _same_phone(row: JournalRow, phone: str | None) -> bool:
    if not phone:
        return True
    # E.164 with or without "+"; e-mail addresses in any case
    return (row.address or "").lstrip("+").lower() == phone.lstrip("+").lower()


class ReceiptBook:
    """Applies receipts of one provider to the journal and counts them."""

    def __init__(self, storage: Storage, clock: Clock, metrics: Metrics) -> None:
        self.storage = storage
        self.clock = clock
        self.metrics = metrics
        # set by the service at start: the portals that post callbacks, and their URL secrets
        self.portals: Mapping[str, Portal] = {}
        self.secrets: dict[str, str] = {}

    async def apply(
        self,
        provider: str,
        reports: Sequence[DeliveryReport],
        *,
        rows: Mapping[str, list[JournalRow]] | None = None,
    ) -> Applied:
        """Apply ``reports`` in one transaction. ``rows`` (message id -> rows) saves the
        look-up when the caller has them already (the poller)."""
        if not reports:
            return Applied()
        now = self.clock.now()

        async def job(tx: Tx) -> tuple[Applied, list[JournalRow]]:
            found = rows
            if found is None:
                by_id: dict[str, list[JournalRow]] = defaultdict(list)
                for row in await tx.rows_by_provider_ids(
                    provider, sorted({r.message_id for r in reports})
                ):
                    by_id[row.provider_message_id or ""].append(row)
                found = by_id
            done, finals = Applied(), []
            for item in reports:
                matching = [
                    row for row in found.get(item.message_id, []) if _same_phone(row, item.phone)
                ]
                if not matching:
                    done.unknown += 1
                    continue
                for row in matching:
                    assert row.id is not None
                    if item.state is Delivery.TRYING:
                        changed = await tx.note_receipt(row.id, item.words)
                        done.noted += changed
                    else:
                        status = "delivered" if item.state is Delivery.DELIVERED else "undelivered"
                        changed = await tx.record_receipt(
                            row.id,
                            status=status,
                            receipt=item.words,
                            at=item.at or now,
                            error=f"{provider}: {item.words}",
                        )
                        if changed:
                            done.final.append(row.id)
                            finals.append(row)
                    if not changed:
                        done.replays += 1
            return done, finals

        done, finals = await self.storage.write(job)
        self._count(provider, reports, done, finals, now)
        return done

    def _count(
        self,
        provider: str,
        reports: Sequence[DeliveryReport],
        done: Applied,
        finals: list[JournalRow],
        now: datetime,
    ) -> None:
        final_state = {r.message_id: r for r in reports}
        for row in finals:
            item = final_state.get(row.provider_message_id or "")
            status = (
                "delivered"
                if item is not None and item.state is Delivery.DELIVERED
                else "undelivered"
            )
            self.metrics.receipts.labels(row.channel, provider, status).inc()
            if row.sent_at is not None:
                at = item.at if item is not None and item.at else now
                self.metrics.receipt_latency.labels(row.channel, provider).observe(
                    max(0.0, (at - row.sent_at).total_seconds())
                )
        if done.unknown:
            self.metrics.receipts_ignored.labels(provider, "unknown").inc(done.unknown)
        if done.replays:
            self.metrics.receipts_ignored.labels(provider, "replay").inc(done.replays)

    def ignored(self, provider: str, reason: str) -> None:
        self.metrics.receipts_ignored.labels(provider, reason).inc()

    async def secret_matches(self, portal: str, given: str) -> bool:
        """Compare in constant time. On a mismatch the stored secret is read again: two
        processes starting at once may both have made one, and the last write won."""
        if portal not in self.portals:
            return False
        if hmac.compare_digest(self.secrets[portal].encode(), given.encode()):
            return True
        async with self.storage.reader() as tx:
            stored = await tx.get_meta(SECRET_KEY + portal)
        if not stored or stored == self.secrets[portal]:
            return False
        self.secrets[portal] = stored
        return hmac.compare_digest(stored.encode(), given.encode())


async def callback_secrets(storage: Storage, names: Sequence[str]) -> dict[str, str]:
    """The URL secret of each portal's callback address, generated once and kept in the
    database (every process of the service answers the same URL)."""

    async def job(tx: Tx) -> dict[str, str]:
        out = {}
        for name in names:
            value = await tx.get_meta(SECRET_KEY + name)
            if not value:
                value = secrets.token_urlsafe(24)
                await tx.set_meta(SECRET_KEY + name, value)
            out[name] = value
        return out

    return await storage.write(job)


def callback_url(public_url: str, portal: str, secret: str) -> str:
    return f"{public_url}/receipts/{portal}/{secret}"


class ReceiptPoller:
    """Asks the portals about rows still waiting for a final receipt."""

    def __init__(
        self, book: ReceiptBook, portals: Mapping[str, Portal], config: ReceiptsConfig
    ) -> None:
        self.book = book
        self.portals = portals
        self.batch = config.batch
        self.first = parse_duration(config.first_poll)
        self.cap = parse_duration(config.max_poll_interval)
        self.horizon = parse_duration(config.horizon)

    def next_poll(self, row: JournalRow, now: datetime) -> datetime | None:
        """The wait doubles with the row's age; ``None`` once the horizon has passed."""
        sent = row.sent_at or now
        age = now - sent
        if age >= self.horizon:
            return None
        wait = min(self.cap, max(self.first, age))
        return min(now + wait, sent + self.horizon)

    async def run(self) -> int:
        """One pass; returns the number of rows asked about."""
        storage, now = self.book.storage, self.book.clock.now()
        async with storage.reader() as tx:
            due = await tx.due_receipt_polls(now, POLL_LIMIT)
        by_provider: dict[str, list[JournalRow]] = defaultdict(list)
        dropped: list[JournalRow] = []
        for row in due:
            portal = self.portals.get(row.provider or "")
            if portal is None or not portal.has_status or self.next_poll(row, now) is None:
                dropped.append(row)  # no status call (modem, removed portal) or too old
            else:
                by_provider[row.provider or ""].append(row)
        if dropped:
            await self._reschedule(dropped, now, give_up=True)
        asked = 0
        for provider, rows in by_provider.items():
            for start in range(0, len(rows), self.batch):
                asked += await self._poll(provider, rows[start : start + self.batch], now)
        return asked

    async def _poll(self, provider: str, rows: list[JournalRow], now: datetime) -> int:
        portal = self.portals[provider]
        try:
            reports = await portal.statuses(
                [(row.provider_message_id or "", row.address or "") for row in rows]
            )
        except SendError as exc:
            log.warning("receipts: %s status call failed: %s", provider, exc)
            reports = []
        by_id: dict[str, list[JournalRow]] = defaultdict(list)
        for row in rows:
            by_id[row.provider_message_id or ""].append(row)
        asked = {row.provider_message_id for row in rows}
        applied = await self.book.apply(
            provider, [r for r in reports if r.message_id in asked], rows=by_id
        )
        final = set(applied.final)
        await self._reschedule([row for row in rows if row.id not in final], now)
        return len(rows)

    async def _reschedule(
        self, rows: list[JournalRow], now: datetime, *, give_up: bool = False
    ) -> None:
        async def job(tx: Tx) -> None:
            for row in rows:
                assert row.id is not None
                await tx.set_receipt_poll(row.id, None if give_up else self.next_poll(row, now))

        await self.book.storage.write(job)


async def receipt_addresses(storage: Storage, config: Config) -> list[tuple[str, str, str]]:
    """(portal, kind, callback URL) of each configured portal that posts status callbacks,
    for ``vestnik receipt-urls``: what to paste into the portal's cabinet."""
    from senders.sms import PORTAL_KINDS

    names = [
        (entry.name, entry.kind)
        for entry in config.sms.portals
        if PORTAL_KINDS[entry.kind].has_callback
    ]
    found = await callback_secrets(storage, [name for name, _ in names])
    base = config.receipts.public_url or "<receipts.public_url>"
    return [(name, kind, callback_url(base, name, found[name])) for name, kind in names]
