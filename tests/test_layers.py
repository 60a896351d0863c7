"""The house's floors (DESIGN.md): imports only go down, SQL lives in the store, front-ends stay thin.

``grid`` ← ``cases`` ← ``analytics`` ← ``patrol`` ← ``services`` ← ``app`` / ``api`` (the two front-ends).
``sim`` stands beside the house and may use any floor below the front-ends; nothing imports ``sim`` or a
front-end. Checked on every import statement, including those inside functions (a lazy import is still a
dependency).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLOORS = {"grid": 0, "cases": 1, "analytics": 2, "patrol": 3, "services": 4, "app": 5, "api": 5}
SIM_FLOOR = 4.5  # beside the house: may use services and below, no front-end
#: The one front door of the simulator: ``gridpatrol demo-data`` (``make demo``) registers ``sim.cli``.
SIM_DOOR = ROOT / "app" / "cli.py"


def _imports(path: Path) -> set[str]:
    """Top-level package names imported anywhere in ``path``."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _package_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def test_imports_only_go_down() -> None:
    wrong = []
    for package, floor in {**FLOORS, "sim": SIM_FLOOR}.items():
        for path in _package_files(package):
            for name in _imports(path):
                if name == "sim" and package != "sim" and path != SIM_DOOR:
                    wrong.append(f"{path.relative_to(ROOT)} imports sim")
                elif name in FLOORS and FLOORS[name] > floor:
                    wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not wrong, "imports that go up a floor:\n" + "\n".join(wrong)


#: What counts as SQL in a front-end: a query builder, raw text, a statement run, the SQL toolkit itself.
SQL = re.compile(r"(?<![\w.])(sa\.)?select\(|\bsa\.text\(|\.execute\(|^\s*(import|from) sqlalchemy", re.M)


def test_no_sql_in_the_front_ends() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{text[: m.start()].count(chr(10)) + 1}: {m.group(0).strip()}"
        for package in ("app", "api")
        for path in _package_files(package)
        for text in [path.read_text(encoding="utf-8")]
        for m in SQL.finditer(text)
    ]
    assert not found, "SQL under app/ or api/ (move it to cases/repository*.py):\n" + "\n".join(found)


def test_services_draw_nothing() -> None:
    ui = {"streamlit", "click", "folium", "pydeck", "streamlit_folium"}
    found = [
        f"{path.relative_to(ROOT)} imports {sorted(_imports(path) & ui)}"
        for path in _package_files("services")
        if _imports(path) & ui
    ]
    assert not found, "\n".join(found)


ZONE = re.compile(r"^(Asia|Europe|America|Africa|Australia|Pacific|Atlantic|Indian)/[A-Za-z_]+$")


def _named_zones(path: Path) -> list[str]:
    """String constants of ``path`` that are IANA zone names (docstrings, where examples live, left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and ZONE.match(node.value)
    ]


def test_only_the_configuration_names_a_time_zone() -> None:
    found = {
        str(path.relative_to(ROOT)): zones
        for package in (*FLOORS, "sim", "benchmarks")
        for path in _package_files(package)
        if path != ROOT / "grid" / "config.py" and (zones := _named_zones(path))
    }
    assert not found, f"time zones named outside grid/config.py: {found}"
