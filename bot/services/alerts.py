"""Staff alerts: failed and undelivered rows grouped per channel, and the daily digest.

An alert goes straight to the channels' senders — Telegram to ``telegram.admins``, the
internal inbox of ``alerts.staff``, e-mail to ``alerts.emails`` — and never through the
journal, so an alert that cannot be sent is logged and counted
(``vestnik_alerts_total{outcome="failed"}``), never alerted about: alerts cannot loop.

Failures are grouped: at most one message per channel per ``alerts.every``, with the count
and the first errors. Each channel keeps a cursor (the last failure it reported) and the time
of its last alert in the meta table, so a restart neither repeats nor loses them.
The other watches (portals, balances, modems, queue lag) are in bot/services/watch.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from markupsafe import escape

from bot.core.alert_texts import alert_text
from bot.core.channels import CHANNELS
from bot.core.config import Config, parse_duration
from bot.core.metrics import Metrics
from bot.core.sending import OutgoingMessage, Sender, SendError
from bot.core.timeutil import Clock, parse_rfc3339, rfc3339
from storage.base import Storage, Tx
from storage.models import JournalRow

log = logging.getLogger("vestnik.alerts")

# + channel: {"cursor": failed_at, "row": id of the last row reported, "last": alert time}
STATE_KEY = "alerts.failures."
SEND_TIMEOUT = 30.0  # seconds per target
ERROR_CHARS = 200


@dataclass(frozen=True, slots=True)
class Target:
    channel: str  # telegram | internal | email
    address: str


class Notifier:
    """Sends one alert to every configured target; failures are logged, never alerted."""

    def __init__(self, config: Config, senders: Mapping[str, Sender], metrics: Metrics) -> None:
        self.senders = senders
        self.metrics = metrics
        self.lang = config.service.language
        self.targets = (
            [Target("telegram", str(chat)) for chat in config.telegram.admins]
            + [Target("internal", staff) for staff in config.alerts.staff]
            + [Target("email", address) for address in config.alerts.emails]
        )

    async def notify(self, kind: str, subject: str, text: str) -> int:
        """Returns how many targets got it."""
        reached = 0
        for target in self.targets:
            sender = self.senders.get(target.channel)
            if sender is None:
                log.warning(
                    "alert %s not sent to %s %s: the channel is not configured",
                    kind,
                    target.channel,
                    target.address,
                )
                self.metrics.alerts.labels(kind, "failed").inc()
                continue
            body = text if target.channel == "email" else str(escape(text))
            message = OutgoingMessage(
                row_id=0,
                channel=target.channel,
                address=target.address,
                text=body,
                subject=subject,
                language=self.lang,
            )
            try:
                await asyncio.wait_for(sender.send(message), SEND_TIMEOUT)
            except (SendError, TimeoutError) as exc:
                log.warning(
                    "alert %s not sent to %s %s: %s",
                    kind,
                    target.channel,
                    target.address,
                    exc or "timeout",
                )
                self.metrics.alerts.labels(kind, "failed").inc()
                continue
            except Exception:  # an alert must never take a periodic job down
                log.exception("alert %s not sent to %s %s", kind, target.channel, target.address)
                self.metrics.alerts.labels(kind, "failed").inc()
                continue
            reached += 1
            self.metrics.alerts.labels(kind, "sent").inc()
        return reached


class FailureAlerts:
    """One message per channel per ``alerts.every`` about its failed/undelivered rows."""

    def __init__(self, storage: Storage, clock: Clock, config: Config, notifier: Notifier) -> None:
        self.storage = storage
        self.clock = clock
        self.notifier = notifier
        self.every = parse_duration(config.alerts.every)
        self.first = config.alerts.first_errors
        self.lang = config.service.language
        self.tz = config.service.tz

    async def _state(self) -> dict[str, dict[str, Any]]:
        now = self.clock.now()

        async def job(tx: Tx) -> dict[str, dict[str, Any]]:
            out = {}
            for channel in CHANNELS:
                raw = await tx.get_meta(STATE_KEY + channel)
                if raw is None:  # first run: failures of the last alerts.every on
                    state = {"cursor": now - self.every, "row": 0, "last": None}
                    await tx.set_meta(STATE_KEY + channel, _dump(state))
                else:
                    loaded = json.loads(raw)
                    state = {
                        "cursor": parse_rfc3339(loaded.get("cursor")),
                        "row": int(loaded.get("row") or 0),
                        "last": parse_rfc3339(loaded.get("last")),
                    }
                out[channel] = state
            return out

        return await self.storage.write(job)

    async def run(self) -> int:
        """One check; returns the number of alerts sent."""
        now, states = self.clock.now(), await self._state()
        since = min(state["cursor"] or now for state in states.values())
        async with self.storage.reader() as tx:
            rows = await tx.failures_since(since)
        by_channel: dict[str, list[JournalRow]] = defaultdict(list)
        for row in rows:
            state = states.get(row.channel)
            if state is not None and (row.failed_at, row.id) > (state["cursor"], state["row"]):
                by_channel[row.channel].append(row)
        sent = 0
        for channel, failed in by_channel.items():
            last = states[channel]["last"]
            if last is not None and now - last < self.every:
                continue  # grouped into the next message
            await self._alert(channel, failed, states[channel]["cursor"] or now)
            await self._save(
                channel, {"cursor": failed[-1].failed_at, "row": failed[-1].id, "last": now}
            )
            sent += 1
        return sent

    async def _save(self, channel: str, state: dict[str, Any]) -> None:
        async def job(tx: Tx) -> None:
            await tx.set_meta(STATE_KEY + channel, _dump(state))

        await self.storage.write(job)

    async def _alert(self, channel: str, failed: list[JournalRow], since: datetime) -> None:
        lines = [
            alert_text(
                "failures.line",
                self.lang,
                id=row.id,
                address=row.address or row.recipient_id or "-",
                error=(row.error or row.status)[:ERROR_CHARS],
            )
            for row in failed[: self.first]
        ]
        text = alert_text(
            "failures",
            self.lang,
            channel=channel,
            count=len(failed),
            since=_local(since, self.tz),
            errors="\n".join(lines),
        )
        await self.notifier.notify(
            "failures", alert_text("failures.subject", self.lang, channel=channel), text
        )


async def digest_text(
    storage: Storage, until: datetime, config: Config, balances: Mapping[str, str | None]
) -> str:
    """Sent / delivered / failed per channel and rule over the day, balances, top errors."""
    lang, since = config.service.language, until - timedelta(days=1)
    async with storage.reader() as tx:
        counts = await tx.digest_counts(since, until)
        errors = await tx.top_errors(since)
    lines = [alert_text("digest.head", lang, until=_local(until, config.service.tz))]
    for (channel, rule), numbers in sorted(counts.items()):
        lines.append(
            alert_text(
                "digest.row",
                lang,
                channel=channel,
                rule=rule,
                sent=numbers.get("sent", 0),
                delivered=numbers.get("delivered", 0),
                failed=numbers.get("failed", 0),
            )
        )
    if not counts:
        lines.append(alert_text("digest.nothing", lang))
    if balances:
        lines.append(
            alert_text(
                "digest.balances",
                lang,
                balances=", ".join(
                    f"{name} {value or '?'}" for name, value in sorted(balances.items())
                ),
            )
        )
    if errors:
        lines.append(alert_text("digest.errors", lang))
        lines += [
            alert_text("digest.error", lang, count=n, error=error[:ERROR_CHARS])
            for error, n in errors
        ]
    return "\n".join(lines)


def _dump(state: Mapping[str, Any]) -> str:
    return json.dumps(
        {
            key: rfc3339(value) if isinstance(value, datetime) else value
            for key, value in state.items()
        }
    )


def _local(moment: datetime, tz: object) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")  # type: ignore[arg-type]
