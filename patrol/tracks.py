"""Clean patrol track points: sort, de-duplicate, drop impossible jumps, flag poor fixes, sessions, stops.

The **track points** contract (DESIGN.md): ``inspector_id`` (str), ``ts`` (tz-aware UTC), ``lat``, ``lon``
(WGS-84 degrees), optional ``accuracy_m`` (m). :func:`clean_tracks` keeps every input row and adds
``cell`` (int64 H3), ``session_id``, ``speed_mps``, ``stop_id``, ``valid`` and ``reason``, so that every
dropped or flagged fix says why and ``valid.sum() + reason.value_counts().sum() == len(points)``.

Everything is vectorised over the whole frame (sorts, ``numpy.diff``-style shifts, cumulative sums); the
stop detector is a numba kernel, one pass over the points. Sessions never cross a midnight of the city's
zone, so a day's partition of the track store can be cleaned on its own with the same result.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt
import pandas as pd

from grid.cells import DEFAULT_RES, latlng_to_cells

__all__ = [
    "CLEAN_COLUMNS",
    "DEFAULT_TIMEZONE",
    "REASONS",
    "TRACK_COLUMNS",
    "clean_tracks",
    "haversine_m",
    "stops_table",
]

DEFAULT_TIMEZONE = "Asia/Shanghai"
#: Columns of the track points contract (``accuracy_m`` may be all-NaN).
TRACK_COLUMNS = ("inspector_id", "ts", "lat", "lon", "accuracy_m")
#: Columns :func:`clean_tracks` adds.
CLEAN_COLUMNS = ("cell", "session_id", "speed_mps", "stop_id", "valid", "reason")
#: Reasons a fix is not valid, in the order they are checked (a fix gets the first that applies).
REASONS = ("bad_time", "bad_coordinates", "duplicate", "poor_accuracy", "speed_jump")
EARTH_RADIUS_M = 6_371_008.8
_NS = 1_000_000_000
_DAY_NS = 86_400 * _NS


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
    """UTC nanoseconds (int64); NaT gives the int64 minimum."""
    return pd.DatetimeIndex(ts).tz_convert("UTC").as_unit("ns").asi8


def _local_day(ts_ns: npt.NDArray[np.int64], timezone: str) -> npt.NDArray[np.int64]:
    """Days since 1970-01-01 of each instant's date in ``timezone``."""
    local = pd.DatetimeIndex(ts_ns, tz="UTC").tz_convert(timezone).tz_localize(None).as_unit("ns").asi8
    return local // _DAY_NS


def _breaks(
    key: npt.NDArray[np.int64], day: npt.NDArray[np.int64], t: npt.NDArray[np.int64], gap_ns: int
) -> npt.NDArray[np.bool_]:
    """True where a fix starts a new run: new inspector, new local day or a time gap over ``gap_ns``."""
    out = np.ones(len(key), dtype=bool)
    out[1:] = (key[1:] != key[:-1]) | (day[1:] != day[:-1]) | (t[1:] - t[:-1] > gap_ns)
    return out


def _speeds(
    lat: npt.NDArray[np.float64],
    lon: npt.NDArray[np.float64],
    t: npt.NDArray[np.int64],
    new: npt.NDArray[np.bool_],
) -> npt.NDArray[np.float64]:
    """Speed (m/s) from the previous fix; NaN where ``new`` starts a run."""
    v = np.full(len(t), np.nan)
    if len(t) > 1:
        dist = haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:])
        dt = (t[1:] - t[:-1]) / _NS
        with np.errstate(divide="ignore", invalid="ignore"):
            v[1:] = np.where(dt > 0, dist / dt, np.where(dist > 0, np.inf, 0.0))
    v[new] = np.nan
    return v


