"""Hot-spot areas: the significant cells of a Gi* map grouped into connected areas, ranked by cases.

A planner reads a hot-spot map as a handful of places ("the market street", "the construction site"), not as
cells. :func:`hotspot_areas` turns a :class:`~analytics.hotspots.GiStarResult` into that list: the hot (or
cold) significant cells joined when they touch (grid distance 1, whatever the ``k`` of the Gi* weights), one
row per area with its size, cases and peak. Areas smaller than ``min_cells`` are left out: a lone
significant cell is the weakest evidence a Gi* map gives (its k-ring alone exceeds the expectation).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from analytics._validate import check_int
from analytics.hotspots import GiStarResult
from grid.cells import cell_centers, cells_to_strings, grid_disk_csr

AREA_COLUMNS = ("area", "n_cells", "count", "peak_z", "peak_cell", "h3", "lat", "lon", "cells")


def hotspot_areas(result: GiStarResult, *, side: str = "hot", min_cells: int = 1) -> pd.DataFrame:
    """Connected areas of the significant hot (``side="hot"``) or cold cells of ``result``.

    Parameters
    ----------
    result
        A Gi* result (:func:`~analytics.hotspots.gi_star`, :func:`~analytics.hotspots.cube_hotspots`).
    side
        ``"hot"`` (significant, z > 0) or ``"cold"`` (significant, z < 0).
    min_cells
        Smallest area kept, in cells (>= 1).

    Returns
    -------
    pandas.DataFrame
        One row per area, the most cases first: ``area`` (1, 2, … in that order), ``n_cells``, ``count``
        (the cells' values summed, e.g. cases), ``peak_z`` (the largest |z|, signed), ``peak_cell`` (int64)
        and its ``h3`` string, ``lat`` / ``lon`` (degrees, WGS-84: the mean of the cell centres) and
        ``cells`` (the area's int64 cells, ascending).

    Raises
    ------
    ValueError
        ``side`` is neither "hot" nor "cold", or ``min_cells`` < 1.
    """
    if side not in ("hot", "cold"):
        msg = f"`side` was {side!r}; use 'hot' or 'cold'"
        raise ValueError(msg)
    min_cells = check_int(min_cells, "min_cells", low=1)
    sign = 1.0 if side == "hot" else -1.0
    chosen = result.significant & (sign * result.z > 0)
    cells = result.cells[chosen]
    if cells.size == 0:
        return _empty()
    # ascending, as grid_disk_csr returns its universe: its rows then follow ``cells``
    order = np.argsort(cells, kind="stable")
    cells, z, values = cells[order], result.z[chosen][order], result.values[chosen][order]
    universe, indptr, indices = grid_disk_csr(cells, 1)
    adjacency = sp.csr_matrix((np.ones(indices.size), indices, indptr), shape=(universe.size,) * 2)
    _, label = connected_components(adjacency, directed=False)
    size = np.bincount(label)
    keep = size[label] >= min_cells
    if not keep.any():
        return _empty()
    cells, z, values, label = cells[keep], z[keep], values[keep], label[keep]
    lat, lon = cell_centers(cells)
    frame = pd.DataFrame({"label": label, "cell": cells, "z": z, "value": values, "lat": lat, "lon": lon})
    frame["strength"] = sign * frame["z"]
    peak = frame.loc[frame.groupby("label")["strength"].idxmax(), ["label", "cell", "z"]].set_index("label")
    grouped = frame.groupby("label")
    areas = pd.DataFrame(
        {
            "n_cells": grouped.size(),
            "count": grouped["value"].sum(),
            "peak_z": peak["z"],
            "peak_cell": peak["cell"].astype(np.int64),
            "lat": grouped["lat"].mean(),
            "lon": grouped["lon"].mean(),
            "cells": grouped["cell"].agg(lambda c: np.sort(c.to_numpy(dtype=np.int64))),
        }
    )
    areas = areas.sort_values(["count", "n_cells"], ascending=False, kind="stable").reset_index(drop=True)
    areas.insert(0, "area", np.arange(1, len(areas) + 1))
    areas.insert(5, "h3", cells_to_strings(areas["peak_cell"].to_numpy()))
    return areas[list(AREA_COLUMNS)]


def _empty() -> pd.DataFrame:
    dtypes = {"area": "int64", "n_cells": "int64", "count": "float64", "peak_z": "float64"}
    dtypes |= {"peak_cell": "int64", "h3": "object", "lat": "float64", "lon": "float64", "cells": "object"}
    return pd.DataFrame({c: pd.Series(dtype=dtypes[c]) for c in AREA_COLUMNS})
