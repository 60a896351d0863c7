"""Clean patrol track points: sort, de-duplicate, drop impossible jumps, flag poor fixes, sessions, stops.

The **track points** contract (DESIGN.md): ``inspector_id`` (str), ``ts`` (tz-aware UTC), ``lat``, ``lon``
(WGS-84 degrees), optional ``accuracy_m`` (m). :func:`clean_tracks` keeps every input row and adds
``cell`` (int64 H3), ``session_id``, ``speed_mps``, ``stop_id``, ``valid`` and ``reason``, so that every
dropped or flagged fix says why and ``valid.sum() + reason.value_counts().sum() == len(points)``.

The pandas work is one factorize of the inspector ids (int codes that sort like the ids) and, only when
the points are not yet in order, one stable sort; the checks run as numba kernels over the sorted arrays
(:mod:`patrol._tracks_kernel`: flags, spike passes, sessions and speeds, stops), one pass each.
:func:`clean_sorted` is that array core without a frame, for :mod:`patrol.scale`. Local days come from an
int64 UTC offset per point (:func:`utc_offsets_ns`), not from converting every instant. Sessions never
cross a midnight of the city's zone, so a day's partition of the track store can be cleaned on its own
with the same result.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt
import pandas as pd

from grid.cells import DEFAULT_RES, latlng_to_cells
from grid.config import DEFAULT_TIMEZONE
from patrol import _tracks_kernel as _k
from patrol._tracks_kernel import EARTH_RADIUS_M, NAT

__all__ = [
    "CLEAN_COLUMNS",
    "DEFAULT_TIMEZONE",
    "REASONS",
    "TRACK_COLUMNS",
    "CleanArrays",
    "clean_sorted",
    "clean_tracks",
    "compact_offsets_ns",
    "haversine_m",
    "inspector_codes",
    "sort_order",
    "stops_table",
    "utc_offsets_ns",
]

#: Columns of the track points contract (``accuracy_m`` may be all-NaN).
TRACK_COLUMNS = ("inspector_id", "ts", "lat", "lon", "accuracy_m")
#: Columns :func:`clean_tracks` adds.
CLEAN_COLUMNS = ("cell", "session_id", "speed_mps", "stop_id", "valid", "reason")
#: Reasons a fix is not valid, in the order they are checked (a fix gets the first that applies).
REASONS = ("bad_time", "bad_coordinates", "duplicate", "poor_accuracy", "speed_jump")
_REASON_OBJECTS = np.array([None, *REASONS], dtype=object)  # indexed by the kernels' reason codes
_NS = 1_000_000_000
_DAY_NS = 86_400 * _NS
_MINUTE_NS = 60 * _NS
_MAX_MINUTE_BUCKETS = 1 << 20  # about two years of minutes


def haversine_m(
    lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """Great-circle distance in metres between WGS-84 points given as (lat, lon) degrees; vectorised."""
    p1, l1, p2, l2 = (np.radians(np.asarray(v, dtype=np.float64)) for v in (lat1, lon1, lat2, lon2))
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin((l2 - l1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def _check_points(points: pd.DataFrame) -> None:
    if not isinstance(points, pd.DataFrame):
        msg = f"`points` must be a DataFrame of track points; got {type(points).__name__}"
        raise TypeError(msg)
    missing = [c for c in TRACK_COLUMNS[:4] if c not in points.columns]
    if missing:
        msg = f"`points` lacks column(s) {missing}; the track points contract is {list(TRACK_COLUMNS)}"
        raise ValueError(msg)
    present = [c for c in CLEAN_COLUMNS if c in points.columns]
    if present:
        msg = f"`points` already has derived column(s) {present}; pass raw points (drop them first)"
        raise ValueError(msg)
    if not isinstance(points["ts"].dtype, pd.DatetimeTZDtype):
        msg = f"`points.ts` must be tz-aware (UTC); got dtype {points['ts'].dtype}. Localize it first."
        raise ValueError(msg)


def _ts_ns(ts: pd.Series) -> npt.NDArray[np.int64]:
    """UTC nanoseconds (int64); NaT gives the int64 minimum (``NAT``)."""
    return pd.DatetimeIndex(ts).tz_convert("UTC").as_unit("ns").asi8


def _offsets_by_pandas(t_ns: npt.NDArray[np.int64], timezone: str) -> npt.NDArray[np.int64]:
    local = pd.DatetimeIndex(t_ns, tz="UTC").tz_convert(timezone).tz_localize(None).as_unit("ns").asi8
    return local - t_ns


def utc_offsets_ns(t_ns: npt.NDArray[np.int64], timezone: str) -> npt.NDArray[np.int64]:
    """Offset of the wall clock of ``timezone`` from UTC (ns, local − UTC) at each instant; 0 at ``NAT``.

    Equal to converting every instant with pandas. Parameters: ``t_ns`` int64 UTC ns, shape (n,);
    returns int64 ns, shape (n,).
    """
    offsets = compact_offsets_ns(t_ns, timezone)
    if len(offsets) == 1:
        offsets = np.where(t_ns == NAT, 0, offsets[0])
    return offsets


def compact_offsets_ns(t_ns: npt.NDArray[np.int64], timezone: str) -> npt.NDArray[np.int64]:
    """:func:`utc_offsets_ns`, but one value (shape (1,)) when the offset is the same over all of ``t_ns``.

    The zone is asked only at the minute edges spanning ``t_ns``; when they all agree (a day or a year
    without a DST or rule change) that one offset is returned, else each instant gets its minute's
    offset, and the instants of a minute whose two edges disagree (the minute of the change) are
    converted one by one. Zone rules never change the offset twice within a minute. ``NAT`` gets 0 in
    the full form and does not count in the compact one.
    """
    known = t_ns != NAT
    if timezone == "UTC" or not known.any():
        return np.zeros(1, dtype=np.int64)
    tk = t_ns if known.all() else t_ns[known]
    lo_edge = int(tk.min()) // _MINUTE_NS * _MINUTE_NS
    n_buckets = (int(tk.max()) - lo_edge) // _MINUTE_NS + 1
    out = np.zeros(len(t_ns), dtype=np.int64)
    if n_buckets > _MAX_MINUTE_BUCKETS:  # a span of years: ask pandas for every instant
        out[known] = _offsets_by_pandas(tk, timezone)
        return out
    edges = lo_edge + np.arange(n_buckets + 1, dtype=np.int64) * _MINUTE_NS
    at_edges = _offsets_by_pandas(edges, timezone)
    if (at_edges == at_edges[0]).all():
        return at_edges[:1].copy()
    bucket = (tk - lo_edge) // _MINUTE_NS
    offsets = at_edges[bucket]
    changes = at_edges[:-1] != at_edges[1:]
    inside = changes[bucket]
    offsets[inside] = _offsets_by_pandas(tk[inside], timezone)
    out[known] = offsets
    return out


def _local_day(t_ns: npt.NDArray[np.int64], timezone: str) -> npt.NDArray[np.int64]:
    """Days since 1970-01-01 of each instant's date in ``timezone``; 0 at ``NAT``."""
    offsets = compact_offsets_ns(t_ns, timezone)
    day = (t_ns + (offsets[0] if len(offsets) == 1 else offsets)) // _DAY_NS
    day[t_ns == NAT] = 0
    return day


