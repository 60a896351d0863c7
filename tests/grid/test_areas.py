"""grid.areas: reading area polygons (GeoJSON, Shapefile, GeoPackage), CRS, checks, geodesic areas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely

from grid.areas import AREA_COLUMNS, AreaFileError, geodesic_area_m2, read_areas
from grid.coords import transform_geometries, wgs84_to_gcj02
from tests.conftest import SHARED_DATASETS

NANTONG_DIR = SHARED_DATASETS / "nantong_admin"
NANTONG_2021 = NANTONG_DIR / "nantong_320600_districts_datav2021.json"
NANTONG_LAND_KM2 = 8001.0  # official land area; DataV boundaries also take in Yangtze channel and tidal flats
EARTH_RADIUS_M = 6_371_008.8


def _nantong_2021() -> Path:
    if not NANTONG_2021.exists():
        pytest.skip(f"Nantong 2021 district polygons not found at {NANTONG_2021} (../shared/datasets absent)")
    return NANTONG_2021


def haversine_m(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> np.ndarray:
    """Great-circle distance (m) between lon/lat arrays, mean Earth radius."""
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


def _same_shapes(a: gpd.GeoSeries, b: gpd.GeoSeries, *, tolerance: float) -> bool:
    """Same vertex count and Hausdorff distance within ``tolerance`` degrees (ring start/orientation free)."""
    left, right = a.to_numpy(), b.to_numpy()
    same_count = (shapely.get_num_coordinates(left) == shapely.get_num_coordinates(right)).all()
    return bool(same_count and (shapely.hausdorff_distance(left, right) <= tolerance).all())


@pytest.fixture
def messy_geojson(tmp_path: Path) -> Path:
    """One good square, then one feature per problem, then a repeat of the good square's id."""
    bow_tie = {
        "type": "Polygon",
        "coordinates": [[[120.8, 32.0], [120.81, 32.01], [120.81, 32.0], [120.8, 32.01], [120.8, 32.0]]],
    }
    flat = {
        "type": "Polygon",
        "coordinates": [[[120.8, 32.0], [120.8, 32.01], [120.8, 32.02], [120.8, 32.0]]],  # zero area
    }
    return _write_geojson(
        tmp_path / "messy.geojson",
        [
            ({"code": "A", "name": "甲"}, _square(120.80, 32.00)),
            ({"code": None, "name": "无编码"}, _square(120.82, 32.00)),
            ({"code": "C", "name": "空"}, None),
            ({"code": "D", "name": "点"}, {"type": "Point", "coordinates": [120.8, 32.0]}),
            ({"code": "E", "name": "蝴蝶结"}, bow_tie),
            ({"code": "F", "name": "共线"}, flat),
            ({"code": "A", "name": "甲again"}, _square(120.90, 32.00)),
        ],
    )


@pytest.mark.shared_data
def test_nantong_2021_districts_land_within_2_m_of_wgs84_truth() -> None:
    path = _nantong_2021()
    areas, quarantine = read_areas(path, level="district", crs="gcj02")
    assert quarantine.empty
    assert list(areas.columns) == list(AREA_COLUMNS)
    assert areas.crs.to_epsg() == 4326
    assert set(areas["area_id"]) == {"320602", "320612", "320623", "320681", "320682", "320684", "320685"}
    assert set(areas.loc[areas["area_id"] == "320684", "name"]) == {"海门区"}
    assert set(areas["parent_id"]) == {"320600"}  # DataV's parent {"adcode": 320600}
    assert set(areas["source_crs"]) == {"gcj02"}
    assert areas.geometry.is_valid.all()

    # forward-convert the stored WGS-84 vertices to GCJ-02 and compare with the file's own vertices
    source = gpd.read_file(path, engine="pyogrio")
    for stored, original in zip(areas.geometry, source.geometry, strict=True):
        wgs = shapely.get_coordinates(stored)
        gcj = shapely.get_coordinates(original)
        assert wgs.shape == gcj.shape
        lat, lon = wgs84_to_gcj02(wgs[:, 1], wgs[:, 0])  # (lat, lon) order
        assert haversine_m(lon, lat, gcj[:, 0], gcj[:, 1]).max() < 2.0
        shift = haversine_m(wgs[:, 0], wgs[:, 1], gcj[:, 0], gcj[:, 1])
        assert shift.min() > 350  # DOMAIN §4.2: ≈466 m in Nantong, so the conversion did happen
        assert shift.max() < 600


@pytest.mark.shared_data
def test_nantong_2021_district_areas_are_plausible() -> None:
    areas, _ = read_areas(_nantong_2021(), level="district", crs="gcj02")
    km2 = areas.set_index("area_id")["area_m2"] / 1e6
    # DataV's boundaries include the Yangtze channel and coastal flats, so they exceed the land area
    assert NANTONG_LAND_KM2 <= km2.sum() <= 1.3 * NANTONG_LAND_KM2
    assert km2.between(300, 2_500).all()
    assert km2.sum() == pytest.approx(9_859, rel=0.005)


