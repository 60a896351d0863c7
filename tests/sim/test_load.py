"""``gridpatrol demo-data`` writes a small city and loads it into SQLite: counts match the files, twice."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from app.cli import main
from cases.db import make_engine
from cases.users import DEMO_ROLES
from grid.cells import strings_to_cells
from sim.load import AREA_FILES

ARGS = ["--days", "14", "--inspectors", "20", "--cases-per-day", "150", "--area-km2", "25"]


def _counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with engine.connect() as conn:
        out = {
            t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("inspectors", "assignments", "departments", "cases", "case_events", "users")
        }
        for level in ("district", "subdistrict", "community"):
            out[level] = conn.execute(
                sa.text("SELECT count(*) FROM areas WHERE level = :l"), {"l": level}
            ).scalar_one()
        out["quarantine"] = conn.execute(sa.text("SELECT count(*) FROM quarantine")).scalar_one()
    engine.dispose()
    return out


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, list[str]]:
    tmp = tmp_path_factory.mktemp("load")
    url = f"sqlite:///{(tmp / 't.db').as_posix()}"
    cmd = ["--db-url", url, "demo-data", *ARGS, "--out", str(tmp / "demo")]
    cmd += ["--users-file", str(tmp / "users.txt")]
    outputs = []
    for _ in range(2):
        result = CliRunner().invoke(main, cmd, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    return tmp, url, outputs


def test_tables_hold_what_the_files_hold(loaded: tuple[Path, str, list[str]]) -> None:
    tmp, url, _ = loaded
    demo = tmp / "demo"
    counts = _counts(url)
    for level, name in AREA_FILES:
        assert counts[level] == len(gpd.read_file(demo / "geo" / f"{name}.geojson")), level
    assert counts["inspectors"] == len(pd.read_csv(demo / "people" / "inspectors.csv"))
    assert counts["assignments"] == len(pd.read_csv(demo / "people" / "assignments.csv"))
    assert counts["departments"] == len(pd.read_csv(demo / "people" / "departments.csv"))
    assert counts["cases"] == len(pd.read_csv(demo / "cases" / "cases.csv"))
    assert counts["case_events"] == len(pd.read_parquet(demo / "cases" / "case_events.parquet"))
    # one per demo role, one per department and the district-scoped supervisor (cases.users.ensure_demo_users)
    assert counts["users"] == len(DEMO_ROLES) + counts["departments"] + 1
    assert counts["quarantine"] == 0


def test_loading_twice_adds_nothing(loaded: tuple[Path, str, list[str]]) -> None:
    _, _, (first, second) = loaded
    assert "quarantined 0" in first
    assert "imported 0," not in first
    for line in second.splitlines():
        if ": read " in line and not line.startswith("basemap_"):  # the base map is replaced, not added
            assert "imported 0," in line, line
            assert "quarantined 0" in line, line
    assert "created 0 demo user(s)" in second


def test_stored_cases_equal_the_file(loaded: tuple[Path, str, list[str]]) -> None:
    tmp, url, _ = loaded
    file = pd.read_csv(tmp / "demo" / "cases" / "cases.csv", dtype=str, keep_default_na=False)
    engine = make_engine(url)
    with engine.connect() as conn:
        stored = pd.read_sql(sa.text("SELECT case_id, cell, lat, source, reported_at FROM cases"), conn)
    engine.dispose()
    both = file.merge(stored, on="case_id", suffixes=("", "_db"))
    assert len(both) == len(file)
    assert (strings_to_cells(both["cell"].to_numpy()) == both["cell_db"].to_numpy()).all()
    assert (both["lat"].astype(float) == both["lat_db"]).all()
    assert (both["source"] == both["source_db"]).all()
    reported = pd.to_datetime(both["reported_at"], utc=True)
    assert (reported == pd.to_datetime(both["reported_at_db"], utc=True)).all()
    assert json.loads((tmp / "demo" / "manifest.json").read_text())  # files were written, manifest present