def sort_order(key: npt.NDArray[np.int64], t_ns: npt.NDArray[np.int64]) -> npt.NDArray[np.int64] | None:
    """Stable order by (``key``, ``t_ns``) with ``NAT`` last within a key; ``None`` if already in order."""
    if _k.is_sorted(key, t_ns):
        return None
    return np.lexsort((np.where(t_ns == NAT, np.iinfo(np.int64).max, t_ns), key))


@dataclasses.dataclass(frozen=True)
class CleanArrays:
    """:func:`clean_sorted` output: ``code`` (int8, shape (n,), 0 valid else 1 + index in ``REASONS``);
    for the valid fixes ``idx`` (int64, shape (m,), positions in the sorted points, ascending): ``session``
    (int64, from 0), ``speed`` (float64 m/s, NaN at a session start), ``stop`` (int64, -1 moving) and
    ``prev_dist`` (float64 m from the previous valid fix, known at least within a session; NaN at a run
    start), which the coverage reduction reuses as segment lengths; ``lat``, ``lon`` and ``t_ns`` of the
    valid fixes (the input arrays themselves when every fix is valid)."""

    code: npt.NDArray[np.int8]
    idx: npt.NDArray[np.int64]
    session: npt.NDArray[np.int64]
    speed: npt.NDArray[np.float64]
    stop: npt.NDArray[np.int64]
    prev_dist: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    t_ns: npt.NDArray[np.int64]


