"""Prometheus metrics, one registry per app (no globals, so tests can build many apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._intake_metrics()
        self._dispatch_metrics()
        self._receipt_metrics()
        self._operations_metrics()

    def _intake_metrics(self) -> None:
        """Events arriving at the webhook and the journal rows planned from them."""
        self.events_accepted = Counter(
            "vestnik_events_accepted_total",
            "Events accepted by the webhook",
            registry=self.registry,
        )
        self.events_duplicate = Counter(
            "vestnik_events_duplicate_total", "Events ignored as duplicates", registry=self.registry
        )
        self.planned = Counter(
            "vestnik_notifications_planned_total",
            "Journal rows planned, by channel and initial status",
            ["channel", "status"],
            registry=self.registry,
        )

    def _dispatch_metrics(self) -> None:
        """Sends: their outcomes, how late they ran and what still waits."""
        self.notifications = Counter(
            "vestnik_notifications_total",
            "Send outcomes by channel and status (sent, retry, failed, stopped, skipped)",
            ["channel", "status"],
            registry=self.registry,
        )
        self.dispatch_latency = Histogram(
            "vestnik_dispatch_latency_seconds",
            "From due_at to the end of the send",
            ["channel"],
            registry=self.registry,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
        )
        self.queue_depth = Gauge(
            "vestnik_queue_depth",
            "Rows waiting to be sent (pending and scheduled) by channel",
            ["channel", "status"],
            registry=self.registry,
        )

    def _receipt_metrics(self) -> None:
        """Delivery receipts: applied, ignored, and how long they took to come."""
        self.receipts = Counter(
            "vestnik_receipts_total",
            "Final delivery receipts by channel, provider and status (delivered, undelivered)",
            ["channel", "provider", "status"],
            registry=self.registry,
        )
        self.receipts_ignored = Counter(
            "vestnik_receipts_ignored_total",
            "Receipts not applied: unknown (no such message), "
            "replay (already applied), forged (wrong URL secret), malformed",
            ["provider", "reason"],
            registry=self.registry,
        )
        self.receipt_latency = Histogram(
            "vestnik_receipt_latency_seconds",
            "From the send to the final receipt",
            ["channel", "provider"],
            registry=self.registry,
            buckets=(1, 5, 15, 30, 60, 120, 300, 900, 1800, 3600, 4 * 3600, 24 * 3600),
        )

    def _operations_metrics(self) -> None:
        """What the staff watch: portal balances and the alerts raised to them."""
        self.balance = Gauge(
            "vestnik_portal_balance",
            "The last balance an SMS portal stated",
            ["provider"],
            registry=self.registry,
        )
        self.alerts = Counter(
            "vestnik_alerts_total",
            "Staff alerts by kind and outcome (sent, failed)",
            ["kind", "outcome"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
