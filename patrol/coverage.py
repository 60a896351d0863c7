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

import dataclasses

import numpy as np
import numpy.typing as npt
import pandas as pd

from grid.cells import DEFAULT_RES, latlng_to_cells
from grid.config import DEFAULT_TIMEZONE
from patrol import _coverage_kernel as _ck
from patrol import _tracks_kernel as _tk
from patrol.tracks import compact_offsets_ns

__all__ = [
    "FINE_COLUMNS",
    "PIECE_COLUMNS",
    "Pieces",
    "cell_summary",
    "coverage_cube",
    "fine_from_fixes",
    "pieces_of_fixes",
    "reduce_tracks",
    "track_pieces",
]

#: Columns of :func:`track_pieces`.
PIECE_COLUMNS = ("inspector_id", "session_id", "cell", "start_ns", "seconds", "length_m", "idle")
#: Columns of :func:`reduce_tracks` (after the keys ``inspector_id``, ``cell``, ``period``).
FINE_COLUMNS = ("inspector_id", "cell", "period", "seconds", "idle_s", "length_m", "visits", "last_visit")
FREQS = {"D": 86_400 * 10**9, "h": 3_600 * 10**9}
DEFAULT_STEP_M = 20.0


def _ns(ts: pd.Series) -> npt.NDArray[np.int64]:
    return pd.DatetimeIndex(ts).tz_convert("UTC").as_unit("ns").asi8


@dataclasses.dataclass(frozen=True)
class Pieces:
    """Pieces of the segments between valid fixes, in walking order, shape (p,) each: ``src`` (int64, the
    piece's first fix, a position among the fixes passed in), ``cell`` (int64 cell of its midpoint),
    ``start_ns`` (int64 UTC ns), ``seconds`` and ``length_m`` (float64 share of the segment) and ``idle``
    (bool, both fixes in one stop)."""

    src: npt.NDArray[np.int64]
    cell: npt.NDArray[np.int64]
    start_ns: npt.NDArray[np.int64]
    seconds: npt.NDArray[np.float64]
    length_m: npt.NDArray[np.float64]
    idle: npt.NDArray[np.bool_]


