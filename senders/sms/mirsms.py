"""mirsms.ru: interface A, the Intis protocol under ``/external/get``.

The research found the host only over plain http; the API key never travels (requests are
signed), so that exposes the login and one-time signatures only. Set ``base_url`` to the
https address when the account's cabinet gives one.
"""

from __future__ import annotations

from senders.sms.intis import IntisPortal


class MirSmsPortal(IntisPortal):
    kind = "mirsms"
    default_base_url = "http://enter.mirsms.ru/external/get"
