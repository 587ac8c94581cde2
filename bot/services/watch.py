"""The watches behind staff alerts other than failed rows: an SMS portal marked down or back
up, a portal balance under ``alerts.min_balance``, a modem without signal or not ready
(unplugged, SIM trouble), and a channel's queue older than ``alerts.max_lag``.

Each watch alerts on a change of state (down, then up again), not on every check; the lag
watch repeats at most every ``alerts.every`` while the queue stays behind. The states live in
memory: after a restart a standing problem is reported once more.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from bot.core.alert_texts import alert_text
from bot.core.channels import CHANNELS
from bot.core.config import Config, parse_duration
from bot.core.metrics import Metrics
from bot.core.sending import Sender
from bot.core.timeutil import Clock
from bot.services.alerts import Notifier
from storage.base import Storage

_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")


def balance_value(stated: str | None) -> float | None:
    """``"123.45 RUB"`` -> 123.45; ``None`` when the portal said nothing usable."""
    found = _NUMBER.search(stated or "")
    return float(found.group(0).replace(",", ".")) if found else None


class Watch:
    def __init__(
        self,
        storage: Storage,
        clock: Clock,
        config: Config,
        senders: Mapping[str, Sender],
        notifier: Notifier,
        metrics: Metrics,
    ) -> None:
        self.storage = storage
        self.clock = clock
        self.senders = senders
        self.notifier = notifier
        self.metrics = metrics
        self.lang = config.service.language
        self.tz = config.service.tz
        self.min_balance = config.alerts.min_balance
        self.max_lag = parse_duration(config.alerts.max_lag)
        self.every = parse_duration(config.alerts.every)
        self.down: dict[str, bool] = {}
        self.low: set[str] = set()
        self.modem_trouble: dict[str, str | None] = {}
        self.lagging: dict[str, datetime] = {}  # channel -> when it was last reported

    async def run(self) -> int:
        """One look at everything; returns the number of alerts sent."""
        return await self.portals() + await self.balances() + await self.modems() + await self.lag()

    def _say(self, key: str, **values: object) -> tuple[str, str, str]:
        return key, alert_text("alert.subject", self.lang), alert_text(key, self.lang, **values)

    async def _send(self, alerts: list[tuple[str, str, str]]) -> int:
        for kind, subject, text in alerts:
            await self.notifier.notify(kind, subject, text)
        return len(alerts)

    async def portals(self) -> int:
        health = getattr(self.senders.get("sms"), "health", {}) or {}
        out = []
        for name, state in health.items():
            was, now = self.down.get(name, False), bool(state.down)
            self.down[name] = now
            if now and not was:
                out.append(
                    self._say(
                        "portal.down",
                        name=name,
                        failures=state.failures,
                        error=state.last_error or "?",
                    )
                )
            elif was and not now:
                out.append(self._say("portal.up", name=name))
        return await self._send(out)

    async def balances(self) -> int:
        health = getattr(self.senders.get("sms"), "health", {}) or {}
        out = []
        for name, state in health.items():
            value = balance_value(state.balance)
            if value is None:
                continue
            self.metrics.balance.labels(name).set(value)
            if self.min_balance is None:
                continue
            if value < self.min_balance and name not in self.low:
                self.low.add(name)
                out.append(
                    self._say(
                        "balance.low",
                        name=name,
                        balance=state.balance,
                        limit=f"{self.min_balance:g}",
                    )
                )
            elif value >= self.min_balance:
                self.low.discard(name)
        return await self._send(out)

    async def modems(self) -> int:
        modems = getattr(self.senders.get("modem"), "modems", {}) or {}
        out = []
        for name, modem in modems.items():
            problem = self._modem_problem(modem)
            was = self.modem_trouble.get(name)
            self.modem_trouble[name] = problem
            if problem and problem != was:
                out.append(self._say("modem.trouble", name=name, problem=problem))
            elif was and not problem:
                out.append(self._say("modem.ok", name=name, signal=f"{modem.info.signal_dbm} dBm"))
        return await self._send(out)

    def _modem_problem(self, modem: object) -> str | None:
        info = modem.info  # type: ignore[attr-defined]
        if not modem.ready:  # type: ignore[attr-defined]
            return alert_text(
                "modem.gone", self.lang, state=info.state, error=info.last_error or "-"
            )
        if info.signal_dbm is None:
            return alert_text("modem.no_signal", self.lang)
        return None

    async def lag(self) -> int:
        now = self.clock.now()
        channels = list(dict.fromkeys([*self.senders, *CHANNELS]))
        async with self.storage.reader() as tx:
            due = await tx.due_by_channel(channels)
        out = []
        for channel in channels:
            oldest = due.get(channel)
            if oldest is None or now - oldest <= self.max_lag:
                self.lagging.pop(channel, None)
                continue
            last = self.lagging.get(channel)
            if last is None or now - last >= self.every:
                self.lagging[channel] = now
                out.append(
                    self._say(
                        "lag",
                        channel=channel,
                        since=oldest.astimezone(self.tz).strftime("%Y-%m-%d %H:%M"),
                        limit=str(self.max_lag),
                    )
                )
        return await self._send(out)
