"""The H3 operations the simulator needs, through the product's vectorised adapter :mod:`grid.cells`.

Cells are int64 everywhere (hex strings only at I/O, :func:`to_strings`). Only polyfill (polygon → cells)
has no counterpart in ``grid.cells`` and still goes through h3-py (one call for the whole city).
"""

from __future__ import annotations

import h3
import numpy as np
import numpy.typing as npt
import shapely

from grid import cells as grid_cells

Int64Array = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def latlng_to_cells(lat: npt.ArrayLike, lon: npt.ArrayLike, res: int = 10) -> Int64Array:
    """H3 cells (int64) of WGS-84 points given as (lat, lon) degrees; vectorised."""
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    if lat.size == 0:
        return np.empty(lat.shape, dtype=np.int64)
    return grid_cells.latlng_to_cells(lat, lon, res)


def polygon_to_cells(poly_lonlat: shapely.Polygon, res: int = 10) -> Int64Array:
    """Cells whose centre lies inside a WGS-84 polygon (x = lon, y = lat), sorted (h3-py polyfill)."""
    ring = [(lat, lon) for lon, lat in np.asarray(poly_lonlat.exterior.coords)[:-1]]
    found = h3.polygon_to_cells(h3.LatLngPoly(ring), res)
    return np.sort(grid_cells.strings_to_cells(np.array(sorted(found), dtype=object)))


def cell_centers(cells: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """(lat, lon) of cell centres, WGS-84 degrees."""
    arr = np.asarray(cells, dtype=np.int64)
    if arr.size == 0:
        return np.empty(0), np.empty(0)
    return grid_cells.cell_centers(arr)


def cell_polygons(cells: npt.ArrayLike) -> tuple[npt.NDArray[np.object_], FloatArray]:
    """Shapely polygons (x = lon, y = lat) of cells and their spherical areas (m², h3 ``cell_area``)."""
    gdf = grid_cells.cells_to_polygons(np.asarray(cells, dtype=np.int64))
    return np.asarray(gdf.geometry.values, dtype=object), gdf["area_m2"].to_numpy()


def neighbour_pairs(cells: npt.ArrayLike) -> tuple[Int64Array, Int64Array]:
    """Index pairs (i, j) of cells in ``cells`` that share an edge (both directions), sorted by (i, j)."""
    arr = np.asarray(cells, dtype=np.int64)
    if arr.size == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    order = np.argsort(arr, kind="stable")
    ring = grid_cells.grid_disk(arr, 1, include_self=False)
    srt = arr[order]
    pos_a = np.searchsorted(srt, ring["cell"].to_numpy())
    pos_b = np.clip(np.searchsorted(srt, ring["neighbour"].to_numpy()), 0, len(srt) - 1)
    inside = srt[pos_b] == ring["neighbour"].to_numpy()
    i, j = order[pos_a[inside]], order[pos_b[inside]]
    k = np.lexsort((j, i))
    return i[k], j[k]


def to_strings(cells: npt.ArrayLike) -> npt.NDArray[np.object_]:
    """Hex strings of cells (the I/O form)."""
    return grid_cells.cells_to_strings(np.asarray(cells, dtype=np.int64))
