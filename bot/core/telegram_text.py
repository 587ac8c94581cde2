"""Telegram HTML text maths: visible length in UTF-16 units and splitting at 4096.

Shared by the Telegram sender and the staff handlers, so it lives in the kernel.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

MESSAGE_LIMIT = 4096  # characters after entity parsing, counted in UTF-16 code units

_TOKEN = re.compile(r"<[^>]*>|&#?[A-Za-z0-9]+;|[^<&]|[<&]")
_TAG = re.compile(r"^<\s*(/)?\s*([A-Za-z][A-Za-z0-9-]*)")


@dataclass(slots=True)
class _Atom:
    raw: str
    width: int  # visible UTF-16 code units
    tag: str | None = None  # tag name for tags
    closing: bool = False


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def visible_length(text: str) -> int:
    """Length as Telegram counts it: tags removed, entities decoded, in UTF-16 code units."""
    return sum(atom.width for atom in _atoms(text))


def _atoms(text: str) -> list[_Atom]:
    out = []
    for match in _TOKEN.finditer(text):
        raw = match.group(0)
        if raw.startswith("<") and len(raw) > 1 and raw.endswith(">"):
            tag = _TAG.match(raw)
            if tag:
                out.append(_Atom(raw, 0, tag.group(2).lower(), bool(tag.group(1))))
                continue
        if raw.startswith("&") and len(raw) > 1:
            out.append(_Atom(raw, _utf16(html.unescape(raw))))
            continue
        out.append(_Atom(raw, _utf16(raw)))
    return out


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Parts of at most ``limit`` visible characters, cut after a newline when possible, else
    after a space, else anywhere outside a tag or entity. Tags open at a cut are closed at the
    end of the part and reopened at the start of the next."""
    if visible_length(text) <= limit:
        return [text]
    atoms = _atoms(text)
    parts: list[str] = []
    stack: list[_Atom] = []  # open tags at the start of the current part
    start = 0
    while start < len(atoms):
        local = list(stack)
        width, index = 0, start
        at_newline: tuple[int, list[_Atom]] | None = None
        at_space: tuple[int, list[_Atom]] | None = None
        while index < len(atoms) and width + atoms[index].width <= limit:
            atom = atoms[index]
            _apply(local, atom)
            width += atom.width
            index += 1
            if atom.raw == "\n":
                at_newline = (index, list(local))
            elif atom.raw == " ":
                at_space = (index, list(local))
        if index >= len(atoms):
            cut, cut_stack = index, local
        elif at_newline is not None:
            cut, cut_stack = at_newline
        elif at_space is not None:
            cut, cut_stack = at_space
        else:
            cut, cut_stack = max(index, start + 1), local
        body = "".join(a.raw for a in stack) + "".join(a.raw for a in atoms[start:cut])
        body += "".join(f"</{a.tag}>" for a in reversed(cut_stack))
        parts.append(body)
        stack, start = cut_stack, cut
    return [p for p in parts if _has_text(p)]


def _apply(stack: list[_Atom], atom: _Atom) -> None:
    if atom.tag is None:
        return
    if not atom.closing:
        stack.append(atom)
        return
    for i in range(len(stack) - 1, -1, -1):
        if stack[i].tag == atom.tag:
            del stack[i]
            return


def _has_text(part: str) -> bool:
    return any(a.tag is None and a.raw.strip() for a in _atoms(part))
