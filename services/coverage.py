"""Coverage services: patrol coverage per inspector and cell, neglected cells, patrol effectiveness.

The CLI (``gridpatrol coverage / neglect / effectiveness``) and the Coverage page call these; the track store
is the context's (:meth:`services.context.ServiceContext.tracks_root`) unless a request names one, the
assignments those valid over the range (:func:`cases.repository.select_overlapping`), the days the city's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from services import cache
from services.cache import Progress
from services.context import ServiceContext
from services.errors import ServiceError
from services.patrol_inputs import PatrolInputs, local_day_bounds

MANAGERS = ("manager", "admin")
#: Columns of the effectiveness table measured from the tracks (empty when no track is found).
VISIT_COLUMNS = (
    "patrol_hours", "patrol_km", "finds_per_hour", "finds_per_km", "patrol_share", "missed", "missed_share",
    "attributed_share",
)  # fmt: skip
#: Stands in for a missing track store (no day folder in it: the reductions return their empty frames).
_NO_TRACKS = Path("/nonexistent/gridpatrol-tracks")


@dataclasses.dataclass(frozen=True)
class CoverageRequest:
    """Coverage over the local days ``[start, end]``; ``never_days`` None: the configured
    ``patrol.never_visited_days``."""

    start: dt.date
    end: dt.date
    freq: str = "D"  #: ``D`` or ``W``: one KPI row per inspector and day or ISO week
    never_days: int | None = None
    inspector_id: str | None = None
    backend: str = "pandas"  #: ``pandas`` or ``dask`` (the reduction of the track store)
    tracks: Path | None = None


@dataclasses.dataclass(frozen=True)
class CoverageResult:
    """What :func:`coverage_report` found: three tables (``to_frame("kpis" | "neglect" | "cells")``);
    cells are
    int64 ``cell`` with the ``h3`` hex id, times tz-aware, minutes of presence; ``tracks_found`` False when no
    track lies in the range."""

    kpis: pd.DataFrame  #: per inspector and period (:func:`patrol.kpis.inspector_coverage`)
    neglect: pd.DataFrame  #: per assigned cell (:func:`patrol.kpis.cell_neglect`), h3, inspector_id
    cells: pd.DataFrame  #: per visited cell (:func:`patrol.coverage.cell_summary`), h3
    never_days: int
    tracks_found: bool

    def per_inspector(self) -> pd.DataFrame:
        return self.kpis.groupby("inspector_id", as_index=False).agg(
            coverage_share=("coverage_share", "mean"),
            assigned_cells=("assigned_cells", "max"),
            patrol_minutes=("patrol_minutes", "sum"),
        )

    def to_frame(self, part: str = "kpis") -> pd.DataFrame:
        """``kpis`` (default), ``neglect`` or ``cells``."""
        return getattr(self, part).copy()


def _fine(root: Path | None, start: dt.date, end: dt.date, inspector: str | None, tz: str, backend: str):
    from patrol.scale import fine_cube_dask, fine_cube_from_store

    if root is None:  # no track store: the reduction of no day (an empty cube with its columns)
        return fine_cube_from_store(_NO_TRACKS, start, end, inspector=inspector, timezone=tz)
    reduce = fine_cube_dask if backend == "dask" else fine_cube_from_store
    return reduce(root, start, end, inspector=inspector, timezone=tz)


def track_span(ctx: ServiceContext) -> tuple[dt.date, dt.date] | None:
    """The first and last day of the track store (None when it holds no day)."""
    from patrol.store import day_paths

    root = ctx.tracks_root()
    days = day_paths(root) if root is not None else []
    return (days[0][0], days[-1][0]) if days else None


def _check_range(start: dt.date, end: dt.date) -> None:
    if end < start:
        raise ServiceError("bad_range", f"the range ends ({end}) before it starts ({start})")


def coverage_report(
    ctx: ServiceContext, request: CoverageRequest, *, progress: Progress | None = None, save: bool = False
) -> CoverageResult:
    """Inspector coverage KPIs, the neglect table of the assigned cells and the per-cell summary.

    Read from the cache (:mod:`services.cache`) when ``gridpatrol refresh`` stored this request at the
    store's present data version; else computed, telling ``progress(step, fraction)``. ``save``: also
    store a computed answer in the cache."""
    from grid.cells import cells_to_strings
    from patrol.coverage import cell_summary
    from patrol.kpis import cell_neglect, inspector_coverage

    ctx.require("report patrol coverage", *MANAGERS)
    _check_range(request.start, request.end)
    if request.freq not in ("D", "W"):
        raise ServiceError("bad_request", f"freq must be D or W, got {request.freq!r}")
    tz = ctx.timezone
    never = request.never_days or ctx.config.patrol.never_visited_days
    version, key = cache.data_version(ctx), dataclasses.replace(request, never_days=never, backend="pandas")
    hit = cache.load(ctx, "coverage", key, version=version)
    if hit is not None:
        return _coverage_of(hit)
    cache.report(progress, "read_tracks", 0.05)
    inputs = PatrolInputs.of(ctx, None)
    root = inputs.tracks(request.tracks)
    fine = _fine(root, request.start, request.end, request.inspector_id, tz, request.backend)
    cache.report(progress, "coverage_kpis", 0.6)
    summary = cell_summary(fine)
    summary.insert(1, "h3", cells_to_strings(summary["cell"].to_numpy()))
    first, end = local_day_bounds(request.start, request.end, tz)
    live = inputs.assignments_overlapping(first, end)
    if request.inspector_id is not None:
        live = live[live["inspector_id"] == request.inspector_id].reset_index(drop=True)
    days = pd.date_range(request.start, request.end, freq="D", tz=tz)
    kpis = inspector_coverage(fine, live, days, freq=request.freq)
    neglect = cell_neglect(fine, live["cell"].to_numpy(), as_of=end, never_days=never, timezone=tz)
    owners = live.groupby("cell")["inspector_id"].agg(lambda s: ", ".join(sorted(set(s))))
    neglect["inspector_id"] = neglect["cell"].map(owners)
    neglect.insert(1, "h3", cells_to_strings(neglect["cell"].to_numpy()))
    result = CoverageResult(kpis, neglect, summary, never, root is not None and len(fine) > 0)
    if save:
        frames = {"kpis": kpis, "neglect": neglect, "cells": summary}
        cache.store(ctx, "coverage", key, frames, {"never_days": never, "tracks_found": result.tracks_found},
                    version=version)  # fmt: skip
    cache.report(progress, "done", 1.0)
    return result


def _coverage_of(entry: cache.CachedEntry) -> CoverageResult:
    """The :class:`CoverageResult` of a cache entry."""
    frames, meta = entry.frames, entry.meta
    return CoverageResult(
        frames["kpis"], frames["neglect"], frames["cells"], int(meta["never_days"]),
        bool(meta["tracks_found"]),
    )  # fmt: skip


@dataclasses.dataclass(frozen=True)
class NeglectRequest:
    """Assigned cells not entered for ``never_days`` (None: config) before the end of the local day
    ``as_of``."""

    as_of: dt.date
    never_days: int | None = None
    inspector_id: str | None = None
    window_days: int | None = None  #: days of tracks read (None: max(never_days, 14))
    tracks: Path | None = None


@dataclasses.dataclass(frozen=True)
class NeglectResult:
    """What :func:`neglect` found: one row per assigned cell (``to_frame()``), ``neglected`` when not
    entered for
    ``never_days`` days; ``tracks_found`` False when the store has no track before ``as_of``."""

    table: pd.DataFrame  #: per cell: cell, h3, last_visit, days_since_visit, …, neglected, inspector_id
    never_days: int
    tracks_found: bool

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()


def neglect(ctx: ServiceContext, request: NeglectRequest) -> NeglectResult:
    """The neglect table of the cells assigned on ``as_of`` (an inspector: their own cells only)."""
    from grid.cells import cells_to_strings
    from patrol.kpis import cell_neglect

    actor = ctx.require("report neglected cells", *MANAGERS, "inspector")
    inspector = request.inspector_id
    if actor.role == "inspector":
        if inspector not in (None, actor.inspector_id) or not actor.inspector_id:
            raise ServiceError("not_allowed", "an inspector sees only their own cells")
        inspector = actor.inspector_id
    tz = ctx.timezone
    never = request.never_days or ctx.config.patrol.never_visited_days
    window = request.window_days or max(never, 14)
    inputs = PatrolInputs.of(ctx, None)
    start, end = local_day_bounds(request.as_of, request.as_of, tz)
    live = inputs.assignments_overlapping(start, end)
    if inspector is not None:
        live = live[live["inspector_id"] == inspector].reset_index(drop=True)
    root = inputs.tracks(request.tracks)
    first = request.as_of - dt.timedelta(days=window)
    fine = _fine(root, first, request.as_of, inspector, tz, "pandas")
    table = cell_neglect(fine, live["cell"].to_numpy(), as_of=end, never_days=never, timezone=tz)
    owners = live.groupby("cell")["inspector_id"].agg(lambda s: ", ".join(sorted(set(s))))
    table["inspector_id"] = table["cell"].map(owners)
    table.insert(1, "h3", cells_to_strings(table["cell"].to_numpy()))
    return NeglectResult(table, never, root is not None and len(fine) > 0)


# --- effectiveness ----------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class EffectivenessRequest:
    """Patrol effectiveness over the local days ``[start, end]``, one row per ``by`` group."""

    start: dt.date
    end: dt.date
    by: str = "inspector"  #: inspector, subdistrict, district, category or cell
    window_h: float = 2.0  #: a pass counts within this many hours before a report
    k: int = 1  #: rings around a case
    gap: bool = True  #: also the allocation gap
    tracks: Path | None = None
    cache_dir: Path | None = None


@dataclasses.dataclass(frozen=True)
class EffectivenessResult:
    """What :func:`effectiveness` found: the table per group (``to_frame()``: cases, patrol finds, citizen
    reports walked past, rates), the allocation-gap GeoDataFrame (EPSG:4326) and the counts behind them."""

    table: pd.DataFrame
    gap: Any  #: GeoDataFrame of :func:`patrol.effectiveness.allocation_gap`, or None
    expected_source: str
    n_cases: int
    n_patrol: int
    missed: int
    n_visits: int
    tracks_found: bool  #: False: no track in the range; every visit-based figure is empty, not zero
    tracks_root: str

    @property
    def tracks_message(self) -> str:
        if self.tracks_found:
            return f"{self.n_visits:,} cell visits"
        return f"no patrol tracks found in {self.tracks_root or '(no track store)'} for this range"

    def allocation_index(self) -> float:
        from patrol.effectiveness import allocation_index

        return float(allocation_index(self.gap)) if self.gap is not None else float("nan")

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()


def _effectiveness_cells(inputs: PatrolInputs, live: pd.DataFrame, cases: pd.DataFrame, visits: pd.DataFrame):
    """The cell universe with its areas: the stored areas' cells, else the assigned cells, else the cells
    of the cases and visits."""
    grid = inputs.area_cells()
    if len(grid):
        return grid[["cell", "district", "subdistrict"]]
    if len(live):
        universe = np.unique(live["cell"].to_numpy(np.int64))
    else:
        universe = np.unique(
            np.concatenate([cases["cell"].to_numpy(np.int64), visits["cell"].to_numpy(np.int64)])
        )
    return pd.DataFrame({"cell": universe, "district": None, "subdistrict": None})


def effectiveness(
    ctx: ServiceContext,
    request: EffectivenessRequest,
    *,
    progress: Progress | None = None,
    save: bool = False,
) -> EffectivenessResult:
    """Discovery rate, problems walked past, attribution, response and the allocation gap.

    Read from the cache when ``gridpatrol refresh`` stored this request at the present data version (see
    :func:`coverage_report`); else computed, telling ``progress(step, fraction)``."""
    from cases import repository_patrol
    from grid.cells import cells_to_strings
    from patrol import effectiveness as eff

    ctx.require("report patrol effectiveness", *MANAGERS)
    _check_range(request.start, request.end)
    tz, first, last = ctx.timezone, request.start, request.end
    version = cache.data_version(ctx)
    hit = cache.load(ctx, "effectiveness", request, version=version)
    if hit is not None:
        return _effectiveness_of(hit)
    cache.report(progress, "read_cases", 0.02)
    inputs = PatrolInputs.of(ctx, None)
    every = inputs.cases(repository_patrol.EFFECTIVENESS_CASE_COLUMNS)
    local = pd.DatetimeIndex(every["reported_at"]).tz_convert(tz).date
    cases = every[(local >= first) & (local <= last)].reset_index(drop=True)
    if cases.empty:
        store = ctx.engine.url.render_as_string(hide_password=True)
        msg = f"no located case reported between {first} and {last} in {store}"
        raise ServiceError("no_cases_range", msg, start=first, end=last)
    root = inputs.tracks(request.tracks)
    lookback = dt.timedelta(days=int(np.ceil(request.window_h / 24.0)))  # an early report looks back
    cache.report(progress, "read_tracks", 0.1)
    visits = eff.visits_from_store(
        root or _NO_TRACKS, first - lookback, last, timezone=tz, cache_dir=request.cache_dir
    )
    in_range = pd.DatetimeIndex(visits["enter"]).tz_convert(tz).date >= first
    start_utc, end_utc = local_day_bounds(first, last, tz)
    live = inputs.assignments_overlapping(start_utc, end_utc)
    beats = live.sort_values("valid_from").drop_duplicates("cell", keep="last")[["cell", "inspector_id"]]
    cells = _effectiveness_cells(inputs, live, cases, visits)
    universe = cells["cell"].to_numpy()
    model = ctx.config.patrol.forecast_model
    cache.report(progress, "expected_problems", 0.4)
    expected, source = eff.expected_problems(every, universe, first, last, model=model, timezone=tz)
    cache.report(progress, "attribution", 0.6)
    attribution = eff.attribute_cases(cases, visits, window_h=request.window_h, k=request.k)
    track_check = eff.reporter_track_check(cases, root, timezone=tz) if root is not None else None
    table = eff.effectiveness_table(
        cases, visits[in_range], request.by, attribution=attribution,
        events=repository_patrol.case_events(ctx.engine), cells=cells, beats=beats if len(beats) else None,
        expected=expected, track_check=track_check, window_h=request.window_h, k=request.k, timezone=tz,
    )  # fmt: skip
    if not in_range.any():  # no track: what tracks measure is unknown, not zero
        blank = [c for c in VISIT_COLUMNS if c in table.columns]
        table[blank] = np.nan
    if request.by == "cell":
        table.insert(1, "h3", cells_to_strings(table["cell"].to_numpy(dtype=np.int64)))
    cache.report(progress, "allocation_gap", 0.9)
    gap = None
    if request.gap:
        gap = eff.allocation_gap(visits[in_range], expected, cells=universe)
        gap["expected_source"] = source
    result = EffectivenessResult(
        table=table, gap=gap, expected_source=source, n_cases=len(cases),
        n_patrol=int((cases["source"] == "patrol").sum()), missed=int(table["missed"].fillna(0).sum()),
        n_visits=int(in_range.sum()), tracks_found=bool(in_range.any()),
        tracks_root=str(request.tracks or root or ""),
    )  # fmt: skip
    if save:
        frames = {"table": table, **({"gap": gap} if gap is not None else {})}
        names = [f.name for f in dataclasses.fields(result) if f.name not in ("table", "gap")]
        meta = {name: getattr(result, name) for name in names}
        cache.store(ctx, "effectiveness", request, frames, meta, version=version)
    cache.report(progress, "done", 1.0)
    return result


def _effectiveness_of(entry: cache.CachedEntry) -> EffectivenessResult:
    """The :class:`EffectivenessResult` of a cache entry."""
    fields = {f.name for f in dataclasses.fields(EffectivenessResult)}
    meta = {k: v for k, v in entry.meta.items() if k in fields and k not in ("table", "gap")}
    return EffectivenessResult(table=entry.frames["table"], gap=entry.frames.get("gap"), **meta)
