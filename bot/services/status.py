"""What ``/status`` reports: the queue per channel and status, and each channel's state."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.core.channels import providers_of
from bot.core.config import Config
from bot.core.sending import Sender
from storage.base import Storage

STATUS_ORDER = (
    "pending",
    "scheduled",
    "sending",
    "failed",
    "undelivered",
    "sent",
    "delivered",
    "stopped",
    "skipped",
    "cancelled",
)


async def queue(storage: Storage) -> dict[str, list[tuple[str, int]]]:
    """{channel: [(status, count), ...]} in :data:`STATUS_ORDER`, zeros left out."""
    async with storage.reader() as tx:
        counts = await tx.counts()
    return {
        channel: [(s, counts[channel][s]) for s in STATUS_ORDER if counts[channel].get(s)]
        for channel in sorted(counts)
    }


def channel_states(
    senders: Mapping[str, Sender], last_errors: Mapping[str, str]
) -> dict[str, dict[str, Any]]:
    """Each running channel's status snapshot, with the dispatcher's last error."""
    out: dict[str, dict[str, Any]] = {}
    for name, sender in senders.items():
        try:
            state = dict(sender.status())
        except Exception as exc:  # a status snapshot must not break /status
            state = {"error": str(exc)}
        if name in last_errors and "last_error" not in state:
            state["last_error"] = last_errors[name]
        out[name] = {k: v for k, v in state.items() if v not in (None, "", {}, [])}
    return out


def provider_names(config: Config, channel: str) -> list[str]:
    """The providers a rule may name for ``channel``, in a stable order (for buttons)."""
    return sorted(providers_of(config, channel))
