"""Helpers for the ERP kit's tests: the samples, and the ``vestnik`` command run as a child
process while the app under test keeps serving on the test's event loop."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "docs" / "erp" / "samples"
KIT = ROOT / "integrations" / "1c"
VECTORS = KIT / "CommonTemplates" / "вн_ВестникВекторы" / "Ext" / "Template.bin"


def samples() -> dict[str, dict[str, Any]]:
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(SAMPLES.glob("*.json"))
    }


async def vestnik(*args: str, timeout: float = 120) -> tuple[int, str, str]:
    """Run ``python -m bot ARGS`` from the worktree root; (exit status, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    return proc.returncode or 0, out.decode(), err.decode()


def cli_config(
    tmp_path: Path, database: str, *, listen: str = "127.0.0.1:8080", extra: str = ""
) -> str:
    path = tmp_path / "cli.toml"
    path.write_text(
        f'[service]\ndatabase = "{database}"\n\n[webhook]\nlisten = "{listen}"\n{extra}',
        encoding="utf-8",
    )
    return str(path)
