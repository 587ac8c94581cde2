"""Offline checks of payload files (``vestnik validate``) with exactly the intake's validation.

A file holds one event, ``{"events": [...]}``, or JSON lines (one event or batch a line). Each
body goes through the very function the webhook uses to build its 400 problems, so a file
that passes here is a body the webhook stores, and the words are the 400 body's words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.pipeline.body import BodyError, decode_json
from bot.pipeline.events import validate_payload
from bot.pipeline.intake import MESSAGES


@dataclass(slots=True)
class BodyReport:
    """One body of a file: where it is (``line`` for JSON lines), its events and problems."""

    file: str
    line: int | None
    events: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)

    @property
    def where(self) -> str:
        return self.file if self.line is None else f"{self.file}:{self.line}"

    def public(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "valid": not self.problems,
            "events": self.events,
            "problems": self.problems,
        }


def _invalid_json(detail: str, language: str) -> dict[str, Any]:
    # the intake answers a body that is not JSON with this message and no path
    return {"path": "", "message": MESSAGES["invalid_json"][language].format(detail=detail)}


def _check_body(
    report: BodyReport, payload: Any, max_batch: int, language: str = "ru"
) -> BodyReport:
    events, problems = validate_payload(payload, language, max_batch)
    report.events = len(events)
    report.problems = problems
    return report


def _parse(raw: bytes, language: str = "ru") -> tuple[Any, str | None]:
    try:
        return decode_json(raw, language), None  # the webhook's own reading of a body
    except BodyError as exc:
        return None, exc.message


def check_bytes(name: str, raw: bytes, max_batch: int, language: str = "ru") -> list[BodyReport]:
    """Reports for one file's content: one report per body (per line for JSON lines)."""
    payload, error = _parse(raw, language)
    if error is None:
        return [_check_body(BodyReport(name, None), payload, max_batch, language)]
    lines = [(number, text) for number, text in enumerate(raw.splitlines(), 1) if text.strip()]
    first_ok = bool(lines) and _parse(lines[0][1], language)[1] is None
    if len(lines) < 2 or not first_ok:
        return [BodyReport(name, None, problems=[_invalid_json(error, language)])]
    reports = []
    for number, text in lines:
        payload, line_error = _parse(text, language)
        report = BodyReport(name, number)
        if line_error is not None:
            report.problems = [_invalid_json(line_error, language)]
            reports.append(report)
        else:
            reports.append(_check_body(report, payload, max_batch, language))
    return reports


def check_file(path: Path, max_batch: int, language: str = "ru") -> list[BodyReport]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        message = TEXTS["unreadable"][language].format(error=exc)
        return [BodyReport(str(path), None, problems=[{"path": "", "message": message}])]
    return check_bytes(str(path), raw, max_batch, language)


def problem_line(where: str, problem: dict[str, Any]) -> str:
    """``file:line: path: message`` and whatever else the problem names (value, expected)."""
    extra = "".join(
        f"; {key}: {value}" for key, value in problem.items() if key not in ("path", "message")
    )
    path = problem.get("path") or "(body)"
    return f"{where}: {path}: {problem.get('message', '')}{extra}"


TEXTS = {
    "valid": {
        "ru": "{where}: без ошибок, событий: {events}",
        "en": "{where}: valid, {events} event(s)",
    },
    "unreadable": {"ru": "файл не прочитать: {error}", "en": "cannot read the file: {error}"},
}


def summary_line(report: BodyReport, language: str) -> str:
    return TEXTS["valid"][language].format(where=report.where, events=report.events)
