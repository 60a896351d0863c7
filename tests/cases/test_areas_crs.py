"""Areas and unit grids in a projected CRS (issue #22): EPSG:4528 polygons import into the store; one
outside the system's area of use is quarantined as ``outside_crs_area``; the Nantong districts reprojected
to EPSG:4528 and imported build the same grid as the originals."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from sqlalchemy.engine import Engine

from cases.areas import import_areas, load_areas
from grid.build import cells_from_polygons
from tests.conftest import SHARED_DATASETS


def _projected_file(path: Path, boxes: list[tuple[float, float]], codes: list[str]) -> Path:
    """Squares of 0.001° at the given (lon, lat), written in EPSG:4528 metres in a file declaring no CRS."""
    frame = gpd.GeoDataFrame(
        {"code": codes, "name": [f"网格{i}" for i in range(len(codes))]},
        geometry=[shapely.box(lon, lat, lon + 0.001, lat + 0.001) for lon, lat in boxes],
        crs="EPSG:4326",
    )
    path.write_text(frame.to_crs("EPSG:4528").set_crs(None, allow_override=True).to_json(), "utf-8")
    return path


def test_unit_grids_in_epsg_4528_and_one_outside_the_area_of_use(
    tmp_path: Path, sqlite_engine: Engine
) -> None:
    codes = ["320613001002003", "320613001002004", "320613001002005"]
    path = _projected_file(tmp_path / "ug.geojson", [(120.86, 32.0), (10.0, 50.0), (120.861, 32.0)], codes)
    report = import_areas(path, sqlite_engine, level="unit_grid", crs="EPSG:4528")
    assert (report.read, report.imported, report.quarantined) == (3, 2, 1)
    assert report.quarantine[["line", "reason", "field"]].values.tolist() == [
        [2, "outside_crs_area", "geometry"]
    ]
    assert "320613001002004" in report.quarantine["detail"].iloc[0]
    stored = load_areas(sqlite_engine, level="unit_grid")
    assert sorted(stored["area_id"]) == [codes[0], codes[2]]
    assert set(stored["source_crs"]) == {"EPSG4528"}
    bounds = stored.geometry.bounds
    assert bounds["minx"].min() == pytest.approx(120.86, abs=1e-8)
    assert bounds["miny"].min() == pytest.approx(32.0, abs=1e-8)


@pytest.mark.shared_data
def test_nantong_districts_in_epsg_4528_import_and_build_the_same_grid(
    tmp_path: Path, sqlite_engine: Engine
) -> None:
    source = SHARED_DATASETS / "nantong_admin" / "nantong_320600_districts_datav2021.json"
    if not source.exists():
        pytest.skip(f"Nantong 2021 district polygons not found at {source} (../shared/datasets absent)")
    first = import_areas(source, sqlite_engine, level="district", crs="gcj02")
    original = load_areas(sqlite_engine)
    projected = (
        original[["area_id", "name", "geometry"]].to_crs("EPSG:4528").set_crs(None, allow_override=True)
    )
    path = tmp_path / "nantong_4528.geojson"
    path.write_text(projected.rename(columns={"area_id": "code"}).to_json(), encoding="utf-8")
    again = import_areas(path, sqlite_engine, level="district", crs="EPSG:4528")
    assert again.quarantined == 0
    assert again.read == first.imported
    reloaded = load_areas(sqlite_engine)
    assert set(reloaded["source_crs"]) == {"EPSG4528"}  # the same ids, overwritten from the projected file
    cells = cells_from_polygons(original, res=8)
    assert set(cells["cell"]) == set(cells_from_polygons(reloaded, res=8)["cell"])
