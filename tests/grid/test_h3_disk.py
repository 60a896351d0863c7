"""The lattice-sweep gridDisk (grid._h3_disk.disk_neighbours) against h3 and the per-position kernel.

Universes are contiguous (so most neighbours are found by key, the sweep's fast path) and cover the
hard places: whole-globe resolutions (every face edge and all 12 pentagons), pentagon neighbourhoods at
fine resolutions, an area straddling an icosahedron edge, and Nantong (inside pentagon base cell 24).
"""

from __future__ import annotations

import h3
import h3.api.basic_int as h3i
import numba
import numpy as np
import numpy.typing as npt
import pytest

from grid import _h3_disk as h3_disk
from grid._h3_disk import (
    _h3_to_face_ij,
    disk_neighbours,
    disk_offsets,
    face_keys_kernel,
    fallback_count,
    grid_disk_kernel,
)
from grid._h3_geometry import _h3_to_face_ijk
from grid.cells import grid_disk, grid_disk_csr, latlng_to_cells

Cells = npt.NDArray[np.int64]


def _as_int64(values: list[int]) -> Cells:
    return np.array(values, dtype=np.uint64).view(np.int64)


def _all_cells(res: int) -> Cells:
    base = [h3.str_to_int(c) for c in h3.get_res0_cells()]
    if res == 0:
        return np.sort(_as_int64(base))
    return np.sort(_as_int64([c for b in base for c in h3i.cell_to_children(b, res)]))


def _disk_around(lat: float, lon: float, res: int, k: int) -> Cells:
    centre = int(np.int64(latlng_to_cells(lat, lon, res)).view(np.uint64))
    return np.sort(_as_int64(h3i.grid_disk(centre, k)))


def _h3_rows(universe: Cells, k: int) -> list[Cells]:
    return [np.sort(_as_int64(h3i.grid_disk(int(c), k))) for c in universe.view(np.uint64).tolist()]


def _faces(cells: Cells) -> set[int]:
    return {_h3_to_face_ijk(int(c))[0] for c in cells}


def _check_against_h3(universe: Cells, k: int) -> int:
    """Both outputs of the sweep equal h3's disks, and the sweep leaves to h3 exactly the origins the
    per-position kernel leaves; returns their number."""
    n_fallback = fallback_count(universe, k)
    assert n_fallback == int((~_reference_handled(universe, k)).sum())
    rows = _h3_rows(universe, k)
    sizes = np.array([row.size for row in rows])
    expected = np.concatenate(rows)
    indptr, cells = disk_neighbours(universe, k)
    np.testing.assert_array_equal(indptr, np.concatenate([[0], np.cumsum(sizes)]))
    np.testing.assert_array_equal(cells, expected)
    pos = np.minimum(np.searchsorted(universe, expected), universe.size - 1)
    member = universe[pos] == expected
    indptr, positions = disk_neighbours(universe, k, inside=True)
    np.testing.assert_array_equal(positions, pos[member])
    row_of = np.repeat(np.arange(universe.size), sizes)
    np.testing.assert_array_equal(indptr, np.searchsorted(row_of[member], np.arange(universe.size + 1)))
    return n_fallback


def _reference_handled(universe: Cells, k: int) -> npt.NDArray[np.bool_]:
    offsets = disk_offsets(k)
    table = np.zeros((universe.size, offsets.shape[0]), dtype=np.int64)
    handled = np.zeros(universe.size, dtype=np.bool_)
    grid_disk_kernel(universe, offsets, table, handled)
    return handled


@pytest.mark.parametrize(("res", "k"), [(0, 1), (1, 1), (1, 2), (2, 1), (2, 3)])
def test_whole_globe_resolutions_match_h3(res: int, k: int) -> None:
    """Every cell of a resolution: all 20 faces, every face edge, all 12 pentagons, inside the universe."""
    universe = _all_cells(res)
    assert len(_faces(universe)) == 20
    n_fallback = _check_against_h3(universe, k)
    if res == 2:
        assert n_fallback < universe.size  # the sweep answered some face interiors itself


@pytest.mark.parametrize("res", [5, 9, 10, 15])
def test_pentagon_neighbourhoods_match_h3(res: int) -> None:
    """Contiguous disks around every pentagon (the pentagons included): distorted sectors must fall back."""
    pentagons = [h3.str_to_int(p) for p in h3.get_pentagons(res)]
    universe = np.unique(_as_int64([c for p in pentagons for c in h3i.grid_disk(p, 6)]))
    for k in (1, 2):
        assert _check_against_h3(universe, k) >= 12  # at least the pentagons themselves


def test_area_across_an_icosahedron_edge_matches_h3() -> None:
    """A res-8 disk south of Japan on the face 10 | face 6 edge: neighbours across it come from h3."""
    universe = _disk_around(29.6, 140.0, 8, 25)
    assert len(_faces(universe)) >= 2
    for k in (1, 3):
        _check_against_h3(universe, k)


