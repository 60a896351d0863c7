"""Allocation gap: expected problems (a forecast on the case cube) against patrol minutes per cell.

:func:`expected_problems`, :func:`allocation_gap` (the allocation-gap map) and :func:`allocation_index`
(the share of patrol time that would have to move).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from grid.cells import cells_to_polygons, cells_to_strings
from grid.config import DEFAULT_TIMEZONE


# ---------------------------------------------------------------------------------------- allocation
def expected_problems(
    cases: pd.DataFrame,
    cells: npt.ArrayLike | pd.DataFrame,
    start: dt.date,
    end: dt.date,
    *,
    model: str = "baseline_mean",
    timezone: str = DEFAULT_TIMEZONE,
) -> tuple[pd.DataFrame, str]:
    """Expected problems (cases of every source) per cell over the local days ``[start, end]``.

    Uses :func:`analytics.forecast.forecast_cells` on the history before ``start`` (weekly, ``model``), the
    weekly forecast scaled to the window's length; without enough history (no complete week before
    ``start``) falls back to the cube's mean per cell over the window itself (in-sample).

    Returns
    -------
    (pandas.DataFrame, str)
        ``cell``, ``expected`` (float, problems in the window) for every universe cell, and a description of
        the source (``"forecast:<model>"`` or ``"window mean"``).
    """
    from analytics._validate import TooFewPeriodsError
    from analytics.cube import build_cube
    from analytics.forecast import forecast_cells

    weeks = ((end - start).days + 1) / 7.0
    history = cases[pd.DatetimeIndex(cases["reported_at"]).tz_convert(timezone).date < start]
    if len(history):
        try:
            fc = forecast_cells(history, cells, period="week", model=model, timezone=timezone,
                                as_of=start - dt.timedelta(days=1))  # fmt: skip
            return (
                pd.DataFrame({"cell": fc["cell"].to_numpy(), "expected": fc["expected"].to_numpy() * weeks}),
                f"forecast:{fc['model'].iloc[0]}",
            )
        except (TooFewPeriodsError, ValueError):
            pass
    cube = build_cube(cases, cells, period="day", timezone=timezone, start=start, end=end)
    total = cube.counts.sum(axis=(1, 2)).astype(np.float64)
    return pd.DataFrame({"cell": cube.cells, "expected": total}), "window mean"


def allocation_gap(
    visits: pd.DataFrame,
    expected: pd.DataFrame,
    *,
    cells: npt.ArrayLike | None = None,
    tolerance: float = 0.5,
) -> Any:
    """Expected problems vs patrol minutes per cell: the allocation-gap map.

    Parameters
    ----------
    visits
        :func:`cell_visits` of the period.
    expected
        ``cell``, ``expected`` (problems expected in the period, :func:`expected_problems`).
    cells
        The cell universe (default the cells of ``expected``); never-patrolled cells are part of it.
    tolerance
        A cell is ``balanced`` while its patrol share is within ``±tolerance`` (relative) of its share of
        problems; else ``under`` / ``over`` patrolled.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per cell (EPSG:4326 polygons): ``cell``, ``h3``, ``expected``, ``patrol_minutes``,
        ``expected_share`` and ``patrol_share`` (each sums to 1), ``gap`` = expected_share − patrol_share
        (> 0: under-patrolled), ``minutes_per_expected`` (inf when nothing expected but patrolled) and
        ``status`` (``under`` / ``balanced`` / ``over`` / ``idle`` when neither).
    """
    universe = np.unique(np.asarray(cells if cells is not None else expected["cell"], dtype=np.int64))
    exp = expected.groupby("cell")["expected"].sum().reindex(universe).fillna(0.0).to_numpy()
    minutes = (visits.groupby("cell")["seconds"].sum() / 60.0).reindex(universe).fillna(0.0).to_numpy()
    e_share = exp / max(exp.sum(), 1e-12)
    p_share = minutes / max(minutes.sum(), 1e-12)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(e_share > 0, p_share / e_share, np.inf)
        per = np.where(exp > 0, minutes / exp, np.where(minutes > 0, np.inf, np.nan))
    status = np.where(
        ratio < 1 - tolerance, "under", np.where(ratio > 1 + tolerance, "over", "balanced")
    ).astype(object)
    status[(exp == 0) & (minutes == 0)] = "idle"
    gdf = cells_to_polygons(universe)
    gdf["h3"] = cells_to_strings(universe)
    gdf["expected"] = exp
    gdf["patrol_minutes"] = minutes
    gdf["expected_share"] = e_share
    gdf["patrol_share"] = p_share
    gdf["gap"] = e_share - p_share
    gdf["minutes_per_expected"] = per
    gdf["status"] = status
    return gdf[["cell", "h3", "expected", "patrol_minutes", "expected_share", "patrol_share", "gap",
                "minutes_per_expected", "status", "geometry"]]  # fmt: skip


def allocation_index(gap: pd.DataFrame) -> float:
    """Share of patrol time that would have to move for patrol to be proportional to problems.

    The dissimilarity index ½ Σ |expected_share − patrol_share| of :func:`allocation_gap` (0 = patrol time
    exactly proportional to expected problems, 1 = all of it where no problem is expected).
    """
    return float(0.5 * np.abs(gap["gap"].to_numpy(dtype=np.float64)).sum())
