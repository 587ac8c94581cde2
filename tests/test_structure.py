"""The house's dependency directions, read from the imports (docs/architecture.md).

Each module belongs to one layer; a layer may import only the layers listed for it. The
assembly (modules directly in ``bot/`` and ``bot.web``) may import everything and nothing
below it may import it. A failing test names the module, the line and the edge.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "senders", "storage")
# the storage interface: base.py composes one transaction protocol per area (tx_*.py)
STORAGE_INTERFACE = {"storage.base", "storage.models"}
STORAGE_INTERFACE_PREFIX = "storage.tx_"

# layer -> the layers it may import (itself included)
ALLOWED: dict[str, set[str]] = {
    "kernel": {"kernel"},
    "storage": {"kernel", "storage"},
    "senders": {"kernel", "senders"},
    "pipeline": {"kernel", "storage-interface", "pipeline"},
    "services": {"kernel", "storage-interface", "pipeline", "services", "senders"},
    "handlers": {"kernel", "storage-interface", "pipeline", "services", "handlers"},
    "assembly": {
        "kernel",
        "storage",
        "storage-interface",
        "senders",
        "pipeline",
        "services",
        "handlers",
        "assembly",
    },
}


def layer_of(module: str) -> str:
    if module.startswith("bot.core"):
        return "kernel"
    if module.startswith("bot.pipeline"):
        return "pipeline"
    if module.startswith("bot.services"):
        return "services"
    if module.startswith("storage"):
        interface = module in STORAGE_INTERFACE or module.startswith(STORAGE_INTERFACE_PREFIX)
        return "storage-interface" if interface else "storage"
    if module.startswith("senders"):
        return "senders"
    if module.startswith("handlers"):
        return "handlers"
    return "assembly"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_only(tree: ast.AST) -> set[int]:
    """Ids of the import nodes under ``if TYPE_CHECKING:`` (no import at run time)."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            found |= {id(inner) for branch in node.body for inner in ast.walk(branch)}
    return found


def imports_of(path: Path, *, runtime_only: bool = False) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    skip = _type_only(tree) if runtime_only else set()
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            # ``from bot.pipeline import subscriptions`` imports a module, not a name
            found.extend(
                (node.lineno, f"{node.module}.{alias.name}")
                for alias in node.names
                if (ROOT / node.module.replace(".", "/") / f"{alias.name}.py").exists()
            )
    return [(line, name) for line, name in found if name.split(".")[0] in PACKAGES]


def source_files() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


def test_every_import_points_down() -> None:
    wrong = []
    for path in source_files():
        source = module_name(path)
        source_layer = layer_of(source)
        if source_layer == "storage-interface":
            source_layer = "storage"
        for line, target in imports_of(path):
            target_layer = layer_of(target)
            if target == "bot" or target_layer in ALLOWED[source_layer]:
                continue
            if target_layer == "storage-interface" and "storage" in ALLOWED[source_layer]:
                continue
            wrong.append(
                f"{path.relative_to(ROOT)}:{line}: {source} ({source_layer}) "
                f"imports {target} ({target_layer})"
            )
    assert not wrong, "imports against the layer directions:\n" + "\n".join(wrong)


def test_no_module_level_cycle() -> None:
    """No cycle at run time (an import only for type checking is not one)."""
    graph: dict[str, set[str]] = {}
    for path in source_files():
        graph[module_name(path)] = {target for _, target in imports_of(path, runtime_only=True)}
    graph = {
        name: {t for t in targets if t in graph and t != name} for name, targets in graph.items()
    }
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = 1
        stack.append(name)
        for target in sorted(graph[name]):
            if state.get(target) == 1:
                return stack[stack.index(target) :] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[name] = 2
        return None

    for name in sorted(graph):
        if name not in state and (cycle := visit(name)):
            raise AssertionError("import cycle: " + " -> ".join(cycle))


def test_the_layer_test_sees_a_wrong_edge(tmp_path: Path) -> None:
    """The check itself can fail: a kernel module importing the pipeline is caught."""
    assert "pipeline" not in ALLOWED[layer_of("bot.core.config")]
    assert "handlers" not in ALLOWED[layer_of("senders.email")]
    assert "storage" not in ALLOWED[layer_of("handlers.staff")]
    assert layer_of("storage.sqlite") == "storage"
    assert layer_of("storage.tx_journal") == "storage-interface"
    assert layer_of("bot.app") == "assembly"
    assert "assembly" not in ALLOWED["handlers"]
