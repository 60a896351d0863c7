"""Cell visits: inspectors' tracks reduced to runs in one cell (entry, exit, time, idle, distance).

:func:`cell_visits` from cleaned tracks, :func:`visits_from_store` from the track store one day at a time
(with an optional per-day Parquet cache). Everything else in :mod:`patrol.effectiveness` reads visits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from grid.cells import DEFAULT_RES
from grid.config import DEFAULT_TIMEZONE
from patrol.coverage import DEFAULT_STEP_M, track_pieces
from patrol.tracks import clean_tracks

#: Columns of :func:`cell_visits`.
VISIT_COLUMNS = ("inspector_id", "cell", "enter", "exit", "seconds", "idle_s", "length_m")
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


def _ns(values: Any) -> npt.NDArray[np.int64]:
    idx = pd.DatetimeIndex(values)
    if idx.tz is None:
        msg = "times must be tz-aware (stored in UTC); got naive timestamps"
        raise ValueError(msg)
    return idx.tz_convert("UTC").as_unit("ns").asi8
