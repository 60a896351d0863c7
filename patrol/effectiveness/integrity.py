"""Integrity of patrol reports: where the reporter's own track was when each patrol find was filed.

:func:`reporter_track_check` reads the raw fixes (a DataFrame, or the track store one day at a time) and
flags finds filed far from the reporter's track.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from grid.config import DEFAULT_TIMEZONE
from patrol.effectiveness.visits import _MS, _ns
from patrol.tracks import haversine_m


# --------------------------------------------------------------------------- integrity of patrol reports
def reporter_track_check(
    cases: pd.DataFrame,
    points: pd.DataFrame | str | Path,
    *,
    window_s: float = 120.0,
    max_distance_m: float = 150.0,
    max_accuracy_m: float = 50.0,
    timezone: str = DEFAULT_TIMEZONE,
) -> pd.DataFrame:
    """Where the reporter's own track was when each patrol find was reported; far reports are flagged.

    Parameters
    ----------
    cases
        ``case_id``, ``source``, ``reported_by``, ``reported_at``, ``lat``, ``lon``; only patrol finds
        (``source == "patrol"`` with a reporter) are checked.
    points
        Raw track points (the contract), or the track store folder: then the stored days with patrol finds
        are read one at a time (four columns), each against the finds reported that local day.
    window_s
        Fixes within ``± window_s`` seconds of the report are compared with the report's location.
    max_distance_m
        A report farther than this from every fix of the reporter in the window (or with no fix in it) is
        flagged ``far_from_track``. The default allows for walking on for a minute before filing.
    max_accuracy_m
        Fixes with a worse ``accuracy_m`` are ignored (as in :func:`patrol.tracks.clean_tracks`).

    Returns
    -------
    pandas.DataFrame
        One row per patrol find, in the order of ``cases``: ``case_id``, ``reported_by``, ``fixes`` (the
        reporter's fixes in the window), ``nearest_fix_s`` (signed seconds from the report to the fix nearest
        in time; NaN without fixes), ``nearest_fix_m`` (distance of that fix, m), ``track_distance_m``
        (smallest distance to any fix in the window, m; NaN without fixes) and ``far_from_track`` (bool).
    """
    finds = cases[(cases["source"].to_numpy(dtype=object) == "patrol") & cases["reported_by"].notna()]
    finds = finds.reset_index(drop=True)
    options = {"window_s": window_s, "max_distance_m": max_distance_m}
    if not isinstance(points, str | Path):
        return _track_check(finds, _fix_arrays(points, max_accuracy_m), **options)
    import pyarrow.parquet as pq

    from patrol.store import day_paths

    day = pd.DatetimeIndex(finds["reported_at"]).tz_convert(timezone).date
    days = sorted(set(day))
    stored = dict(day_paths(points, days[0], days[-1])) if days else {}
    parts = [_track_check(finds.iloc[:0], _fix_arrays(None, max_accuracy_m), **options)]
    for date in days:
        fixes = None
        if date in stored:  # read with pyarrow: the inspector column stays a dictionary, times stay ints
            fixes = pq.read_table(stored[date], columns=["inspector_id", "ts", "lat", "lon", "accuracy_m"])
        parts.append(_track_check(finds[day == date], _fix_arrays(fixes, max_accuracy_m), **options))
    out = pd.concat(parts, ignore_index=True).astype({"reported_by": "str"})
    return out.set_index("case_id").loc[finds["case_id"].to_numpy()].reset_index()


def _fix_arrays(points: Any, max_accuracy_m: float) -> dict[str, np.ndarray]:
    """Inspector names and codes, UTC ms, lat, lon and a poor-accuracy mask of a DataFrame or Arrow table."""
    import pyarrow as pa

    if points is None:
        return {"names": np.empty(0, dtype=object), "code": np.empty(0, dtype=np.int64),
                "t_ms": np.empty(0, dtype=np.int64), "lat": np.empty(0), "lon": np.empty(0),
                "poor": np.empty(0, dtype=bool)}  # fmt: skip
    if isinstance(points, pa.Table):
        ids = points.column("inspector_id").combine_chunks()
        if not pa.types.is_dictionary(ids.type):
            ids = ids.dictionary_encode()
        names = np.asarray(ids.dictionary.to_pylist(), dtype=object)
        code = ids.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        ts = points.column("ts").combine_chunks()
        t_ms = ts.cast(pa.timestamp("ms", tz="UTC")).cast(pa.int64()).to_numpy(zero_copy_only=False)
        lat = points.column("lat").to_numpy()
        lon = points.column("lon").to_numpy()
        acc = points.column("accuracy_m").to_numpy() if "accuracy_m" in points.column_names else None
    else:
        insp = pd.Categorical(points["inspector_id"].astype(str))
        names = np.asarray(insp.categories, dtype=object)
        code = insp.codes.astype(np.int64)
        t_ms = _ns(points["ts"]) // _MS if len(points) else np.empty(0, dtype=np.int64)
        lat = points["lat"].to_numpy(dtype=np.float64)
        lon = points["lon"].to_numpy(dtype=np.float64)
        acc = (
            points["accuracy_m"].to_numpy(dtype=np.float64, na_value=np.nan)
            if "accuracy_m" in points
            else None
        )
    poor = (
        np.zeros(len(code), dtype=bool) if acc is None else np.asarray(acc, dtype=np.float64) > max_accuracy_m
    )
    return {"names": names, "code": code, "t_ms": t_ms, "lat": lat, "lon": lon, "poor": poor}


def _track_check(
    finds: pd.DataFrame, fixes: dict[str, np.ndarray], *, window_s: float, max_distance_m: float
) -> pd.DataFrame:
    """:func:`reporter_track_check` of ``finds`` against ``fixes`` (one range query per find)."""
    t_ms = _ns(finds["reported_at"]) // _MS if len(finds) else np.empty(0, dtype=np.int64)
    lat = finds["lat"].to_numpy(dtype=np.float64)
    lon = finds["lon"].to_numpy(dtype=np.float64)
    rep = finds["reported_by"].astype(str).to_numpy(dtype=object)
    q_code = pd.Categorical(rep, categories=fixes["names"]).codes.astype(np.int64)
    known = q_code >= 0
    p_t, p_code = fixes["t_ms"], fixes["code"]
    w = int(window_s * 1000)
    # a combined (inspector, time) key in ms: each report's window is one searchsorted range
    stamps = np.concatenate([p_t, t_ms])
    origin = (int(stamps.min()) if len(stamps) else 0) - w - 1
    span = (int(stamps.max()) if len(stamps) else 0) - origin + w + 2
    p_key = p_code * span + (p_t - origin)
    # track files are sorted by inspector and time already: skip the sort then
    order = np.arange(len(p_key)) if np.all(p_key[1:] >= p_key[:-1]) else np.argsort(p_key, kind="stable")
    p_key = p_key[order]
    q_mid = q_code * span + (t_ms - origin)
    lo = np.where(known, np.searchsorted(p_key, q_mid - w, side="left"), 0)
    hi = np.where(known, np.searchsorted(p_key, q_mid + w, side="right"), 0)
    count = hi - lo
    owner = np.repeat(np.arange(len(finds)), count)
    idx = order[np.repeat(lo - np.r_[0, np.cumsum(count)[:-1]], count) + np.arange(count.sum())]
    good = ~fixes["poor"][idx]  # fixes with a poor accuracy are dropped here, not from the whole day
    owner, idx = owner[good], idx[good]
    count = np.bincount(owner, minlength=len(finds))
    dist = haversine_m(lat[owner], lon[owner], fixes["lat"][idx], fixes["lon"][idx])
    dt_ms = p_t[idx] - t_ms[owner]
    # nearest fix in time: the smallest |dt| per find (ties: the earlier fix)
    by_time = np.lexsort((np.abs(dt_ms), owner))
    first = by_time[np.r_[True, owner[by_time][1:] != owner[by_time][:-1]]] if len(by_time) else by_time
    nearest_s = np.full(len(finds), np.nan)
    nearest_m = np.full(len(finds), np.nan)
    nearest_s[owner[first]] = dt_ms[first] / 1000.0
    nearest_m[owner[first]] = dist[first]
    closest = np.full(len(finds), np.inf)
    np.minimum.at(closest, owner, dist)
    closest[count == 0] = np.nan
    out = pd.DataFrame({"case_id": finds["case_id"].to_numpy(), "reported_by": pd.array(rep, dtype="str"),
                        "fixes": count})  # fmt: skip
    out["nearest_fix_s"] = nearest_s
    out["nearest_fix_m"] = nearest_m
    out["track_distance_m"] = closest
    out["far_from_track"] = ~(closest <= max_distance_m)
    return out
