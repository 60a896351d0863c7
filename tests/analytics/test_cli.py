"""The analytics commands (hotspots, recurring, emerging) end to end on a city with a planted hot spot."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from app.cli import main
from grid.cells import cell_centers, grid_disk, is_valid_cells, latlng_to_cells, strings_to_cells

#: Monday 2026-01-05 … Sunday 2026-03-29: 12 ISO weeks.
START = pd.Timestamp("2026-01-05", tz="Asia/Shanghai")
WEEKS = 12
CENTRE = (32.0, 120.86)


def _planted_cells() -> np.ndarray:
    """The cell at CENTRE and two of its neighbours."""
    centre = latlng_to_cells(np.array([CENTRE[0]]), np.array([CENTRE[1]]), 10)
    ring = np.sort(grid_disk(centre, 1, include_self=False)["neighbour"].to_numpy())
    return np.concatenate([centre, ring[:2]])


def _cases_csv(path: Path) -> np.ndarray:
    rng = np.random.default_rng(7)
    planted = _planted_cells()
    clat, clon = cell_centers(planted)
    rows = []
    # background: 400 cases spread over ~2 x 2 km, any time in the 12 weeks
    n_bg = 400
    rows.append(
        pd.DataFrame(
            {
                "lat": CENTRE[0] + rng.uniform(-0.01, 0.01, n_bg),
                "lon": CENTRE[1] + rng.uniform(-0.011, 0.011, n_bg),
                "offset_h": rng.uniform(0, WEEKS * 7 * 24, n_bg),
                "category_code": rng.choice(["06010", "06012", "09001"], n_bg),
            }
        )
    )
    # cluster: 6 cases a week in each planted cell, jittered by ~15 m around the cell centre
    for week in range(WEEKS):
        for lat, lon in zip(clat, clon, strict=True):
            rows.append(
                pd.DataFrame(
                    {
                        "lat": lat + rng.uniform(-0.00012, 0.00012, 6),
                        "lon": lon + rng.uniform(-0.00012, 0.00012, 6),
                        "offset_h": week * 7 * 24 + rng.uniform(0, 7 * 24, 6),
                        "category_code": "06010",
                    }
                )
            )
    frame = pd.concat(rows, ignore_index=True)
    times = START + pd.to_timedelta(frame.pop("offset_h"), unit="h")
    frame.insert(0, "case_id", [f"C{i:05d}" for i in range(len(frame))])
    frame.insert(1, "source", rng.choice(["hotline", "patrol"], len(frame)))
    frame["reported_at"] = times.map(lambda t: t.isoformat())
    frame[["case_id", "source", "category_code", "lat", "lon", "reported_at"]].to_csv(path, index=False)
    return planted


@pytest.fixture(autouse=True)
def _city_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The planted cells are res-10 cells: analyse at res 10 (the configuration's default is 9), in a data
    folder of the test's own (no ``gridpatrol.toml``: the defaults)."""
    monkeypatch.setenv("GRIDPATROL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("GRIDPATROL_CONFIG", raising=False)
    monkeypatch.delenv("GRIDPATROL_TIMEZONE", raising=False)
    monkeypatch.setenv("GRIDPATROL_ANALYSIS_RESOLUTION", "10")


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, np.ndarray]:
    """(cases CSV, database URL with the cases imported, planted cells)."""
    tmp = tmp_path_factory.mktemp("analytics_cli")
    csv = tmp / "cases.csv"
    planted = _cases_csv(csv)
    url = f"sqlite:///{tmp / 't.db'}"
    assert CliRunner().invoke(main, ["--db-url", url, "init"]).exit_code == 0
    result = CliRunner().invoke(main, ["--db-url", url, "import", "cases", str(csv)])
    assert result.exit_code == 0, result.output
    assert "quarantined 0" in result.output
    return csv, url, planted


def _run(url: str, *args: str):
    return CliRunner().invoke(main, ["--db-url", url, *args])


def _assert_no_remote_assets(page: str) -> None:
    assert not re.search(r"<script[^>]*\bsrc=[\"']https?:", page)
    assert not re.search(r"<link[^>]*\bhref=[\"']https?:", page)


def _rows(frame: pd.DataFrame, planted: np.ndarray) -> pd.DataFrame:
    assert is_valid_cells(strings_to_cells(frame["h3"].to_numpy())).all()
    return frame.set_index("h3").loc[[f"{c:x}" for c in planted]]


