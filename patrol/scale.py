"""The raw → cube reduction over the track store, one day at a time: a pandas loop or a Dask graph.

Both paths run the same per-day function (read the day's ``part.parquet``, :func:`patrol.tracks.
clean_tracks`, :func:`patrol.coverage.reduce_tracks`) and concatenate the day results, so they give
identical fine cubes: sessions never cross a city-zone midnight, and periods (days or hours of the same
zone) never span two partitions. The pandas path holds one day in memory at a time; the Dask path maps the
function over the day files (``dask.dataframe.from_map``), on a ``distributed`` cluster when a client is
active, else on Dask's default scheduler.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd

from patrol.coverage import _empty_fine, reduce_tracks
from patrol.store import _read_day, day_paths
from patrol.tracks import DEFAULT_TIMEZONE, clean_tracks

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
    points = _read_day(Path(path), inspector)
    options = dict(clean_options or {})
    res = options.get("res", 10)
    cleaned = clean_tracks(points, timezone=timezone, **options)
    return reduce_tracks(cleaned, res=res, freq=freq, timezone=timezone)


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
    """Same result as :func:`fine_cube_from_store`, computed by Dask over the day files.

    Raises
    ------
    ImportError
        ``dask[dataframe]`` is not installed (it is a dependency of the project; the message says so).
    """
    try:
        import dask.dataframe as dd
    except ImportError as exc:  # pragma: no cover - dask is in the dependencies
        msg = "the Dask backend needs dask[dataframe] (pip install 'dask[dataframe,distributed]')"
        raise ImportError(msg) from exc
    paths = [str(path) for _, path in day_paths(root, start, end)]
    if not paths:
        return _empty_fine(timezone)
    meta = _empty_fine(timezone)
    frame = dd.from_map(
        reduce_day,
        paths,
        inspector=inspector,
        timezone=timezone,
        freq=freq,
        clean_options=clean_options,
        meta=meta,
        enforce_metadata=False,
    )
    return _combine([frame.compute()], timezone)
