"""Base map layers: reading GIS files in any CRS and OSM extracts, idempotent import, reported bad rows,
the administrator-only service and the ``gridpatrol import basemap`` command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from sqlalchemy.engine import Engine

from app.cli import main
from cases.basemap import BasemapFileError, import_basemap, read_basemap
from cases.repository_basemap import basemap_features
from grid.config import load_city_config
from services.basemap import ImportBasemapRequest, basemap_layers
from services.basemap import import_basemap as import_service
from services.context import Actor, ServiceContext
from services.errors import NotAllowedError, ServiceError

#: A street (polyline) and a lake (polygon) in the demo city (Nantong), WGS-84 lon/lat.
STREET = [(120.850, 32.000), (120.856, 32.004), (120.861, 32.001), (120.866, 32.006)]
LAKE = [(120.870, 32.010), (120.878, 32.011), (120.877, 32.017), (120.869, 32.016), (120.870, 32.010)]
#: m per degree of latitude, and of longitude at 32° N.
M_LAT, M_LON = 111_320.0, 111_320.0 * np.cos(np.radians(32.0))


def _collection(features: list[tuple[dict[str, Any], dict[str, Any] | None]], crs: str | None = None) -> dict:
    out: dict[str, Any] = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": p, "geometry": g} for p, g in features],
    }
    if crs:
        out["crs"] = {"type": "name", "properties": {"name": crs}}
    return out


def _write(path: Path, collection: dict) -> Path:
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    return path


def _layers_4326(tmp_path: Path) -> Path:
    features = [
        (
            {"kind": "street", "name": "人民路", "highway": "primary"},
            shapely.geometry.mapping(shapely.LineString(STREET)),
        ),
        ({"kind": "water", "name": "湖"}, shapely.geometry.mapping(shapely.Polygon(LAKE))),
    ]
    return _write(tmp_path / "layers.geojson", _collection(features))


def _layers_4528(tmp_path: Path) -> Path:
    """The same two features in CGCS2000 / 3-degree Gauss-Krüger zone 40 (EPSG:4528, metres)."""
    frame = gpd.read_file(_layers_4326(tmp_path)).set_crs(4326, allow_override=True).to_crs(4528)
    out = tmp_path / "layers_4528.geojson"
    frame.to_file(out, driver="GeoJSON")
    return out


def _max_gap_m(a: shapely.Geometry, b: shapely.Geometry) -> float:
    """The Hausdorff distance of two lon/lat geometries, in metres (local equirectangular)."""

    def local(g: shapely.Geometry) -> shapely.Geometry:
        return shapely.transform(g, lambda xy: xy * np.array([M_LON, M_LAT]))

    return float(shapely.hausdorff_distance(local(a), local(b)))


def test_projected_file_is_stored_where_the_wgs84_file_is(sqlite_engine: Engine, tmp_path: Path) -> None:
    first = import_basemap(_layers_4326(tmp_path), sqlite_engine)
    second = import_basemap(_layers_4528(tmp_path), sqlite_engine)
    assert (first.imported, second.imported) == (2, 2)
    stored = basemap_features(sqlite_engine)
    assert stored["source_crs"].tolist() == ["wgs84", "wgs84", "wgs84", "wgs84"]  # 4528 declared by the file
    geoms = shapely.from_wkb(stored["geometry_wkb"].to_numpy())
    by_file = {f: geoms[(stored["source_file"] == f).to_numpy()] for f in stored["source_file"].unique()}
    plain, projected = by_file["layers.geojson"], by_file["layers_4528.geojson"]
    assert stored.loc[stored["source_file"] == "layers.geojson", "kind"].tolist() == ["street", "water"]
    for a, b in zip(plain, projected, strict=True):
        assert _max_gap_m(a, b) < 1.0
    assert _max_gap_m(plain[0], shapely.LineString(STREET)) < 2.5  # simplified for display by ≤ 2 m


def test_crs_option_applies_to_a_file_without_one(tmp_path: Path) -> None:
    frame = gpd.read_file(_layers_4326(tmp_path)).set_crs(4326, allow_override=True).to_crs(4528)
    bare = _collection([({"name": "x"}, shapely.geometry.mapping(frame.geometry.iloc[0]))])
    path = _write(tmp_path / "bare.geojson", bare)  # metres, no crs member
    read, problems, _ = read_basemap(path, kind="street", crs="EPSG:4528")
    assert problems.empty
    assert _max_gap_m(read.geometry.iloc[0], shapely.LineString(STREET)) < 2.5
    assert read["source_crs"].iloc[0] == "EPSG4528"


def test_gcj02_file_is_shifted_back_to_wgs84(tmp_path: Path) -> None:
    from grid.coords import wgs84_to_gcj02

    xy = np.array(STREET)
    lat, lon = wgs84_to_gcj02(xy[:, 1], xy[:, 0])
    shifted = shapely.LineString(np.column_stack([lon, lat]))
    path = _write(tmp_path / "gcj.geojson", _collection([({}, shapely.geometry.mapping(shifted))]))
    read, _, _ = read_basemap(path, kind="street", crs="gcj02")
    assert _max_gap_m(shifted, shapely.LineString(STREET)) > 100  # the GCJ-02 offset
    assert _max_gap_m(read.geometry.iloc[0], shapely.LineString(STREET)) < 2.5


def test_reimport_replaces_the_files_features(store_engine: Engine, tmp_path: Path) -> None:
    path = _layers_4326(tmp_path)
    import_basemap(path, store_engine)
    again = import_basemap(path, store_engine)
    assert (again.imported, again.replaced) == (2, 2)
    stored = basemap_features(store_engine)
    assert len(stored) == 2
    assert stored["name"].tolist() == ["人民路", "湖"]


def test_bad_rows_are_reported_not_stored(sqlite_engine: Engine, tmp_path: Path) -> None:
    ring = [[120.85, 32.0], [120.86, 32.01], [120.86, 32.0], [120.85, 32.01], [120.85, 32.0]]
    bowtie = {"type": "Polygon", "coordinates": [ring]}
    features = [
        ({"kind": "street"}, shapely.geometry.mapping(shapely.LineString(STREET))),
        ({"kind": "street"}, None),
        ({"kind": "water"}, {"type": "Point", "coordinates": [120.85, 32.0]}),
        ({"kind": "green"}, bowtie),  # self-intersecting: repaired, kept
        ({"kind": "parking"}, shapely.geometry.mapping(shapely.LineString(STREET))),  # not a base map kind
    ]
    report = import_basemap(_write(tmp_path / "bad.geojson", _collection(features)), sqlite_engine)
    assert (report.read, report.imported) == (5, 2)
    assert report.problems.set_index("row")["reason"].to_dict() == {
        1: "empty_geometry", 2: "point_geometry", 4: "no_kind"
    }  # fmt: skip
    assert sorted(basemap_features(sqlite_engine)["kind"]) == ["green", "street"]


def test_osm_extract_as_geojson_lines(sqlite_engine: Engine, tmp_path: Path) -> None:
    street = shapely.geometry.mapping(shapely.LineString(STREET))
    lake = shapely.geometry.mapping(shapely.Polygon(LAKE))
    river = shapely.geometry.mapping(shapely.LineString(LAKE[:3]))
    lines = [
        {"type": "Feature", "properties": {"highway": "residential", "name": "青年路"}, "geometry": street},
        {"type": "Feature", "properties": {"tags": {"waterway": "river", "name": "濠河"}}, "geometry": river},
        {"type": "Feature", "properties": {"natural": "water"}, "geometry": lake},
        {"type": "Feature", "properties": {"amenity": "bench"}, "geometry": street},
    ]
    path = tmp_path / "extract.geojsonseq"
    path.write_text("\n".join("\x1e" + json.dumps(f, ensure_ascii=False) for f in lines), encoding="utf-8")
    report = import_basemap(path, sqlite_engine)
    stored = basemap_features(sqlite_engine)
    assert stored[["kind", "subkind", "name"]].values.tolist() == [
        ["street", "residential", "青年路"], ["water", "river", "濠河"], ["water", "water", None]
    ]  # fmt: skip
    assert report.problems["reason"].tolist() == ["no_kind"]


def test_unreadable_file_and_unknown_kind_raise(tmp_path: Path) -> None:
    junk = tmp_path / "junk.geojson"
    junk.write_text("not json", encoding="utf-8")
    with pytest.raises(BasemapFileError):
        read_basemap(junk, kind="street")
    with pytest.raises(BasemapFileError):
        read_basemap(_layers_4326(tmp_path), kind="parking")


def test_service_is_for_the_administrator_and_layers_follow_imports(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    ctx = ServiceContext(engine=sqlite_engine, config=load_city_config(), data_dir=tmp_path)
    planner = ctx.as_actor(Actor(username="p", role="planner"))
    with pytest.raises(NotAllowedError):
        import_service(planner, ImportBasemapRequest(path=_layers_4326(tmp_path)))
    assert basemap_layers(planner).layer_names() == []
    admin = ctx.as_actor(Actor(username="a", role="admin"))
    result = import_service(admin, ImportBasemapRequest(path=_layers_4326(tmp_path)))
    assert result.to_frame()["imported"].tolist() == [2]
    layers = basemap_layers(planner)
    assert layers.layer_names() == ["water", "streets"]
    assert layers.streets.crs.to_epsg() == 4326
    junk = tmp_path / "junk.geojson"
    junk.write_text("not json", encoding="utf-8")
    with pytest.raises(ServiceError) as caught:
        import_service(admin, ImportBasemapRequest(path=junk, kind="street"))
    assert caught.value.code == "basemap_unreadable"


def test_cli_imports_and_reports(sqlite_engine: Engine, tmp_path: Path) -> None:
    url = sqlite_engine.url.render_as_string(hide_password=False)
    path = _layers_4528(tmp_path)
    result = CliRunner().invoke(main, ["--db-url", url, "import", "basemap", str(path), "--kind", "street"])
    assert result.exit_code == 0, result.output
    assert "imported 2" in result.output
    assert basemap_features(sqlite_engine)["kind"].tolist() == ["street", "street"]
    empty = _write(tmp_path / "empty.geojson", _collection([]))
    result = CliRunner().invoke(main, ["--db-url", url, "import", "basemap", str(empty), "--kind", "water"])
    assert result.exit_code == 1
