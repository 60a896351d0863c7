"""The h3ronpy adapters of ``benchmarks/bench_h3ronpy.py`` give exactly what the numba ports give.

The benchmark's h3ronpy arm must compute the same thing as the port arm, or its ratios mean nothing:
the disk adapter (CSR, ascending rows, universe positions) equals ``grid._h3_disk.disk_neighbours`` on
whole-globe resolutions (every face edge, all 12 pentagons), pentagon neighbourhoods and Nantong; the
indexing adapter equals ``latlng_to_cells`` including non-finite points; the polygons agree to 1e-9°.
Skipped where h3ronpy is not installed (it is not a dependency: the ports were kept, see the module
docstrings of ``grid/_h3_*.py``).
"""

from __future__ import annotations

import h3
import h3.api.basic_int as h3i
import numpy as np
import numpy.typing as npt
import pytest

pytest.importorskip("h3ronpy")

from benchmarks.bench_h3ronpy import (
    _polygons_close,
    h3ronpy_arm,
    h3ronpy_cells_to_polygons,
    h3ronpy_disk_neighbours,
)
from grid._h3_disk import disk_neighbours
from grid.cells import cells_to_polygons, latlng_to_cells
from tests.grid.test_h3_disk import _all_cells, _as_int64

Cells = npt.NDArray[np.int64]


def _universes() -> list[Cells]:
    pentagons = [h3.str_to_int(p) for res in (5, 10, 15) for p in h3.get_pentagons(res)]
    near = np.unique(_as_int64([c for p in pentagons for c in h3i.grid_disk(p, 4)]))
    centre = int(np.int64(latlng_to_cells(32.0, 120.86, 10)).view(np.uint64))
    city = np.sort(_as_int64(h3i.grid_disk(centre, 40)))
    rng = np.random.default_rng(5)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, 200)))
    lon = rng.uniform(-180, 180, 200)
    scattered = np.unique(np.concatenate([latlng_to_cells(lat, lon, res) for res in range(16)]))
    return [_all_cells(0), _all_cells(1), _all_cells(2), near, city, scattered, np.empty(0, dtype=np.int64)]


@pytest.mark.parametrize("k", [0, 1, 2])
def test_disk_adapter_equals_the_port(k: int) -> None:
    for universe in _universes():
        for inside in (False, True):
            port = disk_neighbours(universe, k, inside=inside)
            theirs = h3ronpy_disk_neighbours(universe, k, inside=inside)
            np.testing.assert_array_equal(theirs[0], port[0])
            np.testing.assert_array_equal(theirs[1], port[1])


def test_indexing_adapter_equals_the_port() -> None:
    rng = np.random.default_rng(3)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, 20_000)))
    lon = rng.uniform(-180, 180, 20_000)
    lat[::97] = np.nan
    lon[::89] = np.inf
    for res in (0, 5, 10, 15):
        port = latlng_to_cells(lat, lon, res, invalid="null")
        with h3ronpy_arm("index"):
            theirs = latlng_to_cells(lat, lon, res, invalid="null")
        np.testing.assert_array_equal(theirs, port)


def test_polygon_adapter_is_close_to_the_port() -> None:
    cells = np.concatenate(
        [_all_cells(1), latlng_to_cells(np.linspace(-80, 80, 500), np.linspace(-179, 179, 500))]
    )
    _polygons_close(cells_to_polygons(cells), h3ronpy_cells_to_polygons(cells))
