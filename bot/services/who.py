"""Who a stop-list entry is about, from what staff type: ``phone:``, ``email:``,
``customer:``, ``chat:`` prefixes, or guessed from the value (an ``@`` is an e-mail, a ``+``
or ten digits a phone, anything else a customer id). One reading for the CLI and the bot."""

from __future__ import annotations

from bot.core.phones import normalize_phone

WHO_KINDS = ("customer", "phone", "email", "chat")


class WhoError(ValueError):
    """Not a person: ``problem`` is ``phone``, ``chat``, ``email`` or ``empty`` (texts
    ``who.bad.<problem>``), ``value`` what was typed."""

    def __init__(self, problem: str, value: str) -> None:
        self.problem = problem
        self.value = value
        super().__init__(
            f"{value!r}: not a valid {problem}" if problem != "empty" else "nobody given"
        )


def parse_who(raw: str, region: str) -> tuple[str, str]:
    """``(kind, value)``: phones in E.164, e-mails lower-cased; :class:`WhoError` if the
    value cannot be what its prefix says."""
    raw = raw.strip()
    kind, sep, value = raw.partition(":")
    if sep and kind.lower() in WHO_KINDS:
        return _prefixed(kind.lower(), value.strip(), region)
    if not raw:
        raise WhoError("empty", raw)
    if "@" in raw:
        return _prefixed("email", raw, region)
    digits = sum(ch.isdigit() for ch in raw)
    if raw.startswith("+") or digits >= 10:
        phone = normalize_phone(raw, region)
        if phone:
            return "phone", phone
    return "customer", raw


def _prefixed(kind: str, value: str, region: str) -> tuple[str, str]:
    if not value:
        raise WhoError("empty", value)
    if kind == "phone":
        phone = normalize_phone(value, region)
        if phone is None:
            raise WhoError("phone", value)
        return "phone", phone
    if kind == "chat":
        if not value.lstrip("-").isdigit():
            raise WhoError("chat", value)
        return "chat", value
    if kind == "email":
        if "@" not in value.strip("@"):
            raise WhoError("email", value)
        return "email", value.lower()
    return "customer", value
