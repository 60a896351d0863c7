"""Tracks in any coordinate system (issue #22): EPSG codes and PROJ strings, ``x``/``y`` columns, points
outside a projected system's area of use quarantined as ``outside_crs_area``; ``gridpatrol import tracks
--crs EPSG:4528``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
import pytest
from click.testing import CliRunner

from app.cli import main
from patrol.readers import TrackMapping, TrackReadError, read_tracks

#: WGS-84 truth: a walk in Nantong (EPSG:4528 is CGCS2000 / 3-degree Gauss–Krüger zone 40, Nantong's).
LAT = np.array([32.0100, 32.0102, 32.0105, 32.0109])
LON = np.array([120.8600, 120.8603, 120.8607, 120.8610])
_GEOD = pyproj.Geod(ellps="WGS84")


def _gk_csv(path: Path, *, x_name: str = "x", y_name: str = "y", extra: tuple | None = None) -> Path:
    x, y = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4528", always_xy=True).transform(LON, LAT)
    ts = pd.date_range("2024-03-05 08:00", periods=len(LAT), freq="10s").strftime("%Y-%m-%d %H:%M:%S")
    frame = pd.DataFrame({"inspector_id": "I-1", "ts": ts, x_name: np.round(x, 3), y_name: np.round(y, 3)})
    if extra is not None:
        frame.loc[len(frame)] = ["I-1", "2024-03-05 08:01:00", *extra]
    frame.to_csv(path, index=False)
    return path


def _error_m(points: pd.DataFrame) -> np.ndarray:
    n = len(points)
    return np.asarray(_GEOD.inv(points["lon"], points["lat"], LON[:n], LAT[:n])[2])


def test_x_y_columns_in_epsg_4528_land_within_0_1_m(tmp_path: Path) -> None:
    path = _gk_csv(tmp_path / "walk.csv")
    points, problems = read_tracks(path, mapping=TrackMapping(crs="EPSG:4528"))
    assert problems.empty
    assert len(points) == len(LAT)
    assert _error_m(points).max() < 0.1


def test_mapped_columns_and_proj_string(tmp_path: Path) -> None:
    path = _gk_csv(tmp_path / "walk.csv", x_name="东坐标", y_name="北坐标")
    proj = "+proj=tmerc +lat_0=0 +lon_0=120 +k=1 +x_0=40500000 +y_0=0 +ellps=GRS80 +units=m +no_defs"
    mapping = TrackMapping.from_dict(
        {"columns": {"x": "东坐标", "y": "北坐标"}, "options": {"crs": proj}}, origin="gk.toml"
    )
    points, problems = read_tracks(path, mapping=mapping)
    assert problems.empty
    assert _error_m(points).max() < 0.1


def test_point_outside_the_area_of_use_is_quarantined(tmp_path: Path) -> None:
    # easting/northing of a place in Europe written in zone 40: far outside EPSG:4528's area of use
    x, y = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4528", always_xy=True).transform(10.0, 50.0)
    path = _gk_csv(tmp_path / "walk.csv", extra=(round(x, 3), round(y, 3)))
    points, problems = read_tracks(path, mapping=TrackMapping(crs="EPSG:4528"))
    assert len(points) == len(LAT)
    assert problems[["line", "reason"]].values.tolist() == [[len(LAT) + 2, "outside_crs_area"]]


def test_unknown_crs_is_refused() -> None:
    with pytest.raises(TrackReadError, match="EPSG code"):
        TrackMapping.from_dict({"options": {"crs": "EPSG:999999"}})


def test_cli_import_tracks_with_an_epsg_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRIDPATROL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GRIDPATROL_DB_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    x, y = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4528", always_xy=True).transform(10.0, 50.0)
    path = _gk_csv(tmp_path / "walk.csv", x_name="lon", y_name="lat", extra=(round(x, 3), round(y, 3)))
    runner = CliRunner()
    result = runner.invoke(main, ["import", "tracks", str(path), "--crs", "EPSG:4528"])
    assert result.exit_code == 0, result.output
    assert f"stored {len(LAT)} new" in result.output
    assert "1 unusable" in result.output
    quarantine = pd.read_csv(tmp_path / "data" / "quarantine" / "walk.csv.tracks.quarantine.csv")
    assert quarantine["reason"].tolist() == ["outside_crs_area"]
    bad = runner.invoke(main, ["import", "tracks", str(path), "--crs", "not-a-crs"])
    assert bad.exit_code == 2
    assert "EPSG code" in bad.output