def _drop_spikes(
    frame: dict[str, np.ndarray], ok: npt.NDArray[np.bool_], gap_ns: int, max_speed_mps: float, passes: int
) -> npt.NDArray[np.bool_]:
    """Mask of fixes that are speed spikes: too fast both into and out of them (repeated ``passes`` times)."""
    spikes = np.zeros(len(ok), dtype=bool)
    for _ in range(passes):
        idx = np.flatnonzero(ok & ~spikes)
        new = _breaks(frame["key"][idx], frame["day"][idx], frame["t"][idx], gap_ns)
        v_in = _speeds(frame["lat"][idx], frame["lon"][idx], frame["t"][idx], new)
        v_out = np.append(v_in[1:], np.nan)
        found = (v_in > max_speed_mps) & (v_out > max_speed_mps)
        if not found.any():
            break
        spikes[idx[found]] = True
    return spikes


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
    out = points.copy()
    out["ts"] = out["ts"].dt.tz_convert("UTC")
    if "accuracy_m" not in out.columns:
        out["accuracy_m"] = np.float32(np.nan)
    out["inspector_id"] = out["inspector_id"].astype(str)
    out = out.sort_values(["inspector_id", "ts"], kind="stable", ignore_index=True)
    n = len(out)
    t = _ts_ns(out["ts"])
    lat = out["lat"].to_numpy(dtype=np.float64)
    lon = out["lon"].to_numpy(dtype=np.float64)
    key = pd.factorize(out["inspector_id"])[0].astype(np.int64)
    bad_time = out["ts"].isna().to_numpy()
    bad_xy = ~(np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180))
    dup = out.duplicated(["inspector_id", "ts"], keep="first").to_numpy() & ~bad_time
    poor = out["accuracy_m"].to_numpy(dtype=np.float64, na_value=np.nan) > max_accuracy_m
    day = np.where(bad_time, 0, _local_day(np.where(bad_time, 0, t), timezone))
    arrays = {"key": key, "day": day, "t": t, "lat": lat, "lon": lon}
    gap_ns = int(gap_s * _NS)
    ok = ~(bad_time | bad_xy | dup | poor)
    spikes = _drop_spikes(arrays, ok, gap_ns, max_speed_mps, spike_passes)
    reason = np.select([bad_time, bad_xy, dup, poor, spikes], list(REASONS), default="").astype(object)
    valid = reason == ""
    reason[valid] = None

    idx = np.flatnonzero(valid)
    new = _breaks(key[idx], day[idx], t[idx], gap_ns)
    speed = _speeds(lat[idx], lon[idx], t[idx], new)
    new |= speed > max_speed_mps  # remaining impossible steps split the session
    speed[new] = np.nan
    session = np.cumsum(new) - 1
    stop = _stops(lat[idx], lon[idx], t[idx], session, stop_max_diameter_m, stop_min_duration_s)

    out["cell"] = latlng_to_cells(
        np.where(bad_xy, np.nan, lat), np.where(bad_xy, np.nan, lon), res, invalid="null"
    )
    out["session_id"] = _scatter(n, idx, session, -1)
    out["speed_mps"] = _scatter(n, idx, speed, np.nan)
    out["stop_id"] = _scatter(n, idx, stop, -1)
    out["valid"] = valid
    out["reason"] = pd.Series(reason, dtype=object)
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
    if len(t) == 0:
        return np.empty(0, dtype=np.int64)
    # local equirectangular metres about each session's first fix (error << 1 % over a few km)
    first = np.flatnonzero(np.r_[True, session[1:] != session[:-1]])
    start = np.repeat(first, np.diff(np.r_[first, len(t)]))
    coslat = np.cos(np.radians(lat[start]))
    x = np.radians(lon - lon[start]) * EARTH_RADIUS_M * coslat
    y = np.radians(lat - lat[start]) * EARTH_RADIUS_M
    out = np.full(len(t), -1, dtype=np.int64)
    _stop_kernel(x, y, t, session, float(max_diameter_m), int(min_duration_s * _NS), out)
    return out


@numba.njit(cache=True)
def _stop_kernel(x, y, t, session, max_d, min_ns, out):  # pragma: no cover - compiled
    """MovingPandas' TrajectoryStopDetector window rules with a bounding-box diagonal, per session."""
    n = len(t)
    next_id = 0
    i = 0
    while i < n:
        j_end = i
        while j_end < n and session[j_end] == session[i]:
            j_end += 1
        lo = i
        stopped = False
        previously = False
        for k in range(i, j_end):
            if not stopped:
                while k - lo + 1 > 2 and t[k] - t[lo] >= min_ns:
                    lo += 1
            minx = x[lo]
            maxx = x[lo]
            miny = y[lo]
            maxy = y[lo]
            for m in range(lo + 1, k + 1):
                minx = min(minx, x[m])
                maxx = max(maxx, x[m])
                miny = min(miny, y[m])
                maxy = max(maxy, y[m])
            stopped = False
            if k > lo and ((maxx - minx) ** 2 + (maxy - miny) ** 2) ** 0.5 < max_d:
                stopped = True
            if not stopped and previously and k > lo and t[k - 1] - t[lo] >= min_ns:
                out[lo:k] = next_id
                next_id += 1
                lo = k
            previously = stopped
        if stopped and t[j_end - 1] - t[lo] >= min_ns:
            out[lo:j_end] = next_id
            next_id += 1
        i = j_end
    return next_id


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
