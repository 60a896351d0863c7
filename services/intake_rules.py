"""What intake reads besides the draft: the city's tables (categories, deadlines, routing, calendar, areas;
cached), the department a draft would be routed to, its time limits, and the possible duplicates of a call.

Helpers of :mod:`services.intake` (kept apart to keep each module to one job).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import threading
import time
from typing import Any

import numpy as np
import pandas as pd

from services.context import ServiceContext

#: Columns of the possible duplicates of a call, nearest first.
DUPLICATE_COLUMNS = (
    "case_id",
    "status",
    "distance_m",
    "reported_at",
    "department",
    "deadline_at",
    "description",
    "lat",
    "lon",
)
_EARTH_M = 6_371_008.8
#: Smallest and largest edge of a res-10 H3 cell (m): the ring size that surely covers the radius.
_EDGE_MIN_M, _EDGE_MAX_M = 55.0, 80.0
_AREA_TTL_S = 300.0
_AREA_CACHE: dict[str, tuple[float, Any]] = {}
_LOCK = threading.Lock()


@functools.lru_cache(maxsize=4)
def categories() -> pd.DataFrame:
    """The shipped category table (:func:`cases.categories.load_categories`), read once."""
    from cases.categories import load_categories

    return load_categories()


@functools.lru_cache(maxsize=8)
def deadline_table(path: str) -> Any:
    """The city's deadline table (``deadline_table`` in ``gridpatrol.toml``; empty: the shipped one)."""
    from cases.deadlines import DeadlineTable, load_deadline_table

    return load_deadline_table(path) if path else DeadlineTable()


@functools.lru_cache(maxsize=8)
def routing_table(path: str) -> Any:
    """The city's routing table (``routing_table`` in ``gridpatrol.toml``; empty: the shipped one)."""
    from cases.routing_rules import load_routing_table

    return load_routing_table(path or None)


@functools.lru_cache(maxsize=8)
def calendar(config: Any) -> Any:
    """The city's working calendar."""
    from cases.calendar import working_calendar

    return working_calendar(config)


def city_area(ctx: ServiceContext) -> Any:
    """The union of the stored areas, reused for a few minutes (areas change only on import)."""
    from cases import repository_api

    url = str(ctx.engine.url)
    with _LOCK:
        hit = _AREA_CACHE.get(url)
        if hit is not None and time.monotonic() - hit[0] < _AREA_TTL_S:
            return hit[1]
    area = repository_api.city_area(ctx.engine)
    with _LOCK:
        _AREA_CACHE[url] = (time.monotonic(), area)
    return area


def department(ctx: ServiceContext, code: str, kind: Any, district: str | None) -> str | None:
    """The department the routing rules send a case of ``code`` / ``kind`` in ``district`` to (None: none)."""
    from cases import repository_people
    from cases.routing_rules import route_cases

    known = repository_people.departments(ctx.engine)["department_id"]
    routed = route_cases([code], [kind], [district], known, table=routing_table(ctx.config.routing_table))
    value = routed["department"].iloc[0]
    return None if pd.isna(value) else str(value)


def time_limits(ctx: ServiceContext, code: str, at: dt.datetime) -> pd.DataFrame:
    """Per urgency: the time limit of ``code`` and the deadline if dispatched at ``at``."""
    from cases.deadlines import URGENCIES, deadlines_for

    table = deadline_table(ctx.config.deadline_table)
    rules = [table.rule_for(code, u) for u in URGENCIES]
    start = pd.DatetimeIndex([pd.Timestamp(at)] * len(URGENCIES))
    due = deadlines_for(
        [code] * len(URGENCIES), list(URGENCIES), start, table=table, calendar=calendar(ctx.config)
    )
    return pd.DataFrame(
        {
            "urgency": list(URGENCIES),
            "limit": [r.limit for r in rules],
            "unit": [r.unit for r in rules],
            "deadline_at": pd.DatetimeIndex(due).tz_convert("UTC"),
        }
    )


def _haversine(lat: float, lon: float, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat), np.radians(lats)
    dphi, dlmb = p2 - p1, np.radians(lons - lon)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * _EARTH_M * np.arcsin(np.sqrt(a))


def duplicates(
    ctx: ServiceContext, code: str, lat: float, lon: float, cell: int, at: dt.datetime
) -> pd.DataFrame:
    """Cases of ``code`` within the radius reported in the window before ``at`` (nearest first)."""
    from cases import repository_addresses
    from grid.cells import grid_disk

    radius = float(ctx.config.intake.duplicate_radius_m)
    window = dt.timedelta(hours=float(ctx.config.intake.duplicate_window_hours))
    k = math.ceil((radius + 2 * _EDGE_MAX_M) / (1.5 * _EDGE_MIN_M))
    ring = grid_disk(np.array([cell], dtype=np.int64), k)["neighbour"].to_numpy()
    found = repository_addresses.cases_near(
        ctx.engine, ring.tolist(), code, at - window, at + dt.timedelta(minutes=5)
    )
    found["distance_m"] = np.round(
        _haversine(lat, lon, found["lat"].to_numpy(float), found["lon"].to_numpy(float)), 1
    )
    found = found[found["distance_m"] <= radius].sort_values(["distance_m", "reported_at"])
    return found.reindex(columns=list(DUPLICATE_COLUMNS)).reset_index(drop=True)