def test_city_sweep_matches_h3_and_the_per_position_kernel() -> None:
    """Nantong (pentagon base cell 24): the same handled cells as the plain kernel, nearly all of them."""
    universe = _disk_around(32.0, 120.86, 10, 40)  # 4,921 contiguous cells
    for k in (1, 2):
        n_fallback = fallback_count(universe, k)
        assert n_fallback == int((~_reference_handled(universe, k)).sum())
        assert n_fallback < 0.1 * universe.size  # ~1 % at k = 1, ~7 % at k = 2
        indptr, cells = disk_neighbours(universe, k)
        rows = np.arange(0, universe.size, 7)
        expected = _h3_rows(universe[rows], k)
        for r, row in zip(rows.tolist(), expected, strict=True):
            np.testing.assert_array_equal(cells[indptr[r] : indptr[r + 1]], row)


def test_scattered_cells_at_every_resolution_match_h3() -> None:
    """Sparse universes (mixed resolutions): the neighbours are mostly outside, converted and checked."""
    rng = np.random.default_rng(5)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, 200)))
    lon = rng.uniform(-180, 180, 200)
    universe = np.unique(np.concatenate([latlng_to_cells(lat, lon, res) for res in range(16)]))
    _check_against_h3(universe, 1)


def test_keys_are_filed_for_every_cell_but_pentagons() -> None:
    """Every hexagon round-trips through its FaceIJK address (so the sweep's key lookup is exact)."""
    rng = np.random.default_rng(8)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, 2000)))
    lon = rng.uniform(-180, 180, 2000)
    fine = np.concatenate([latlng_to_cells(lat, lon, res) for res in range(3, 16)])
    cells = np.unique(np.concatenate([_all_cells(2), fine]))
    keys = np.empty(cells.size, dtype=np.int64)
    face_keys_kernel(cells, keys)
    pentagon = np.array([h3i.is_pentagon(int(c)) for c in cells.view(np.uint64).tolist()])
    np.testing.assert_array_equal(keys < 0, pentagon)
    assert np.unique(keys[~pentagon]).size == int((~pentagon).sum())


def test_public_entry_points_agree() -> None:
    universe = _disk_around(32.0, 120.86, 9, 12)
    shuffled = np.random.default_rng(1).permutation(np.concatenate([universe, universe[:9]]))
    cells, indptr, indices = grid_disk_csr(shuffled, 2)
    np.testing.assert_array_equal(cells, universe)
    pairs = grid_disk(shuffled, 2)
    inside = pairs[pairs["neighbour"].isin(universe)]
    np.testing.assert_array_equal(np.repeat(cells, np.diff(indptr)), inside["cell"].to_numpy())
    np.testing.assert_array_equal(cells[indices], inside["neighbour"].to_numpy())
    empty = grid_disk_csr(np.array([], dtype=np.int64), 1)
    assert [a.size for a in empty] == [0, 1, 0]
    with pytest.raises(ValueError, match="`k`"):
        grid_disk_csr(universe, -1)


def test_face_ij_walk_equals_the_geometry_port() -> None:
    """``_h3_to_face_ij`` (IJ digit walk) gives the FaceIJK address of ``_h3_to_face_ijk`` for every cell."""
    rng = np.random.default_rng(9)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, 1000)))
    lon = rng.uniform(-180, 180, 1000)
    pentagons = [h3.str_to_int(p) for res in range(16) for p in h3.get_pentagons(res)]
    near = _as_int64([c for p in pentagons for c in h3i.grid_disk(p, 2)])
    cells = np.concatenate([_all_cells(2), near, *(latlng_to_cells(lat, lon, res) for res in range(16))])
    for c in cells.tolist():
        face, i, j, k = _h3_to_face_ijk(c)
        assert _h3_to_face_ij(c) == (face, i - k, j - k, (c >> 52) & 15)


def test_multi_threaded_kernels_give_the_same_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """The prange variants (big universes only) must write exactly what the serial kernels write."""
    universe = np.unique(np.concatenate([_disk_around(32.0, 120.86, 10, 60), _all_cells(1)]))
    serial = [disk_neighbours(universe, k, inside=inside) for k in (1, 2) for inside in (False, True)]
    monkeypatch.setattr(h3_disk, "PARALLEL_MIN_CELLS", 0)
    assert h3_disk.use_threads(universe.size) == (numba.get_num_threads() > 1)
    threaded = [disk_neighbours(universe, k, inside=inside) for k in (1, 2) for inside in (False, True)]
    for one, other in zip(serial, threaded, strict=True):
        np.testing.assert_array_equal(one[0], other[0])
        np.testing.assert_array_equal(one[1], other[1])
