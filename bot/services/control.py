"""What the bot may ask of the running notification dispatcher (it starts after the bot)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class DispatchControl:
    wake: Callable[[], None] = lambda: None
    last_errors: Callable[[], Mapping[str, str]] = dict
    extra: dict[str, Any] = field(default_factory=dict)
