"""Deployment services: patrol beats, staffing by shift, and the suggested route of an inspector.

One definition behind the CLI (``gridpatrol beats / staffing / route``) and the pages (Deployment, My grid):

- the planning cells are the cells **assigned at the as-of instant**
  (:func:`cases.repository.select_valid_at`), optionally one district's (the stored areas' district,
  else the inspector's);
- the demand is next week's forecast of ``config.patrol.forecast_model``
  (:func:`analytics.forecast.forecast_cells`);
- the top ``config.patrol.hot_share`` of cells by demand are walked ``hot_visits_per_week``, the others
  ``base_visits_per_week`` (:func:`patrol.deployment.cell_workload`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cases.calendar import working_calendar
from cases.csv_safe import write_csv
from services.context import ServiceContext
from services.errors import ServiceError
from services.patrol_inputs import PatrolInputs, cells_with_districts, instant

PLANNERS = ("manager", "admin")


@dataclasses.dataclass(frozen=True)
class BeatsRequest:
    """Beats of the cells assigned at ``as_of`` (None: now), one ``district`` or all; ``n_beats`` None:
    one per inspector holding those cells."""

    n_beats: int | None = None
    district: str | None = None
    as_of: dt.datetime | dt.date | None = None
    tolerance: float = 0.10
    seed: int = 0
    city_dir: Path | None = None


@dataclasses.dataclass(frozen=True)
class BeatsResult:
    """What :func:`beats_plan` cut: ``to_frame()`` one row per cell (int64 ``cell``, ``h3``, ``beat``, weekly
    ``workload_min``), ``beats`` one row per beat, and whether the beats are balanced within the tolerance."""

    cells: pd.DataFrame  #: one row per cell: cell, h3, district, beat, expected_cases … workload_min
    beats: pd.DataFrame  #: one row per beat (patrol.deployment.partition_beats)
    balanced: bool
    max_deviation: float
    links: int
    seconds: float
    n_inspectors: int
    forecast_period: str
    model: str

    @property
    def n_beats(self) -> int:
        return len(self.beats)

    def to_frame(self) -> pd.DataFrame:
        return self.cells.copy()


@dataclasses.dataclass(frozen=True)
class StaffingRequest:
    """Inspectors per district and shift for the cells assigned at ``as_of``, with a what-if around
    ``n_inspectors`` (None: the inspectors holding those cells) ± ``k``."""

    n_inspectors: int | None = None
    k: int = 2
    district: str | None = None
    as_of: dt.datetime | dt.date | None = None
    minutes_per_case: float = 15.0
    utilisation: float = 0.85
    city_dir: Path | None = None


@dataclasses.dataclass(frozen=True)
class StaffingResult:
    """What :func:`staffing` found: ``to_frame()`` inspectors needed per district, working day and shift,
    the roster per shift, the what-if table per inspector count and the demand per cell."""

    table: pd.DataFrame  #: per district, working day and shift
    per_shift: pd.DataFrame  #: per district and shift: the roster
    what_if: pd.DataFrame  #: per inspector count
    demand: pd.DataFrame  #: per cell: cell, district, expected, street_m or area_m2
    n_inspectors: int

    @property
    def roster(self) -> int:
        return int(self.per_shift.groupby("district")["inspectors"].max().sum())

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()


def _planning(ctx: ServiceContext, inputs: PatrolInputs, as_of: Any, district: str | None) -> tuple:
    """The planning cells with their demand, the number of inspectors holding them, the forecast."""
    from analytics.forecast import forecast_cells

    at = instant(as_of, ctx.timezone)
    live = inputs.assignments_valid_at(at)
    if live.empty:
        raise ServiceError("no_assignments", f"no cell is assigned at {at.tz_convert(ctx.timezone)}")
    cells = cells_with_districts(inputs, live)
    if district is not None:
        cells = cells[cells["district"] == str(district)].reset_index(drop=True)
        if cells.empty:
            raise ServiceError("no_cells", f"no assigned cell in district {district!r}", district=district)
    holders = live.loc[live["cell"].isin(cells["cell"]), "inspector_id"].nunique()
    cases = inputs.cases()
    if cases.empty:
        raise ServiceError("no_cases", "no cases to forecast the demand from (import cases first)")
    try:
        forecast = forecast_cells(
            cases,
            cells["cell"].to_numpy(),
            period="week",
            model=ctx.config.patrol.forecast_model,
            timezone=ctx.timezone,
            calendar=working_calendar(ctx.config),
            as_of=None if as_of is None else at.tz_convert(ctx.timezone),
        )
    except ValueError as exc:  # too little history
        raise ServiceError("too_few", str(exc), error=str(exc)) from exc
    expected = forecast.set_index("cell")["expected"].reindex(cells["cell"].to_numpy()).fillna(0.0)
    cells["expected"] = expected.to_numpy()
    return cells, int(holders), forecast, cases


def visits_per_week(ctx: ServiceContext, expected: np.ndarray) -> np.ndarray:
    """``hot_visits_per_week`` for the top ``hot_share`` of cells by ``expected`` (with demand), else
    ``base_visits_per_week`` (config.patrol)."""
    patrol = ctx.config.patrol
    if patrol.hot_share > 0 and expected.size:
        hot = (expected >= np.quantile(expected, 1 - patrol.hot_share)) & (expected > 0)
    else:
        hot = np.zeros(expected.shape, dtype=bool)
    return np.where(hot, patrol.hot_visits_per_week, patrol.base_visits_per_week)


def beats_plan(ctx: ServiceContext, request: BeatsRequest = BeatsRequest()) -> BeatsResult:
    """Cut the planning cells into contiguous, compact beats of balanced weekly workload."""
    from grid.cells import cells_to_strings
    from patrol.deployment import cell_workload, partition_beats

    ctx.require("plan patrol beats", *PLANNERS)
    inputs = PatrolInputs.of(ctx, request.city_dir)
    cells, holders, forecast, _ = _planning(ctx, inputs, request.as_of, request.district)
    expected = cells["expected"].to_numpy()
    n_beats = request.n_beats if request.n_beats is not None else holders
    n_beats = int(min(max(n_beats, 1), len(cells)))
    work = cell_workload(cells, expected, visits_per_week=visits_per_week(ctx, expected))
    try:
        plan = partition_beats(
            cells["cell"].to_numpy(), work["workload_min"].to_numpy(), n_beats,
            tolerance=request.tolerance, seed=request.seed,
        )  # fmt: skip
    except ValueError as exc:
        raise ServiceError("bad_request", str(exc), error=str(exc)) from exc
    table = work.assign(
        h3=cells_to_strings(cells["cell"].to_numpy()),
        district=cells["district"].to_numpy(),
        beat=plan.labels,
    )
    front = ["cell", "h3", "district", "beat"]
    table = table[front + [c for c in table.columns if c not in front]]
    return BeatsResult(
        cells=table, beats=plan.beats, balanced=bool(plan.balanced), max_deviation=float(plan.max_deviation),
        links=int(plan.links), seconds=float(plan.seconds), n_inspectors=holders,
        forecast_period=str(forecast["period"].iloc[0]) if len(forecast) else "",
        model=str(forecast["model"].iloc[0]) if len(forecast) else ctx.config.patrol.forecast_model,
    )  # fmt: skip


def staffing(ctx: ServiceContext, request: StaffingRequest = StaffingRequest()) -> StaffingResult:
    """Inspectors needed per district, working day and shift, with a what-if (``patrol.staffing``)."""
    from patrol.staffing import hour_profile, staffing_plan, staffing_what_if

    ctx.require("plan staffing", *PLANNERS)
    inputs = PatrolInputs.of(ctx, request.city_dir)
    cells, holders, _, cases = _planning(ctx, inputs, request.as_of, request.district)
    demand = cells[[c for c in ("cell", "district", "expected", "street_m", "area_m2") if c in cells]]
    knobs = {"minutes_per_case": request.minutes_per_case, "utilisation": request.utilisation}
    try:
        plan = staffing_plan(
            demand, hour_profile(cases, timezone=ctx.timezone), hot_share=ctx.config.patrol.hot_share, **knobs
        )
        n = request.n_inspectors if request.n_inspectors is not None else holders
        what_if = staffing_what_if(demand, plan, n, k=max(min(request.k, n - 1), 0), **knobs)
    except ValueError as exc:
        raise ServiceError("bad_request", str(exc), error=str(exc)) from exc
    return StaffingResult(plan.table, plan.per_shift, what_if, demand.reset_index(drop=True), n)


# --- route ------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class RouteRequest:
    """The route of ``inspector_id`` (None: the caller) for the shift on ``date`` (city zone)."""

    date: dt.date
    inspector_id: str | None = None
    budget_s: float = 4 * 3600.0
    shift_start: str = "08:00"
    start: tuple[float, float] | None = None
    coverage_days: int | None = None  #: days of tracks before the date for last visits (None: config)
    speed_mps: float | None = None
    circuity: float | None = None
    time_limit_s: float = 1.0
    city_dir: Path | None = None
    streets: Path | None = None
    osm: Path | None = None
    tracks: Path | None = None


@dataclasses.dataclass(frozen=True)
class RouteResult:
    """The suggested route of :func:`route` (:class:`patrol.routes.SuggestedRoute`): ``to_frame()`` one row
    per stop in order (cell, ``h3``, local arrival time in ``timezone``); ``write`` as GPX, GeoJSON or CSV."""

    route: Any  #: patrol.routes.SuggestedRoute
    timezone: str

    @property
    def totals(self) -> dict[str, Any]:
        return self.route.totals

    @property
    def missed(self) -> pd.DataFrame:
        return self.route.missed

    def to_frame(self) -> pd.DataFrame:
        """The stops (``kind == "stop"``): order, h3, cell, arrival (city time), case ids, why."""
        stops = self.route.stops
        stops = stops[stops["kind"] == "stop"]
        frame = pd.DataFrame(stops[["order", "h3", "cell", "arrival", "case_ids", "must_visit", "why"]])
        frame["cell"] = frame["cell"].astype(np.int64)
        frame["arrival"] = frame["arrival"].dt.tz_convert(self.timezone)
        return frame.reset_index(drop=True)

    def write(self, path: str | Path, *, gpx_crs: str = "wgs84") -> Path:
        """Write the route by suffix: ``.gpx`` (in ``gpx_crs``: ``wgs84`` or ``gcj02``), ``.geojson``
        (:func:`patrol.routes.write_route`), ``.csv``."""
        from patrol.routes import write_route

        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix.lower() == ".csv":
            write_csv(self.to_frame(), out)
            return out
        return write_route(self.route, out, gpx_crs=gpx_crs)

    def gpx_bytes(self, crs: str = "wgs84") -> bytes:
        """The route as GPX in ``crs`` (``wgs84`` or ``gcj02`` for Chinese map apps)."""
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            return self.write(Path(folder) / "route.gpx", gpx_crs=crs).read_bytes()


def route(ctx: ServiceContext, request: RouteRequest) -> RouteResult:
    """Suggest the shift's route through the inspector's cells (:func:`patrol.routes.suggest_route`)."""
    from patrol.routes import RouteOptions, suggest_route

    inspector_id = own_inspector(ctx, request.inspector_id, "suggest a route")
    inputs = PatrolInputs.of(ctx, request.city_dir)
    tz = ctx.timezone
    walking = {"speed_mps": request.speed_mps, "circuity": request.circuity}
    options = RouteOptions(
        shift_start=request.shift_start, time_limit_s=request.time_limit_s, timezone=tz,
        forecast_model=ctx.config.patrol.forecast_model, calendar=working_calendar(ctx.config),
        **{k: v for k, v in walking.items() if v is not None},
    )  # fmt: skip
    try:
        shift = pd.Timestamp(f"{request.date} {request.shift_start}").tz_localize(tz).tz_convert("UTC")
    except ValueError as exc:
        raise ServiceError("bad_request", f"cannot read the shift start {request.shift_start!r}") from exc
    live = inputs.assignments_valid_at(shift)
    days = request.coverage_days or ctx.config.patrol.never_visited_days
    graph = _graph(inputs, request.streets, request.osm)
    if graph is None:
        graph = _stored_streets(ctx, request)
    try:
        result = suggest_route(
            inspector_id, request.date, assignments=live, cases=inputs.cases(),
            budget_s=float(request.budget_s), start=request.start,
            graph=graph,
            last_visit=_last_visit(inputs.tracks(request.tracks), request.date, days, tz), options=options,
        )  # fmt: skip
    except ValueError as exc:  # no cell, no history, bad budget …
        raise ServiceError("no_route", str(exc), error=str(exc)) from exc
    return RouteResult(result, tz)


def own_inspector(ctx: ServiceContext, inspector_id: str | None, operation: str) -> str:
    """The inspector a field operation is for: an inspector only for themselves; admin and system for any."""
    actor = ctx.require(operation, "inspector", "admin")
    if actor.role == "inspector":
        if not actor.inspector_id:
            raise ServiceError("no_inspector", f"user {actor.username} is not linked to an inspector")
        if inspector_id not in (None, actor.inspector_id):
            raise ServiceError("not_allowed", f"an inspector may not {operation} for another inspector")
        return actor.inspector_id
    if not inspector_id:
        raise ServiceError("no_inspector", "name the inspector")
    return inspector_id


def _graph(inputs: PatrolInputs, streets: Path | None, osm: Path | None) -> Any:
    from patrol.network import read_osm_walk_network, street_graph

    if osm is not None:
        return read_osm_walk_network(osm)
    streets = streets or inputs.streets()
    if streets is None:
        return None
    import geopandas as gpd

    lines = gpd.read_parquet(streets) if streets.suffix == ".parquet" else gpd.read_file(streets)
    return street_graph(lines.to_crs(4326) if lines.crs else lines, source=streets.name)


def _stored_streets(ctx: ServiceContext, request: RouteRequest) -> Any:
    """The street graph of the store's base map (``gridpatrol import basemap``; the demo loader stores the
    demo city's streets), so the walk follows the streets without a streets file; None without streets."""
    if request.city_dir is not None or request.streets is not None or request.osm is not None:
        return None
    from services.basemap import geography_or_none

    layers = geography_or_none(ctx)
    if layers is None or layers.streets.empty:
        return None
    from patrol.network import street_graph

    return street_graph(layers.streets, source="stored base map streets")


def _last_visit(root: Path | None, date: dt.date, days: int, timezone: str) -> pd.DataFrame | None:
    """``cell``, ``last_visit`` over the ``days`` days before ``date`` (None without tracks)."""
    from patrol.coverage import cell_summary
    from patrol.scale import fine_cube_from_store

    if root is None:
        return None
    fine = fine_cube_from_store(
        root, date - dt.timedelta(days=days), date - dt.timedelta(days=1), timezone=timezone
    )
    return cell_summary(fine)[["cell", "last_visit"]] if len(fine) else None
