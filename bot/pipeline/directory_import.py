"""``vestnik customers import FILE``: the customer list from an ERP export (CSV or JSON lines).

Columns / keys: id, name, phone, email, group, birthday, language (timezone optional).
Rows are validated like webhook persons; rejected rows are reported with their line and why.
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
from bot.pipeline.events import PersonIn
from bot.pipeline.identity import adopt_placeholder
from storage.base import Storage, Tx
from storage.models import Person

BATCH = 500


@dataclass
class ImportReport:
    imported: int = 0
    planned: int = 0  # journal rows the import planned (birthdays today)
    rejected: list[tuple[int, str]] = field(default_factory=list)


def read_rows(path: Path) -> list[tuple[int, dict[str, Any] | str]]:
    """(line number, row) pairs; a row that cannot be read at all is its error text."""
    text = path.read_text(encoding="utf-8-sig")
    first = text.lstrip()[:1]
    rows: list[tuple[int, dict[str, Any] | str]] = []
    if first == "{":
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                rows.append((number, f"not JSON: {exc.msg}"))
                continue
            rows.append((number, value if isinstance(value, dict) else "not a JSON object"))
        return rows
    dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t") if text.strip() else csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    for number, record in enumerate(reader, start=2):
        rows.append((number, {k.strip().lower(): (v or "").strip() or None
                              for k, v in record.items() if k}))
    return rows


def to_person(raw: dict[str, Any], region: str) -> Person:
    person = PersonIn.model_validate(raw)
    if not person.id:
        raise ValueError("id: required")
    phone = None
    if person.phone:
        phone = normalize_phone(person.phone, region)
        if phone is None:
            raise ValueError(f"phone: {person.phone!r} is not a valid phone number")
    return Person(kind="customer", id=person.id, name=person.name, phone=phone,
                  email=person.email, telegram_id=person.telegram_id, group=person.group,
                  birthday=person.birthday, language=person.language, timezone=person.timezone)


# called with each batch's stored persons in the batch's transaction; returns rows planned
BatchHook = Callable[[Tx, list[Person]], Awaitable[int]]


async def import_customers(storage: Storage, path: Path, region: str,
                           progress: IO[str] | None = None,
                           on_batch: BatchHook | None = None) -> ImportReport:
    """``on_batch`` plans what the new records call for (today's birthday greetings)."""
    report = ImportReport()
    rows = read_rows(path)
    batch: list[Person] = []

    async def flush() -> None:
        people = list(batch)
        batch.clear()

        async def job(tx: Tx) -> int:
            stored = [await adopt_placeholder(tx, await tx.upsert_person(person))
                      for person in people]
            return await on_batch(tx, stored) if on_batch is not None else 0

        report.planned += await storage.write(job)
        report.imported += len(people)

    for index, (number, raw) in enumerate(rows, start=1):
        if isinstance(raw, str):
            report.rejected.append((number, raw))
            continue
        try:
            batch.append(to_person(raw, region))
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            report.rejected.append((number, f"{'.'.join(map(str, err['loc']))}: {err['msg']}"))
        except ValueError as exc:
            report.rejected.append((number, str(exc)))
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
