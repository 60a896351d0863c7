"""grid.coords: WGS-84 / GCJ-02 / BD-09 conversions, pinned values, round trips, dispatch, geometries."""

from __future__ import annotations

import warnings
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from grid.coords import (
    CRS_NAMES,
    bd09_to_gcj02,
    bd09_to_wgs84,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    out_of_china,
    to_wgs84,
    transform_geometries,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

EARTH_RADIUS_M = 6_371_008.8
NANTONG = (32.015, 120.864)  # (lat, lon), WGS-84
ROUND_TRIP_SPEC_M = 0.5
ROUND_TRIP_IDEAL_M = 0.01


def haversine_m(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> np.ndarray:
    """Great-circle distance (m) between (lat, lon) degree arrays, mean Earth radius."""
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(v, dtype=float)) for v in (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(a))


def test_nantong_wgs84_to_gcj02_offset_matches_domain_notes() -> None:
    # DOMAIN.md §4.2: ≈466 m, Δlng +0.00425°, Δlat −0.00215°; the public formula gives the same signs.
    lat, lon = wgs84_to_gcj02(*NANTONG)
    assert float(lat) - NANTONG[0] == pytest.approx(-0.00215, abs=2e-5)
    assert float(lon) - NANTONG[1] == pytest.approx(0.00425, abs=2e-5)
    assert float(haversine_m(*NANTONG, lat, lon)) == pytest.approx(466.0, abs=5.0)


def test_nantong_simple_inverse_error_is_metre_level_and_exact_is_sub_millimetre() -> None:
    gcj = wgs84_to_gcj02(*NANTONG)
    simple = gcj02_to_wgs84(*gcj, exact=False)
    exact = gcj02_to_wgs84(*gcj)
    assert float(haversine_m(*NANTONG, *simple)) == pytest.approx(0.84, abs=0.05)  # DOMAIN.md table
    assert float(haversine_m(*NANTONG, *exact)) < 1e-3


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(18.0, 53.0), st.floats(73.0, 135.0)),
        min_size=1,
        max_size=300,
    )
)
def test_round_trips_inside_china_are_below_half_a_metre(points: list[tuple[float, float]]) -> None:
    lat, lon = np.array(points).T
    worst = {}
    for name, forward, inverse in (
        ("gcj02", wgs84_to_gcj02, gcj02_to_wgs84),
        ("bd09", wgs84_to_bd09, bd09_to_wgs84),
        ("gcj02->bd09", gcj02_to_bd09, bd09_to_gcj02),
    ):
        back = inverse(*forward(lat, lon))
        worst[name] = float(haversine_m(lat, lon, *back).max())
    assert max(worst.values()) < ROUND_TRIP_SPEC_M, worst


def test_round_trips_on_a_dense_sample_are_below_a_centimetre() -> None:
    rng = np.random.default_rng(20240601)
    lat = rng.uniform(18.0, 53.0, 200_000)
    lon = rng.uniform(73.0, 135.0, 200_000)
    gcj_err = haversine_m(lat, lon, *gcj02_to_wgs84(*wgs84_to_gcj02(lat, lon))).max()
    bd_err = haversine_m(lat, lon, *bd09_to_wgs84(*wgs84_to_bd09(lat, lon))).max()
    print(f"max round-trip error: GCJ-02 {gcj_err:.2e} m, BD-09 {bd_err:.2e} m")
    assert gcj_err < ROUND_TRIP_IDEAL_M
    assert bd_err < ROUND_TRIP_IDEAL_M


def test_closed_form_bd09_inverse_is_within_the_spec() -> None:
    rng = np.random.default_rng(7)
    lat, lon = rng.uniform(18.0, 53.0, 50_000), rng.uniform(73.0, 135.0, 50_000)
    back = bd09_to_gcj02(*gcj02_to_bd09(lat, lon), exact=False)
    assert haversine_m(lat, lon, *back).max() < ROUND_TRIP_SPEC_M


@pytest.mark.parametrize(("lat", "lon"), [(40.7128, -74.006), (51.5, -0.12), (-33.87, 151.21), (60.0, 100.0)])
def test_points_outside_china_pass_through_gcj_shifts(lat: float, lon: float) -> None:
    assert bool(out_of_china(lat, lon))
    for fn in (wgs84_to_gcj02, gcj02_to_wgs84):
        out_lat, out_lon = fn(lat, lon)
        assert (float(out_lat), float(out_lon)) == (lat, lon)


def test_out_of_china_box_edges() -> None:
    lat = np.array([32.0, 32.0, 32.0, 0.5, 56.0])
    lon = np.array([120.0, 72.0, 138.0, 120.0, 120.0])
    np.testing.assert_array_equal(out_of_china(lat, lon), [False, True, True, True, True])


