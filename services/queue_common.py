"""What the command centre's queues (:mod:`services.queues`) and alerts (:mod:`services.alerts`) share.

- :func:`locate`: the district and subdistrict (street, 街道) of each case, from the stored areas, by a
  cell → area lookup (each distinct cell is placed once and remembered; no per-case polygon test).
- :func:`in_scope`: the rows a district-scoped user (二级平台, ``actor.district``) may see, enforced here on
  the server for every queue.
- :func:`deadline_alerts`: working hours left and the alert level (``ok`` / ``near`` / ``overdue``) of each
  case on the city's working calendar.
- :func:`as_of_time`: the instant a request's ``as_of`` (date, local or aware time, None) stands for.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from typing import Any

import numpy as np
import pandas as pd

from cases import repository, repository_queues
from cases.calendar import WorkingCalendar, working_calendar
from grid.config import CityConfig
from services.context import ServiceContext
from services.errors import NotAllowedError, ServiceError

__all__ = [
    "ALERT_LEVELS",
    "as_of_time",
    "calendar_of",
    "category_names",
    "deadline_alerts",
    "in_scope",
    "locate",
]

#: Alert levels, mildest first.
ALERT_LEVELS = ("ok", "near", "overdue")
_LOCK = threading.Lock()
_CELL_AREAS: dict[str, tuple[tuple, dict[int, tuple[Any, Any]]]] = {}


@functools.lru_cache(maxsize=8)
def calendar_of(config: CityConfig) -> WorkingCalendar:
    """The city's working calendar (one per configuration, reused: its interval table grows with use)."""
    return working_calendar(config)


@functools.lru_cache(maxsize=1)
def category_names() -> dict[str, str]:
    """Category code → name (the shipped standard table)."""
    from services.study import category_table

    table = category_table()
    return dict(zip(table["code"], table["name_zh"], strict=True)) if "name_zh" in table else {}


def as_of_time(as_of: dt.datetime | dt.date | None, timezone: str) -> pd.Timestamp:
    """The instant ``as_of`` means: now when None; a date is the end of that local day; a naive time is
    local; an aware time is itself. Returned in UTC."""
    if as_of is None:
        return pd.Timestamp.now(tz="UTC")
    if not isinstance(as_of, dt.datetime):
        start = pd.Timestamp(as_of).tz_localize(timezone)
        return (start + pd.Timedelta(days=1)).tz_convert("UTC")
    stamp = pd.Timestamp(as_of)
    return (stamp.tz_localize(timezone) if stamp.tzinfo is None else stamp).tz_convert("UTC")


def _remembered(ctx: ServiceContext) -> dict[int, tuple[Any, Any]]:
    """The cell → (district, subdistrict) table of this store's areas as they are now (rebuilt when an
    import changes them: :func:`cases.repository_queues.areas_signature`)."""
    key = str(ctx.engine.url)
    signature = repository_queues.areas_signature(ctx.engine)
    with _LOCK:
        entry = _CELL_AREAS.get(key)
        if entry is None or entry[0] != signature:
            entry = (signature, {})
            _CELL_AREAS[key] = entry
        return entry[1]


def _district_areas(ctx: ServiceContext) -> Any:
    """The stored districts and subdistricts (not the communities and unit grids: fewer polygons to read)."""
    levels = [repository.load_areas(ctx.engine, level) for level in ("district", "subdistrict")]
    return pd.concat(levels, ignore_index=True) if len(levels[1]) else levels[0]


