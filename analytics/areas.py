"""Hot-spot areas: the significant cells of a Gi* map grouped into connected areas, ranked by cases.

A planner reads a hot-spot map as a handful of places ("the market street", "the construction site"), not as
cells. :func:`hotspot_areas` turns a :class:`~analytics.hotspots.GiStarResult` into that list: the hot (or
cold) significant cells joined when they touch (grid distance 1, whatever the ``k`` of the Gi* weights), one
row per area with its size, cases and peak. Areas smaller than ``min_cells`` are left out: a lone
significant cell is the weakest evidence a Gi* map gives (its k-ring alone exceeds the expectation).
:func:`area_trends` adds how each area is changing, rising, falling or steady, from the trend of its share
of the cases over the periods.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from analytics._validate import TooFewPeriodsError, check_int, check_probability
from analytics.cube import CaseCube
from analytics.emerging import mann_kendall
from analytics.hotspots import GiStarResult
from grid.cells import cell_centers, cells_to_strings, grid_disk_csr

AREA_COLUMNS = ("area", "n_cells", "count", "peak_z", "peak_cell", "h3", "lat", "lon", "cells")
TREND_COLUMNS = ("trend", "trend_tau", "trend_p")
#: Fewest periods :func:`area_trends` accepts (a Mann–Kendall test on 3 values cannot reach p < 0.05).
MIN_TREND_PERIODS = 4


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


def area_trends(areas: pd.DataFrame, cube: CaseCube, *, alpha: float = 0.05) -> pd.DataFrame:
    """How each hot-spot area is changing: a Mann–Kendall test on its share of the cube's cases per period.

    The share (the area's cases ÷ all the cube's cases, per period) rather than the count: the city's
    weekly volume, its seasons (summer barbecues, winter ice) and a change in how many cases are reported
    move every area alike and are not the area's own trend.

    Parameters
    ----------
    areas
        :func:`hotspot_areas` of a Gi* run on ``cube`` (or on its cells' counts): the ``cells`` column is
        used.
    cube
        The cell × period cube the areas come from, at least :data:`MIN_TREND_PERIODS` periods.
    alpha
        Significance of the trend.

    Returns
    -------
    pandas.DataFrame
        A copy of ``areas`` with ``trend`` ("rising", "falling" or "steady": p > ``alpha``), ``trend_tau``
        (Kendall's τ of the share against time, in [-1, 1]) and ``trend_p`` (two-sided).

    Raises
    ------
    TooFewPeriodsError
        The cube has fewer than :data:`MIN_TREND_PERIODS` periods.
    ValueError
        An area holds a cell the cube does not (another resolution or study area).
    """
    alpha = check_probability(alpha, "alpha")
    counts = cube.total()
    n_periods = counts.shape[1]
    if n_periods < MIN_TREND_PERIODS:
        msg = (
            f"too few periods for a trend: the cube has {n_periods} {cube.period}(s), an area's trend needs "
            f"at least {MIN_TREND_PERIODS} (use a finer period or a longer date range)"
        )
        raise TooFewPeriodsError(msg)
    out = areas.copy()
    if out.empty:
        return out.assign(trend=pd.Series(dtype=object), trend_tau=np.nan, trend_p=np.nan)
    sizes = out["cells"].map(len).to_numpy()
    members = np.concatenate(out["cells"].to_list()).astype(np.int64)
    rows = np.searchsorted(cube.cells, members)
    rows = np.minimum(rows, cube.cells.size - 1)
    if not np.array_equal(cube.cells[rows], members):
        msg = (
            f"an area holds cells the cube (res {cube.res}, {cube.cells.size} cells) does not: resolution "
            "mismatch or another study area; compute the areas from a Gi* run on this cube"
        )
        raise ValueError(msg)
    membership = sp.csr_matrix(
        (np.ones(members.size), (np.repeat(np.arange(sizes.size), sizes), rows)),
        shape=(sizes.size, cube.cells.size),
    )
    totals = counts.sum(axis=0).astype(np.float64)
    in_area = np.asarray(membership @ counts, dtype=np.float64)  # (n_areas, n_periods)
    share = np.divide(in_area, totals, out=np.zeros_like(in_area), where=totals > 0)
    _, tau, z, p = mann_kendall(share)
    out["trend"] = np.where(p <= alpha, np.where(z > 0, "rising", "falling"), "steady")
    out["trend_tau"] = tau
    out["trend_p"] = p
    return out


def _empty() -> pd.DataFrame:
    dtypes = {"area": "int64", "n_cells": "int64", "count": "float64", "peak_z": "float64"}
    dtypes |= {"peak_cell": "int64", "h3": "object", "lat": "float64", "lon": "float64", "cells": "object"}
    return pd.DataFrame({c: pd.Series(dtype=dtypes[c]) for c in AREA_COLUMNS})