@pytest.mark.shared_data
def test_geodesic_area_matches_an_equal_area_projection() -> None:
    areas, _ = read_areas(_nantong_2021(), level="district", crs="gcj02")
    laea = "+proj=laea +lat_0=32.15 +lon_0=121.1 +ellps=WGS84 +units=m"
    projected = areas.geometry.to_crs(laea).area.to_numpy()
    np.testing.assert_allclose(areas["area_m2"].to_numpy(), projected, rtol=1e-5)  # measured: 3e-7


def _band_area_m2(lat1: float, lat2: float, dlon: float) -> float:
    """Area (m²) of a lat/lon quadrangle on the WGS-84 ellipsoid (closed form, parallels as edges)."""
    a, f = 6_378_137.0, 1 / 298.257223563
    e2 = f * (2 - f)
    e = np.sqrt(e2)

    def q(lat: float) -> float:
        s = np.sin(np.radians(lat))
        return s / (1 - e2 * s * s) + np.log((1 + e * s) / (1 - e * s)) / (2 * e)

    return a * a * (1 - e2) / 2 * np.radians(dlon) * (q(lat2) - q(lat1))


def test_geodesic_area_matches_the_closed_form_and_holes_subtract() -> None:
    cell = shapely.box(0, 0, 1, 1)
    # the closed form uses parallels, Geod geodesics: they differ by ~3e-5 for a 1° cell at the equator
    assert geodesic_area_m2([cell])[0] == pytest.approx(_band_area_m2(0, 1, 1), rel=1e-4)
    small = shapely.box(120.8, 32.0, 120.81, 32.01)
    assert geodesic_area_m2([small])[0] == pytest.approx(_band_area_m2(32.0, 32.01, 0.01), rel=1e-7)
    hole = shapely.box(0.25, 0.25, 0.75, 0.75)
    holed = shapely.Polygon(cell.exterior.coords[::-1], [hole.exterior.coords])  # clockwise shell
    expected = geodesic_area_m2([cell])[0] - geodesic_area_m2([hole])[0]
    assert geodesic_area_m2([holed])[0] == pytest.approx(expected, rel=1e-9)
    assert np.isnan(geodesic_area_m2([None, shapely.Polygon()])).all()


def test_problem_features_get_exact_reasons_and_counts(messy_geojson: Path) -> None:
    areas, quarantine = read_areas(messy_geojson, level="community")
    assert areas["area_id"].tolist() == ["A", "E"]
    assert areas.loc[0, "name"] == "甲"  # the first of the repeated id is kept
    assert quarantine[["line", "field", "reason"]].to_dict("records") == [
        {"line": 2, "field": "code", "reason": "missing_field"},
        {"line": 3, "field": "geometry", "reason": "empty_geometry"},
        {"line": 4, "field": "geometry", "reason": "not_polygon"},
        {"line": 6, "field": "geometry", "reason": "invalid_geometry"},
    ]
    assert set(quarantine["file"]) == {str(messy_geojson)}
    assert json.loads(quarantine.loc[2, "raw"])["geometry"]["type"] == "Point"
    assert json.loads(quarantine.loc[0, "raw"])["properties"]["name"] == "无编码"
    assert areas.attrs["rows_read"] == 7
    assert areas.attrs["duplicates"] == 1
    assert areas.attrs["rows_read"] == len(areas) + areas.attrs["duplicates"] + len(quarantine)
    bow_tie = areas.geometry.iloc[1]
    assert bow_tie.is_valid
    assert bow_tie.geom_type == "MultiPolygon"
    assert len(bow_tie.geoms) == 2
    warnings = " ".join(areas.attrs["warnings"])
    assert "feature 5 (area E): invalid geometry (Self-intersection" in warnings
    assert "repaired with make_valid" in warnings
    assert "feature 7: area A repeats feature 1" in warnings


def test_shapefile_and_geopackage_inputs(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"ADCODE": [320602, 320612], "名称": ["崇川区", "通州区"], "pcode": ["320600", "320600"]},
        geometry=[shapely.box(120.8, 32.0, 120.9, 32.1), shapely.box(120.9, 32.0, 121.0, 32.1)],
        crs="EPSG:4326",
    )
    shp = tmp_path / "districts.shp"
    frame.to_file(shp, engine="pyogrio", encoding="utf-8")
    gpkg = tmp_path / "districts.gpkg"
    frame.to_file(gpkg, layer="districts", engine="pyogrio")
    frame.iloc[:1].to_file(gpkg, layer="other", engine="pyogrio")
    from_shp, q1 = read_areas(shp, level="district", parent_field="pcode")
    with pytest.raises(AreaFileError, match="2 layers"):
        read_areas(gpkg, level="district")
    from_gpkg, q2 = read_areas(gpkg, level="district", layer="districts", parent_field="pcode")
    for areas, quarantine in ((from_shp, q1), (from_gpkg, q2)):
        assert quarantine.empty
        assert areas["area_id"].tolist() == ["320602", "320612"]
        assert areas["name"].tolist() == ["崇川区", "通州区"]
        assert areas["parent_id"].tolist() == ["320600", "320600"]
        assert areas.crs.to_epsg() == 4326
        assert _same_shapes(areas.geometry, frame.geometry, tolerance=1e-9)


