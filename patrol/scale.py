"""The raw → cube reduction over the track store, one day at a time: a pandas loop or a Dask graph.

Both paths run the same per-day function, :func:`reduce_day`: read the day's ``part.parquet`` into arrays
(the inspector ids factorized once, on the file's dictionary), :func:`patrol.tracks.clean_sorted` and
:func:`patrol.coverage.fine_from_fixes` (numba kernels; the same code as ``clean_tracks`` followed by
``reduce_tracks``, without the intermediate frames), then concatenate the day results, so they give
identical fine cubes: sessions never cross a city-zone midnight, and periods (days or hours of the same
zone) never span two partitions. The pandas path holds one day in memory at a time in this process,
single-threaded. The Dask path makes one task per day file (``dask.delayed``): workers read their day
themselves and send back only its fine cube (tens of thousands of rows), on a ``distributed`` cluster
when a client is active, else on Dask's default threaded scheduler (the kernels release the GIL).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd

from grid.cells import DEFAULT_RES, latlng_to_cells
from patrol.coverage import _empty_fine, fine_from_fixes
from patrol.store import _read_day_arrays, day_paths
from patrol.tracks import DEFAULT_TIMEZONE, clean_sorted, sort_order

__all__ = ["fine_cube_dask", "fine_cube_from_store", "reduce_day"]


def reduce_day(
    path: str | Path,
    *,
    inspector: str | None = None,
    timezone: str = DEFAULT_TIMEZONE,
    freq: str = "D",
    clean_options: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Fine cube (:func:`patrol.coverage.reduce_tracks` columns) of one day's Parquet file."""
    points = _read_day_arrays(Path(path), inspector)
    options = dict(clean_options or {})
    res = options.pop("res", DEFAULT_RES)
    order = sort_order(points["key"], points["t_ns"])  # None: the store writes days already sorted
    if order is not None:
        points = {name: a if name == "names" else a[order] for name, a in points.items()}
    key, t, lat, lon = points["key"], points["t_ns"], points["lat"], points["lon"]
    cleaned = clean_sorted(key, t, lat, lon, points["accuracy_m"], timezone=timezone, **options)
    fixes = {
        "key": key if len(cleaned.idx) == len(key) else key[cleaned.idx],
        "names": points["names"],
        "session": cleaned.session,
        "t_ns": cleaned.t_ns,
        "lat": cleaned.lat,
        "lon": cleaned.lon,
        "cell": latlng_to_cells(cleaned.lat, cleaned.lon, res),
        "stop": cleaned.stop,
        "prev_dist": cleaned.prev_dist,
    }
    return fine_from_fixes(fixes, res=res, freq=freq, timezone=timezone)


def fine_cube_from_store(
    root: str | Path,
    start: dt.date | None = None,
    end: dt.date | None = None,
    *,
    inspector: str | None = None,
    timezone: str = DEFAULT_TIMEZONE,
    freq: str = "D",
    clean_options: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """The fine cube of the stored days ``[start, end]`` (city-zone dates), one day in memory at a time.

    Returns the columns of :func:`patrol.coverage.reduce_tracks`, sorted by inspector, cell and period.
    """
    parts = [
        reduce_day(path, inspector=inspector, timezone=timezone, freq=freq, clean_options=clean_options)
        for _, path in day_paths(root, start, end)
    ]
    return _combine(parts, timezone)


def _combine(parts: list[pd.DataFrame], timezone: str) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return _empty_fine(timezone)
    out = pd.concat(parts, ignore_index=True)
    out["inspector_id"] = out["inspector_id"].astype(str)  # Dask hands back Arrow-backed strings
    return out.sort_values(["inspector_id", "cell", "period"], ignore_index=True)


def fine_cube_dask(
    root: str | Path,
    start: dt.date | None = None,
    end: dt.date | None = None,
    *,
    inspector: str | None = None,
    timezone: str = DEFAULT_TIMEZONE,
    freq: str = "D",
    clean_options: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Same result as :func:`fine_cube_from_store`, computed by Dask, one task per day file.

    Raises
    ------
    ImportError
        ``dask`` is not installed (it is the ``[dask]`` extra; the message says so).
    """
    try:
        import dask
    except ImportError as exc:  # pragma: no cover - `make install` installs every extra
        msg = "the Dask backend needs dask: pip install 'gridpatrol[dask]'"
        raise ImportError(msg, name=exc.name) from exc
    paths = [str(path) for _, path in day_paths(root, start, end)]
    options = {"inspector": inspector, "timezone": timezone, "freq": freq, "clean_options": clean_options}
    tasks = [dask.delayed(reduce_day, pure=True)(path, **options) for path in paths]
    return _combine(list(dask.compute(*tasks)), timezone)
