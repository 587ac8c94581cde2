"""``vestnik customers import FILE``: the customer list from an ERP export (CSV or JSON lines).

Columns / keys: id, name, phone, email, group, birthday, language (timezone optional).
What 1C and Excel export on Russian Windows is read as is: the encoding is detected (UTF-8
with or without a BOM, else Windows-1251), the delimiter is ``;`` or ``,`` (or a tab).
Each row is validated like a webhook person; a bad row is rejected alone, with its line
number and every problem it has; the good rows are imported.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError

from bot.core.phones import normalize_phone
from bot.pipeline.body import scan
from bot.pipeline.events import LANGUAGES, PersonIn
from bot.pipeline.identity import adopt_placeholder
from bot.pipeline.problems import from_pydantic, problem
from storage.base import Storage, Tx
from storage.models import Person

BATCH = 500
Row = tuple[int, dict[str, Any] | list[dict[str, Any]]]  # (line, row or its problems)


@dataclass
class ImportReport:
    imported: int = 0
    encoding: str = "utf-8"
    planned: int = 0  # journal rows the import planned (birthdays today)
    rejected: list[tuple[int, list[str]]] = field(default_factory=list)


def decode_file(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """(text, encoding used): ``encoding`` if given, else UTF-8 (BOM or not), else
    Windows-1251 (every byte sequence is valid in it, so it is the last resort)."""
    if encoding:
        return data.decode(encoding), encoding
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1251"), "cp1251"


def _delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _json_rows(text: str, language: str) -> list[Row]:
    rows: list[Row] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except (json.JSONDecodeError, RecursionError, ValueError):
            rows.append((number, [problem("(row)", "object", language, line)]))
            continue
        if not isinstance(value, dict):
            rows.append((number, [problem("(row)", "object", language, value)]))
            continue
        rows.append((number, value))
    return rows


def _csv_rows(text: str, language: str, region: str) -> list[Row]:
    lines = text.splitlines(keepends=True)
    if not lines:
        return []
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(lines[0]))
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        return []
    rows: list[Row] = []
    start = reader.line_num + 1
    for values in reader:
        number, start = start, reader.line_num + 1
        if not any(v.strip() for v in values):
            continue
        record = {
            key: (value.strip() or None) for key, value in zip(header, values, strict=False) if key
        }
        if len(values) != len(header):
            shown = (";" if ";" in lines[0] else ",").join(values)
            rows.append(
                (
                    number,
                    [
                        problem("(row)", "columns", language, shown, limit=len(header)),
                        *person_problems(record, language, region),
                    ],
                )
            )
            continue
        rows.append((number, record))
    return rows


def read_rows(
    path: Path, language: str = "ru", encoding: str | None = None, region: str = "RU"
) -> tuple[list[Row], str]:
    """The file's rows, each (line number, row) or (line number, its problems)."""
    text, used = decode_file(path.read_bytes(), encoding)
    if text.lstrip()[:1] == "{":
        return _json_rows(text, language), used
    return _csv_rows(text, language, region), used


def person_problems(raw: dict[str, Any], language: str, region: str = "RU") -> list[dict[str, Any]]:
    """Every problem of one row (an empty list: the row is good)."""
    found = scan(raw, "", language)
    if found:
        return found
    out: list[dict[str, Any]] = []
    try:
        PersonIn.model_validate(raw)
    except ValidationError as exc:
        out += [from_pydantic("", err, language) for err in exc.errors(include_url=False)]
    named = {p["path"] for p in out}
    if not raw.get("id") and "id" not in named:
        out.append(problem("id", "missing", language))
    lang = raw.get("language")
    if isinstance(lang, str) and lang.strip() and lang.strip().lower()[:2] not in LANGUAGES:
        out.append(problem("language", "language", language, lang))
    phone = raw.get("phone")
    if isinstance(phone, str) and phone.strip() and normalize_phone(phone, region) is None:
        out.append(problem("phone", "phone", language, phone))
    return sorted(out, key=lambda p: list(raw).index(p["path"]) if p["path"] in raw else 99)


def to_person(raw: dict[str, Any], region: str, language: str = "ru") -> Person:
    """A good row as a directory person; ``ValueError`` carries the row's problems."""
    problems = person_problems(raw, language, region)
    if problems:
        raise ValueError(problems)
    person = PersonIn.model_validate(raw)
    phone = normalize_phone(person.phone, region) if person.phone else None
    return Person(
        kind="customer",
        id=str(person.id),
        name=person.name,
        phone=phone,
        email=person.email,
        telegram_id=person.telegram_id,
        group=person.group,
        birthday=person.birthday,
        language=person.language,
        timezone=person.timezone,
    )


_REPEATED = {
    "ru": "id {id!r} уже был в строке {line}: строка пропущена",
    "en": "id {id!r} already came on line {line}: this row is skipped",
}


# called with each batch's stored persons in the batch's transaction; returns rows planned
BatchHook = Callable[[Tx, list[Person]], Awaitable[int]]


async def import_customers(
    storage: Storage,
    path: Path,
    region: str,
    progress: IO[str] | None = None,
    *,
    language: str = "ru",
    encoding: str | None = None,
    on_batch: BatchHook | None = None,
) -> ImportReport:
    """``on_batch`` plans what the new records call for (today's birthday greetings)."""
    rows, used = read_rows(path, language, encoding, region)
    report = ImportReport(encoding=used)
    batch: list[Person] = []
    first_line: dict[str, int] = {}

    async def flush() -> None:
        people = list(batch)
        batch.clear()

        async def job(tx: Tx) -> int:
            stored = [
                await adopt_placeholder(tx, await tx.upsert_person(person)) for person in people
            ]
            return await on_batch(tx, stored) if on_batch is not None else 0

        report.planned += await storage.write(job)
        report.imported += len(people)

    for index, (number, raw) in enumerate(rows, start=1):
        try:
            if isinstance(raw, list):
                raise ValueError(raw)
            person = to_person(raw, region, language)
            if person.id in first_line:
                lang = "en" if language == "en" else "ru"
                raise ValueError(
                    [{"message": _REPEATED[lang].format(id=person.id, line=first_line[person.id])}]
                )
            first_line[person.id] = number
            batch.append(person)
        except ValueError as exc:
            report.rejected.append((number, [p["message"] for p in exc.args[0]]))
        if len(batch) >= BATCH:
            await flush()
        if progress is not None and (index % 200 == 0 or index == len(rows)):
            done = index * 30 // max(len(rows), 1)
            progress.write(f"\r[{'#' * done}{'.' * (30 - done)}] {index}/{len(rows)}")
            progress.flush()
    if batch:
        await flush()
    if progress is not None:
        progress.write("\n")
    return report
