"""Any coordinate system in a mapping (issue 22): EPSG codes and PROJ strings through pyproj, x/y columns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyproj
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cases.importing import import_cases
from cases.mapping import Mapping, MappingError
from cases.models import Case

#: Nantong-like WGS-84 truth points (lat, lon).
RNG = np.random.default_rng(7)
TRUTH_LAT = 31.95 + RNG.random(40) * 0.15
TRUTH_LON = 120.75 + RNG.random(40) * 0.2


def _metres(lat: np.ndarray, lon: np.ndarray, lat0: np.ndarray, lon0: np.ndarray) -> np.ndarray:
    k = np.cos(np.radians(lat0))
    return np.hypot((lat - lat0) * 111_320.0, (lon - lon0) * 111_320.0 * k)


def _write(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text(header + "".join(rows), encoding="utf-8")
    return path


def _stored(engine: Engine) -> dict[str, tuple]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(Case.case_id, Case.lat, Case.lon, Case.cell, Case.source_crs)).all()
    return {r[0]: tuple(r[1:]) for r in rows}


def test_cgcs2000_gauss_krueger_zone_40_x_y_columns(tmp_path: Path, sqlite_engine: Engine) -> None:
    to_4528 = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4528", always_xy=True)
    x, y = to_4528.transform(TRUTH_LON, TRUTH_LAT)
    rows = [f"G{i},06010,{x[i]:.4f},{y[i]:.4f},2024-03-05 08:00\n" for i in range(len(x))]
    rows.append(
        "FAR,06010,500000.0,3543284.0,2024-03-05 08:00\n"
    )  # easting without the zone prefix: 114.8°E … far
    path = _write(tmp_path / "gk.csv", "case_id,category,东坐标,北坐标,reported_at\n", rows)
    mapping = Mapping.from_dict(
        {"columns": {"x": "东坐标", "y": "北坐标"}, "options": {"crs": "EPSG:4528"}}, origin="gk.toml"
    )
    report = import_cases(path, sqlite_engine, mapping=mapping)
    assert (report.imported, report.quarantined) == (40, 1)
    assert report.quarantine.iloc[0]["reason"] == "outside_crs_area"
    stored = _stored(sqlite_engine)
    lat = np.array([stored[f"G{i}"][0] for i in range(40)])
    lon = np.array([stored[f"G{i}"][1] for i in range(40)])
    assert _metres(lat, lon, TRUTH_LAT, TRUTH_LON).max() < 0.1
    assert {v[2] is not None for v in stored.values()} == {True}
    assert {v[3] for v in stored.values()} == {"EPSG4528"}


def test_proj_string_with_lat_lon_columns(tmp_path: Path, sqlite_engine: Engine) -> None:
    proj = "+proj=tmerc +lat_0=0 +lon_0=120 +k=1 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m +no_defs"
    x, y = pyproj.Transformer.from_crs("EPSG:4326", proj, always_xy=True).transform(TRUTH_LON, TRUTH_LAT)
    rows = [f"P{i},06010,{y[i]:.4f},{x[i]:.4f},2024-03-05 08:00\n" for i in range(len(x))]
    path = _write(tmp_path / "p.csv", "case_id,category,lat,lon,reported_at\n", rows)
    report = import_cases(path, sqlite_engine, mapping=Mapping.from_dict({"options": {"crs": proj}}))
    assert (report.imported, report.quarantined) == (40, 0)
    stored = _stored(sqlite_engine)
    lat = np.array([stored[f"P{i}"][0] for i in range(40)])
    lon = np.array([stored[f"P{i}"][1] for i in range(40)])
    assert _metres(lat, lon, TRUTH_LAT, TRUTH_LON).max() < 0.1


def test_unknown_crs_is_a_mapping_error() -> None:
    with pytest.raises(MappingError, match="EPSG code"):
        Mapping.from_dict({"options": {"crs": "EPSG:999999"}})


@pytest.mark.shared_data
def test_nantong_districts_in_epsg_4528_build_the_same_grid(tmp_path: Path) -> None:
    """The Nantong district polygons reprojected to CGCS2000 / GK zone 40, in a file that declares no CRS,
    import with ``crs="EPSG:4528"`` and cover the same H3 cells as the originals."""
    from grid.areas import read_areas
    from grid.build import cells_from_polygons
    from tests.conftest import SHARED_DATASETS

    source = SHARED_DATASETS / "nantong_admin" / "nantong_320600_districts_datav2021.json"
    if not source.exists():
        pytest.skip(f"Nantong 2021 district polygons not found at {source} (../shared/datasets absent)")
    original, _ = read_areas(source, level="district", crs="gcj02")
    projected = (
        original[["area_id", "name", "geometry"]].to_crs("EPSG:4528").set_crs(None, allow_override=True)
    )
    path = tmp_path / "nantong_4528.geojson"
    # a file of bare projected coordinates, as a GIS export without a CRS member writes it
    path.write_text(projected.rename(columns={"area_id": "code"}).to_json(), encoding="utf-8")
    again, quarantine = read_areas(path, level="district", crs="EPSG:4528")
    assert len(quarantine) == 0
    assert len(again) == len(original)
    assert set(again["source_crs"]) == {"EPSG4528"}
    cells = cells_from_polygons(original, res=8)
    cells_again = cells_from_polygons(again, res=8)
    assert set(cells["cell"]) == set(cells_again["cell"])