def test_nan_in_gives_nan_out_without_warnings() -> None:
    lat = np.array([np.nan, 32.0, 32.0])
    lon = np.array([120.0, np.nan, 120.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for fn in (wgs84_to_gcj02, gcj02_to_wgs84, wgs84_to_bd09, bd09_to_wgs84):
            out_lat, out_lon = fn(lat, lon)
            assert np.isnan(out_lat[0])
            assert np.isnan(out_lon[1])
            assert np.isfinite(out_lat[2])
            assert np.isfinite(out_lon[2])


def test_broadcasting_and_dtypes() -> None:
    lat, lon = wgs84_to_gcj02(32.0, np.array([[120.0, 121.0], [122.0, 123.0]]))
    assert lat.shape == lon.shape == (2, 2)
    assert lat.dtype == lon.dtype == np.float64
    with pytest.raises(ValueError, match="broadcast"):
        wgs84_to_gcj02(np.zeros(2), np.zeros(3))
    with pytest.raises(TypeError, match="`lat`"):
        wgs84_to_gcj02("north", 120.0)


@pytest.mark.parametrize("crs", CRS_NAMES)
def test_dispatch_matches_the_direct_functions(crs: str) -> None:
    lat, lon = np.array([32.0, 31.5]), np.array([120.86, 121.2])
    direct_from = {"wgs84": lambda a, b: (a, b), "gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}[crs]
    direct_to = {"wgs84": lambda a, b: (a, b), "gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}[crs]
    np.testing.assert_array_equal(from_wgs84(lat, lon, crs), direct_from(lat, lon))
    np.testing.assert_array_equal(to_wgs84(lat, lon, crs), direct_to(lat, lon))
    back = to_wgs84(*from_wgs84(lat, lon, crs), crs)
    assert haversine_m(lat, lon, *back).max() < 1e-3


def test_any_pyproj_crs_goes_through_pyproj() -> None:
    """Names pyproj knows (``WGS84``, ``EPSG:4326``, EPSG codes of projected systems) are accepted too."""
    for name in ("WGS84", "EPSG:4326"):
        lat, lon = to_wgs84(32.0, 120.0, name)
        assert (float(lat), float(lon)) == pytest.approx((32.0, 120.0), abs=1e-12)
    y, x = from_wgs84(32.0, 120.86, "EPSG:4528")  # CGCS2000 / 3-degree Gauss-Kruger zone 40: y, x in metres
    assert 40_000_000 < float(x) < 41_000_000
    back = to_wgs84(y, x, "EPSG:4528")
    assert haversine_m(32.0, 120.86, *back).max() < 1e-3


@pytest.mark.parametrize("bad", ["gcj-02", "", None, 4326])
def test_dispatch_rejects_unknown_names_listing_the_allowed_ones(bad: Any) -> None:
    with pytest.raises(ValueError, match=r"`crs` was .* expected to be one of \['wgs84', 'gcj02', 'bd09'\]"):
        to_wgs84(32.0, 120.0, bad)
    with pytest.raises(ValueError, match="`crs`"):
        from_wgs84(32.0, 120.0, bad)


def test_iteration_options_are_validated() -> None:
    with pytest.raises(ValueError, match="tol_deg"):
        gcj02_to_wgs84(32.0, 120.0, tol_deg=0)
    with pytest.raises(ValueError, match="max_iter"):
        gcj02_to_wgs84(32.0, 120.0, max_iter=0)
    with pytest.warns(RuntimeWarning, match="did not converge"):
        gcj02_to_wgs84(32.0, 120.0, tol_deg=1e-300, max_iter=1)


def _nantong_polygon() -> shapely.Polygon:
    lat0, lon0 = NANTONG
    ring = [(lon0, lat0), (lon0 + 0.01, lat0), (lon0 + 0.01, lat0 + 0.008), (lon0, lat0 + 0.01)]
    return shapely.Polygon(ring)


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_transform_geometries_round_trip_within_two_metres(crs: str) -> None:
    polygon = _nantong_polygon()
    series = gpd.GeoSeries([polygon, shapely.Point(NANTONG[1], NANTONG[0])], index=[7, 9], crs="EPSG:4326")
    shifted = transform_geometries(series, "wgs84", crs)
    assert isinstance(shifted, gpd.GeoSeries)
    assert shifted.crs.to_epsg() == 4326
    assert list(shifted.index) == [7, 9]
    moved = shapely.get_coordinates(shifted.iloc[0])
    original = shapely.get_coordinates(polygon)
    assert haversine_m(original[:, 1], original[:, 0], moved[:, 1], moved[:, 0]).min() > 400.0  # it moved
    back = transform_geometries(shifted, crs, "wgs84")
    coords = shapely.get_coordinates(back.iloc[0])
    assert haversine_m(original[:, 1], original[:, 0], coords[:, 1], coords[:, 0]).max() < 2.0
    point = shapely.get_coordinates(back.iloc[1])[0]
    assert float(haversine_m(NANTONG[0], NANTONG[1], point[1], point[0])) < 2.0


def test_transform_geometries_matches_point_functions_and_keeps_z() -> None:
    lat0, lon0 = NANTONG
    arr = np.array([shapely.Point(lon0, lat0, 5.0), shapely.LineString([(lon0, lat0), (lon0 + 0.1, lat0)])])
    out = transform_geometries(arr, "wgs84", "gcj02")
    assert isinstance(out, np.ndarray)
    expected_lat, expected_lon = wgs84_to_gcj02(lat0, lon0)
    assert shapely.get_coordinates(out[0], include_z=True).tolist() == [[expected_lon, expected_lat, 5.0]]
    single = transform_geometries(arr[1], "wgs84", "wgs84")
    assert single.equals(arr[1])


def test_transform_geometries_rejects_projected_series_and_bad_names() -> None:
    projected = gpd.GeoSeries([shapely.Point(0, 0)], crs="EPSG:3857")
    with pytest.raises(ValueError, match="to_crs"):
        transform_geometries(projected, "wgs84", "gcj02")
    with pytest.raises(ValueError, match="`dst`"):
        transform_geometries([shapely.Point(120, 32)], "wgs84", "mars")
