"""Modules with one job: no module of the packages is over 500 lines unless its docstring says why.

A module may stay longer when its docstring contains the phrase "one module because" followed by the
reason (a numba kernel compiled as one unit, a generated table). Streamlit pages stay thin: every
``app/views/*.py`` is at most 150 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("grid", "cases", "analytics", "patrol", "services", "sim", "app", "api")
MAX_LINES = 500
MAX_VIEW_LINES = 150
EXCUSE = "one module because"


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def _excused(path: Path) -> bool:
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    return EXCUSE in " ".join(doc.split())


def _modules(*packages: str) -> list[Path]:
    return sorted(p for pkg in packages for p in (ROOT / pkg).rglob("*.py"))


def test_no_module_over_500_lines_without_a_reason() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in _modules(*PACKAGES)
        if (n := _lines(p)) > MAX_LINES and not _excused(p)
    }
    assert not long, f"modules over {MAX_LINES} lines (split them, or say 'one module because …'): {long}"


def test_pages_are_thin() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in sorted((ROOT / "app" / "views").glob("*.py"))
        if (n := _lines(p)) > MAX_VIEW_LINES
    }
    assert not long, f"pages over {MAX_VIEW_LINES} lines: {long}"
