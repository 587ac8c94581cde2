"""The reference in docs/ stays true to the code: every catalog type, rule key and journal
status a user can meet is documented there (users clone the repository, nothing beside it)."""

from __future__ import annotations

import re
from pathlib import Path

from bot.core.catalog import CATALOG
from bot.pipeline.rules import Rule
from storage.models import JOURNAL_STATUSES

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_every_catalog_type_is_in_the_event_catalog_page() -> None:
    page = (DOCS / "events.md").read_text(encoding="utf-8")
    missing = [name for name in CATALOG if f"`{name}`" not in page]
    assert not missing, f"docs/events.md lacks {missing}"


def test_every_rule_key_is_in_the_rules_page() -> None:
    page = (DOCS / "rules.md").read_text(encoding="utf-8")
    missing = [key for key in Rule.model_fields if f"`{key}`" not in page]
    assert not missing, f"docs/rules.md lacks {missing}"


def test_every_journal_status_is_in_the_rules_page() -> None:
    page = (DOCS / "rules.md").read_text(encoding="utf-8")
    missing = [status for status in JOURNAL_STATUSES if f"`{status}`" not in page]
    assert not missing, f"docs/rules.md lacks {missing}"


def test_no_document_points_outside_the_repository() -> None:
    root = DOCS.parent
    pages = [root / "README.md", *DOCS.rglob("*.md")]
    outside = [
        str(p.relative_to(root))
        for p in pages
        if re.search(r"\.\./shared|SPEC\.md|SPEC §", p.read_text(encoding="utf-8"))
    ]
    assert not outside, f"pages citing ../shared: {outside}"