def _segments(
    session: npt.NDArray[np.int64],
    lat: npt.NDArray[np.float64],
    lon: npt.NDArray[np.float64],
    cell: npt.NDArray[np.int64],
    prev_dist: npt.NDArray[np.float64] | None,
    res: int,
    step_m: float,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Pieces per segment (shape (m,), 0 where a session ends), segment metres, and the cells of the
    midpoints of the pieces of cell-crossing segments (walking order)."""
    if step_m <= 0:
        msg = f"`step_m` must be > 0 metres; got {step_m}"
        raise ValueError(msg)
    m = len(session)
    if prev_dist is None:
        prev_dist = np.empty(m, dtype=np.float64)
        _tk.prev_distance_kernel(session, lat, lon, prev_dist)
    n_sub = np.empty(m, dtype=np.int64)
    length = np.empty(m, dtype=np.float64)
    n_crossing = _ck.segment_kernel(session, prev_dist, cell, float(step_m), n_sub, length)
    mid_lat = np.empty(n_crossing, dtype=np.float64)
    mid_lon = np.empty(n_crossing, dtype=np.float64)
    _ck.midpoint_kernel(lat, lon, cell, n_sub, mid_lat, mid_lon)
    return n_sub, length, latlng_to_cells(mid_lat, mid_lon, res)


def pieces_of_fixes(
    session: npt.NDArray[np.int64],
    t_ns: npt.NDArray[np.int64],
    lat: npt.NDArray[np.float64],
    lon: npt.NDArray[np.float64],
    cell: npt.NDArray[np.int64],
    stop: npt.NDArray[np.int64],
    *,
    prev_dist: npt.NDArray[np.float64] | None = None,
    res: int = DEFAULT_RES,
    step_m: float = DEFAULT_STEP_M,
) -> Pieces:
    """Cut the segments between consecutive valid fixes of a session (arrays of shape (m,), walking
    order, sessions contiguous; ``cell`` at ``res``) into pieces of at most ``step_m`` metres.

    ``prev_dist`` (m from the previous fix, as :class:`patrol.tracks.CleanArrays` has it) saves measuring
    the segments again; without it they are measured here with the same haversine.
    """
    n_sub, length, mid_cell = _segments(session, lat, lon, cell, prev_dist, res, step_m)
    return _pieces(t_ns, cell, stop, n_sub, length, mid_cell)


def _pieces(
    t_ns: npt.NDArray[np.int64],
    cell: npt.NDArray[np.int64],
    stop: npt.NDArray[np.int64],
    n_sub: npt.NDArray[np.int64],
    length: npt.NDArray[np.float64],
    mid_cell: npt.NDArray[np.int64],
) -> Pieces:
    p = int(n_sub.sum())
    out = Pieces(
        src=np.empty(p, dtype=np.int64),
        cell=np.empty(p, dtype=np.int64),
        start_ns=np.empty(p, dtype=np.int64),
        seconds=np.empty(p, dtype=np.float64),
        length_m=np.empty(p, dtype=np.float64),
        idle=np.empty(p, dtype=np.bool_),
    )
    _ck.piece_kernel(
        t_ns, cell, stop, n_sub, length, mid_cell, out.src, out.cell, out.start_ns, out.seconds,
        out.length_m, out.idle,
    )  # fmt: skip
    return out


def _valid_fixes(cleaned: pd.DataFrame) -> dict[str, np.ndarray]:
    """Arrays of the valid fixes of cleaned points; ``key`` codes in order of appearance, ``names`` str."""
    pts = cleaned[cleaned["valid"].to_numpy(dtype=bool)]
    codes, names = pd.factorize(pts["inspector_id"])
    return {
        "key": codes.astype(np.int64),
        "names": np.asarray(names.astype(str), dtype=object),
        "session": pts["session_id"].to_numpy(dtype=np.int64),
        "t_ns": _ns(pts["ts"]),
        "lat": pts["lat"].to_numpy(dtype=np.float64),
        "lon": pts["lon"].to_numpy(dtype=np.float64),
        "cell": pts["cell"].to_numpy(dtype=np.int64),
        "stop": pts["stop_id"].to_numpy(dtype=np.int64),
    }


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
    fixes = _valid_fixes(cleaned)
    pieces = pieces_of_fixes(
        fixes["session"], fixes["t_ns"], fixes["lat"], fixes["lon"], fixes["cell"], fixes["stop"],
        res=res, step_m=step_m,
    )  # fmt: skip
    return pd.DataFrame(
        {
            "inspector_id": pd.Categorical.from_codes(fixes["key"][pieces.src], categories=fixes["names"]),
            "session_id": fixes["session"][pieces.src],
            "cell": pieces.cell,
            "start_ns": pieces.start_ns,
            "seconds": pieces.seconds,
            "length_m": pieces.length_m,
            "idle": pieces.idle,
        }
    )


def _localize_periods(floored: npt.NDArray[np.int64], timezone: str) -> pd.DatetimeIndex:
    """Period starts as tz-aware instants (NaT for an ambiguous wall time), converting each value once."""
    uniq, inverse = np.unique(floored, return_inverse=True)
    periods = pd.DatetimeIndex(uniq).tz_localize(timezone, ambiguous="NaT", nonexistent="shift_forward")
    return periods[inverse]


def fine_from_fixes(
    fixes: dict[str, np.ndarray],
    *,
    res: int = DEFAULT_RES,
    freq: str = "D",
    timezone: str = DEFAULT_TIMEZONE,
    step_m: float = DEFAULT_STEP_M,
) -> pd.DataFrame:
    """:func:`reduce_tracks` on the valid fixes as arrays (the keys of ``_valid_fixes``).

    ``fixes["key"]`` (int64 codes, shape (m,)) orders the inspectors in the output; ``fixes["names"]``
    (str) gives their ids. The other arrays (shape (m,), walking order, sessions contiguous) are
    ``session``, ``t_ns``, ``lat``, ``lon``, ``cell`` (at ``res``) and ``stop``; an optional
    ``prev_dist`` (m from the previous fix) saves measuring the segments again.

    When one UTC offset holds over the whole time span (any day without a DST change) the pieces are
    generated inside the two summing kernels and never stored; otherwise they are stored and each start
    time gets its own offset. Both give what the pandas groupby of :func:`track_pieces` gives, bit for bit.
    """
    session, t, cell, stop = fixes["session"], fixes["t_ns"], fixes["cell"], fixes["stop"]
    n_sub, length, mid_cell = _segments(
        session, fixes["lat"], fixes["lon"], cell, fixes.get("prev_dist"), res, step_m
    )
    if not n_sub.any():
        return _empty_fine(timezone)
    if freq not in FREQS:
        msg = f"`freq` was {freq!r} but is expected to be in {list(FREQS)}"
        raise ValueError(msg)
    offsets = compact_offsets_ns(t, timezone)
    pieces = None
    if len(offsets) == 1:  # one UTC offset over the data: pieces are generated on the fly, never stored
        rk, rc, rf = _ck.fused_runs_kernel(fixes["key"], t, cell, n_sub, mid_cell, offsets[0], FREQS[freq])
    else:  # a DST change inside: store the pieces and convert their start times
        pieces = _pieces(t, cell, stop, n_sub, length, mid_cell)
        run_of_piece = np.empty(len(pieces.src), dtype=np.int64)
        rk, rc, rf = _ck.run_kernel(
            pieces.src, fixes["key"], pieces.cell, pieces.start_ns,
            compact_offsets_ns(pieces.start_ns, timezone), FREQS[freq], run_of_piece,
        )  # fmt: skip
    # runs of consecutive pieces with one (inspector, cell, period); groups are their distinct keys
    order = np.lexsort((rf, rc, rk))
    rk, rc, rf = rk[order], rc[order], rf[order]
    new_group = np.ones(len(order), dtype=bool)
    new_group[1:] = (rk[1:] != rk[:-1]) | (rc[1:] != rc[:-1]) | (rf[1:] != rf[:-1])
    group_of_run = np.empty(len(order), dtype=np.int64)
    group_of_run[order] = np.cumsum(new_group) - 1
    n_groups = int(new_group.sum())
    if pieces is None:
        seconds, idle_s, length_m, visits, last = _ck.fused_sums_kernel(
            fixes["key"], session, t, cell, stop, n_sub, length, mid_cell, offsets[0], FREQS[freq],
            group_of_run, n_groups,
        )  # fmt: skip
    else:
        seconds, idle_s, length_m, visits, last = _ck.group_sums_kernel(
            run_of_piece, group_of_run, n_groups, pieces.src, session, pieces.cell, pieces.start_ns,
            pieces.seconds, pieces.idle, pieces.length_m,
        )  # fmt: skip
    period = _localize_periods(rf[new_group], timezone)
    keep = ~np.asarray(period.isna())  # an ambiguous period start has no instant: groupby drops it
    fine = pd.DataFrame(
        {
            "inspector_id": pd.Categorical.from_codes(rk[new_group][keep], categories=fixes["names"]),
            "cell": rc[new_group][keep],
            "period": period[keep],
            "seconds": seconds[keep],
            "idle_s": idle_s[keep],
            "length_m": length_m[keep],
            "visits": visits[keep],
            "last_visit": pd.to_datetime(last[keep], unit="ns", utc=True),
        }
    )
    fine["inspector_id"] = fine["inspector_id"].astype(str)
    return fine


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
        The city's zone (default :data:`grid.config.DEFAULT_TIMEZONE`).

    Returns
    -------
    pandas.DataFrame
        Columns ``FINE_COLUMNS``, one row per (inspector, cell, period) with presence, sorted by those keys:
        ``period`` (tz-aware period start in ``timezone``), ``seconds`` (time in the cell, s), ``idle_s``
        (of which stopped, s), ``length_m`` (walked inside the cell, m), ``visits`` (entries into the cell
        that began in the period; int64) and ``last_visit`` (UTC, when the inspector last left the cell).
    """
    return fine_from_fixes(_valid_fixes(cleaned), res=res, freq=freq, timezone=timezone, step_m=step_m)


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