@pytest.mark.parametrize("command", ["hotspots", "recurring", "emerging"])
def test_commands_write_csv_geojson_html(city, tmp_path: Path, command: str) -> None:
    _, url, planted = city
    for suffix in (".csv", ".geojson", ".html"):
        out = tmp_path / f"{command}{suffix}"
        result = _run(url, command, "--out", str(out))
        assert result.exit_code == 0, result.output
        assert "universe:" in result.output
        assert "no areas stored" in result.output
        if suffix == ".html":
            page = out.read_text(encoding="utf-8")
            _assert_no_remote_assets(page)
            assert f"{planted[0]:x}" in page
            continue
        if suffix == ".csv":
            frame = pd.read_csv(out, dtype={"h3": str})
        else:
            frame = gpd.read_file(out)
            assert frame.crs.to_epsg() == 4326
            assert frame.geometry.geom_type.eq("Polygon").all()
        rows = _rows(frame, planted)
        assert "cell" not in frame.columns
        if command == "hotspots":
            assert rows["gi_class"].str.startswith("hot_").all()
            assert {"count", "gi_z", "gi_p", "gi_class", "lisa_quadrant"} <= set(frame.columns)
            assert (rows["count"] >= 6 * WEEKS).all()
        elif command == "emerging":
            assert rows["pattern"].str.endswith("_hot_spot").all()
            assert {"count", "pattern", "trend_z", "trend_p", "gi_z", "gi_p"} <= set(frame.columns)
        else:
            assert {"rank", "active_periods", "longest_run", "current_run"} <= set(frame.columns)
            assert (rows["active_periods"] == WEEKS).all()
            assert (rows["current_run"] == WEEKS).all()
            assert set(rows["rank"]) == {1, 2, 3}


def test_cases_file_without_database(city, tmp_path: Path) -> None:
    csv, _, planted = city
    url = f"sqlite:///{tmp_path / 'untouched.db'}"
    out = tmp_path / "hot.parquet"
    result = _run(url, "hotspots", "--cases", str(csv), "--category", "06", "--out", str(out))
    assert result.exit_code == 0, result.output
    frame = gpd.read_parquet(out)
    assert frame.crs.to_epsg() == 4326
    assert _rows(frame, planted)["gi_class"].str.startswith("hot_").all()
    assert not (tmp_path / "untouched.db").exists()


def test_hotspot_areas_file(city, tmp_path: Path) -> None:
    _, url, planted = city
    areas_csv = tmp_path / "areas.csv"
    out = tmp_path / "hot.csv"
    result = _run(url, "hotspots", "--areas", str(areas_csv), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "hot-spot areas of >= 3 cells: " in result.output
    areas = pd.read_csv(areas_csv, dtype={"h3": str})
    assert areas["area"].tolist() == list(range(1, len(areas) + 1))
    first = set(areas.loc[0, "cells"].split())
    assert {f"{c:x}" for c in planted} <= first  # the planted cluster is the area with the most cases
    assert areas.loc[0, "h3"] in first
    assert (areas["n_cells"] >= 3).all()
    # 6 cases a week in each planted cell all along: its share of the cases is steady
    assert areas.loc[0, "trend"] == "steady"
    assert "steady (τ " in result.output
    assert set(areas["trend"]) <= {"rising", "falling", "steady"}
    # two weeks are too few for a trend: the areas come without one
    short = _run(url, "hotspots", "--from", "2026-01-05", "--to", "2026-01-18", "--areas", str(areas_csv))
    assert short.exit_code == 0, short.output
    assert "trend" not in pd.read_csv(areas_csv).columns


def test_date_filter_and_period(city, tmp_path: Path) -> None:
    _, url, _ = city
    out = tmp_path / "rec.csv"
    args = ["recurring", "--period", "day", "--from", "2026-01-05", "--to", "2026-01-18", "--out", str(out)]
    result = _run(url, *args)
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out)["n_periods"].eq(14).all()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["hotspots", "--category", "ZZ"], "category 'ZZ' does not exist"),
        (["hotspots", "--from", "2027-01-01"], "empty selection"),
        (["emerging", "--period", "month"], "too few periods"),
    ],
)
def test_errors_exit_1_with_a_message(city, args: list[str], message: str) -> None:
    _, url, _ = city
    result = _run(url, *args)
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_stored_areas_are_the_universe(city, tmp_path: Path) -> None:
    from shapely.geometry import box

    csv, _, planted = city
    area = gpd.GeoDataFrame(
        {"code": ["320602"], "name": ["崇川区"]},
        geometry=[box(CENTRE[1] - 0.012, CENTRE[0] - 0.011, CENTRE[1] + 0.012, CENTRE[0] + 0.011)],
        crs="EPSG:4326",
    )
    area.to_file(tmp_path / "district.geojson", driver="GeoJSON")
    url = f"sqlite:///{tmp_path / 'areas.db'}"
    for args in (
        ["init"],
        ["import", "areas", str(tmp_path / "district.geojson"), "--level", "district"],
        ["import", "cases", str(csv)],
    ):
        result = _run(url, *args)
        assert result.exit_code == 0, result.output
    out = tmp_path / "hot.csv"
    result = _run(url, "hotspots", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "of the 1 stored area(s) at res 10" in result.output
    frame = pd.read_csv(out, dtype={"h3": str})
    assert _rows(frame, planted)["gi_class"].str.startswith("hot_").all()


def test_empty_database_is_a_clear_error(tmp_path: Path) -> None:
    # a store without the schema: migrations run only in ``gridpatrol init``
    result = _run(f"sqlite:///{tmp_path / 'empty.db'}", "recurring")
    assert result.exit_code == 1
    assert "run `gridpatrol init`" in result.output
    url = f"sqlite:///{tmp_path / 'new.db'}"
    assert _run(url, "init").exit_code == 0
    result = _run(url, "recurring")
    assert result.exit_code == 1
    assert "empty selection" in result.output