def clean_sorted(
    key: npt.NDArray[np.int64],
    t_ns: npt.NDArray[np.int64],
    lat: npt.NDArray[np.float64],
    lon: npt.NDArray[np.float64],
    accuracy_m: npt.NDArray[np.float64],
    *,
    max_speed_mps: float = 8.0,
    max_accuracy_m: float = 50.0,
    gap_s: float = 600.0,
    stop_max_diameter_m: float = 30.0,
    stop_min_duration_s: float = 120.0,
    timezone: str = DEFAULT_TIMEZONE,
    spike_passes: int = 5,
) -> CleanArrays:
    """The checks of :func:`clean_tracks` on arrays already in its order, without building a frame.

    ``key`` (int64 inspector code, equal codes contiguous), ``t_ns`` (int64 UTC ns, ``NAT`` missing, last
    within a key), ``lat``/``lon`` (WGS-84 degrees) and ``accuracy_m`` (float64 m, NaN unknown) all have
    shape (n,) and are sorted by (key, t) as :func:`sort_order` does. Options as in :func:`clean_tracks`.
    """
    n = len(t_ns)
    code = np.empty(n, dtype=np.int8)
    _k.flag_kernel(key, t_ns, lat, lon, accuracy_m, float(max_accuracy_m), code)
    day = _local_day(t_ns, timezone)
    gap_ns = int(gap_s * _NS)
    idx, start, dist, v = _k.spike_kernel(
        key, day, t_ns, lat, lon, code, gap_ns, float(max_speed_mps), int(spike_passes)
    )
    session = np.empty(len(idx), dtype=np.int64)
    speed = np.empty(len(idx), dtype=np.float64)
    _k.session_kernel(start, v, float(max_speed_mps), session, speed)
    everything = len(idx) == n  # the usual day: no gathers, the valid fixes are the arrays themselves
    lat_v, lon_v, t_v = (lat, lon, t_ns) if everything else (lat[idx], lon[idx], t_ns[idx])
    stop = _stops(lat_v, lon_v, t_v, session, stop_max_diameter_m, stop_min_duration_s)
    return CleanArrays(
        code=code, idx=idx, session=session, speed=speed, stop=stop, prev_dist=dist, lat=lat_v, lon=lon_v,
        t_ns=t_v,
    )  # fmt: skip


def inspector_codes(ids: pd.Series | pd.Index) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.object_]]:
    """Int codes of inspector ids that sort like the ids (missing ids last) and the ids of the codes.

    Factorizes once; returns (codes int64 shape (n,), names object array of str, ``names[code]`` is the
    id; a missing id gets code ``len(names)``).
    """
    codes, uniques = pd.factorize(ids)
    names = np.asarray(uniques, dtype=object)
    order = np.argsort(names, kind="stable")
    rank = np.empty(len(names) + 1, dtype=np.int64)
    rank[order] = np.arange(len(names))
    rank[-1] = len(names)  # factorize's -1 (missing) sorts last, as in sort_values
    return rank[codes], names[order]


