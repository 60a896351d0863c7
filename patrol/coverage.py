"""Cells covered by patrols: densified walks between fixes, time per cell, visits, the coverage cube.

A walk covers the cells it passes through *between* fixes too. Each segment between consecutive valid
fixes of a session is cut into ``ceil(length / step_m)`` equal pieces (default step 20 m, under a third
of a res-10 edge); each piece's midpoint gives its cell and the piece gets its share of the segment's time,
so time is split across cells in proportion to length. A segment whose two fixes are in the same cell lies
wholly inside it (hexagons are convex), so only cell-crossing segments are indexed again. A **visit** is
an entry into a cell: a run of consecutive pieces of one session in the same cell.

:func:`reduce_tracks` turns cleaned points into the fine cube (inspector × cell × period);
:func:`coverage_cube` sums it to cell × period with the cell universe and period range explicit (zeros
included); :func:`cell_summary` gives one row per cell for reports. Periods are days or hours of the city's
zone; sessions never cross a local midnight, so days can be reduced one at a time (see
:mod:`patrol.scale`) with the same result as all at once.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from grid.cells import DEFAULT_RES, latlng_to_cells
from patrol.tracks import DEFAULT_TIMEZONE, haversine_m

__all__ = ["FINE_COLUMNS", "PIECE_COLUMNS", "cell_summary", "coverage_cube", "reduce_tracks", "track_pieces"]

#: Columns of :func:`track_pieces`.
PIECE_COLUMNS = ("inspector_id", "session_id", "cell", "start_ns", "seconds", "length_m", "idle")
#: Columns of :func:`reduce_tracks` (after the keys ``inspector_id``, ``cell``, ``period``).
FINE_COLUMNS = ("inspector_id", "cell", "period", "seconds", "idle_s", "length_m", "visits", "last_visit")
FREQS = {"D": 86_400 * 10**9, "h": 3_600 * 10**9}
DEFAULT_STEP_M = 20.0


def _ns(ts: pd.Series) -> npt.NDArray[np.int64]:
    return pd.DatetimeIndex(ts).tz_convert("UTC").as_unit("ns").asi8


def track_pieces(
    cleaned: pd.DataFrame, *, res: int = DEFAULT_RES, step_m: float = DEFAULT_STEP_M
) -> pd.DataFrame:
    """Cut every segment between consecutive valid fixes of a session into pieces of at most ``step_m``.

    Parameters
    ----------
    cleaned
        Output of :func:`patrol.tracks.clean_tracks` (sorted; ``valid``, ``session_id``, ``cell``,
        ``stop_id`` present); its ``cell`` must be at resolution ``res``.
    res
        H3 resolution of the pieces' cells.
    step_m
        Longest piece (m); > 0.

    Returns
    -------
    pandas.DataFrame
        Columns ``PIECE_COLUMNS``, in walking order: ``inspector_id``, ``session_id``, ``cell`` (int64, cell
        of the piece's midpoint), ``start_ns`` (int64 UTC ns when the piece starts), ``seconds`` (float,
        the piece's share of the segment's duration), ``length_m`` (float, haversine) and ``idle`` (bool:
        both fixes belong to the same stop). The last fix of a session starts no piece.
    """
    if step_m <= 0:
        msg = f"`step_m` must be > 0 metres; got {step_m}"
        raise ValueError(msg)
    pts = cleaned[cleaned["valid"].to_numpy(dtype=bool)]
    session = pts["session_id"].to_numpy(dtype=np.int64)
    seg = np.flatnonzero(session[1:] == session[:-1])  # segment k runs from fix seg[k] to seg[k] + 1
    lat = pts["lat"].to_numpy(dtype=np.float64)
    lon = pts["lon"].to_numpy(dtype=np.float64)
    t = _ns(pts["ts"])
    cell = pts["cell"].to_numpy(dtype=np.int64)
    stop = pts["stop_id"].to_numpy(dtype=np.int64)
    a, b = seg, seg + 1
    length = haversine_m(lat[a], lon[a], lat[b], lon[b])
    crosses = cell[a] != cell[b]
    n_sub = np.where(crosses, np.maximum(1, np.ceil(length / step_m)).astype(np.int64), 1)
    owner = np.repeat(np.arange(len(seg)), n_sub)
    j = np.arange(len(owner)) - np.repeat(np.cumsum(n_sub) - n_sub, n_sub)
    n = n_sub[owner]
    piece_cell = cell[a][owner]
    redo = np.flatnonzero(crosses[owner])
    if len(redo):
        f = (j[redo] + 0.5) / n[redo]
        sa, sb = a[owner[redo]], b[owner[redo]]
        piece_cell[redo] = latlng_to_cells(
            lat[sa] + f * (lat[sb] - lat[sa]), lon[sa] + f * (lon[sb] - lon[sa]), res
        )
    duration = (t[b] - t[a]).astype(np.float64)[owner] / n
    codes, names = pd.factorize(pts["inspector_id"])
    inspector = pd.Categorical.from_codes(codes[a][owner], categories=names.astype(str))
    return pd.DataFrame(
        {
            "inspector_id": inspector,
            "session_id": session[a][owner],
            "cell": piece_cell,
            "start_ns": t[a][owner] + (j * duration).astype(np.int64),
            "seconds": duration / 1e9,
            "length_m": length[owner] / n,
            "idle": ((stop[a] >= 0) & (stop[a] == stop[b]))[owner],
        }
    )


def _period_start(start_ns: npt.NDArray[np.int64], freq: str, timezone: str) -> pd.DatetimeIndex:
    if freq not in FREQS:
        msg = f"`freq` was {freq!r} but is expected to be in {list(FREQS)}"
        raise ValueError(msg)
    local = pd.DatetimeIndex(start_ns, tz="UTC").tz_convert(timezone).tz_localize(None).as_unit("ns").asi8
    floored = local - local % FREQS[freq]
    return pd.DatetimeIndex(floored).tz_localize(timezone, ambiguous="NaT", nonexistent="shift_forward")


def reduce_tracks(
    cleaned: pd.DataFrame,
    *,
    res: int = DEFAULT_RES,
    freq: str = "D",
    timezone: str = DEFAULT_TIMEZONE,
    step_m: float = DEFAULT_STEP_M,
) -> pd.DataFrame:
    """The fine coverage cube: time, visits and last presence per inspector × cell × period.

    Parameters
    ----------
    cleaned
        Output of :func:`patrol.tracks.clean_tracks`.
    res, step_m
        As in :func:`track_pieces`.
    freq
        ``"D"`` (days) or ``"h"`` (hours) of ``timezone``.
    timezone
        The city's zone (default Asia/Shanghai).

    Returns
    -------
    pandas.DataFrame
        Columns ``FINE_COLUMNS``, one row per (inspector, cell, period) with presence, sorted by those keys:
        ``period`` (tz-aware period start in ``timezone``), ``seconds`` (time in the cell, s), ``idle_s``
        (of which stopped, s), ``length_m`` (walked inside the cell, m), ``visits`` (entries into the cell
        that began in the period; int64) and ``last_visit`` (UTC, when the inspector last left the cell).
    """
    pieces = track_pieces(cleaned, res=res, step_m=step_m)
    if pieces.empty:
        return _empty_fine(timezone)
    sess = pieces["session_id"].to_numpy()
    cell = pieces["cell"].to_numpy()
    entry = np.ones(len(pieces), dtype=bool)
    entry[1:] = (sess[1:] != sess[:-1]) | (cell[1:] != cell[:-1])
    period = _period_start(pieces["start_ns"].to_numpy(), freq, timezone)
    seconds = pieces["seconds"].to_numpy()
    frame = pd.DataFrame(
        {
            "inspector_id": pieces["inspector_id"].array,
            "cell": cell,
            "period": period,
            "seconds": seconds,
            "idle_s": np.where(pieces["idle"].to_numpy(), seconds, 0.0),
            "length_m": pieces["length_m"].to_numpy(),
            "visits": entry.astype(np.int64),
            "end_ns": pieces["start_ns"].to_numpy() + (seconds * 1e9).astype(np.int64),
        }
    )
    fine = frame.groupby(["inspector_id", "cell", "period"], sort=True, observed=True).agg(
        seconds=("seconds", "sum"),
        idle_s=("idle_s", "sum"),
        length_m=("length_m", "sum"),
        visits=("visits", "sum"),
        end_ns=("end_ns", "max"),
    )
    fine = fine.reset_index()
    fine["inspector_id"] = fine["inspector_id"].astype(str)
    fine["last_visit"] = pd.to_datetime(fine.pop("end_ns"), unit="ns", utc=True)
    return fine[list(FINE_COLUMNS)]


def _empty_fine(timezone: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "inspector_id": pd.Series(dtype=object),
            "cell": pd.Series(dtype=np.int64),
            "period": pd.Series(dtype=f"datetime64[ns, {timezone}]"),
            "seconds": pd.Series(dtype=np.float64),
            "idle_s": pd.Series(dtype=np.float64),
            "length_m": pd.Series(dtype=np.float64),
            "visits": pd.Series(dtype=np.int64),
            "last_visit": pd.Series(dtype="datetime64[ns, UTC]"),
        }
    )


def coverage_cube(
    fine: pd.DataFrame,
    *,
    cells: npt.ArrayLike | None = None,
    periods: pd.DatetimeIndex | None = None,
) -> pd.DataFrame:
    """Cell × period coverage cube from the fine cube, zeros included.

    Parameters
    ----------
    fine
        Output of :func:`reduce_tracks` (or of :mod:`patrol.scale`).
    cells
        The cell universe (the cells table's ``cell``); default the cells present. Cells of ``fine``
        outside it are dropped.
    periods
        The period starts (tz-aware); default every period present between the first and the last.

    Returns
    -------
    pandas.DataFrame
        Indexed by (``cell``, ``period``), every combination of the universe, with ``minutes`` (float),
        ``visits`` (int64), ``inspectors`` (int64, distinct inspectors present) and ``last_visit`` (UTC,
        NaT where nobody came).
    """
    grouped = fine.groupby(["cell", "period"], sort=True).agg(
        minutes=("seconds", "sum"),
        visits=("visits", "sum"),
        inspectors=("inspector_id", "nunique"),
        last_visit=("last_visit", "max"),
    )
    grouped["minutes"] /= 60.0
    universe = np.unique(np.asarray(cells, dtype=np.int64)) if cells is not None else np.unique(fine["cell"])
    if periods is None:
        periods = pd.DatetimeIndex(fine["period"].drop_duplicates().sort_values())
    index = pd.MultiIndex.from_product([universe, periods], names=["cell", "period"])
    cube = grouped.reindex(index)
    cube[["minutes"]] = cube[["minutes"]].fillna(0.0)
    for column in ("visits", "inspectors"):
        cube[column] = cube[column].fillna(0).astype(np.int64)
    return cube


def cell_summary(fine: pd.DataFrame, *, cells: npt.ArrayLike | None = None) -> pd.DataFrame:
    """One row per cell over the whole range of ``fine``: ``cell``, ``minutes``, ``visits``,
    ``inspectors`` (distinct), ``last_visit`` (UTC, NaT when never visited), ``idle_minutes``; sorted by
    cell; ``cells`` (optional universe) adds never-visited cells with zeros."""
    out = fine.groupby("cell", sort=True).agg(
        minutes=("seconds", "sum"),
        idle_minutes=("idle_s", "sum"),
        visits=("visits", "sum"),
        inspectors=("inspector_id", "nunique"),
        last_visit=("last_visit", "max"),
    )
    out[["minutes", "idle_minutes"]] /= 60.0
    if cells is not None:
        out = out.reindex(np.unique(np.asarray(cells, dtype=np.int64)))
        out[["minutes", "idle_minutes"]] = out[["minutes", "idle_minutes"]].fillna(0.0)
        out[["visits", "inspectors"]] = out[["visits", "inspectors"]].fillna(0)
    out[["visits", "inspectors"]] = out[["visits", "inspectors"]].astype(np.int64)
    out.index.name = "cell"
    return out.reset_index()[["cell", "minutes", "visits", "inspectors", "last_visit", "idle_minutes"]]
