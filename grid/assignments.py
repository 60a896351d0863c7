"""Checks of inspector ↔ cell assignments over time: cells left without an inspector, and double cover.

The **assignments** contract (DESIGN.md): ``inspector_id`` (str), ``cell`` (int64), ``valid_from``
(tz-aware), ``valid_to`` (tz-aware, null = still valid). An assignment covers the half-open interval
``[valid_from, valid_to)``. Both checks are interval arithmetic done per cell with sorting and cumulative
maxima (no Python loop per assignment); days are calendar days in the city's zone.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from grid.config import DEFAULT_TIMEZONE

__all__ = ["GAP_COLUMNS", "OVERLAP_COLUMNS", "assignment_gaps", "assignment_overlaps", "uncovered_days"]

#: Columns of :func:`assignment_gaps`.
GAP_COLUMNS = ("cell", "gap_from", "gap_to")
#: Columns of :func:`assignment_overlaps`.
OVERLAP_COLUMNS = ("cell", "inspector_a", "inspector_b", "overlap_from", "overlap_to")
_FAR_FUTURE = pd.Timestamp("2262-01-01", tz="UTC")


def _instant(value: str | dt.date | dt.datetime | pd.Timestamp, timezone: str, name: str) -> pd.Timestamp:
    """A UTC instant; a date or naive time is read in ``timezone`` (a date means its midnight)."""
    ts = pd.Timestamp(value)
    if ts is pd.NaT:
        msg = f"`{name}` must be a date or time; got {value!r}"
        raise ValueError(msg)
    if ts.tzinfo is None:
        ts = ts.tz_localize(timezone)
    return ts.tz_convert("UTC")


def _ns(values: pd.Series) -> np.ndarray:
    """Nanoseconds since the epoch (int64) of a tz-aware datetime Series."""
    return pd.DatetimeIndex(values).as_unit("ns").asi8


def _clean(assignments: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("inspector_id", "cell", "valid_from", "valid_to") if c not in assignments.columns]
    if missing:
        msg = f"`assignments` lacks column(s) {missing}; expected inspector_id, cell, valid_from, valid_to"
        raise ValueError(msg)
    out = assignments[["inspector_id", "cell", "valid_from", "valid_to"]].copy()
    for column in ("valid_from", "valid_to"):
        values = pd.to_datetime(out[column])
        if values.dt.tz is None:
            msg = f"`assignments.{column}` must be tz-aware (UTC); got naive times. Localize them first."
            raise ValueError(msg)
        out[column] = values.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
    bad = out["valid_from"].isna() | (out["valid_to"].notna() & (out["valid_to"] <= out["valid_from"]))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        msg = (
            f"`assignments` row {row} (inspector {out['inspector_id'].iloc[row]}, "
            f"cell {out['cell'].iloc[row]}):"
            f" valid_from {out['valid_from'].iloc[row]} must be set and before valid_to "
            f"{out['valid_to'].iloc[row]} ({int(bad.sum())} such rows)"
        )
        raise ValueError(msg)
    out["valid_to"] = out["valid_to"].fillna(_FAR_FUTURE)
    out["cell"] = out["cell"].astype(np.int64)
    return out


def assignment_gaps(
    assignments: pd.DataFrame,
    cells: pd.Series | np.ndarray,
    *,
    start: str | dt.date | dt.datetime,
    end: str | dt.date | dt.datetime,
    timezone: str = DEFAULT_TIMEZONE,
) -> pd.DataFrame:
    """Periods in ``[start, end)`` during which a managed cell has no inspector assigned.

    Parameters
    ----------
    assignments
        The assignments contract (``valid_from``/``valid_to`` tz-aware; null ``valid_to`` = open-ended).
    cells
        The managed area: int64 H3 cells that must always have an inspector (the cells table's ``cell``).
    start, end
        The checked period; dates (or naive times) are read in ``timezone`` (a date is its midnight), so
        ``end="2026-03-08"`` checks through the end of 7 March.
    timezone
        The city's zone (default :data:`grid.config.DEFAULT_TIMEZONE`).

    Returns
    -------
    pandas.DataFrame
        Columns ``GAP_COLUMNS``: ``cell`` (int64), ``gap_from``, ``gap_to`` (UTC), one row per maximal
        uncovered interval, sorted by cell and time. Cells with no assignment at all have one gap
        ``[start, end)``. Assignments of cells outside ``cells`` are ignored.
    """
    t0, t1 = _instant(start, timezone, "start"), _instant(end, timezone, "end")
    if t1 <= t0:
        msg = f"`end` ({t1}) must be after `start` ({t0})"
        raise ValueError(msg)
    managed = np.unique(np.asarray(cells, dtype=np.int64))
    frame = _clean(assignments)
    frame = frame[frame["cell"].isin(managed) & (frame["valid_from"] < t1) & (frame["valid_to"] > t0)]
    frame = frame.sort_values(["cell", "valid_from"], ignore_index=True)
    cell = frame["cell"].to_numpy()
    start_ns = np.maximum(_ns(frame["valid_from"]), t0.value)
    end_ns = np.minimum(_ns(frame["valid_to"]), t1.value)
    covered_to = pd.Series(end_ns).groupby(cell).cummax().to_numpy()
    new_cell = np.ones(len(cell), dtype=bool)
    new_cell[1:] = cell[1:] != cell[:-1]
    prev_cover = np.where(new_cell, t0.value, np.roll(covered_to, 1))
    inner = start_ns > prev_cover  # includes a late first assignment (prev_cover = start)
    last = np.ones(len(cell), dtype=bool)
    last[:-1] = cell[:-1] != cell[1:]
    tail = last & (covered_to < t1.value)
    unassigned = np.setdiff1d(managed, cell)
    gaps = pd.DataFrame(
        {
            "cell": np.concatenate([cell[inner], cell[tail], unassigned]),
            "gap_from": np.concatenate(
                [prev_cover[inner], covered_to[tail], np.full(len(unassigned), t0.value)]
            ),
            "gap_to": np.concatenate([start_ns[inner], np.full(tail.sum() + len(unassigned), t1.value)]),
        }
    )
    for column in ("gap_from", "gap_to"):
        gaps[column] = pd.to_datetime(gaps[column].to_numpy(dtype=np.int64), utc=True)
    return gaps.sort_values(["cell", "gap_from"], ignore_index=True)[list(GAP_COLUMNS)]


def uncovered_days(gaps: pd.DataFrame, *, timezone: str = DEFAULT_TIMEZONE) -> pd.DataFrame:
    """Expand gaps into (``cell``, ``day``) rows: the city-zone dates on which each cell lacks an inspector.

    A day counts when any part of it is uncovered. Returns columns ``cell`` (int64), ``day``
    (``datetime.date``), ``uncovered_h`` (hours of that day without an inspector), one row per cell and
    day, sorted.
    """
    if gaps.empty:
        return pd.DataFrame({"cell": pd.Series(dtype=np.int64), "day": [], "uncovered_h": []})
    local_from = gaps["gap_from"].dt.tz_convert(timezone)
    local_to = gaps["gap_to"].dt.tz_convert(timezone)
    first = local_from.dt.normalize()
    last = (local_to - pd.Timedelta(1, "ns")).dt.normalize()
    n_days = ((last.dt.tz_localize(None) - first.dt.tz_localize(None)).dt.days + 1).to_numpy()
    row = np.repeat(np.arange(len(gaps)), n_days)
    offset = np.arange(len(row)) - np.repeat(np.cumsum(n_days) - n_days, n_days)
    day_start = first.dt.tz_localize(None).to_numpy()[row] + offset.astype("timedelta64[D]")
    day_start = pd.DatetimeIndex(day_start).tz_localize(timezone)
    day_end = (pd.DatetimeIndex(day_start.tz_localize(None)) + pd.Timedelta(days=1)).tz_localize(timezone)
    lo = np.maximum(day_start.as_unit("ns").asi8, _ns(local_from)[row])
    hi = np.minimum(day_end.as_unit("ns").asi8, _ns(local_to)[row])
    out = pd.DataFrame(
        {"cell": gaps["cell"].to_numpy()[row], "day": day_start.date, "uncovered_h": (hi - lo) / 3.6e12}
    )
    return out.groupby(["cell", "day"], as_index=False, sort=True)["uncovered_h"].sum()


def assignment_overlaps(assignments: pd.DataFrame) -> pd.DataFrame:
    """Cells assigned to two inspectors at once, with both ids and the overlapping period.

    Parameters
    ----------
    assignments
        The assignments contract.

    Returns
    -------
    pandas.DataFrame
        Columns ``OVERLAP_COLUMNS``: ``cell``, ``inspector_a`` < ``inspector_b`` (str), ``overlap_from``,
        ``overlap_to`` (UTC; ``NaT`` when both are open-ended), one row per pair of overlapping assignments
        of different inspectors, sorted. Overlapping rows of the *same* inspector are not reported.

    Notes
    -----
    A self-join on ``cell``: the cost is the sum over cells of (assignments of the cell)², small for real
    rosters (a cell has a handful of assignments over its history).
    """
    frame = _clean(assignments).reset_index(drop=True)
    frame["row"] = np.arange(len(frame))
    pairs = frame.merge(frame, on="cell", suffixes=("_a", "_b"))
    pairs = pairs[pairs["inspector_id_a"] < pairs["inspector_id_b"]]
    lo = np.maximum(pairs["valid_from_a"], pairs["valid_from_b"])
    hi = np.minimum(pairs["valid_to_a"], pairs["valid_to_b"])
    pairs = pairs.assign(overlap_from=lo, overlap_to=hi)[lo < hi]
    out = pd.DataFrame(
        {
            "cell": pairs["cell"].to_numpy(dtype=np.int64),
            "inspector_a": pairs["inspector_id_a"].astype(str).to_numpy(),
            "inspector_b": pairs["inspector_id_b"].astype(str).to_numpy(),
            "overlap_from": pairs["overlap_from"].to_numpy(),
            "overlap_to": pairs["overlap_to"].where(pairs["overlap_to"] < _FAR_FUTURE).to_numpy(),
        }
    )
    for column in ("overlap_from", "overlap_to"):
        out[column] = pd.to_datetime(out[column], utc=True)
    return out.sort_values(["cell", "overlap_from", "inspector_a", "inspector_b"], ignore_index=True)
