"""grid.cells: parity with h3-py 4.5 (ids, strings, parents, validity, centres, polygons, areas, disks)."""

from __future__ import annotations

import math

import geopandas as gpd
import h3
import h3.api.basic_int as h3i
import numpy as np
import numpy.typing as npt
import pytest
import shapely

from grid.cells import (
    AREA_COL_NAME,
    CELL_COL_NAME,
    DEFAULT_RES,
    H3_NULL,
    NEIGHBOUR_COL_NAME,
    cell_centers,
    cell_resolution,
    cells_to_parents,
    cells_to_polygons,
    cells_to_strings,
    grid_disk,
    is_valid_cells,
    latlng_to_cells,
    strings_to_cells,
)

NANTONG = (32.0, 120.86)  # (lat, lon)
PENTAGON_RADIUS_RAD = 1e-3


def h3_reference(
    lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64], res: int
) -> npt.NDArray[np.int64]:
    """``h3.str_to_int(h3.latlng_to_cell(lat, lon, res))`` per point, as int64."""
    ids = [
        h3.str_to_int(h3.latlng_to_cell(a, b, res)) for a, b in zip(lat.tolist(), lon.tolist(), strict=True)
    ]
    return np.array(ids, dtype=np.uint64).view(np.int64)


def sphere_points(
    rng: np.random.Generator, n: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """n points uniform on the sphere, (lat, lon) degrees."""
    return np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, n))), rng.uniform(-180.0, 180.0, n)


