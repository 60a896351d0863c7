"""What a suggested route is: its options (:class:`RouteOptions`), its result (:class:`SuggestedRoute`) and
the columns of its stops. Shared by :mod:`patrol.route_scoring`, :mod:`patrol.routes` and
:mod:`patrol.route_export`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from cases.calendar import WorkingCalendar
from grid.config import DEFAULT_TIMEZONE, PatrolConfig
from patrol.network import (
    DEFAULT_CIRCUITY,
    DEFAULT_MAX_SNAP_M,
    DEFAULT_WALK_SPEED_MPS,
)

#: Case status → the on-site task it waits for.
TASK_STATUSES = {"reported": "verify", "resolved": "check"}
#: Columns of :attr:`SuggestedRoute.stops` (plus ``geometry``).
STOP_COLUMNS = (
    "order",
    "kind",
    "cell",
    "h3",
    "lat",
    "lon",
    "arrival",
    "departure",
    "walk_s",
    "walk_m",
    "dwell_s",
    "value",
    "value_risk",
    "value_neglect",
    "value_cases",
    "risk",
    "days_since_visit",
    "n_verify",
    "n_check",
    "case_ids",
    "must_visit",
    "deadline",
    "on_time",
    "why",
)


@dataclasses.dataclass(frozen=True)
class RouteOptions:
    """Knobs of :func:`suggest_route` (all keyword defaults; times in seconds unless the name says).

    Attributes
    ----------
    shift_start : str
        Local start of the shift, ``"HH:MM"`` in ``timezone``.
    dwell_s : float
        Time spent in every stop (looking around the cell).
    task_s : float
        Extra time per open case in the cell (verifying or re-checking it).
    weight_risk, weight_neglect, weight_case : float
        Weights of the three value parts (each part is 0–1 per cell, or per case).
    neglect_days : float
        Days without a patrol that earn the full neglect value.
    verify_within_h : float
        Hours after the report by which a public report must be verified (核实).
    speed_mps, circuity, max_snap_m : float
        Walking speed (m/s), fallback detour factor, snapping radius (m) — see :mod:`patrol.network`.
    time_limit_s : float
        Solver time limit per call.
    seed : int
        Solver seed.
    timezone : str
        The city's zone.
    forecast_model : str
        Model of :func:`analytics.forecast.forecast_cells` for the risk part; default the city
        configuration's default (:attr:`grid.config.PatrolConfig.forecast_model`), so the library, the
        service and every front-end agree; ``"auto"`` backtests every model first.
    calendar : cases.calendar.WorkingCalendar or None
        The city's working calendar (holiday features of the learned models); default the Chinese one.
    """

    shift_start: str = "08:00"
    dwell_s: float = 180.0
    task_s: float = 600.0
    weight_risk: float = 1.0
    weight_neglect: float = 1.0
    weight_case: float = 2.0
    neglect_days: float = 7.0
    verify_within_h: float = 2.0
    speed_mps: float = DEFAULT_WALK_SPEED_MPS
    circuity: float = DEFAULT_CIRCUITY
    max_snap_m: float = DEFAULT_MAX_SNAP_M
    time_limit_s: float = 1.0
    seed: int = 0
    timezone: str = DEFAULT_TIMEZONE
    forecast_model: str = PatrolConfig.forecast_model
    calendar: WorkingCalendar | None = None


@dataclasses.dataclass(frozen=True)
class SuggestedRoute:
    """A suggested route (:func:`suggest_route`).

    Attributes
    ----------
    stops : geopandas.GeoDataFrame
        EPSG:4326, columns :data:`STOP_COLUMNS` + ``geometry`` (the cell centre, or the start/end point),
        one row per node in walking order: ``kind`` = ``start``, ``stop`` or ``end``; ``arrival`` /
        ``departure`` (UTC); ``walk_s``, ``walk_m`` (the walk from the previous node); ``dwell_s``; the
        value parts; ``case_ids`` (comma-separated); ``deadline`` (UTC, NaT without a task due);
        ``on_time`` (arrival <= deadline, NA without one); ``why`` (plain text).
    path : shapely.LineString
        The walk along the streets (x = lon, y = lat).
    totals : dict
        ``value`` (collected), ``value_available`` (sum over all candidates), ``distance_m``, ``walk_s``,
        ``dwell_s``, ``duration_s``, ``budget_s``, ``n_stops``, ``n_candidates``, ``must_visit``,
        ``must_visited_on_time``, ``network`` (what the walking times came from), ``solver_s``, ``strategy``.
    missed : pandas.DataFrame
        Must-visit cells not visited on time: ``cell``, ``h3``, ``case_ids``, ``deadline``, ``reason``.
    candidates : pandas.DataFrame
        :func:`stop_values` of every candidate cell.
    inspector_id : str
    shift_start : pandas.Timestamp
        UTC.
    """

    stops: gpd.GeoDataFrame
    path: shapely.LineString
    totals: dict[str, Any]
    missed: pd.DataFrame
    candidates: pd.DataFrame
    inspector_id: str
    shift_start: pd.Timestamp
