"""Every CSV the project writes goes through :mod:`cases.csv_safe` (issue #25: formula injection)."""

from __future__ import annotations

import ast
import io
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from cases.csv_safe import is_formula_safe

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("analytics", "api", "app", "cases", "grid", "patrol", "services")

#: ``.to_csv(`` calls allowed outside the one writer, with why.
ALLOWED = {
    "cases/csv_safe.py": "the one writer",
    "cases/export.py": "defuses every text column itself (cases.csv_safe.defuse) before writing",
    "services/import_guide.py": "a template of GridPatrol's own column names and fixed examples",
    "app/commands/casework_cmds.py": "ReportersResult.to_csv (services.reporters: csv_bytes)",
    "app/views/reporters.py": "ReportersResult.to_csv (services.reporters: csv_bytes)",
}
#: Writers still to route through cases.csv_safe (files another helper was editing; see the W5 report).
PENDING: set[str] = set()


def _raw_writers() -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            lines = [
                node.lineno
                for node in ast.walk(tree)
                if isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "to_csv"
            ]
            if lines:
                found[path.relative_to(ROOT).as_posix()] = lines
    return found


def test_no_csv_is_written_around_the_safe_writer() -> None:
    raw = {name: lines for name, lines in _raw_writers().items() if name not in ALLOWED}
    assert set(raw) <= PENDING, f"write CSV with cases.csv_safe.write_csv / csv_bytes: {raw}"


def test_a_command_writer_defuses_formulas(tmp_path: Path) -> None:
    """``gridpatrol grid build`` writes a CSV through the safe writer: a hostile area name stays text."""
    import geopandas as gpd
    from shapely.geometry import box

    from app.cli import main

    areas = gpd.GeoDataFrame(
        {"name": ['=HYPERLINK("http://x")'], "code": ["@A"]},
        geometry=[box(120.85, 32.0, 120.87, 32.02)],
        crs="EPSG:4326",
    )
    source = tmp_path / "areas.geojson"
    areas.to_file(source, driver="GeoJSON")
    out = tmp_path / "cells.csv"
    result = CliRunner().invoke(
        main, ["grid", "build", "--areas", str(source), "--res", "9", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert is_formula_safe(text), text[:300]
    frame = pd.read_csv(io.StringIO(text))
    assert len(frame) > 0
    assert ",'@A," in text  # the district code, defused
