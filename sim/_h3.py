"""The H3 operations the simulator needs, through ``grid.cells`` when it is there, else through h3-py.

``grid.cells`` (vectorised numba kernels) is the product's adapter; while it is being written the simulator
falls back to h3-py's integer API, one call per cell, which is fine for the ~10k cells of a city but slower
for points. Cells are int64 everywhere.
"""

from __future__ import annotations

import h3
import h3.api.basic_int as h3i
import numpy as np
import numpy.typing as npt
import shapely

try:  # the product's vectorised adapter
    from grid import cells as _grid_cells
except ImportError:  # pragma: no cover - depends on the other developers' progress
    _grid_cells = None


def latlng_to_cells(lat: npt.ArrayLike, lon: npt.ArrayLike, res: int = 10) -> npt.NDArray[np.int64]:
    """H3 cells (int64) of WGS-84 points; vectorised when ``grid.cells`` is available."""
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    if _grid_cells is not None and hasattr(_grid_cells, "latlng_to_cells"):
        return np.asarray(_grid_cells.latlng_to_cells(lat, lon, res=res), dtype=np.int64)
    fn = np.frompyfunc(lambda a, b: h3i.latlng_to_cell(a, b, res), 2, 1)
    return np.asarray(fn(lat, lon), dtype=np.uint64).astype(np.int64) if lat.size else np.empty(0, np.int64)


def polygon_to_cells(poly_lonlat: shapely.Polygon, res: int = 10) -> npt.NDArray[np.int64]:
    """Cells whose centre lies inside a WGS-84 polygon (x = lon, y = lat), sorted."""
    ring = [(lat, lon) for lon, lat in np.asarray(poly_lonlat.exterior.coords)[:-1]]
    cells = h3.polygon_to_cells(h3.LatLngPoly(ring), res)
    return np.sort(np.array([h3.str_to_int(c) for c in cells], dtype=np.uint64).astype(np.int64))


def cell_centers(cells: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(lat, lon) of cell centres."""
    pts = np.array([h3i.cell_to_latlng(int(c)) for c in np.asarray(cells, dtype=np.uint64)], dtype=float)
    if pts.size == 0:
        return np.empty(0), np.empty(0)
    return pts[:, 0], pts[:, 1]


def cell_polygons(cells: npt.NDArray[np.int64]) -> npt.NDArray[np.object_]:
    """Shapely polygons (x = lon, y = lat) of cells."""
    out = []
    for c in np.asarray(cells, dtype=np.uint64):
        ring = [(lon, lat) for lat, lon in h3i.cell_to_boundary(int(c))]
        out.append(shapely.Polygon(ring))
    return np.array(out, dtype=object)


def neighbour_pairs(cells: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Index pairs (i, j) of cells in ``cells`` that share an edge (both directions)."""
    cells = np.asarray(cells, dtype=np.int64)
    pos = {int(c): i for i, c in enumerate(cells)}
    rows: list[int] = []
    cols: list[int] = []
    for i, c in enumerate(cells.astype(np.uint64)):
        for n in h3i.grid_disk(int(c), 1):
            j = pos.get(int(np.uint64(n).astype(np.int64)))
            if j is not None and j != i:
                rows.append(i)
                cols.append(j)
    return np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64)


def to_strings(cells: npt.NDArray[np.int64]) -> npt.NDArray[np.object_]:
    """Hex strings of cells (the I/O form)."""
    if _grid_cells is not None and hasattr(_grid_cells, "cells_to_strings"):
        return np.asarray(_grid_cells.cells_to_strings(np.asarray(cells, dtype=np.int64)), dtype=object)
    return np.array([format(int(c), "x") for c in np.asarray(cells, dtype=np.uint64)], dtype=object)
