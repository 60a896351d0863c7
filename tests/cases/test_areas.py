"""cases.areas: importing area polygons into the store (CLI, idempotence, updates, quarantine) and loading."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.cli import main
from cases.areas import LOADED_COLUMNS, import_areas, load_areas
from cases.db import make_engine
from cases.importing import ImportReadError
from cases.models import Area, ImportBatch, QuarantineRow
from cases.report import QUARANTINE_COLUMNS
from grid import areas as grid_areas
from grid.coords import wgs84_to_gcj02
from tests.conftest import SHARED_DATASETS, migrated_sqlite

NANTONG_DIR = SHARED_DATASETS / "nantong_admin"
NANTONG_2021 = NANTONG_DIR / "nantong_320600_districts_datav2021.json"
EARTH_RADIUS_M = 6_371_008.8


def _nantong_2021() -> Path:
    if not NANTONG_2021.exists():
        pytest.skip(f"Nantong 2021 district polygons not found at {NANTONG_2021} (../shared/datasets absent)")
    return NANTONG_2021


def _haversine_m(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> np.ndarray:
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(v, dtype=float)) for v in (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(a))


def _square(lon: float, lat: float, size: float = 0.01) -> dict[str, Any]:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def _write_geojson(path: Path, features: list[tuple[dict[str, Any], dict[str, Any] | None]]) -> Path:
    collection = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": p, "geometry": g} for p, g in features],
    }
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    return path


def _import_cli(db_url: str, path: Path, *extra: str) -> Any:
    args = ["--db-url", db_url, "import", "areas", str(path), "--level", "district", "--crs", "gcj02", *extra]
    return CliRunner().invoke(main, args)


def test_quarantine_columns_match_the_report() -> None:
    assert grid_areas.QUARANTINE_COLUMNS == QUARANTINE_COLUMNS


@pytest.mark.shared_data
def test_nantong_2021_import_via_cli_is_wgs84_and_idempotent(tmp_path: Path) -> None:
    path = _nantong_2021()
    db_url = migrated_sqlite(tmp_path / "gp.db")
    first = _import_cli(db_url, path)
    assert first.exit_code == 0, first.output
    assert "read 7, imported 7, duplicates 0, quarantined 0" in first.output

    engine = make_engine(db_url)
    areas = load_areas(engine, level="district")
    assert len(areas) == 7
    assert areas.crs.to_epsg() == 4326
    assert list(areas.columns) == list(LOADED_COLUMNS)
    assert dict(zip(areas["area_id"], areas["name"], strict=True))["320684"] == "海门区"
    assert set(areas["source_crs"]) == {"gcj02"}

    # stored WGS-84 vertices, forward-converted to GCJ-02, land on the file's own vertices
    source = gpd.read_file(path, engine="pyogrio").assign(adcode=lambda f: f["adcode"].astype(str))
    source = source.set_index("adcode").loc[areas["area_id"]]
    errors = []
    for stored, original in zip(areas.geometry, source.geometry, strict=True):
        wgs, gcj = shapely.get_coordinates(stored), shapely.get_coordinates(original)
        lat, lon = wgs84_to_gcj02(wgs[:, 1], wgs[:, 0])
        errors.append(_haversine_m(lon, lat, gcj[:, 0], gcj[:, 1]).max())
    assert max(errors) < 2.0

    km2 = areas["area_m2"].sum() / 1e6
    assert 8_001 <= km2 <= 1.3 * 8_001  # land area 8,001 km²; DataV also covers river and tidal flats

    second = _import_cli(db_url, path)
    assert second.exit_code == 0, second.output
    assert "read 7, imported 0, duplicates 7, quarantined 0" in second.output
    with Session(engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Area)) == 7
        batches = session.scalars(sa.select(ImportBatch).order_by(ImportBatch.batch_id)).all()
    assert [(b.rows_read, b.rows_imported, b.rows_duplicate) for b in batches] == [(7, 7, 0), (7, 0, 7)]
    assert batches[0].sha256 == batches[1].sha256
    engine.dispose()


def test_problem_features_are_quarantined_and_recorded(tmp_path: Path, sqlite_engine: Engine) -> None:
    bow_tie = [[120.8, 32.0], [120.81, 32.01], [120.81, 32.0], [120.8, 32.01], [120.8, 32.0]]
    path = _write_geojson(
        tmp_path / "messy.geojson",
        [
            ({"code": "A", "name": "甲"}, _square(120.80, 32.00)),
            ({"name": "无编码"}, _square(120.82, 32.00)),
            ({"code": "C", "name": "空"}, None),
            ({"code": "D", "name": "点"}, {"type": "Point", "coordinates": [120.8, 32.0]}),
            ({"code": "E", "name": "蝴蝶结"}, {"type": "Polygon", "coordinates": [bow_tie]}),
            ({"code": "A", "name": "甲"}, _square(120.80, 32.00)),
        ],
    )
    report = import_areas(path, sqlite_engine, level="community")
    assert (report.read, report.imported, report.duplicates, report.quarantined) == (6, 2, 1, 3)
    assert report.reasons().to_dict() == {"missing_field": 1, "empty_geometry": 1, "not_polygon": 1}
    assert report.quarantine["line"].tolist() == [2, 3, 4]
    assert any("feature 5 (area E)" in w and "make_valid" in w for w in report.warnings)
    with Session(sqlite_engine) as session:
        stored = session.scalars(sa.select(QuarantineRow).order_by(QuarantineRow.line)).all()
        batch = session.get(ImportBatch, report.batch_id)
        assert batch is not None
        assert (batch.rows_read, batch.rows_imported, batch.rows_duplicate, batch.rows_quarantined) == (
            6,
            2,
            1,
            3,
        )
        assert batch.finished_at is not None
    assert [(q.line, q.reason, q.field) for q in stored] == [
        (2, "missing_field", "code"),
        (3, "empty_geometry", "geometry"),
        (4, "not_polygon", "geometry"),
    ]
    assert {q.batch_id for q in stored} == {report.batch_id}
    assert json.loads(stored[2].raw)["geometry"]["type"] == "Point"
    loaded = load_areas(sqlite_engine)
    assert loaded["area_id"].tolist() == ["A", "E"]
    assert loaded.geometry.is_valid.all()
    assert loaded.loc[1, "geometry"].geom_type == "MultiPolygon"


def test_changed_geometry_updates_and_counts_as_duplicate(tmp_path: Path, sqlite_engine: Engine) -> None:
    before = _write_geojson(
        tmp_path / "v1.geojson",
        [
            ({"code": "A", "name": "甲"}, _square(120.8, 32.0)),
            ({"code": "B", "name": "乙"}, _square(120.9, 32.0)),
        ],
    )
    after = _write_geojson(
        tmp_path / "v2.geojson",
        [
            ({"code": "A", "name": "甲"}, _square(120.8, 32.0, size=0.02)),
            ({"code": "B", "name": "乙"}, _square(120.9, 32.0)),
            ({"code": "C", "name": "丙"}, _square(121.0, 32.0)),
        ],
    )
    import_areas(before, sqlite_engine, level="community")
    old = load_areas(sqlite_engine).set_index("area_id")
    report = import_areas(after, sqlite_engine, level="community")
    assert (report.read, report.imported, report.duplicates, report.updated) == (3, 1, 2, 1)
    new = load_areas(sqlite_engine).set_index("area_id")
    assert list(new.index) == ["A", "B", "C"]
    assert new.loc["A", "area_m2"] == pytest.approx(4 * old.loc["A", "area_m2"], rel=1e-3)
    assert new.loc["A", "source_file"] == str(after)
    assert new.loc["B", "source_file"] == str(before)  # unchanged rows are left alone


@pytest.mark.parametrize("suffix", ["shp", "gpkg"])
def test_shapefile_and_geopackage_import(tmp_path: Path, store_engine: Engine, suffix: str) -> None:
    frame = gpd.GeoDataFrame(
        {"adcode": ["320602", "320612"], "name": ["崇川区", "通州区"]},
        geometry=[shapely.box(120.8, 32.0, 120.9, 32.1), shapely.box(120.9, 32.0, 121.0, 32.1)],
        crs="EPSG:4326",
    )
    path = tmp_path / f"districts.{suffix}"
    frame.to_file(path, engine="pyogrio")
    report = import_areas(path, store_engine, level="district")
    assert (report.read, report.imported, report.quarantined) == (2, 2, 0)
    loaded = load_areas(store_engine, level="district")
    assert loaded["name"].tolist() == ["崇川区", "通州区"]
    assert (shapely.hausdorff_distance(loaded.geometry.to_numpy(), frame.geometry.to_numpy()) < 1e-12).all()
    assert load_areas(store_engine, level="community").empty


def test_unreadable_file_raises_import_read_error(tmp_path: Path, sqlite_engine: Engine) -> None:
    garbage = tmp_path / "garbage.geojson"
    garbage.write_text("not a geojson", encoding="utf-8")
    with pytest.raises(ImportReadError, match=r"garbage\.geojson"):
        import_areas(garbage, sqlite_engine, level="district")
    result = _import_cli(migrated_sqlite(tmp_path / "cli.db"), garbage)
    assert result.exit_code == 2
    assert "cannot read" in result.output


def test_load_areas_when_empty_and_bad_level(sqlite_engine: Engine) -> None:
    empty = load_areas(sqlite_engine)
    assert empty.empty
    assert list(empty.columns) == list(LOADED_COLUMNS)
    assert empty.crs.to_epsg() == 4326
    with pytest.raises(ValueError, match="`level` was 'province'"):
        load_areas(sqlite_engine, level="province")
