"""Spatial weights from the lattice-sweep fast path equal those built from h3's own grid_disk pairs."""

from __future__ import annotations

import h3
import h3.api.basic_int as h3i
import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from analytics.weights import disk_weights
from grid.cells import latlng_to_cells

Cells = npt.NDArray[np.int64]


def _as_int64(values: list[int]) -> Cells:
    return np.array(values, dtype=np.uint64).view(np.int64)


def _h3_pairs(universe: Cells, k: int) -> pd.DataFrame:
    """Reference neighbour pairs straight from the h3 library (independent of grid._h3_disk)."""
    disks = [_as_int64(h3i.grid_disk(int(c), k)) for c in universe.view(np.uint64).tolist()]
    sizes = [d.size for d in disks]
    return pd.DataFrame({"cell": np.repeat(universe, sizes), "neighbour": np.concatenate(disks)})


def _disk(lat: float, lon: float, res: int, k: int) -> Cells:
    centre = int(np.int64(latlng_to_cells(lat, lon, res)).view(np.uint64))
    return np.sort(_as_int64(h3i.grid_disk(centre, k)))


def _universes() -> dict[str, Cells]:
    rng = np.random.default_rng(4)
    city = _disk(32.0, 120.86, 10, 30)  # Nantong, inside pentagon base cell 24
    holes = np.sort(rng.choice(city, int(city.size * 0.7), replace=False))
    pentagons = [h3.str_to_int(p) for p in h3.get_pentagons(9)]
    near = np.unique(_as_int64([c for p in pentagons[:4] for c in h3i.grid_disk(p, 5)]))
    edge = _disk(29.6, 140.0, 8, 12)  # across the face 10 | face 6 icosahedron edge
    return {"city": city, "city_with_holes": holes, "pentagons": near, "face_edge": edge}


@pytest.mark.parametrize("name", ["city", "city_with_holes", "pentagons", "face_edge"])
@pytest.mark.parametrize("k", [1, 2])
def test_fast_path_equals_weights_from_h3_pairs(name: str, k: int) -> None:
    universe = _universes()[name]
    shuffled = np.random.default_rng(k).permutation(universe)
    fast = disk_weights(shuffled, k)
    reference = disk_weights(universe, k, pairs=_h3_pairs(universe, k))
    np.testing.assert_array_equal(fast.cells, universe)
    assert (fast.k, fast.res) == (reference.k, reference.res)
    np.testing.assert_array_equal(fast.matrix.indptr, reference.matrix.indptr)
    np.testing.assert_array_equal(fast.matrix.indices, reference.matrix.indices)
    np.testing.assert_array_equal(fast.matrix.data, reference.matrix.data)
    m = fast.matrix
    assert m.has_canonical_format
    assert m.dtype == np.float64
    assert (m.diagonal() == 1).all()
    assert (m != m.T).nnz == 0
    np.testing.assert_array_equal(fast.cardinalities, reference.cardinalities)


def test_interior_cells_have_six_neighbours_and_the_rim_fewer() -> None:
    universe = _disk(32.0, 120.86, 10, 8)
    weights = disk_weights(universe, 1)
    centre = int(latlng_to_cells(32.0, 120.86, 10))
    rim = np.isin(universe, _as_int64(h3i.grid_ring(int(np.int64(centre).view(np.uint64)), 8)))
    assert universe.size == 217
    assert rim.sum() == 48
    assert (weights.cardinalities[~rim] == 6).all()
    assert (weights.cardinalities[rim] < 6).all()


def test_errors() -> None:
    universe = _disk(32.0, 120.86, 10, 2)
    parent = int(np.int64(universe[0]).view(np.uint64))
    mixed = np.concatenate([universe, _as_int64([h3i.cell_to_parent(parent, 9)])])
    with pytest.raises(ValueError, match="resolution mismatch"):
        disk_weights(mixed, 1)
    with pytest.raises(ValueError, match="not valid H3 cells"):
        disk_weights(np.concatenate([universe, universe[:1] + 1]), 1)
    with pytest.raises(ValueError, match="`k`"):
        disk_weights(universe, 0)
    no_pairs = pd.DataFrame({"cell": universe[:0], "neighbour": universe[:0]})
    for pairs in (None, no_pairs):
        with pytest.raises(ValueError, match="empty"):
            disk_weights(universe[:0], 1, pairs=pairs)
