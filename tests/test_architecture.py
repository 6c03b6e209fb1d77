"""The architecture of ARCH.md, checked: import contracts (``[tool.importlinter]`` in
pyproject.toml, run by import-linter), the size of handler modules, and no SQL in handlers.

Every contract holds; a change that breaks one fails here with import-linter's report."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HANDLERS = ROOT / "handlers"
MAX_LINES = 500

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint(contract: str) -> subprocess.CompletedProcess[str]:
    if not LINT_IMPORTS.exists():
        pytest.fail("import-linter is missing: pip install -e '.[test]'")
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-logo", "--no-cache", "--contract", contract],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "contract",
    [
        "lower-layers",
        "only-app-imports-handlers",
        "no-sandbox",
        "capabilities",
        "bot-acyclic",
        "handlers-acyclic",
    ],
)
def test_import_contract(contract: str) -> None:
    result = lint(contract)
    assert result.returncode == 0, result.stdout + result.stderr


def handler_modules() -> list[Path]:
    return sorted(HANDLERS.rglob("*.py"))


@pytest.mark.parametrize(
    "path", [pytest.param(p, id=str(p.relative_to(HANDLERS))) for p in handler_modules()]
)
def test_handler_modules_stay_small(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines"


SQL = re.compile(
    r"^\s*(import\s+(sqlite3|aiosqlite)|from\s+(sqlite3|aiosqlite)\s+import)"
    r"|\b(SELECT\s+.+\s+FROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+TABLE)\b",
    re.MULTILINE,
)


@pytest.mark.parametrize(
    "path", [pytest.param(p, id=str(p.relative_to(HANDLERS))) for p in handler_modules()]
)
def test_no_sql_in_handlers(path: Path) -> None:
    """SQL lives in storage/; handlers call its repositories."""
    found = [m.group(0).strip() for m in SQL.finditer(path.read_text(encoding="utf-8"))]
    assert not found, f"{path.relative_to(ROOT)}: {found}"
