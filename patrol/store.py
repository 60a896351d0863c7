"""The track store: Parquet files partitioned by day, ``<root>/day=YYYY-MM-DD/part.parquet``.

The layout is the demo city's (``sim.tracks``): hive partitions by the **city-zone** date of each fix, one
``part.parquet`` per day with the columns of ``TRACK_SCHEMA``. Writing is idempotent: the touched days are
read back, merged with the new points, de-duplicated on (``inspector_id``, ``ts``) and rewritten
atomically (write to a temporary file, then rename), so importing the same file twice adds nothing.
Readers go one day at a time (:func:`iter_days`) and never need the whole year in memory.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from patrol.tracks import DEFAULT_TIMEZONE, NAT, TRACK_COLUMNS, inspector_codes

__all__ = ["TRACK_SCHEMA", "StoreReport", "day_paths", "iter_days", "read_days", "write_tracks"]

#: Schema of a day's ``part.parquet`` (as written by the demo-city simulator).
TRACK_SCHEMA = pa.schema(
    [
        ("inspector_id", pa.dictionary(pa.int32(), pa.string())),
        ("ts", pa.timestamp("ms", tz="UTC")),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("accuracy_m", pa.float32()),
    ]
)
PART_NAME = "part.parquet"
_NS_PER_UNIT = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}


@dataclasses.dataclass
class StoreReport:
    """Counts of one :func:`write_tracks` call: ``received == added + duplicates``."""

    received: int = 0
    added: int = 0
    duplicates: int = 0
    days: list[str] = dataclasses.field(default_factory=list)


def _local_dates(ts: pd.Series, timezone: str) -> pd.Series:
    return ts.dt.tz_convert(timezone).dt.strftime("%Y-%m-%d")


def _to_table(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame[list(TRACK_COLUMNS)], schema=TRACK_SCHEMA, preserve_index=False)


def write_tracks(points: pd.DataFrame, root: str | Path, *, timezone: str = DEFAULT_TIMEZONE) -> StoreReport:
    """Add track points to the store under ``root`` (idempotent per inspector and time).

    Parameters
    ----------
    points
        Track points contract (``inspector_id``, ``ts`` tz-aware, ``lat``, ``lon``, ``accuracy_m``).
    root
        The store folder (``<data dir>/tracks``); created if missing.
    timezone
        The city's zone: a fix goes to the partition of its local date.

    Returns
    -------
    StoreReport
        ``received`` points, ``added`` new ones, ``duplicates`` (same inspector and ``ts`` as a stored point
        or an earlier point of ``points``; the stored or first one is kept) and the ``days`` touched.
    """
    root = Path(root)
    frame = points[list(TRACK_COLUMNS)].copy() if "accuracy_m" in points else points.assign(accuracy_m=np.nan)
    frame = frame[list(TRACK_COLUMNS)]
    frame["inspector_id"] = frame["inspector_id"].astype(str)
    frame["ts"] = frame["ts"].dt.tz_convert("UTC").dt.as_unit("ms")
    report = StoreReport(received=len(frame))
    dates = _local_dates(frame["ts"], timezone)
    for day, group in frame.groupby(dates.to_numpy(), sort=True):
        path = root / f"day={day}" / PART_NAME
        old = pq.read_table(path).to_pandas() if path.exists() else frame.iloc[:0]
        old["inspector_id"] = old["inspector_id"].astype(str)
        merged = pd.concat([old, group], ignore_index=True)
        merged = merged.drop_duplicates(["inspector_id", "ts"], keep="first")
        added = len(merged) - len(old)
        report.added += added
        report.duplicates += len(group) - added
        if added:
            merged = merged.sort_values(["inspector_id", "ts"], kind="stable", ignore_index=True)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".tmp{os.getpid()}")
            pq.write_table(_to_table(merged), tmp)
            tmp.replace(path)
            report.days.append(str(day))
    return report


def day_paths(
    root: str | Path, start: dt.date | None = None, end: dt.date | None = None
) -> list[tuple[dt.date, Path]]:
    """``(date, file)`` of each stored day in ``[start, end]`` (inclusive, city-zone dates), sorted."""
    out = []
    for folder in sorted(Path(root).glob("day=*")):
        try:
            date = dt.date.fromisoformat(folder.name.split("=", 1)[1])
        except ValueError:
            continue
        files = sorted(folder.glob("*.parquet"))
        if not files or (start and date < start) or (end and date > end):
            continue
        out.extend((date, f) for f in files)
    return out


def _read_day(path: Path, inspector: str | None) -> pd.DataFrame:
    filters = [("inspector_id", "=", inspector)] if inspector else None
    frame = pq.read_table(path, filters=filters, schema=TRACK_SCHEMA).to_pandas()
    frame["inspector_id"] = frame["inspector_id"].astype(str)
    return frame


def _read_day_arrays(path: Path, inspector: str | None) -> dict[str, np.ndarray]:
    """A day's points as arrays in file order, without a frame: what :mod:`patrol.scale` cleans.

    Returns ``key`` (int64 inspector codes that sort like the ids), ``names`` (object array of str,
    ``names[key]`` is the id), ``t_ns`` (int64 UTC ns, ``patrol.tracks.NAT`` when missing), ``lat``,
    ``lon`` (float64 degrees) and ``accuracy_m`` (float64 m, NaN unknown), shape (n,) except ``names``.
    The ids are factorized once, on the file's dictionary (a few hundred strings), not per point.
    """
    filters = [("inspector_id", "=", inspector)] if inspector else None
    table = pq.read_table(path, filters=filters, schema=TRACK_SCHEMA, use_threads=False)
    ids = table.column("inspector_id")
    if ids.null_count:  # as _read_day: a missing id becomes its str() like any other
        key, names = inspector_codes(ids.to_pandas().astype(str))
    else:
        ids = ids.unify_dictionaries().combine_chunks() if ids.num_chunks else pa.array([], ids.type)
        dict_key, names = inspector_codes(pd.Index(ids.dictionary.to_pylist(), dtype=object))
        key = dict_key[ids.indices.to_numpy(zero_copy_only=False)]
    ts = table.column("ts")
    t = pc.cast(ts, pa.int64()).fill_null(NAT).to_numpy().astype(np.int64, copy=True)
    t[t != NAT] *= _NS_PER_UNIT[ts.type.unit]
    return {
        "key": key,
        "names": names,
        "t_ns": t,
        "lat": table.column("lat").to_numpy().astype(np.float64, copy=False),
        "lon": table.column("lon").to_numpy().astype(np.float64, copy=False),
        "accuracy_m": table.column("accuracy_m").to_numpy().astype(np.float64),
    }


def iter_days(
    root: str | Path,
    start: dt.date | None = None,
    end: dt.date | None = None,
    *,
    inspector: str | None = None,
) -> Iterator[tuple[dt.date, pd.DataFrame]]:
    """Yield ``(date, points)`` one stored day at a time (optionally one inspector's points only)."""
    for date, path in day_paths(root, start, end):
        yield date, _read_day(path, inspector)


def read_days(
    root: str | Path,
    start: dt.date | None = None,
    end: dt.date | None = None,
    *,
    inspector: str | None = None,
) -> pd.DataFrame:
    """All stored points of ``[start, end]`` in one frame (for small ranges; prefer :func:`iter_days`)."""
    frames = [frame for _, frame in iter_days(root, start, end, inspector=inspector)]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in _EMPTY_DTYPES.items()})
    return pd.concat(frames, ignore_index=True)


_EMPTY_DTYPES = {
    "inspector_id": "object",
    "ts": "datetime64[ms, UTC]",
    "lat": "float64",
    "lon": "float64",
    "accuracy_m": "float32",
}
