"""Coverage KPIs: how well inspectors cover the cells assigned to them, and which cells are neglected.

Both functions read the fine coverage cube of :func:`patrol.coverage.reduce_tracks` (daily periods) and the
**assignments** contract (``inspector_id``, ``cell``, ``valid_from``, ``valid_to`` — NaT/None = still valid).
A cell counts as *assigned to an inspector on a day* when the assignment is valid at any time of that local
day; as *visited* when the inspector spent any time in it that day.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from grid.config import DEFAULT_TIMEZONE

__all__ = ["INSPECTOR_KPI_COLUMNS", "cell_neglect", "inspector_coverage"]

#: Stands in for "still valid" (valid_to NaT) when comparing intervals.
_OPEN_END = pd.Timestamp("2200-01-01", tz="UTC")

#: Columns of :func:`inspector_coverage`.
INSPECTOR_KPI_COLUMNS = (
    "inspector_id",
    "period",
    "assigned_cells",
    "visited_cells",
    "coverage_share",
    "patrol_minutes",
    "idle_minutes",
    "moving_share",
    "cells_outside_assignment",
)


def _assigned_days(assignments: pd.DataFrame, days: pd.DatetimeIndex) -> pd.DataFrame:
    """Expand assignments to (inspector_id, cell, day) rows for the local ``days`` they are valid on."""
    starts = days.tz_convert("UTC")
    ends = (days + pd.Timedelta(days=1)).tz_convert("UTC")
    valid_from = pd.to_datetime(assignments["valid_from"], utc=True).to_numpy()
    valid_to = pd.to_datetime(assignments["valid_to"], utc=True)
    valid_to = valid_to.fillna(_OPEN_END).to_numpy()
    # (assignments × days) overlap matrix: small (an inspector has ~100 cells, a report ~7-31 days)
    overlap = (valid_from[:, None] < ends.to_numpy()[None, :]) & (
        valid_to[:, None] > starts.to_numpy()[None, :]
    )
    rows, cols = np.nonzero(overlap)
    return pd.DataFrame(
        {
            "inspector_id": assignments["inspector_id"].to_numpy()[rows].astype(str),
            "cell": assignments["cell"].to_numpy(dtype=np.int64)[rows],
            "day": days[cols],
        }
    ).drop_duplicates()


def inspector_coverage(
    fine: pd.DataFrame,
    assignments: pd.DataFrame,
    days: pd.DatetimeIndex,
    *,
    freq: str = "D",
) -> pd.DataFrame:
    """Share of assigned cells each inspector visited, per day or week, with patrol and idle time.

    Parameters
    ----------
    fine
        Daily fine cube (:func:`patrol.coverage.reduce_tracks` with ``freq="D"``): ``inspector_id``,
        ``cell``, ``period`` (local day start, tz-aware), ``seconds``, ``idle_s``.
    assignments
        ``inspector_id``, ``cell`` (int64), ``valid_from``, ``valid_to`` (tz-aware; NaT = still valid).
    days
        The local days reported (tz-aware midnights in the city's zone), e.g.
        ``pd.date_range("2025-03-03", "2025-03-09", freq="D", tz=DEFAULT_TIMEZONE)``.
    freq
        ``"D"``: one row per inspector and day; ``"W"``: per ISO week (Monday start) — a cell counts as
        visited in the week when it was visited on any of its assigned days.

    Returns
    -------
    pandas.DataFrame
        Columns ``INSPECTOR_KPI_COLUMNS``: ``assigned_cells`` and ``visited_cells`` (distinct cells,
        int64), ``coverage_share`` = visited / assigned (float 0–1, NaN without assigned cells),
        ``patrol_minutes`` (all time present in any cell), ``idle_minutes`` (of which stopped),
        ``moving_share`` = 1 − idle / patrol, ``cells_outside_assignment`` (distinct cells visited that
        were not assigned that day). Inspectors with assignments but no track get zeros, not a missing row.
    """
    if freq not in ("D", "W"):
        msg = f"`freq` was {freq!r} but is expected to be 'D' or 'W'"
        raise ValueError(msg)
    days = pd.DatetimeIndex(days)
    if days.tz is None:
        msg = "`days` must be tz-aware local midnights in the city's zone"
        raise ValueError(msg)
    assigned = _assigned_days(assignments, days)
    present = fine[fine["period"].isin(days)].rename(columns={"period": "day"})
    visited = present[["inspector_id", "cell", "day"]].drop_duplicates()
    marked = visited.merge(assigned.assign(assigned=True), how="left", on=["inspector_id", "cell", "day"])
    marked["assigned"] = marked["assigned"].fillna(False).astype(bool)

    def _period(day: pd.Series) -> pd.Series:
        return day if freq == "D" else day - pd.to_timedelta(day.dt.day_of_week, unit="D")

    assigned["period"] = _period(assigned["day"])
    marked["period"] = _period(marked["day"])
    present = present.assign(period=_period(present["day"]))
    keys = ["inspector_id", "period"]
    out = assigned.groupby(keys)["cell"].nunique().rename("assigned_cells").to_frame()
    inside = marked[marked["assigned"]].groupby(keys)["cell"].nunique().rename("visited_cells")
    outside = marked[~marked["assigned"]].groupby(keys)["cell"].nunique().rename("cells_outside_assignment")
    times = present.groupby(keys)[["seconds", "idle_s"]].sum() / 60.0
    times.columns = ["patrol_minutes", "idle_minutes"]
    out = out.join([inside, outside, times], how="outer")
    counts = ["assigned_cells", "visited_cells", "cells_outside_assignment"]
    out[counts] = out[counts].fillna(0).astype(np.int64)
    out[["patrol_minutes", "idle_minutes"]] = out[["patrol_minutes", "idle_minutes"]].fillna(0.0)
    out["coverage_share"] = out["visited_cells"] / out["assigned_cells"].where(out["assigned_cells"] > 0)
    out["moving_share"] = 1.0 - out["idle_minutes"] / out["patrol_minutes"].where(out["patrol_minutes"] > 0)
    return out.reset_index()[list(INSPECTOR_KPI_COLUMNS)]


def cell_neglect(
    fine: pd.DataFrame,
    cells: np.ndarray,
    *,
    as_of: pd.Timestamp,
    never_days: int = 7,
    timezone: str = DEFAULT_TIMEZONE,
) -> pd.DataFrame:
    """Per cell: time since the last visit, the median revisit interval, and whether it is neglected.

    Parameters
    ----------
    fine
        Daily fine cube (see :func:`inspector_coverage`); only presence before ``as_of`` counts.
    cells
        The cell universe (int64), e.g. all assigned cells: cells never visited are part of the result.
    as_of
        The moment of the report (tz-aware).
    never_days
        A cell not visited in the last ``never_days`` days before ``as_of`` is ``neglected``.
    timezone
        The city's zone (days for revisit intervals are local days).

    Returns
    -------
    pandas.DataFrame
        One row per cell of ``cells``, sorted: ``cell``, ``last_visit`` (UTC, NaT = never),
        ``days_since_visit`` (float days, inf when never), ``visit_days`` (distinct local days with a
        visit), ``median_revisit_days`` (median gap in days between consecutive visit days, NaN with fewer
        than two), ``neglected`` (bool).
    """
    as_of = pd.Timestamp(as_of)
    if as_of.tz is None:
        msg = "`as_of` must be tz-aware"
        raise ValueError(msg)
    universe = np.unique(np.asarray(cells, dtype=np.int64))
    seen = fine[fine["last_visit"] <= as_of]
    last = seen.groupby("cell")["last_visit"].max()
    # local calendar days as naive datetime64 (a tz-aware .to_numpy() is object dtype, which breaks .dt
    # on an empty frame)
    day_index = seen["period"].dt.tz_convert(timezone).dt.normalize().dt.tz_localize(None)
    visit_days = pd.DataFrame(
        {"cell": seen["cell"].to_numpy(dtype=np.int64), "day": day_index.to_numpy()}
    ).drop_duplicates()
    visit_days = visit_days.sort_values(["cell", "day"])
    gaps = visit_days.groupby("cell")["day"].diff().dt.total_seconds() / 86_400.0
    median_gap = gaps.groupby(visit_days["cell"]).median()
    out = pd.DataFrame(index=pd.Index(universe, name="cell"))
    out["last_visit"] = last.reindex(universe)
    since = (as_of - out["last_visit"]).dt.total_seconds() / 86_400.0
    out["days_since_visit"] = since.fillna(np.inf)
    out["visit_days"] = visit_days.groupby("cell").size().reindex(universe).fillna(0).astype(np.int64)
    out["median_revisit_days"] = median_gap.reindex(universe)
    out["neglected"] = out["days_since_visit"] > never_days
    return out.reset_index()