def clean_tracks(
    points: pd.DataFrame,
    *,
    res: int = DEFAULT_RES,
    max_speed_mps: float = 8.0,
    max_accuracy_m: float = 50.0,
    gap_s: float = 600.0,
    stop_max_diameter_m: float = 30.0,
    stop_min_duration_s: float = 120.0,
    timezone: str = DEFAULT_TIMEZONE,
    spike_passes: int = 5,
) -> pd.DataFrame:
    """Sort, de-duplicate and check track points; add cells, sessions, speeds and stops.

    Parameters
    ----------
    points
        Track points contract: ``inspector_id``, ``ts`` (tz-aware), ``lat``, ``lon`` (WGS-84 degrees),
        optional ``accuracy_m`` (m); other columns are kept.
    res
        H3 resolution of ``cell`` (default 10).
    max_speed_mps
        Fastest plausible patrol speed (m/s; default 8 ≈ a fast bicycle). A fix reached *and* left faster
        than this is a GPS jump (``speed_jump``) and is dropped; a single too-fast step that remains (a
        teleport after a tunnel, a bus ride) starts a new session so no walk is drawn across it.
    max_accuracy_m
        Fixes with ``accuracy_m`` above this (m) are flagged ``poor_accuracy`` and not used.
    gap_s
        A time gap longer than this (s; default 600 = 10 min) starts a new session.
    stop_max_diameter_m, stop_min_duration_s
        A stop is a run of fixes of one session staying within ``stop_max_diameter_m`` (bounding-box
        diagonal, m) for at least ``stop_min_duration_s`` (s), found with MovingPandas'
        ``TrajectoryStopDetector`` window rules.
    timezone
        The city's zone: sessions are also split at its midnights.
    spike_passes
        How many times spike removal is repeated (consecutive spikes need several passes).

    Returns
    -------
    pandas.DataFrame
        Every input row, sorted by ``inspector_id`` then ``ts`` (index 0..n-1), with ``ts`` in UTC and the
        added columns ``cell`` (int64, 0 for unusable coordinates), ``session_id`` (int64, numbered from 0
        in sort order; -1 for invalid fixes), ``speed_mps`` (float64, from the previous valid fix of the
        session; NaN at a session start and for invalid fixes), ``stop_id`` (int64, -1 when moving or
        invalid), ``valid`` (bool) and ``reason`` (str, ``None`` when valid; else one of ``REASONS``).

    Raises
    ------
    TypeError, ValueError
        ``points`` is not a DataFrame, lacks a contract column, already has derived columns, or ``ts`` is
        not tz-aware.
    """
    _check_points(points)
    out = points.copy(deep=False)
    out["ts"] = out["ts"].dt.tz_convert("UTC")
    if "accuracy_m" not in out.columns:
        out["accuracy_m"] = np.float32(np.nan)
    out["inspector_id"] = out["inspector_id"].astype(str)
    key, _ = inspector_codes(out["inspector_id"])  # one factorize; the int codes sort like the ids
    t = _ts_ns(out["ts"])
    order = sort_order(key, t)
    if order is None:
        out = out.reset_index(drop=True)
    else:
        out = out.take(order).reset_index(drop=True)
        key, t = key[order], t[order]
    n = len(out)
    lat = out["lat"].to_numpy(dtype=np.float64)
    lon = out["lon"].to_numpy(dtype=np.float64)
    accuracy = out["accuracy_m"].to_numpy(dtype=np.float64, na_value=np.nan)
    cleaned = clean_sorted(
        key,
        t,
        lat,
        lon,
        accuracy,
        max_speed_mps=max_speed_mps,
        max_accuracy_m=max_accuracy_m,
        gap_s=gap_s,
        stop_max_diameter_m=stop_max_diameter_m,
        stop_min_duration_s=stop_min_duration_s,
        timezone=timezone,
        spike_passes=spike_passes,
    )
    bad_xy = ~(np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180))
    idx = cleaned.idx
    out["cell"] = latlng_to_cells(
        np.where(bad_xy, np.nan, lat), np.where(bad_xy, np.nan, lon), res, invalid="null"
    )
    out["session_id"] = _scatter(n, idx, cleaned.session, -1)
    out["speed_mps"] = _scatter(n, idx, cleaned.speed, np.nan)
    out["stop_id"] = _scatter(n, idx, cleaned.stop, -1)
    out["valid"] = cleaned.code == _k.OK
    out["reason"] = pd.Series(_REASON_OBJECTS[cleaned.code], dtype=object)
    return out


def _scatter(n: int, idx: npt.NDArray[np.int64], values: np.ndarray, fill: float) -> np.ndarray:
    out = np.full(n, fill, dtype=values.dtype)
    out[idx] = values
    return out


def _stops(
    lat: npt.NDArray[np.float64],
    lon: npt.NDArray[np.float64],
    t: npt.NDArray[np.int64],
    session: npt.NDArray[np.int64],
    max_diameter_m: float,
    min_duration_s: float,
) -> npt.NDArray[np.int64]:
    """Stop id of each fix (-1 when moving), numbered from 0 in order; sessions are contiguous runs."""
    out = np.full(len(t), -1, dtype=np.int64)
    if len(t) == 0:
        return out
    x = np.empty(len(t), dtype=np.float64)
    y = np.empty(len(t), dtype=np.float64)
    _k.stop_xy_kernel(lat, lon, session, x, y)
    _k.stop_kernel(x, y, t, session, float(max_diameter_m), int(min_duration_s * _NS), out)
    return out


def stops_table(cleaned: pd.DataFrame) -> pd.DataFrame:
    """One row per stop of :func:`clean_tracks` output.

    Returns
    -------
    pandas.DataFrame
        Columns ``stop_id``, ``inspector_id``, ``session_id``, ``start_time``, ``end_time`` (UTC),
        ``duration_s`` (float), ``lat``, ``lon`` (mean of the stop's fixes, WGS-84), ``n_fixes``.
    """
    stops = cleaned[cleaned["stop_id"] >= 0]
    grouped = stops.groupby("stop_id", sort=True)
    out = grouped.agg(
        inspector_id=("inspector_id", "first"),
        session_id=("session_id", "first"),
        start_time=("ts", "min"),
        end_time=("ts", "max"),
        lat=("lat", "mean"),
        lon=("lon", "mean"),
        n_fixes=("ts", "size"),
    ).reset_index()
    out["duration_s"] = (out["end_time"] - out["start_time"]).dt.total_seconds()
    return out[
        [
            "stop_id",
            "inspector_id",
            "session_id",
            "start_time",
            "end_time",
            "duration_s",
            "lat",
            "lon",
            "n_fixes",
        ]
    ]
