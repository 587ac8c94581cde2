"""What one modem knows about itself: its state, network, signal and counters (/status)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.timeutil import rfc3339


@dataclass(slots=True)
class ModemState:
    """What /status and /healthz show for one modem."""

    state: str = "starting"  # starting | ready | reconnecting | failed | closed
    registration: str = ""
    registered: bool = False
    csq: int | None = None
    signal_dbm: int | None = None
    operator: str = ""
    smsc: str = ""
    last_error: str = ""
    last_error_at: datetime | None = None
    connected_at: datetime | None = None
    sent_messages: int = 0
    sent_parts: int = 0
    reconnects: int = 0


def status_view(info: ModemState, *, port: str, busy: bool, status_reports: int) -> dict[str, Any]:
    """One modem's entry in /status (the pool drops the empty fields)."""
    signal = (
        f"{info.signal_dbm} dBm (CSQ {info.csq})"
        if info.signal_dbm is not None
        else "unknown"
        if info.csq is not None
        else None
    )
    return {
        "state": info.state,
        "port": port,
        "registration": info.registration or None,
        "signal": signal,
        "operator": info.operator or None,
        "sent": info.sent_messages,
        "parts": info.sent_parts,
        "busy": busy,
        "reconnects": info.reconnects,
        "status_reports": status_reports,
        "last_error": info.last_error or None,
        "last_error_at": rfc3339(info.last_error_at),
    }
