"""Credentials out of everything we print or log: ``postgresql://user:PASSWORD@host/db``
becomes ``postgresql://user:***@host/db``, and a log line or traceback that quotes such a URL
is masked the same way by :class:`RedactingFormatter`."""

from __future__ import annotations

import logging
import re

_CREDENTIALS = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@]*):(?P<secret>[^\s@/]*)@")
_QUERY_SECRET = re.compile(
    r"(?P<head>[?&](?:password|passwd|pwd|token|api_key|secret)=)[^&\s]*", re.IGNORECASE
)
MASK = "***"


def redact_urls(text: str) -> str:
    """Every ``scheme://user:password@`` in ``text`` with the password masked (and
    ``?password=`` style query parameters)."""
    text = _CREDENTIALS.sub(lambda m: f"{m['head']}:{MASK}@", text)
    return _QUERY_SECRET.sub(lambda m: f"{m['head']}{MASK}", text)


def mask_url(url: str) -> str:
    """One URL to print: the password masked, the query string (options) dropped."""
    return redact_urls(url.split("?", 1)[0])


class RedactingFormatter(logging.Formatter):
    """A formatter whose output never carries a URL's password, tracebacks included."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_urls(super().format(record))
