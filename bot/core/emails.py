"""E-mail addresses, parsed strictly: exactly one mailbox, no display name, no list, no
bracketed IP, nothing after the domain. Routing and the SMTP envelope both use the parsed
form, so ``ivan@example.ru,attacker`` can never become a second ``RCPT TO``."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email


class InvalidEmail(ValueError):
    """The text is not one mailbox; ``str()`` says why (in the validator's words)."""


def parse_mailbox(text: str) -> str:
    """The normalised address (domain lower-cased, IDNA checked) or :class:`InvalidEmail`."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidEmail("empty address")
    try:
        parsed = validate_email(
            text.strip(),
            check_deliverability=False,
            allow_display_name=False,
            allow_domain_literal=False,
            allow_quoted_local=False,
        )
    except EmailNotValidError as exc:
        raise InvalidEmail(str(exc)) from None
    return parsed.normalized
