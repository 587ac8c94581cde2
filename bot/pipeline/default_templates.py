"""The default texts (``default_templates.toml``): per event type and language a subject and
a body for each kind of channel, and ``_fallback`` for a type without its own."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from typing import Any

# which default-template key a channel's subject and body come from
CHANNEL_BODY_KEY = {
    "email": "email",
    "telegram": "telegram",
    "sms": "sms",
    "modem": "sms",
    "internal": "telegram",
}
FALLBACK_TYPE = "_fallback"


@lru_cache(maxsize=1)
def load_default_templates() -> dict[str, Any]:
    text = (resources.files("bot.pipeline") / "default_templates.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)
