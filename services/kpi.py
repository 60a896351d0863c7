"""KPIs of the command centre: the KPI table by district, subdistrict, department, inspector or category,
and the manager dashboard's series (tiles, monthly trend, department ranking, districts).

The cohort is the cases *filed* in ``start`` … ``end`` (local dates of the city's zone, inclusive),
evaluated as of ``as_of`` (default: the end of the selection); see :mod:`analytics.kpi`. Department scores
and inspector grades follow the city's scoring table (``kpi_scoring`` in ``gridpatrol.toml``; empty: the
shipped ``analytics/data/kpi_scoring.toml``); working hours follow the city's working calendar. The
``gridpatrol kpi`` command, the Dashboard page and the API call :func:`kpi_table` / :func:`dashboard`,
so they show the same table for the same request.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd

from cases import repository
from cases.calendar import working_calendar
from cases.lifecycle import load_events, load_lifecycle_frame
from services.context import ServiceContext
from services.errors import ServiceError

__all__ = [
    "GROUPS",
    "DashboardRequest",
    "DashboardResult",
    "KpiRequest",
    "KpiResult",
    "RecentCases",
    "dashboard",
    "filed_range",
    "kpi_table",
    "recent_cases",
]

GROUPS = ("district", "subdistrict", "department", "inspector", "category")
#: Roles that may read KPIs.
KPI_ROLES = ("manager", "supervisor", "planner", "admin")
#: The dashboard's tiles (rates of the whole cohort).
TILES = ("closure_rate", "on_time_closure_rate", "rework_rate", "satisfaction_rate")


@dataclasses.dataclass(frozen=True)
class KpiRequest:
    """One KPI table.

    ``by``: one of :data:`GROUPS` (None: one row for the whole cohort). ``start`` / ``end``: local filing
    dates (inclusive; None: open). ``as_of``: the evaluation instant (naive = local time; default the end
    of the selection, else the latest step in the data). ``cells_file``: a cells table (Parquet ``cell``,
    ``district``, ``subdistrict``) for ``by`` district/subdistrict instead of the stored area polygons.
    ``cases``: evaluate this lifecycle frame (e.g. a file imported on the side, which has no history:
    rework and extension count 0) instead of the store.
    """

    by: str | None = "department"
    start: dt.date | None = None
    end: dt.date | None = None
    as_of: dt.datetime | None = None
    cells_file: Path | None = None
    cases: pd.DataFrame | None = dataclasses.field(default=None, compare=False, hash=False, repr=False)


@dataclasses.dataclass(frozen=True)
class KpiResult:
    """The KPI table: the group column, the rates (fractions 0–1), the counts behind them and handling
    hours; ``by`` department adds the score and grade (ranked best first), ``by`` inspector the inspector
    KPIs (``inspector_score``, ``inspector_grade``)."""

    request: KpiRequest
    table: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    @property
    def due(self) -> int:
        """Cases that should be closed (应结案) in the cohort."""
        return int(self.table["should_close"].sum())

    @property
    def mediated(self) -> int:
        """Cases closed by mediation (和谐调解结案; counted in ``closed`` too)."""
        return int(self.table["mediated"].sum()) if "mediated" in self.table else 0

    @property
    def filed(self) -> int:
        """Cases filed in the selection."""
        return int(self.table["cases"].sum())


@dataclasses.dataclass(frozen=True)
class DashboardRequest:
    """The dashboard for the cases filed ``start`` … ``end`` (local dates, inclusive)."""

    start: dt.date
    end: dt.date


@dataclasses.dataclass(frozen=True)
class DashboardResult:
    """``overall`` (one row: the tiles), ``trend`` (one row per month of the selection, ``month`` = its
    first day), ``departments`` (the ranking with scores: the same table as
    ``kpi_table(KpiRequest(by="department", start, end))``) and ``districts`` (None without areas)."""

    request: DashboardRequest
    overall: pd.DataFrame
    trend: pd.DataFrame
    departments: KpiResult
    districts: KpiResult | None

    def to_frame(self) -> pd.DataFrame:
        """The monthly series of the tile rates."""
        return self.trend.copy()


@dataclasses.dataclass(frozen=True)
class _Inputs:
    cases: pd.DataFrame
    events: pd.DataFrame | None
    from_store: bool


def _scoring(ctx: ServiceContext) -> Any:
    from analytics.kpi import load_scoring

    path = ctx.config.kpi_scoring
    try:
        return load_scoring(path or None)
    except (OSError, ValueError) as exc:
        raise ServiceError("bad_scoring", f"KPI scoring {path or '(shipped)'}: {exc}") from exc


def _inputs(ctx: ServiceContext, request: KpiRequest) -> _Inputs:
    if request.cases is not None:
        return _Inputs(request.cases, None, from_store=False)
    return _Inputs(load_lifecycle_frame(ctx.engine), load_events(ctx.engine), from_store=True)


def _grouped(ctx: ServiceContext, data: _Inputs, by: str | None, cells_file: Path | None) -> pd.DataFrame:
    """The cases with the grouping column ``by`` attached (districts, inspectors)."""
    from analytics.kpi import attach_areas, attach_areas_from_polygons, attach_inspectors

    cases = data.cases
    if by in ("district", "subdistrict"):
        if cells_file is not None:
            cases = attach_areas(cases, pd.read_parquet(cells_file))
        elif data.from_store:
            cases = attach_areas_from_polygons(cases, repository.load_areas(ctx.engine))
        if by not in cases or cases[by].isna().all():
            raise ServiceError(
                "no_areas", f"KPIs by {by} need a cells file or {by} areas in the store (import areas)", by=by
            )
    if by == "inspector":
        cases = attach_inspectors(cases, repository.assignments(ctx.engine) if data.from_store else None)
    return cases


def _window(ctx: ServiceContext, start: Any, end: Any, as_of: Any) -> dict[str, Any]:
    return {"start": start, "end": end, "as_of": as_of, "timezone": ctx.timezone}


def _table(ctx: ServiceContext, data: _Inputs, request: KpiRequest, scoring: Any) -> pd.DataFrame:
    from analytics.kpi import department_scores, inspector_kpis
    from analytics.kpi import kpi_table as compute

    by = request.by
    if by is not None and by not in GROUPS:
        raise ServiceError("bad_request", f"by must be one of {', '.join(GROUPS)} or None, got {by!r}")
    cases = _grouped(ctx, data, by, request.cells_file)
    window = _window(ctx, request.start, request.end, request.as_of)
    table = compute(cases, data.events, by=by, **window)
    if by == "department":
        table = department_scores(table, scoring)
        table = table.sort_values(["score", "department"], ascending=[False, True], kind="stable")
    if by == "inspector" and data.events is not None:
        people = inspector_kpis(
            cases, data.events, scoring=scoring, calendar=working_calendar(ctx.config), **window
        ).rename(columns={"score": "inspector_score", "grade": "inspector_grade"})
        table = table.merge(people, on="inspector", how="outer").fillna({"cases": 0})
    return table.reset_index(drop=True)


def kpi_table(ctx: ServiceContext, request: KpiRequest) -> KpiResult:
    """The KPI table of ``request`` (managers, supervisors, planners, administrators).

    Raises
    ------
    ServiceError
        ``no_cases`` (nothing to evaluate), ``no_areas`` (by district without areas), ``bad_request``.
    """
    ctx.require("read KPIs", *KPI_ROLES)
    data = _inputs(ctx, request)
    if data.cases.empty:
        raise ServiceError("no_cases", "there are no cases to evaluate (import cases first)")
    try:
        table = _table(ctx, data, request, _scoring(ctx))
    except ValueError as exc:  # a bad window (end before start, …)
        raise ServiceError("bad_request", str(exc)) from exc
    return KpiResult(request, table)


def filed_range(ctx: ServiceContext) -> tuple[dt.date, dt.date] | None:
    """The first and last local filing day in the store (the dashboard's date bounds); None: no cases."""
    ctx.require("read KPIs", *KPI_ROLES)
    cases = load_lifecycle_frame(ctx.engine)
    if cases.empty:
        return None
    filed = pd.to_datetime(cases["registered_at"].fillna(cases["reported_at"]), utc=True)
    local = filed.dt.tz_convert(ctx.timezone)
    return local.min().date(), local.max().date()


def dashboard(ctx: ServiceContext, request: DashboardRequest) -> DashboardResult:
    """The manager dashboard: tiles, monthly trend, department ranking and districts of one selection."""
    from analytics.kpi import kpi_table as compute

    ctx.require("read the dashboard", *KPI_ROLES)
    data = _inputs(ctx, KpiRequest())
    if data.cases.empty:
        raise ServiceError("no_cases", "there are no cases to evaluate (import cases first)")
    scoring = _scoring(ctx)
    start, end = request.start, request.end
    overall = compute(data.cases, data.events, **_window(ctx, start, end, None))
    if overall.empty or not int(overall["cases"].sum()):  # nothing filed in the range: no tiles to show
        raise ServiceError(
            "no_cases_in_range", f"no case was filed between {start} and {end}", start=start, end=end
        )
    months = pd.period_range(pd.Period(start, "M"), pd.Period(end, "M"), freq="M")
    trend = pd.concat(
        [
            compute(
                data.cases,
                data.events,
                **_window(ctx, max(m.start_time.date(), start), min(m.end_time.date(), end), None),
            ).assign(month=m.start_time)
            for m in months
        ],
        ignore_index=True,
    )
    departments = KpiResult(
        KpiRequest(by="department", start=start, end=end),
        _table(ctx, data, KpiRequest(by="department", start=start, end=end), scoring),
    )
    districts = None
    district_request = KpiRequest(by="district", start=start, end=end)
    try:
        districts = KpiResult(district_request, _table(ctx, data, district_request, scoring))
    except ServiceError as exc:
        if exc.code != "no_areas":
            raise
    return DashboardResult(request, overall, trend, departments, districts)


@dataclasses.dataclass(frozen=True)
class RecentCases:
    """Where the latest cases are (``cells``: ``cell``, ``count`` of the last ``map_days``) and how many
    per local day (``daily``: ``day``, ``count`` of the last ``days``), relative to the newest case."""

    cells: pd.DataFrame
    daily: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.daily.copy()


def recent_cases(ctx: ServiceContext, days: int = 28, map_days: int = 7) -> RecentCases:
    """The overview page's map and daily counts, in the city's zone (city-wide roles)."""
    from cases.store import recent_activity

    ctx.require("see the city's recent cases", *KPI_ROLES)
    cells, daily = recent_activity(ctx.engine, days=days, map_days=map_days, timezone=ctx.timezone)
    return RecentCases(cells, daily)
