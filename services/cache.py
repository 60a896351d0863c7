"""Precomputed results on disk: the slow answers (coverage, effectiveness, learned forecasts) made once by
``gridpatrol refresh`` and read back by the services when a request matches.

An entry is a folder ``<data dir>/cache/<data version>/<kind>-<request hash>/`` holding one Parquet file
per table of the result (GeoParquet for a GeoDataFrame) and ``meta.json`` (the result's other fields). It
is written into a temporary folder and renamed into place, so a reader sees a whole entry or none.

The data version (:func:`data_version`) is a cheap fingerprint of the store (row counts and the largest
ids of ``cases``, ``case_events`` and ``import_batches``) and of the track store (its day folders and their
times): an import, a case action or a new day of tracks changes it, and every older entry is stale at
once (:func:`prune` removes them). The request hash covers the request (with its defaults resolved by
the caller) and the city configuration, so a changed ``gridpatrol.toml`` is never answered from a stale
entry.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from services.context import ServiceContext

__all__ = [
    "CACHE_FOLDER", "CachedEntry", "Progress", "data_version", "drop", "load", "prune", "report", "store",
]  # fmt: skip

#: Folder under the data folder that holds the entries.
CACHE_FOLDER = "cache"
#: A progress callback: ``progress(step, fraction)``, ``step`` a short code (``read_tracks`` …),
#: ``fraction`` between 0 and 1.
Progress = Callable[[str, float], None]


@dataclasses.dataclass(frozen=True)
class CachedEntry:
    """One stored result: its tables by name and its other fields (``meta``, JSON values)."""

    frames: dict[str, pd.DataFrame]
    meta: dict[str, Any]


def report(progress: Progress | None, step: str, fraction: float) -> None:
    """Tell ``progress`` (when given) that ``step`` starts, ``fraction`` of the work done."""
    if progress is not None:
        progress(step, max(0.0, min(1.0, float(fraction))))


def _tracks_stamp(ctx: ServiceContext) -> list[Any]:
    root = ctx.tracks_root()
    if root is None:
        return []
    days = list(root.glob("day=*"))
    times = [p.stat().st_mtime_ns for p in days]
    return [str(root), len(days), max(times, default=0), root.stat().st_mtime_ns]


def data_version(ctx: ServiceContext) -> str:
    """A short fingerprint of the store and the track store (changes with any import, case event or day
    of tracks)."""
    from cases.repository_version import store_fingerprint

    found = {"store": store_fingerprint(ctx.engine), "tracks": _tracks_stamp(ctx)}
    found["url"] = ctx.engine.url.render_as_string(hide_password=True)
    return hashlib.sha256(json.dumps(found, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _request_hash(ctx: ServiceContext, kind: str, request: Any) -> str:
    text = f"{kind}|{request!r}|{ctx.config!r}"
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _root(ctx: ServiceContext) -> Path:
    return Path(ctx.data_dir) / CACHE_FOLDER


def _entry(ctx: ServiceContext, kind: str, request: Any, version: str | None) -> Path:
    version = version or data_version(ctx)
    return _root(ctx) / version / f"{kind}-{_request_hash(ctx, kind, request)}"


def load(ctx: ServiceContext, kind: str, request: Any, *, version: str | None = None) -> CachedEntry | None:
    """The entry stored for ``request`` (its defaults resolved) at the store's present data version, or
    None (none stored, stale, or unreadable)."""
    folder = _entry(ctx, kind, request, version)
    meta_path = folder / "meta.json"
    if not meta_path.is_file():
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        frames: dict[str, pd.DataFrame] = {}
        for name in meta.get("_frames", []):
            if name in meta.get("_geo", []):
                import geopandas as gpd

                frames[name] = gpd.read_parquet(folder / f"{name}.parquet")
            else:
                frames[name] = pd.read_parquet(folder / f"{name}.parquet")
    except (OSError, ValueError):  # a damaged entry is recomputed, never shown
        return None
    return CachedEntry(frames, {k: v for k, v in meta.items() if not k.startswith("_")})


def store(
    ctx: ServiceContext,
    kind: str,
    request: Any,
    frames: dict[str, pd.DataFrame],
    meta: dict[str, Any],
    *,
    version: str | None = None,
) -> Path:
    """Write an entry (atomically: a temporary folder renamed into place); returns its folder."""
    folder = _entry(ctx, kind, request, version)
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder.parent))
    try:
        geo = []
        for name, frame in frames.items():
            if hasattr(frame, "geometry") and "geometry" in frame.columns:
                geo.append(name)
            frame.to_parquet(work / f"{name}.parquet", index=False)
        body = {**meta, "_frames": list(frames), "_geo": geo, "_kind": kind, "_request": repr(request)}
        (work / "meta.json").write_text(json.dumps(body, default=str), encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
        os.replace(work, folder)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return folder


def prune(ctx: ServiceContext, *, keep: str | None = None) -> int:
    """Remove the entries of every data version but ``keep`` (default the present one); how many
    version folders were removed."""
    keep = data_version(ctx) if keep is None else keep
    root = _root(ctx)
    removed = 0
    for folder in root.iterdir() if root.is_dir() else []:
        if folder.is_dir() and folder.name != keep:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def drop(ctx: ServiceContext, version: str) -> None:
    """Remove every entry of data version ``version`` (``gridpatrol refresh --force``)."""
    shutil.rmtree(_root(ctx) / version, ignore_errors=True)