def hard_points(
    rng: np.random.Generator, res: int, n_each: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Points near the poles, on and near the antimeridian, and within 1e-3 rad of the 12 pentagon centres."""
    lat_parts, lon_parts = [], []
    polar = rng.uniform(89.9, 90.0, n_each) * rng.choice([-1.0, 1.0], n_each)
    lat_parts.append(polar)
    lon_parts.append(rng.uniform(-180.0, 180.0, n_each))
    lat_parts.append(rng.uniform(-89.0, 89.0, n_each))
    lon_parts.append(
        rng.choice([-180.0, 180.0], n_each) - np.sign(rng.normal(size=n_each)) * rng.exponential(1e-6, n_each)
    )
    for pentagon in h3.get_pentagons(res):
        clat, clon = h3.cell_to_latlng(pentagon)
        radius = np.degrees(PENTAGON_RADIUS_RAD * np.sqrt(rng.uniform(0.0, 1.0, n_each)))
        angle = rng.uniform(0.0, 2 * np.pi, n_each)
        lat_parts.append(np.clip(clat + radius * np.sin(angle), -90.0, 90.0))
        lon_parts.append(clon + radius * np.cos(angle) / max(math.cos(math.radians(clat)), 1e-6))
        lat_parts.append(np.array([clat]))
        lon_parts.append(np.array([clon]))
    lat_parts.append(np.array([90.0, -90.0, 0.0, 0.0, 0.0, 45.0, -45.0, 89.999999999]))
    lon_parts.append(np.array([0.0, 0.0, 0.0, 180.0, -180.0, 180.0, -180.0, 179.999999999]))
    return np.concatenate(lat_parts), np.concatenate(lon_parts)


@pytest.mark.parametrize("res", range(16))
def test_latlng_to_cells_matches_h3_on_the_whole_sphere(res: int) -> None:
    rng = np.random.default_rng(1000 + res)
    lat, lon = sphere_points(rng, 8_000)
    hard_lat, hard_lon = hard_points(rng, res, 100)
    lat, lon = np.concatenate([lat, hard_lat]), np.concatenate([lon, hard_lon])
    ours = latlng_to_cells(lat, lon, res)
    expected = h3_reference(lat, lon, res)
    mismatch = np.flatnonzero(ours != expected)
    assert mismatch.size == 0, (
        f"res {res}: {mismatch.size} mismatches, first at {lat[mismatch[0]]}, {lon[mismatch[0]]}"
    )


@pytest.mark.parametrize("res", range(8, 13))
def test_latlng_to_cells_matches_h3_densely_around_nantong(res: int) -> None:
    rng = np.random.default_rng(2000 + res)
    lat = NANTONG[0] + rng.normal(0.0, 0.05, 8_000)
    lon = NANTONG[1] + rng.normal(0.0, 0.05, 8_000)
    np.testing.assert_array_equal(latlng_to_cells(lat, lon, res), h3_reference(lat, lon, res))


@pytest.mark.slow
def test_latlng_to_cells_matches_h3_on_a_million_points() -> None:
    rng = np.random.default_rng(3)
    for res in range(16):
        lat, lon = sphere_points(rng, 62_500)
        np.testing.assert_array_equal(latlng_to_cells(lat, lon, res), h3_reference(lat, lon, res))


def test_latlng_to_cells_shapes_default_res_and_known_id() -> None:
    assert int(latlng_to_cells(*NANTONG)) == h3.str_to_int("8a309d5541a7fff")
    assert DEFAULT_RES == 10
    grid = latlng_to_cells(np.full((2, 3), NANTONG[0]), NANTONG[1])
    assert grid.shape == (2, 3)
    assert grid.dtype == np.int64
    assert latlng_to_cells(np.empty(0), np.empty(0)).shape == (0,)


def test_non_finite_coordinates_raise_or_become_null() -> None:
    lat = np.array([32.0, np.nan, 31.0, 30.0])
    lon = np.array([120.0, 120.0, np.inf, 121.0])
    with pytest.raises(ValueError, match=r"2 non-finite value\(s\); the first at position 1"):
        latlng_to_cells(lat, lon)
    out = latlng_to_cells(lat, lon, invalid="null")
    assert out[1] == out[2] == H3_NULL == 0
    np.testing.assert_array_equal(out[[0, 3]], h3_reference(lat[[0, 3]], lon[[0, 3]], DEFAULT_RES))
    with pytest.raises(ValueError, match="`invalid`"):
        latlng_to_cells(lat, lon, invalid="drop")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("res", "error"), [(16, ValueError), (-1, ValueError), (10.0, TypeError), (True, TypeError)]
)
def test_resolution_is_validated(res: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="`res`"):
        latlng_to_cells(32.0, 120.0, res)  # type: ignore[arg-type]


def test_non_numeric_coordinates_raise_type_error() -> None:
    with pytest.raises(TypeError, match="`lon`"):
        latlng_to_cells([32.0], ["east"])


@pytest.fixture(scope="module")
def mixed_cells() -> npt.NDArray[np.int64]:
    """Cells at every resolution from random points, plus all pentagons and their neighbours."""
    rng = np.random.default_rng(11)
    parts = []
    for res in range(16):
        lat, lon = sphere_points(rng, 300)
        parts.append(latlng_to_cells(lat, lon, res))
        pentagons = [h3.str_to_int(p) for p in h3.get_pentagons(res)]
        ring = [c for p in pentagons for c in h3i.grid_disk(p, 1)]
        parts.append(np.array(ring, dtype=np.uint64).view(np.int64))
    return np.concatenate(parts)


def test_strings_round_trip_and_match_h3(mixed_cells: npt.NDArray[np.int64]) -> None:
    strings = cells_to_strings(mixed_cells)
    assert strings.dtype == object
    assert strings.tolist() == [h3.int_to_str(int(c)) for c in mixed_cells.view(np.uint64)]
    assert {len(s) for s in strings} == {15}
    np.testing.assert_array_equal(strings_to_cells(strings), mixed_cells)
    np.testing.assert_array_equal(strings_to_cells(np.char.upper(strings.astype(str))), mixed_cells)
    assert cells_to_strings(mixed_cells.reshape(-1, 2)).shape == (mixed_cells.size // 2, 2)
    assert cells_to_strings(np.array([H3_NULL])).tolist() == ["0"]


@pytest.mark.parametrize(
    ("strings", "error", "pattern"),
    [
        (
            ["8a309d5541a7fff", "8a309d5541a7ffe"],
            ValueError,
            r"1 value\(s\) .* '8a309d5541a7ffe' at position 1",
        ),
        (["xyz"], ValueError, "'xyz' at position 0"),
        ([""], ValueError, "position 0"),
        (["0x8a309d5541a7fff"], ValueError, "position 0"),
        (["8a309d5541a7fff", 5], TypeError, "element 1 is int"),
        (np.array([1, 2]), TypeError, "dtype int64"),
    ],
)
def test_strings_to_cells_names_the_first_bad_value(
    strings: object, error: type[Exception], pattern: str
) -> None:
    with pytest.raises(error, match=pattern):
        strings_to_cells(strings)  # type: ignore[arg-type]


def test_parents_match_h3_at_every_coarser_resolution(mixed_cells: npt.NDArray[np.int64]) -> None:
    resolutions = cell_resolution(mixed_cells)
    np.testing.assert_array_equal(
        resolutions, [h3i.get_resolution(int(c)) for c in mixed_cells.view(np.uint64)]
    )
    for parent_res in range(16):
        cells = mixed_cells[resolutions >= parent_res]
        expected = [h3i.cell_to_parent(int(c), parent_res) for c in cells.view(np.uint64)]
        np.testing.assert_array_equal(cells_to_parents(cells, parent_res).view(np.uint64), expected)


def test_parents_reject_a_finer_resolution() -> None:
    cells = latlng_to_cells([32.0, 31.0], [120.0, 121.0], 8)
    with pytest.raises(ValueError, match=r"`res`=9 is finer than cell .* \(resolution 8\) at position 0"):
        cells_to_parents(cells, 9)


def test_is_valid_cells_matches_h3(mixed_cells: npt.NDArray[np.int64]) -> None:
    rng = np.random.default_rng(5)
    u = mixed_cells.view(np.uint64)
    candidates = [u, rng.integers(0, 2**63, 2_000, dtype=np.uint64)]
    for _ in range(8):  # single-bit flips hit mode, resolution, base cell and digit fields
        bit = rng.integers(0, 64, u.size).astype(np.uint64)
        candidates.append(u ^ (np.uint64(1) << bit))
    pentagons = np.array(
        [h3.str_to_int(p) for r in range(1, 16) for p in h3.get_pentagons(r)], dtype=np.uint64
    )
    first_digit_shift = np.uint64(42)  # digit 1 of a pentagon set to 1: the deleted k-axes sub-sequence
    candidates.append(pentagons | (np.uint64(1) << first_digit_shift))
    candidates.append(np.array([0, 2**63, 2**64 - 1], dtype=np.uint64))
    values = np.concatenate(candidates)
    expected = [h3i.is_valid_cell(int(v)) for v in values]
    np.testing.assert_array_equal(is_valid_cells(values), expected)
    np.testing.assert_array_equal(is_valid_cells(values.view(np.int64)), expected)
    assert 0.2 < np.mean(expected) < 0.8  # the sample really mixes valid and invalid ids


def test_cell_centers_match_h3(mixed_cells: npt.NDArray[np.int64]) -> None:
    lat, lon = cell_centers(mixed_cells)
    expected = np.array([h3i.cell_to_latlng(int(c)) for c in mixed_cells.view(np.uint64)])
    np.testing.assert_array_equal(lat, expected[:, 0])
    np.testing.assert_array_equal(lon, expected[:, 1])


def test_polygons_and_areas_match_h3(mixed_cells: npt.NDArray[np.int64]) -> None:
    frame = cells_to_polygons(mixed_cells)
    assert isinstance(frame, gpd.GeoDataFrame)
    assert frame.crs.to_epsg() == 4326
    assert list(frame.columns) == [CELL_COL_NAME, "geometry", AREA_COL_NAME]
    assert frame[CELL_COL_NAME].dtype == np.int64
    assert frame[AREA_COL_NAME].dtype == np.float64
    np.testing.assert_array_equal(frame[CELL_COL_NAME].to_numpy(), mixed_cells)
    rows = zip(mixed_cells.view(np.uint64).tolist(), frame.geometry, frame[AREA_COL_NAME], strict=True)
    for cell, polygon, area in rows:
        boundary = h3i.cell_to_boundary(cell)
        ring = shapely.get_coordinates(polygon.exterior)
        assert len(ring) == len(boundary) + 1
        np.testing.assert_array_equal(ring[:-1], [(lng, lat) for lat, lng in boundary])
        assert area == pytest.approx(h3i.cell_area(cell, unit="m^2"), rel=1e-9)


def test_polygon_areas_at_nantong_are_about_a_hectare() -> None:
    frame = cells_to_polygons(latlng_to_cells(*NANTONG))
    assert frame[AREA_COL_NAME].iloc[0] == pytest.approx(11_147.0, rel=0.01)  # DOMAIN.md §6
    assert frame.geometry.iloc[0].is_valid


def test_empty_inputs_give_typed_empty_results() -> None:
    frame = cells_to_polygons(np.empty(0, dtype=np.int64))
    assert len(frame) == 0
    assert frame.crs.to_epsg() == 4326
    assert frame[CELL_COL_NAME].dtype == np.int64
    disk = grid_disk([])
    assert list(disk.columns) == [CELL_COL_NAME, NEIGHBOUR_COL_NAME]
    assert (disk.dtypes == np.int64).all()
    assert cell_centers([])[0].shape == (0,)
    assert strings_to_cells([]).dtype == np.int64


def test_invalid_cells_are_rejected_with_their_position() -> None:
    good = latlng_to_cells(*NANTONG)
    bad = np.array([good, good + 1])
    for fn in (cell_centers, cells_to_polygons, cell_resolution, grid_disk):
        with pytest.raises(ValueError, match=r"1 value\(s\) that are not valid H3 cells; .* at position 1"):
            fn(bad)
    with pytest.raises(TypeError, match="strings_to_cells"):
        cell_centers(np.array(["8a309d5541a7fff"]))
    with pytest.raises(TypeError, match="dtype float64"):
        cell_centers(np.array([1.5]))


@pytest.mark.parametrize("k", [0, 1, 2])
def test_grid_disk_matches_h3(mixed_cells: npt.NDArray[np.int64], k: int) -> None:
    cells = mixed_cells[::7]
    frame = grid_disk(np.concatenate([cells, cells[:5]]), k)  # duplicates collapse
    assert list(frame.columns) == [CELL_COL_NAME, NEIGHBOUR_COL_NAME]
    for cell, group in frame.groupby(CELL_COL_NAME):
        expected = sorted(
            np.array(h3i.grid_disk(int(np.int64(cell).view(np.uint64)), k), dtype=np.uint64).view(np.int64)
        )
        assert group[NEIGHBOUR_COL_NAME].tolist() == expected
    assert frame[CELL_COL_NAME].nunique() == np.unique(cells).size
    without_self = grid_disk(cells, k, include_self=False)
    assert len(without_self) == len(frame) - frame[CELL_COL_NAME].nunique()
    assert (without_self[CELL_COL_NAME] != without_self[NEIGHBOUR_COL_NAME]).all()
    with pytest.raises(ValueError, match="`k`"):
        grid_disk(cells, -1)
    with pytest.raises(TypeError, match="`k`"):
        grid_disk(cells, 1.5)  # type: ignore[arg-type]


def _h3_disk_set(cell: int, k: int) -> list[int]:
    disk = h3i.grid_disk(int(np.int64(cell).view(np.uint64)), k)
    return sorted(np.array(disk, dtype=np.uint64).view(np.int64))


@pytest.mark.parametrize("res", [2, 5, 9, 10, 15])
def test_grid_disk_matches_h3_around_pentagons_and_across_face_edges(res: int) -> None:
    """The lattice kernel's round-trip check must catch every distorted neighbourhood (else h3 answers)."""
    pentagons = [h3.str_to_int(p) for p in h3.get_pentagons(res)]
    near = np.unique(
        np.array([c for p in pentagons for c in h3i.grid_disk(p, 3)], dtype=np.uint64).view(np.int64)
    )
    # points strung across an icosahedron edge (face 5 | face 10 boundary region south of Japan)
    lat = np.linspace(10.0, 30.0, 400)
    edge = latlng_to_cells(lat, np.full(lat.size, 140.0), res)
    for k in (1, 3):
        frame = grid_disk(np.concatenate([near, edge]), k)
        for cell, group in frame.groupby(CELL_COL_NAME):
            assert group[NEIGHBOUR_COL_NAME].tolist() == _h3_disk_set(cell, k)


def test_grid_disk_kernel_handles_a_city_without_the_h3_fallback() -> None:
    """Nantong lies in a pentagon's base cell (24): the vectorised path must still take nearly every cell.

    About 1 % of these cells have a neighbour whose FaceIJK address is on another face's frame (base-cell
    borders near the pentagon's sector); those go to h3, as they must.
    """
    from grid._h3_disk import disk_offsets, grid_disk_kernel

    rng = np.random.default_rng(3)
    cells = np.unique(latlng_to_cells(rng.uniform(31.9, 32.1, 5000), rng.uniform(120.7, 121.0, 5000), 10))
    offsets = disk_offsets(2)
    table = np.zeros((cells.size, offsets.shape[0]), dtype=np.int64)
    handled = np.zeros(cells.size, dtype=np.bool_)
    grid_disk_kernel(cells, offsets, table, handled)
    assert handled.mean() > 0.97
    for row in np.flatnonzero(handled)[::97]:
        assert sorted(table[row]) == _h3_disk_set(cells[row], 2)
