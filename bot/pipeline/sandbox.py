"""The jinja2 sandbox templates run in, with limits: templates are code staff write.

On top of jinja2's :class:`SandboxedEnvironment` (no ``_``-attributes, no unsafe callables):

- a time budget, checked cooperatively wherever a template can spend time: each output
  chunk, attribute and item look-up, call, filter, ``range`` step and operator;
- a size cap on every value a template builds (``*``, ``%``, ``~``, filters, calls) and on
  the output (per channel, by the caller), so ``{{ 'x' * 50000000 }}`` fails at once;
- globals reduced to ``range`` and ``dict`` (no ``namespace``, ``lipsum``, ``cycler``,
  ``joiner``): a template cannot grow state across loop iterations.

A template over a limit raises :class:`RenderLimit`; the caller fails that one message.
"""

from __future__ import annotations

import functools
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from jinja2.compiler import CodeGenerator, Frame
from jinja2.nodes import Concat
from jinja2.sandbox import SandboxedEnvironment, SecurityError

MAX_VALUE = 256 * 1024  # characters (or items) of any one value a template builds
MAX_NUMBER_ARG = 1_000_000  # a bigger int argument is a width or a count meant to blow up
MAX_EXPONENT = 256
_WIDE_FORMAT = re.compile(r"\d{7,}")
_budget = threading.local()  # the deadline of the render running on this thread


class RenderLimit(SecurityError):
    """A template went over the time budget or a size cap; ``str()`` says which."""

    over_time = False


class RenderTimeout(RenderLimit):
    over_time = True


def check_time() -> None:
    deadline = getattr(_budget, "deadline", None)
    if deadline is not None and time.monotonic() > deadline:
        raise RenderTimeout(f"the template ran longer than {_budget.seconds:g} s")


def check_size(value: Any) -> Any:
    if isinstance(value, (str, bytes, list, tuple, dict, set)) and len(value) > MAX_VALUE:
        raise RenderLimit(
            f"the template built a value of {len(value)} characters or items "
            f"(the limit is {MAX_VALUE})"
        )
    return value


def _check_numbers(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_NUMBER_ARG:
            raise RenderLimit(
                f"the number {value} is too large for a template (at most {MAX_NUMBER_ARG})"
            )
        if isinstance(value, str) and _WIDE_FORMAT.search(value) and ("{" in value or "%" in value):
            raise RenderLimit("a format with a width of 7 digits or more")


def limited_range(*args: int) -> Iterator[int]:
    """``range`` that watches the clock (an empty nested loop must stop too)."""
    _check_numbers(args, {})
    for index, value in enumerate(range(*args)):
        if index % 512 == 0:
            check_time()
        yield value


def _guard_filter(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)  # keeps jinja's pass_context marks
    def guarded(*args: Any, **kwargs: Any) -> Any:
        check_time()
        _check_numbers(args[1:], kwargs)  # (args[0] is the value or the context)
        return check_size(func(*args, **kwargs))

    return guarded


class _Generator(CodeGenerator):
    def visit_Concat(self, node: Concat, frame: Frame) -> None:
        # ``a ~ b`` becomes environment.checked(...): a loop of doublings stops at the cap
        self.write("environment.checked(")
        super().visit_Concat(node, frame)
        self.write(")")


class LimitedEnvironment(SandboxedEnvironment):
    code_generator_class = _Generator
    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals = {"range": limited_range, "dict": dict}

    def guard_filters(self) -> None:
        """Wrap every filter (call after adding our own)."""
        self.filters = {name: _guard_filter(f) for name, f in self.filters.items()}

    @staticmethod
    def checked(value: Any) -> Any:
        check_time()
        return check_size(value)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        check_time()
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(count, int):
                    if len(seq) * count > MAX_VALUE:
                        raise RenderLimit(
                            f"the template built a value of {len(seq) * count}"
                            f" characters or items (the limit is {MAX_VALUE})"
                        )
        if operator == "**" and isinstance(right, (int, float)) and abs(right) > MAX_EXPONENT:
            raise RenderLimit(f"an exponent of {right} (at most {MAX_EXPONENT})")
        if operator == "%":
            _check_numbers((left,), {})
        return check_size(super().call_binop(context, operator, left, right))

    def getattr(self, obj: Any, attribute: str) -> Any:
        check_time()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        check_time()
        return super().getitem(obj, argument)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        check_time()
        _check_numbers(args, kwargs)
        if isinstance(getattr(__obj, "__self__", None), str):
            _check_numbers((__obj.__self__,), {})
        return check_size(super().call(__context, __obj, *args, **kwargs))


def render_within(template: Any, context: dict[str, Any], *, seconds: float, max_chars: int) -> str:
    """Render under a deadline and an output cap (on the calling thread)."""
    _budget.deadline, _budget.seconds = time.monotonic() + seconds, seconds
    try:
        pieces: list[str] = []
        size = 0
        for chunk in template.generate(context):
            size += len(chunk)
            if size > max_chars:
                raise RenderLimit(
                    f"the text is longer than {max_chars} characters, the limit for this channel"
                )
            pieces.append(chunk)
            check_time()
        return "".join(pieces)
    finally:
        _budget.deadline = None
