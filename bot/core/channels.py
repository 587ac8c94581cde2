"""Which channels the configuration makes usable, and why not when they are not."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.config import Config


def channel_unavailable(config: Config, channel: str, providers: Sequence[str] = ()) -> str | None:
    """``None`` when ``channel`` (with the rule's named providers) is configured, else why not."""
    if channel == "email":
        names = {a.name for a in config.email.accounts}
        if not names:
            return "channel not configured: no [[email.accounts]] in the config"
        missing = [p for p in providers if p not in names]
        if missing:
            return f"channel not configured: email account {missing[0]!r} is not in the config"
    elif channel == "sms":
        names = {p.name for p in config.sms.portals}
        if config.sms.modems:
            names.add("modem")
        if not names:
            return "channel not configured: no [[sms.portals]] in the config"
        usable = [p for p in providers if p in names]
        if providers and not usable:
            return f"channel not configured: sms portal {providers[0]!r} is not in the config"
    elif channel == "modem":
        names = {m.name for m in config.sms.modems}
        if not names:
            return "channel not configured: no [[sms.modems]] in the config"
        missing = [p for p in providers if p not in names]
        if missing:
            return f"channel not configured: modem {missing[0]!r} is not in the config"
    elif channel == "telegram":
        if not config.telegram.enabled:
            return "telegram is off: no telegram.token in the config"
    elif channel != "internal":
        return f"unknown channel {channel!r}"
    return None
