"""Imports point downwards: services never reach into handlers, and a handler capability
shares only ``handlers.common`` with the others (until an import-linter contract does this)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def capability(path: Path) -> str:
    relative = path.relative_to(ROOT / "handlers")
    return relative.parts[0].removesuffix(".py")


def test_services_never_import_handlers() -> None:
    for path in (ROOT / "bot" / "services").rglob("*.py"):
        bad = {n for n in imported(path) if n == "handlers" or n.startswith("handlers.")}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_capabilities_share_only_handlers_common() -> None:
    found: set[tuple[str, str]] = set()
    for path in (ROOT / "handlers").rglob("*.py"):
        own = capability(path)
        for name in imported(path):
            parts = name.split(".")
            if parts[0] != "handlers" or len(parts) < 2:
                continue
            other = parts[1]
            if other in (own, "common", "__init__") or not (
                (ROOT / "handlers" / f"{other}.py").exists() or (ROOT / "handlers" / other).is_dir()
            ):
                continue
            found.add((own, other))
    assert not found, f"imports between handler capabilities: {sorted(found)}"
