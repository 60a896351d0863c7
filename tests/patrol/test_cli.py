"""``gridpatrol import tracks``, ``gridpatrol coverage`` and ``gridpatrol grid build`` end to end."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from app.cli import main
from tests.conftest import SHARED_DATASETS

DATASETS = SHARED_DATASETS


@pytest.mark.shared_data
def test_import_tracks_then_coverage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gpx = DATASETS / "gpx_run_dc" / "run.gpx"
    if not gpx.exists():
        pytest.skip(f"{gpx} not found (../shared/datasets absent)")
    monkeypatch.setenv("GRIDPATROL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GRIDPATROL_DB_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    runner = CliRunner()
    assert runner.invoke(main, ["init"]).exit_code == 0  # reports read the store: only init migrates it
    first = runner.invoke(main, ["import", "tracks", str(gpx), "--inspector", "R1"])
    assert first.exit_code == 0, first.output
    assert "stored 205 new, 1 already stored" in first.output  # the file repeats one time stamp
    again = runner.invoke(main, ["import", "tracks", str(gpx), "--inspector", "R1"])
    assert "stored 0 new, 206 already stored" in again.output
    csv_out = tmp_path / "coverage.csv"
    # the run is 2012-10-24 23:29 UTC = 2012-10-25 07:29 in Shanghai
    result = runner.invoke(
        main, ["coverage", "--from", "2012-10-25", "--to", "2012-10-25", "--out", str(csv_out)]
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(csv_out)
    assert list(table.columns[:6]) == ["cell", "h3", "minutes", "visits", "inspectors", "last_visit"]
    assert len(table) > 10
    assert table["h3"].str.len().eq(15).all()
    html_out = tmp_path / "coverage.html"
    result = runner.invoke(
        main,
        ["coverage", "--from", "2012-10-25", "--to", "2012-10-25", "--out", str(html_out), "--tiles", "none"],
    )
    assert result.exit_code == 0, result.output
    assert "leaflet" in html_out.read_text(encoding="utf-8").lower()
    empty = runner.invoke(
        main, ["coverage", "--from", "2013-01-01", "--to", "2013-01-02", "--out", str(csv_out)]
    )
    assert empty.exit_code == 3, empty.output  # no track in the range: said, and not a success
    assert "wrote 0 cells" in empty.output
    assert "no patrol tracks found in" in empty.output


def test_grid_build_writes_geoparquet_and_csv(tmp_path: Path) -> None:
    areas = gpd.GeoDataFrame(
        {"adcode": ["320602"], "name": ["崇川区"]},
        geometry=[shapely.box(120.85, 32.0, 120.86, 32.01)],
        crs=4326,
    )
    src = tmp_path / "areas.geojson"
    areas.to_file(src, driver="GeoJSON")
    runner = CliRunner()
    out = tmp_path / "cells.parquet"
    result = runner.invoke(main, ["grid", "build", "--areas", str(src), "--res", "10", "--out", str(out)])
    assert result.exit_code == 0, result.output
    cells = gpd.read_parquet(out)
    assert cells.crs.to_epsg() == 4326
    assert (cells["district"] == "320602").all()
    csv = tmp_path / "cells.csv"
    result = runner.invoke(
        main, ["grid", "build", "--areas", str(src), "--rule", "center", "--crs", "gcj02", "--out", str(csv)]
    )
    assert result.exit_code == 0, result.output
    assert "h3" in pd.read_csv(csv).columns
