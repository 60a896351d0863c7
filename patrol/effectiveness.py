"""Patrol effectiveness: inspectors' tracks joined with cases — who found what, what was walked past.

Everything reads **cell visits** (:func:`cell_visits`): the coverage module's visits (runs of one session's
densified track pieces in one cell, :func:`patrol.coverage.track_pieces`) with their entry and exit times.
A visit table is the coverage cube before it is summed into periods (summing a day's visits per inspector,
cell and day gives :func:`patrol.coverage.reduce_tracks` exactly), about 30k rows per day for 80 inspectors
against 430k fixes, and it is all the joins need: the raw fixes are read again only for the integrity check
of patrol reports (:func:`reporter_track_check`).

* :func:`attribute_cases` — for every case, the inspector last present in its cell (ring 0) and in its
  ``k``-ring within ``window_h`` hours before the report, and how long before; for patrol finds, whether the
  reporter was among them. One interval join: visits sorted by (cell, entry) with a running maximum of the
  exit time, queried by ``searchsorted`` — no loop per case.
* :func:`missed_problems` / :func:`missed_summary` — citizen reports (hotline, WeChat) in cells an inspector
  passed through within ``window_h`` hours before the report: problems the patrol walked past.
* :func:`discovery_rates` — 主动发现率 (patrol finds / all cases) per cell, subdistrict, inspector or
  category, with patrol hours and km, finds per hour and per km, and the expected problems there.
* :func:`expected_problems`, :func:`allocation_gap`, :func:`allocation_index` — expected problems vs patrol
  minutes per cell (the allocation-gap map) and the share of patrol time that would have to move.
* :func:`response_times` / :func:`response_summary` — report → on-site verification (核实) and handling →
  on-site re-check (核查) from the case events, in working hours, against time limits.

Times are UTC; hours of day are in the city's zone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from grid.cells import DEFAULT_RES, cells_to_polygons, cells_to_strings, grid_disk
from patrol.coverage import DEFAULT_STEP_M, track_pieces
from patrol.tracks import DEFAULT_TIMEZONE, clean_tracks, haversine_m

__all__ = [
    "ATTRIBUTION_COLUMNS",
    "CITIZEN_SOURCES",
    "VISIT_COLUMNS",
    "allocation_gap",
    "allocation_index",
    "attribute_cases",
    "cell_visits",
    "discovery_rates",
    "effectiveness_table",
    "expected_problems",
    "missed_problems",
    "missed_summary",
    "reporter_track_check",
    "response_summary",
    "response_times",
    "visits_from_store",
]

#: Columns of :func:`cell_visits`.
VISIT_COLUMNS = ("inspector_id", "cell", "enter", "exit", "seconds", "idle_s", "length_m")
#: Columns :func:`attribute_cases` returns (besides ``case_id``).
ATTRIBUTION_COLUMNS = (
    "cell_by",
    "cell_before_min",
    "near_by",
    "near_ring",
    "near_before_min",
    "reporter_before_min",
    "attributed",
)
#: Sources whose cases are "reported by citizens" (the denominator of the missed share).
CITIZEN_SOURCES = ("hotline", "wechat")
DEFAULT_WINDOW_H = 2.0
#: Groupings of the discovery, missed and summary tables.
GROUPS = ("cell", "subdistrict", "district", "inspector", "category")
#: Time limits of the on-site steps in working hours (核实 of a public report; 核查 after handling) when the
#: KPI scoring file (``analytics/data/kpi_scoring.toml``, :func:`analytics.kpi.load_scoring`) is unavailable.
DEFAULT_VERIFY_LIMIT_H = 1.0
DEFAULT_CHECK_LIMIT_H = 4.0
_NS = 1_000_000_000
_MS = 1_000_000
_NAT = np.iinfo(np.int64).min


# ---------------------------------------------------------------------------------------------- visits
def cell_visits(
    cleaned: pd.DataFrame, *, res: int = DEFAULT_RES, step_m: float = DEFAULT_STEP_M
) -> pd.DataFrame:
    """Every visit of an inspector to a cell: entry, exit, time, idle time and distance walked inside.

    Parameters
    ----------
    cleaned
        Output of :func:`patrol.tracks.clean_tracks` (its ``cell`` at resolution ``res``).
    res, step_m
        As in :func:`patrol.coverage.track_pieces` (the same pieces, so the same cells and times).

    Returns
    -------
    pandas.DataFrame
        Columns ``VISIT_COLUMNS``, one row per visit (a run of consecutive pieces of one session in one
        cell), in walking order per inspector: ``inspector_id`` (str), ``cell`` (int64), ``enter`` and
        ``exit`` (UTC), ``seconds`` (time inside, s), ``idle_s`` (of which stopped, s), ``length_m`` (m).
    """
    pieces = track_pieces(cleaned, res=res, step_m=step_m)
    if pieces.empty:
        return _empty_visits()
    sess = pieces["session_id"].to_numpy()
    cell = pieces["cell"].to_numpy()
    entry = np.ones(len(pieces), dtype=bool)
    entry[1:] = (sess[1:] != sess[:-1]) | (cell[1:] != cell[:-1])
    first = np.flatnonzero(entry)
    last = np.r_[first[1:], len(pieces)] - 1
    seconds = pieces["seconds"].to_numpy()
    start = pieces["start_ns"].to_numpy()
    idle = np.where(pieces["idle"].to_numpy(), seconds, 0.0)
    end = start[last] + np.round(seconds[last] * 1e9).astype(np.int64)
    return pd.DataFrame(
        {
            "inspector_id": np.asarray(pieces["inspector_id"].array)[first].astype(str),
            "cell": cell[first],
            "enter": pd.to_datetime(start[first], utc=True),
            "exit": pd.to_datetime(end, utc=True),
            "seconds": np.add.reduceat(seconds, first),
            "idle_s": np.add.reduceat(idle, first),
            "length_m": np.add.reduceat(pieces["length_m"].to_numpy(), first),
        }
    )


def _empty_visits() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "inspector_id": pd.Series(dtype=object),
            "cell": pd.Series(dtype=np.int64),
            "enter": pd.Series(dtype="datetime64[ns, UTC]"),
            "exit": pd.Series(dtype="datetime64[ns, UTC]"),
            "seconds": pd.Series(dtype=np.float64),
            "idle_s": pd.Series(dtype=np.float64),
            "length_m": pd.Series(dtype=np.float64),
        }
    )


def visits_from_store(
    root: str | Path,
    start: dt.date | None = None,
    end: dt.date | None = None,
    *,
    inspector: str | None = None,
    timezone: str = DEFAULT_TIMEZONE,
    clean_options: dict[str, Any] | None = None,
    step_m: float = DEFAULT_STEP_M,
    cache_dir: str | Path | None = None,
) -> pd.DataFrame:
    """Cell visits of the stored days ``[start, end]`` (city-zone dates), one day in memory at a time.

    The same per-day reduction as :func:`patrol.scale.fine_cube_from_store` (read, clean, cut into pieces)
    stopped one step earlier. With ``cache_dir`` each day's visits are kept there as Parquet, keyed by
    the day file's size and modification time and the options, so a day is reduced once until its track
    file changes. Returns :func:`cell_visits` columns with ``inspector_id`` as a categorical.
    """
    from patrol.store import _read_day, day_paths

    options = dict(clean_options or {})
    res = options.get("res", DEFAULT_RES)
    tag = hashlib.sha256(repr((sorted(options.items()), step_m, inspector, timezone)).encode()).hexdigest()
    parts = []
    for date, path in day_paths(root, start, end):
        cached = None
        if cache_dir is not None:
            stat = path.stat()
            cached = Path(cache_dir) / f"visits-{date}-{stat.st_size}-{stat.st_mtime_ns}-{tag[:12]}.parquet"
            if cached.exists():
                parts.append(pd.read_parquet(cached))
                continue
        cleaned = clean_tracks(_read_day(path, inspector), timezone=timezone, **options)
        day = cell_visits(cleaned, res=res, step_m=step_m)
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            for stale in cached.parent.glob(f"visits-{date}-*.parquet"):
                stale.unlink()
            day.to_parquet(cached)
        parts.append(day)
    parts = [p for p in parts if len(p)]
    if not parts:
        return _empty_visits()
    out = pd.concat(parts, ignore_index=True)
    out["inspector_id"] = out["inspector_id"].astype(str).astype("category")
    return out


# ------------------------------------------------------------------------------------- interval join
def _time_unit(*arrays: npt.NDArray[np.int64], n_keys: int) -> tuple[int, int]:
    """(origin ns, unit ns) so that ``key * span + (t - origin) // unit`` fits in int64: ms if possible."""
    lo = min(int(a.min()) for a in arrays if len(a))
    hi = max(int(a.max()) for a in arrays if len(a))
    for unit in (_MS, _NS, 60 * _NS):
        if (n_keys + 1) * ((hi - lo) // unit + 2) < 2**62:
            return lo, unit
    msg = f"time range {hi - lo} ns with {n_keys} keys does not fit a 64-bit search key"
    raise OverflowError(msg)


class _Presence:
    """Visits indexed for "last presence before t" queries per key (a cell, or an inspector × cell).

    Visits are sorted by a combined int64 (key rank, entry time) value; ``best`` holds, at each position,
    the visit with the latest exit among the key's visits up to there (a running argmax, so overlapping
    visits of several inspectors in one cell are handled). A query (key, t) finds the last visit of the key
    entered at or before ``t`` by one ``searchsorted``; the presence time is ``min(latest exit, t)``. Keys
    are ranked by hashing (``pandas.factorize``), never sorted; times are in ms (see :func:`_time_unit`).
    """

    def __init__(self, key: npt.NDArray[np.int64], enter: npt.NDArray[np.int64],
                 exit_: npt.NDArray[np.int64], query_t: npt.NDArray[np.int64]) -> None:  # fmt: skip
        codes, uniques = pd.factorize(key)
        self.index = pd.Index(uniques)
        self.origin, self.unit = _time_unit(enter, exit_, query_t, n_keys=len(uniques))
        top = max(int(enter.max()), int(exit_.max()), int(query_t.max()))
        self.span = (top - self.origin) // self.unit + 2
        rank = codes.astype(np.int64)
        combined = rank * self.span + (enter - self.origin) // self.unit
        order = np.argsort(combined)
        self.combined = combined[order]
        rank = rank[order]
        # exits on the same combined scale: a running maximum then restarts with every key by itself
        ends = rank * self.span + (exit_[order] - self.origin) // self.unit
        running = np.maximum.accumulate(ends)
        self.best = order[np.maximum.accumulate(np.where(ends == running, np.arange(len(ends)), 0))]
        self.best_exit = self.origin + (running - rank * self.span) * self.unit

    def query(
        self, key: npt.NDArray[np.int64], t: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """(visit index or -1, presence time ns or NaT-int) of the latest presence at or before ``t``."""
        rank = self.index.get_indexer(key).astype(np.int64)
        q = rank * self.span + (t - self.origin) // self.unit
        qo = np.argsort(q)  # sorted queries make the binary searches cache-friendly
        pos = np.empty(len(q), dtype=np.int64)
        pos[qo] = np.searchsorted(self.combined, q[qo], side="right") - 1
        ok = (rank >= 0) & (pos >= 0)
        ok[ok] = self.combined[pos[ok]] // self.span == rank[ok]
        visit = np.full(len(key), -1, dtype=np.int64)
        when = np.full(len(key), _NAT, dtype=np.int64)
        visit[ok] = self.best[pos[ok]]
        when[ok] = np.minimum(self.best_exit[pos[ok]], t[ok])
        return visit, when


def _ns(values: Any) -> npt.NDArray[np.int64]:
    idx = pd.DatetimeIndex(values)
    if idx.tz is None:
        msg = "times must be tz-aware (stored in UTC); got naive timestamps"
        raise ValueError(msg)
    return idx.tz_convert("UTC").as_unit("ns").asi8


def _rings(cells: npt.NDArray[np.int64], k: int) -> pd.DataFrame:
    """(cell, neighbour, ring) for every distinct cell and ring 0..k."""
    seen = pd.DataFrame({"cell": np.unique(cells)})
    seen["neighbour"] = seen["cell"]
    seen["ring"] = 0
    parts = [seen]
    for d in range(1, k + 1):
        disk = grid_disk(seen["cell"].unique(), d)
        inner = grid_disk(seen["cell"].unique(), d - 1)
        ring = disk.merge(inner, how="left", indicator=True)
        ring = ring[ring["_merge"] == "left_only"].drop(columns="_merge").assign(ring=d)
        parts.append(ring)
    return pd.concat(parts, ignore_index=True)


def attribute_cases(
    cases: pd.DataFrame,
    visits: pd.DataFrame,
    *,
    window_h: float = DEFAULT_WINDOW_H,
    k: int = 1,
) -> pd.DataFrame:
    """Which inspector was in each case's cell (and its ``k``-ring) in the hours before it was reported.

    Parameters
    ----------
    cases
        The ``cases`` contract: ``case_id``, ``cell`` (int64, the visits' resolution), ``reported_at``
        (tz-aware), ``source``, ``reported_by`` (inspector id of patrol finds).
    visits
        :func:`cell_visits` / :func:`visits_from_store` over a range covering the cases' windows.
    window_h
        Presence counts when it lies in ``[reported_at - window_h, reported_at]`` (hours, > 0).
    k
        Rings around the case's cell searched for ``near_*`` (0 = the cell only). Patrol reports are placed
        where the inspector stands, a few metres from the problem and possibly across a cell edge, so
        ``k = 1`` is the default.

    Returns
    -------
    pandas.DataFrame
        One row per case, in the order of ``cases``: ``case_id``, ``cell_by`` (the inspector last present
        in the case's cell within the window, else missing), ``cell_before_min`` (minutes from that
        presence to the report; 0 = there when reported), ``near_by``, ``near_ring`` (-1 = nobody),
        ``near_before_min`` (the same over the k-ring, the nearest ring with a presence first, then the
        latest), ``reporter_before_min`` (patrol finds: minutes since the reporter was within the k-ring,
        NaN when not within the window or not a patrol find) and ``attributed`` (patrol finds whose
        ``near_by`` is the reporter).
    """
    if not window_h > 0:
        msg = f"`window_h` must be > 0 hours; got {window_h}"
        raise ValueError(msg)
    if not isinstance(k, int | np.integer) or k < 0:
        msg = f"`k` must be an int >= 0 (rings); got {k!r}"
        raise ValueError(msg)
    n = len(cases)
    cell = cases["cell"].to_numpy(dtype=np.int64)
    t = _ns(cases["reported_at"])
    window = int(window_h * 3600 * _NS)
    out = pd.DataFrame({"case_id": cases["case_id"].to_numpy()})
    out["cell_by"] = pd.Series([None] * n, dtype=object)
    out["cell_before_min"] = np.nan
    out["near_by"] = pd.Series([None] * n, dtype=object)
    out["near_ring"] = -1
    out["near_before_min"] = np.nan
    out["reporter_before_min"] = np.nan
    out["attributed"] = False
    if n == 0 or len(visits) == 0:
        return out
    v_cell = visits["cell"].to_numpy(dtype=np.int64)
    enter, exit_ = _ns(visits["enter"]), _ns(visits["exit"])
    v_insp = pd.Categorical(visits["inspector_id"])
    names = np.asarray(v_insp.categories, dtype=object)
    v_code = v_insp.codes.astype(np.int64)

    # every (case, ring cell) pair, then the latest presence per pair
    rings = _rings(cell, k)
    pairs = pd.DataFrame({"case": np.arange(n), "cell": cell}).merge(rings, on="cell", how="inner")
    case_i = pairs["case"].to_numpy()
    q_cell = pairs["neighbour"].to_numpy(dtype=np.int64)
    q_t = t[case_i]
    index = _Presence(v_cell, enter, exit_, q_t)
    visit, when = index.query(q_cell, q_t)
    ok = (visit >= 0) & (when >= q_t - window)
    ring = pairs["ring"].to_numpy()
    before_min = (q_t - when) / (60 * _NS)
    # nearest ring first, then the latest presence: sort and keep the first valid pair per case
    sel = np.flatnonzero(ok)
    order = sel[np.lexsort((before_min[sel], ring[sel], case_i[sel]))]
    first = order[np.r_[True, case_i[order][1:] != case_i[order][:-1]]] if len(order) else order
    c = case_i[first]
    out.loc[c, "near_by"] = names[v_code[visit[first]]]
    out.loc[c, "near_ring"] = ring[first]
    out.loc[c, "near_before_min"] = before_min[first]
    in_cell = first[ring[first] == 0]
    out.loc[case_i[in_cell], "cell_by"] = names[v_code[visit[in_cell]]]
    out.loc[case_i[in_cell], "cell_before_min"] = before_min[in_cell]

    # patrol finds: was the reporter himself within the k-ring? (key = inspector × cell)
    patrol = (cases["source"].to_numpy(dtype=object) == "patrol") & cases["reported_by"].notna().to_numpy()
    reporter = cases["reported_by"].to_numpy(dtype=object)
    r_code = pd.Categorical(reporter[patrol], categories=names).codes.astype(np.int64)  # -1: no track
    full = np.full(n, -1, dtype=np.int64)
    full[np.flatnonzero(patrol)] = r_code
    p_pairs = np.flatnonzero(full[case_i] >= 0)
    if len(p_pairs):
        cell_rank, cells_u = pd.factorize(np.concatenate([v_cell, q_cell[p_pairs]]))
        v_key = v_code * len(cells_u) + cell_rank[: len(v_cell)]
        q_key = full[case_i[p_pairs]] * len(cells_u) + cell_rank[len(v_cell) :]
        own = _Presence(v_key, enter, exit_, q_t[p_pairs])
        o_visit, o_when = own.query(q_key, q_t[p_pairs])
        o_ok = (o_visit >= 0) & (o_when >= q_t[p_pairs] - window)
        o_min = np.where(o_ok, (q_t[p_pairs] - o_when) / (60 * _NS), np.inf)
        best = pd.Series(o_min).groupby(case_i[p_pairs]).min()
        best = best[np.isfinite(best.to_numpy())]
        out.loc[best.index.to_numpy(), "reporter_before_min"] = best.to_numpy()
    out["attributed"] = patrol & (out["near_by"].to_numpy(dtype=object) == reporter)
    return out


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


# --------------------------------------------------------------------------------------------- misses
def _local_hour(values: pd.Series, timezone: str) -> npt.NDArray[np.int64]:
    return pd.DatetimeIndex(values).tz_convert(timezone).hour.to_numpy().astype(np.int64)


def missed_problems(
    cases: pd.DataFrame,
    attribution: pd.DataFrame,
    *,
    sources: Sequence[str] = CITIZEN_SOURCES,
    window_h: float | None = None,
    timezone: str = DEFAULT_TIMEZONE,
) -> pd.DataFrame:
    """Citizen reports in cells an inspector passed through shortly before: problems walked past.

    Parameters
    ----------
    cases, attribution
        The cases and :func:`attribute_cases` of them (same order).
    sources
        The citizen channels (default hotline and WeChat).
    window_h
        Narrower window than the attribution's (hours); default: the attribution's.

    Returns
    -------
    pandas.DataFrame
        One row per missed problem: ``case_id``, ``source``, ``cell``, ``category_code``, ``reported_at``,
        ``hour`` (local hour of the report), ``inspector_id`` (who passed last) and ``before_min``.
    """
    citizen = np.isin(cases["source"].to_numpy(dtype=object), list(sources))
    before = attribution["cell_before_min"].to_numpy(dtype=np.float64)
    hit = citizen & np.isfinite(before)
    if window_h is not None:
        hit &= before <= window_h * 60.0
    rows = cases[hit]
    return pd.DataFrame(
        {
            "case_id": rows["case_id"].to_numpy(),
            "source": rows["source"].to_numpy(),
            "cell": rows["cell"].to_numpy(dtype=np.int64),
            "category_code": rows["category_code"].to_numpy(),
            "reported_at": rows["reported_at"].to_numpy(),
            "hour": _local_hour(rows["reported_at"], timezone),
            "inspector_id": attribution["cell_by"].to_numpy(dtype=object)[hit],
            "before_min": before[hit],
        }
    )


def missed_summary(
    cases: pd.DataFrame,
    attribution: pd.DataFrame,
    by: str,
    *,
    cells: pd.DataFrame | None = None,
    beats: pd.DataFrame | None = None,
    sources: Sequence[str] = CITIZEN_SOURCES,
    window_h: float | None = None,
    timezone: str = DEFAULT_TIMEZONE,
) -> pd.DataFrame:
    """Missed problems per group: ``citizen_cases``, ``missed`` and ``missed_share`` = missed / citizen.

    ``by`` is one of :data:`GROUPS` or ``"hour"`` (local hour of the report). For ``"inspector"``,
    ``missed`` counts the problems the inspector walked past and ``citizen_cases`` the citizen reports in
    their beat (``beats``: ``cell``, ``inspector_id``; NaN without ``beats``); other groups need ``cells``
    as in :func:`discovery_rates`.
    """
    if by not in (*GROUPS, "hour"):
        msg = f"`by` was {by!r} but is expected to be in {[*GROUPS, 'hour']}"
        raise ValueError(msg)
    citizen = np.isin(cases["source"].to_numpy(dtype=object), list(sources))
    before = attribution["cell_before_min"].to_numpy(dtype=np.float64)
    hit = citizen & np.isfinite(before)
    if window_h is not None:
        hit &= before <= window_h * 60.0
    if by == "hour":
        key = _local_hour(cases["reported_at"], timezone).astype(object)
    elif by == "inspector":
        key = _beat_owner(cases["cell"], beats)
    else:
        key = _case_group(cases, by, cells, beats)
    base = pd.Series(key[citizen]).dropna().value_counts()
    walker = attribution["cell_by"].to_numpy(dtype=object) if by == "inspector" else key
    count = pd.Series(walker[hit]).dropna().value_counts()
    out = pd.DataFrame({"citizen_cases": base, "missed": count}).fillna(0).astype(np.int64)
    share = out["missed"] / out["citizen_cases"].where(out["citizen_cases"] > 0)
    out["missed_share"] = share if not (by == "inspector" and beats is None) else np.nan
    out.index.name = by
    return out.sort_index().reset_index()


def _beat_owner(cells: pd.Series, beats: pd.DataFrame | None) -> npt.NDArray[np.object_]:
    """Inspector responsible for each cell (``beats``: ``cell``, ``inspector_id``; first one per cell)."""
    if beats is None:
        return np.full(len(cells), None, dtype=object)
    table = beats.dropna(subset=["inspector_id"]).drop_duplicates("cell").set_index("cell")["inspector_id"]
    return table.reindex(cells.to_numpy(dtype=np.int64)).to_numpy(dtype=object)


# ------------------------------------------------------------------------------------------ discovery
def discovery_rates(
    cases: pd.DataFrame,
    by: str,
    *,
    visits: pd.DataFrame | None = None,
    cells: pd.DataFrame | None = None,
    beats: pd.DataFrame | None = None,
    expected: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """主动发现率 and patrol productivity per group.

    Parameters
    ----------
    cases
        ``source``, ``cell``, ``category_code``, ``reported_by``.
    by
        ``"cell"``, ``"subdistrict"``, ``"district"`` (needs ``cells`` with that column), ``"category"``
        or ``"inspector"`` (a patrol find belongs to its reporter, any other case to the inspector of its
        cell's beat, ``beats``).
    visits
        :func:`cell_visits` of the same period: adds ``patrol_hours`` and ``patrol_km`` (for inspectors,
        their own; for areas, time spent in the area's cells; not defined per category) and
        ``finds_per_hour`` / ``finds_per_km``.
    cells
        ``cell`` and the area columns (``subdistrict``, ``district``).
    beats
        ``cell``, ``inspector_id`` (the responsible inspector of each cell).
    expected
        ``cell``, ``expected`` (expected problems per cell in the period, :func:`expected_problems`): adds
        ``expected`` per group and the shares ``expected_share`` and ``patrol_share``.

    Returns
    -------
    pandas.DataFrame
        One row per group (column named ``by``): ``cases`` and one count column per source (``patrol``,
        ``hotline``, ``wechat``, ``video``, ``other``), ``discovery_rate`` = patrol / cases (0–1),
        ``citizen_rate`` = (hotline + wechat) / cases, and the optional columns above.
    """
    if by not in GROUPS:
        msg = f"`by` was {by!r} but is expected to be in {list(GROUPS)}"
        raise ValueError(msg)
    source = cases["source"].to_numpy(dtype=object)
    key = _case_group(cases, by, cells, beats)
    frame = pd.DataFrame({by: key, "source": source}).dropna(subset=[by])
    counts = pd.crosstab(frame[by], frame["source"])
    for s in ("patrol", "hotline", "wechat", "video", "other"):
        if s not in counts.columns:
            counts[s] = 0
    out = counts[["patrol", "hotline", "wechat", "video", "other"]].astype(np.int64)
    out.insert(0, "cases", out.sum(axis=1))
    out["discovery_rate"] = out["patrol"] / out["cases"].where(out["cases"] > 0)
    out["citizen_rate"] = (out["hotline"] + out["wechat"]) / out["cases"].where(out["cases"] > 0)
    if visits is not None and by != "category":
        # sum per inspector or per cell first (a few thousand rows), then map cells to their group
        key = "inspector_id" if by == "inspector" else "cell"
        pre = visits.groupby(key, observed=True, sort=False)[["seconds", "length_m"]].sum()
        pre.index = pre.index.astype(str) if by == "inspector" else pre.index
        group = (
            pre.index.to_numpy()
            if by in ("inspector", "cell")
            else _cell_group(pre.index.to_series(), by, cells)
        )
        sums = pre.groupby(group).sum().rename(columns={"seconds": "s", "length_m": "m"})
        out = out.join(sums, how="outer")
        out["patrol_hours"] = out.pop("s").fillna(0.0) / 3600.0
        out["patrol_km"] = out.pop("m").fillna(0.0) / 1000.0
        count_cols = ["cases", "patrol", "hotline", "wechat", "video", "other"]
        out[count_cols] = out[count_cols].fillna(0).astype(np.int64)
        out["finds_per_hour"] = out["patrol"] / out["patrol_hours"].where(out["patrol_hours"] > 0)
        out["finds_per_km"] = out["patrol"] / out["patrol_km"].where(out["patrol_km"] > 0)
    if expected is not None and by != "category":
        ekey = (
            _cell_group(expected["cell"], by, cells)
            if by != "inspector"
            else _beat_owner(expected["cell"], beats)
        )
        exp = pd.Series(expected["expected"].to_numpy(dtype=np.float64)).groupby(ekey).sum()
        out["expected"] = exp.reindex(out.index).fillna(0.0)
        out["expected_share"] = out["expected"] / max(float(exp.sum()), 1e-12)
        if "patrol_hours" in out:
            out["patrol_share"] = out["patrol_hours"] / max(float(out["patrol_hours"].sum()), 1e-12)
    out.index.name = by
    return out.reset_index()


def _cell_group(cells_col: pd.Series, by: str, cells: pd.DataFrame | None) -> npt.NDArray[np.object_]:
    values = cells_col.to_numpy(dtype=np.int64)
    if by == "cell":
        return values
    if cells is None or by not in cells.columns:
        msg = f"grouping by {by!r} needs `cells` with a {by!r} column"
        raise ValueError(msg)
    table = cells.drop_duplicates("cell").set_index("cell")[by]
    return table.reindex(values).to_numpy(dtype=object)


def _case_group(
    cases: pd.DataFrame, by: str, cells: pd.DataFrame | None, beats: pd.DataFrame | None
) -> npt.NDArray[Any]:
    if by == "category":
        return cases["category_code"].to_numpy(dtype=object)
    if by == "inspector":
        patrol = cases["source"].to_numpy(dtype=object) == "patrol"
        owner = _beat_owner(cases["cell"], beats)
        return np.where(patrol, cases["reported_by"].to_numpy(dtype=object), owner)
    return _cell_group(cases["cell"], by, cells)


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


# ------------------------------------------------------------------------------------------- response
RESPONSE_COLUMNS = ("case_id", "step", "inspector_id", "start", "at", "working_hours", "limit_h", "on_time")


def response_times(
    cases: pd.DataFrame,
    events: pd.DataFrame,
    *,
    verify_limit_h: float | None = None,
    check_limit_h: float | None = None,
    calendar: Any = None,
) -> pd.DataFrame:
    """Time of each on-site step: report → verification (核实), handling → re-check (核查).

    Parameters
    ----------
    cases
        ``case_id``, ``source``, ``reported_at``.
    events
        The case events (``case_id``, ``at``, ``from_status``, ``to_status``, ``actor``).
    verify_limit_h, check_limit_h
        Time limits in working hours of the working ``calendar`` (default :func:`cases.calendar.
        default_calendar`); default: the KPI scoring's ``verify_limit_hours`` and ``check_limit_hours``
        (:func:`analytics.kpi.load_scoring`, 1 and 4 working hours as shipped), the same limits as the
        inspectors' 按时核实率 and 按时核查率.

    Returns
    -------
    pandas.DataFrame
        One row per on-site step (``RESPONSE_COLUMNS``): ``step`` = ``verify`` (public reports only;
        patrol finds are verified by their reporter when filed) or ``check`` (every re-check after a
        ``resolved`` event, passed or sent back as rework), ``inspector_id`` (the event's actor),
        ``start`` and ``at`` (UTC), ``working_hours`` between them, ``limit_h`` and ``on_time``.
    """
    from cases.calendar import default_calendar

    cal = calendar or default_calendar()
    if verify_limit_h is None or check_limit_h is None:
        kpi_verify, kpi_check = _kpi_limits()
        verify_limit_h = kpi_verify if verify_limit_h is None else verify_limit_h
        check_limit_h = kpi_check if check_limit_h is None else check_limit_h
    # sort by (case, time, original order) on integer codes: string sorts of a year's events are slow
    case_code, case_names = pd.factorize(events["case_id"])
    at = _ns(events["at"])
    order = np.lexsort((np.arange(len(events)), at, case_code))
    case_code, at = case_code[order], at[order]
    to = events["to_status"].to_numpy(dtype=object)[order]
    frm = events["from_status"].to_numpy(dtype=object)[order]
    actor = events["actor"].to_numpy(dtype=object)[order]
    same_next = np.r_[case_code[1:] == case_code[:-1], False]
    # 核实: reported -> verified of a public report, timed from its reported_at
    public = cases["source"].to_numpy(dtype=object) != "patrol"
    reported = pd.Series(_ns(cases["reported_at"])[public], index=cases["case_id"].to_numpy()[public])
    v = np.flatnonzero((to == "verified") & (frm == "reported"))
    v_start = reported.reindex(np.asarray(case_names)[case_code[v]]).to_numpy()
    v = v[~np.isnan(v_start)]
    v_start = v_start[~np.isnan(v_start)].astype(np.int64)
    # 核查: the event right after each "resolved" (checked, or resolved -> dispatched = rework)
    r = np.flatnonzero((to == "resolved") & same_next)
    nxt = r + 1
    checked = (to[nxt] == "checked") | ((frm[nxt] == "resolved") & (to[nxt] == "dispatched"))
    r, nxt = r[checked], nxt[checked]
    step = np.r_[np.full(len(v), "verify", dtype=object), np.full(len(nxt), "check", dtype=object)]
    rows = np.r_[v, nxt]
    begin = np.r_[v_start, at[r]]
    out = pd.DataFrame(
        {
            "case_id": np.asarray(case_names, dtype=object)[case_code[rows]],
            "step": step,
            "inspector_id": actor[rows],
            "start": pd.to_datetime(begin, utc=True),
            "at": pd.to_datetime(at[rows], utc=True),
            "limit_h": np.r_[np.full(len(v), verify_limit_h), np.full(len(nxt), check_limit_h)],
        }
    )
    out["working_hours"] = cal.working_time_between(out["start"], out["at"]) if len(out) else []
    out["on_time"] = out["working_hours"].to_numpy(dtype=np.float64) <= out["limit_h"].to_numpy()
    return out[list(RESPONSE_COLUMNS)]


def _kpi_limits() -> tuple[float, float]:
    """(核实, 核查) limits in working hours from the KPI scoring file, else the module defaults."""
    try:
        from analytics.kpi import load_scoring

        scoring = load_scoring()
        return float(scoring.verify_limit_hours), float(scoring.check_limit_hours)
    except (ImportError, AttributeError, OSError, ValueError):  # the KPI module is optional here
        return DEFAULT_VERIFY_LIMIT_H, DEFAULT_CHECK_LIMIT_H


def response_summary(responses: pd.DataFrame, by: str = "inspector_id") -> pd.DataFrame:
    """Per ``by`` value (default inspector) and step: ``n``, ``on_time_rate`` (0–1), ``median_h`` and
    ``p90_h`` (working hours). Columns ``by``, ``step``, ``n``, ``on_time``, ``on_time_rate``, ``median_h``,
    ``p90_h``."""
    grouped = responses.groupby([by, "step"], sort=True)
    out = grouped.agg(
        n=("on_time", "size"),
        on_time=("on_time", "sum"),
        median_h=("working_hours", "median"),
        p90_h=("working_hours", lambda s: float(np.quantile(s, 0.9))),
    )
    out["on_time"] = out["on_time"].astype(np.int64)
    out.insert(2, "on_time_rate", out["on_time"] / out["n"])
    return out.reset_index()


# ------------------------------------------------------------------------------------------- together
def effectiveness_table(
    cases: pd.DataFrame,
    visits: pd.DataFrame,
    by: str,
    *,
    attribution: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    cells: pd.DataFrame | None = None,
    beats: pd.DataFrame | None = None,
    expected: pd.DataFrame | None = None,
    track_check: pd.DataFrame | None = None,
    window_h: float = DEFAULT_WINDOW_H,
    k: int = 1,
    timezone: str = DEFAULT_TIMEZONE,
) -> pd.DataFrame:
    """One row per group with discovery, misses, attribution, integrity and response: the manager's table.

    Parameters are those of :func:`discovery_rates`, :func:`attribute_cases` (computed unless
    ``attribution`` is given, aligned with ``cases``), :func:`response_times` (``events``, optional) and
    :func:`reporter_track_check` (``track_check``, optional).

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`discovery_rates`, then ``citizen_cases``, ``missed``, ``missed_share``
        (:func:`missed_summary`), ``attributed_share`` (patrol finds whose reporter's track was the nearest
        presence before the report), with ``track_check`` ``far_reports`` (patrol finds filed far from the
        reporter's track), and with ``events`` ``verify_n``, ``verify_on_time_rate``, ``verify_median_h``,
        ``check_n``, ``check_on_time_rate``, ``check_median_h`` (for inspectors: the steps they did).
    """
    att = attribution if attribution is not None else attribute_cases(cases, visits, window_h=window_h, k=k)
    out = discovery_rates(cases, by, visits=visits, cells=cells, beats=beats, expected=expected)
    miss = missed_summary(cases, att, by, cells=cells, beats=beats, timezone=timezone)
    out = out.merge(miss, on=by, how="outer")
    key = _case_group(cases, by, cells, beats)
    patrol = cases["source"].to_numpy(dtype=object) == "patrol"
    share = pd.Series(att["attributed"].to_numpy()[patrol]).groupby(key[patrol]).mean()
    out["attributed_share"] = out[by].map(share)
    by_case = pd.Series(key, index=cases["case_id"].to_numpy())
    if track_check is not None:
        group = track_check["reported_by"] if by == "inspector" else by_case.reindex(track_check["case_id"])
        flags = pd.Series(track_check["far_from_track"].to_numpy())
        far = flags.groupby(np.asarray(group, dtype=object)).sum()
        out["far_reports"] = out[by].map(far).fillna(0).astype(np.int64)
    if events is not None:
        resp = response_times(cases, events)
        group = resp["inspector_id"] if by == "inspector" else by_case.reindex(resp["case_id"]).to_numpy()
        summary = response_summary(resp.assign(_g=np.asarray(group, dtype=object)), by="_g")
        for step in ("verify", "check"):
            part = summary[summary["step"] == step].set_index("_g")
            out[f"{step}_n"] = out[by].map(part["n"]).fillna(0).astype(np.int64)
            out[f"{step}_on_time_rate"] = out[by].map(part["on_time_rate"])
            out[f"{step}_median_h"] = out[by].map(part["median_h"])
    return out.sort_values(by, kind="stable", ignore_index=True)