def locate(ctx: ServiceContext, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (``cell``, ``lat``, ``lon``) with ``district`` and ``subdistrict`` (area ids, None where
    no stored area covers the case)."""
    from analytics.kpi import attach_areas_from_polygons

    out = frame.copy()
    cells = pd.array(out["cell"], dtype="Int64")
    known = _remembered(ctx)
    has_cell = ~np.asarray(cells.isna())
    values = np.where(has_cell, np.asarray(cells.fillna(0), dtype=np.int64), 0)
    missing_cells = sorted({int(c) for c in np.unique(values[has_cell])} - set(known))
    if missing_cells:
        areas = _district_areas(ctx)
        if len(areas):
            probe = pd.DataFrame({"cell": pd.array(missing_cells, dtype="Int64")})
            placed = attach_areas_from_polygons(probe, areas)
            district = placed["district"] if "district" in placed else pd.Series([None] * len(probe))
            sub = placed["subdistrict"] if "subdistrict" in placed else pd.Series([None] * len(probe))
            with _LOCK:
                for cell, d, s in zip(missing_cells, district, sub, strict=True):
                    known[cell] = (None if pd.isna(d) else str(d), None if pd.isna(s) else str(s))
        else:
            with _LOCK:
                known.update({cell: (None, None) for cell in missing_cells})
    pairs = [
        known.get(int(c), (None, None)) if ok else (None, None)
        for c, ok in zip(values, has_cell, strict=True)
    ]
    out["district"] = [p[0] for p in pairs]
    out["subdistrict"] = [p[1] for p in pairs]
    if (~has_cell).any():  # no cell: point in polygon of lat/lon (rare: cases entered without a cell)
        rows = np.flatnonzero(~has_cell)
        sub = out.iloc[rows][["lat", "lon"]].reset_index(drop=True)
        if sub[["lat", "lon"]].notna().all(axis=1).any():
            placed = attach_areas_from_polygons(sub, _district_areas(ctx))
            for level in ("district", "subdistrict"):
                if level in placed:
                    column = out[level].astype(object).to_numpy(copy=True)
                    column[rows] = [None if pd.isna(v) else str(v) for v in placed[level]]
                    out[level] = column
    return out


def in_scope(ctx: ServiceContext, frame: pd.DataFrame, district: str | None = None) -> pd.DataFrame:
    """The located rows (:func:`locate`) the caller may see: a district-scoped user only their district's.

    ``district``: a filter the caller asked for; asking for another district than one's own is refused.
    """
    own = ctx.actor.district
    if own and district and district != own:
        raise NotAllowedError(f"see the cases of district {district}", ctx.actor.role)
    wanted = own or district
    if not wanted:
        return frame
    return frame[frame["district"].to_numpy() == wanted].reset_index(drop=True)


def deadline_alerts(
    calendar: WorkingCalendar, frame: pd.DataFrame, as_of: pd.Timestamp, near_share: float
) -> pd.DataFrame:
    """``hours_left`` (working hours from ``as_of`` to the deadline; negative when overdue; clock hours for
    urgent cases, whose limits run round the clock), ``elapsed_share`` (of the time from dispatch to the
    deadline) and ``alert``: ``overdue`` past the deadline, ``near`` once ``elapsed_share >= near_share``,
    else ``ok`` (also for cases without a deadline). Vectorised over the rows of ``frame``
    (``dispatched_at``, ``deadline_at``, ``urgency``)."""
    if not 0 < near_share <= 1:
        raise ServiceError(
            "alert_bad_near_share", f"near_share must be in (0, 1], got {near_share}", value=near_share
        )
    n = len(frame)
    start = pd.to_datetime(frame["dispatched_at"], utc=True)
    due = pd.to_datetime(frame["deadline_at"], utc=True)
    now = pd.Series([as_of] * n, index=frame.index, dtype="datetime64[ns, UTC]")
    wall = (
        (frame["urgency"].astype(object).to_numpy() == "urgent") if "urgency" in frame else np.zeros(n, bool)
    )
    work_left = calendar.working_time_between(now, due) if n else np.zeros(0)
    work_total = calendar.working_time_between(start, due) if n else np.zeros(0)
    clock_left = ((due - now).dt.total_seconds() / 3600.0).to_numpy(dtype=float)
    clock_total = ((due - start).dt.total_seconds() / 3600.0).to_numpy(dtype=float)
    left = np.where(wall, clock_left, work_left)
    total = np.where(wall, clock_total, work_total)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, (total - left) / total, np.nan)
    overdue = np.asarray(due.notna()) & (np.asarray(due.to_numpy() < now.to_numpy()))
    near = ~overdue & (np.nan_to_num(share, nan=0.0) >= near_share)
    alert = np.where(overdue, "overdue", np.where(near, "near", "ok"))
    return pd.DataFrame(
        {"hours_left": np.round(left, 2), "elapsed_share": np.round(share, 4), "alert": alert},
        index=frame.index,
    )