def test_projected_file_is_reprojected_before_the_gcj02_conversion(tmp_path: Path) -> None:
    lonlat = gpd.GeoDataFrame(
        {"code": ["A"]}, geometry=[shapely.box(120.8, 32.0, 120.9, 32.1)], crs="EPSG:4326"
    )
    lonlat.to_file(tmp_path / "lonlat.gpkg", engine="pyogrio")
    lonlat.to_crs("EPSG:3857").to_file(tmp_path / "mercator.gpkg", engine="pyogrio")
    lonlat.to_crs("EPSG:32651").to_file(tmp_path / "utm.shp", engine="pyogrio")
    expected, _ = read_areas(tmp_path / "lonlat.gpkg", level="district", crs="gcj02")
    for name in ("mercator.gpkg", "utm.shp"):
        areas, _ = read_areas(tmp_path / name, level="district", crs="gcj02")
        assert areas.crs.to_epsg() == 4326
        assert _same_shapes(areas.geometry, expected.geometry, tolerance=1e-7)  # ≈1 cm
    plain, _ = read_areas(tmp_path / "utm.shp", level="district")
    assert _same_shapes(plain.geometry, lonlat.geometry, tolerance=1e-7)


def test_bd09_and_gcj02_files_come_back_to_the_wgs84_truth(tmp_path: Path) -> None:
    truth = gpd.GeoSeries([shapely.box(120.8, 32.0, 120.9, 32.1)], crs="EPSG:4326")
    for crs in ("gcj02", "bd09"):
        shifted = transform_geometries(truth, "wgs84", crs)
        path = tmp_path / f"{crs}.geojson"
        gpd.GeoDataFrame({"code": ["A"]}, geometry=shifted, crs="EPSG:4326").to_file(path, engine="pyogrio")
        areas, _ = read_areas(path, level="district", crs=crs)
        assert _same_shapes(areas.geometry, truth, tolerance=1e-8)  # ≈1 mm
        assert not _same_shapes(shifted, truth, tolerance=1e-3)  # the file really was shifted


def test_explicit_fields_and_numeric_codes(tmp_path: Path) -> None:
    path = _write_geojson(
        tmp_path / "codes.geojson",
        [
            (
                {"gid": 1, "adcode": 320602.0, "NAME": "崇川区", "up": {"adcode": 320600}},
                _square(120.8, 32.0),
            ),
            ({"gid": 2, "adcode": 320612.0, "NAME": None, "up": None}, _square(120.9, 32.0)),
        ],
    )
    auto, _ = read_areas(path, level="district")
    assert auto["area_id"].tolist() == ["320602", "320612"]  # not "320602.0"
    assert auto["name"].tolist() == ["崇川区", "320612"]  # a missing name falls back to the code
    assert auto["parent_id"].isna().all()  # "up" is not a parent column name
    explicit, _ = read_areas(path, level="district", id_field="gid", parent_field="up")
    assert explicit["area_id"].tolist() == ["1", "2"]
    assert explicit["parent_id"].tolist()[0] == "320600"
    assert explicit["parent_id"].isna().tolist() == [False, True]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"level": "province"}, ValueError, "`level` was 'province'"),
        ({"level": "district", "crs": "gcj-02"}, ValueError, "`crs` was 'gcj-02'"),
        ({"level": "district", "id_field": "nope"}, AreaFileError, "`id_field` was 'nope'"),
        ({"level": "district", "layer": "nope"}, AreaFileError, "`layer` was 'nope'"),
    ],
)
def test_bad_arguments_name_the_argument(
    tmp_path: Path, kwargs: dict[str, Any], error: type, match: str
) -> None:
    path = _write_geojson(tmp_path / "one.geojson", [({"code": "A"}, _square(120.8, 32.0))])
    with pytest.raises(error, match=match):
        read_areas(path, **kwargs)


def test_unusable_files_raise_area_file_error(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.geojson"
    garbage.write_text("this is not json", encoding="utf-8")
    with pytest.raises(AreaFileError, match=r"garbage\.geojson"):
        read_areas(garbage, level="district")
    no_id = _write_geojson(tmp_path / "noid.geojson", [({"label": "x"}, _square(120.8, 32.0))])
    with pytest.raises(AreaFileError, match="no area code column"):
        read_areas(no_id, level="district")
