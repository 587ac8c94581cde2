"""The channels as one table: what each one addresses, which providers it names, who may
receive it, and whether the configuration makes it usable.

Routing (bot/pipeline/routing.py), rule validation (bot/pipeline/rules.py), the CLI and the
bot read this table; nothing else branches on channel names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.core.config import Config


@dataclass(frozen=True, slots=True)
class ChannelSpec:
    name: str
    address: str  # the address kind: chat | email | phone | staff
    for_customers: bool  # internal is for staff only
    is_sms: bool  # texts are counted in SMS segments, translit and max_segments apply
    rule_key: str | None  # the rule key that names this channel's providers
    # provider names the config has for this channel; None: the channel names no providers
    providers: Callable[[Config], set[str]] | None
    # any-of: a chain where one configured provider is enough (sms portals); else all-of
    chain: bool = False
    provider_label: str = ""
    missing: str = ""  # why the channel is off when the config has no provider for it
    sendable: bool = True  # `vestnik send-test` can send on it


def _telegram_off(config: Config) -> set[str]:
    return {"bot"} if config.telegram.enabled else set()


TABLE: dict[str, ChannelSpec] = {
    spec.name: spec
    for spec in (
        ChannelSpec(
            "telegram",
            "chat",
            True,
            False,
            None,
            _telegram_off,
            missing="telegram is off: no telegram.token in the config",
        ),
        ChannelSpec(
            "email",
            "email",
            True,
            False,
            "email_account",
            lambda c: {a.name for a in c.email.accounts},
            provider_label="email account",
            missing="channel not configured: no [[email.accounts]] in the config",
        ),
        ChannelSpec(
            "sms",
            "phone",
            True,
            True,
            "sms_portal",
            lambda c: {p.name for p in c.sms.portals} | ({"modem"} if c.sms.modems else set()),
            chain=True,
            provider_label="sms portal",
            missing="channel not configured: no [[sms.portals]] in the config",
        ),
        ChannelSpec(
            "modem",
            "phone",
            True,
            True,
            "modem",
            lambda c: {m.name for m in c.sms.modems},
            provider_label="modem",
            missing="channel not configured: no [[sms.modems]] in the config",
        ),
        ChannelSpec("internal", "staff", False, False, None, None, sendable=False),
    )
}

CHANNELS = tuple(TABLE)
CUSTOMER_CHANNELS = tuple(name for name, spec in TABLE.items() if spec.for_customers)
SMS_CHANNELS = frozenset(name for name, spec in TABLE.items() if spec.is_sms)
SENDABLE_CHANNELS = tuple(name for name, spec in TABLE.items() if spec.sendable)


def providers_of(config: Config, channel: str) -> set[str]:
    """The provider names a rule may pick for ``channel`` (empty: none to pick from)."""
    spec = TABLE.get(channel)
    if spec is None or spec.providers is None or spec.rule_key is None:
        return set()
    return spec.providers(config)


def channel_unavailable(config: Config, channel: str, providers: Sequence[str] = ()) -> str | None:
    """``None`` when ``channel`` (with the rule's named providers) is configured, else why not."""
    spec = TABLE.get(channel)
    if spec is None:
        return f"unknown channel {channel!r}"
    if spec.providers is None:
        return None
    names = spec.providers(config)
    if not names:
        return spec.missing
    missing = [p for p in providers if p not in names]
    if missing and (not spec.chain or len(missing) == len(providers)):
        return f"channel not configured: {spec.provider_label} {missing[0]!r} is not in the config"
    return None
