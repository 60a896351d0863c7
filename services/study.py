"""What every planner analysis shares: the filters, the study area (the cell universe) and the cube.

The cell universe is decided here and nowhere else (DESIGN spine rule 4: the study area is the grid): the
cells of the stored areas at the requested resolution; only when the store holds no areas (a ``--cases
FILE`` run into a throw-away store) the cases' cells and ``k`` rings around them. Every result says which
universe it used (:class:`StudyArea`). Filters left ``None`` take the city configuration's defaults
(:class:`grid.config.AnalysisConfig`); periods are computed in the city's zone (``config.timezone``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from analytics.cube import PERIOD_FREQ, CaseCube, build_cube, universe_from_cases
from cases import repository
from services.context import ServiceContext
from services.errors import ServiceError

#: Roles that may run the planner's analyses (the system too: the CLI).
ANALYSIS_ROLES = ("planner", "manager", "admin")
#: Resolutions the planner's maps offer (the store keeps resolution 10).
RESOLUTIONS = (8, 9, 10)
PERIODS = ("week", "month", "day")
#: Seconds a read of the store (the cases, the areas' cells) is reused while its row counts are unchanged
#: (an update that changes no count, e.g. a re-import with ``--on-duplicate update``, shows after this).
READ_TTL_S = 300.0
_READS: dict[tuple, tuple[float, Any]] = {}


@dataclasses.dataclass(frozen=True)
class AnalysisFilters:
    """Which cases and at what grain: ``None`` means the city configuration's default.

    ``categories`` are category codes or class prefixes (``"06"``), ``sources`` case sources; empty means
    all. ``start`` and ``end`` are local days (inclusive) in the city's zone; ``None``: the cases' range.
    """

    resolution: int | None = None
    period: str | None = None
    categories: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    start: dt.date | None = None
    end: dt.date | None = None

    def resolved(self, ctx: ServiceContext) -> AnalysisFilters:
        """These filters with the configuration's defaults filled in."""
        analysis = ctx.config.analysis
        return dataclasses.replace(
            self,
            resolution=analysis.resolution if self.resolution is None else int(self.resolution),
            period=analysis.period if self.period is None else str(self.period),
        )


@dataclasses.dataclass(frozen=True)
class StudyArea:
    """The cell universe an analysis ran over: ``kind`` is ``"areas"`` (the cells of ``n_areas`` stored
    areas) or ``"case_hull"`` (no areas stored: the cases' cells and ``rings`` rings around them)."""

    kind: str
    res: int
    n_cells: int
    n_areas: int = 0
    rings: int = 0

    def describe(self) -> str:
        """One line for a log or a caption."""
        if self.kind == "areas":
            return f"{self.n_cells:,} cells of the {self.n_areas} stored area(s) at res {self.res}"
        return (
            f"{self.n_cells:,} cells at res {self.res}: the cases' cells and {self.rings} ring(s) around "
            "them (no areas stored)"
        )


@dataclasses.dataclass(frozen=True)
class CubeSummary:
    """What went into a cube: counted, outside the universe, flagged, its periods (city zone), and the
    selected cases without a location (counted in KPIs and workflow, not mapped)."""

    n_cases: int
    n_outside: int
    n_flagged: int
    period: str
    periods: tuple[str, ...]
    timezone: str
    n_unlocated: int = 0

    def describe(self) -> str:
        line = (
            f"{self.n_cases:,} case(s) × {len(self.periods)} {self.period}(s) ({self.periods[0]} … "
            f"{self.periods[-1]}, {self.timezone}); {self.n_outside:,} outside the universe, "
            f"{self.n_flagged:,} on a suspicious location cluster excluded"
        )
        if self.n_unlocated:
            line += f"; {self.n_unlocated:,} case(s) without a location not mapped"
        return line


def summary_of(cube: CaseCube) -> CubeSummary:
    """The :class:`CubeSummary` of ``cube``."""
    labels = tuple(str(p) for p in cube.periods)
    return CubeSummary(
        cube.n_cases, cube.n_outside, cube.n_flagged, cube.period, labels, cube.timezone, cube.n_unlocated
    )


def unlocated_count(ctx: ServiceContext, filters: AnalysisFilters, cases: pd.DataFrame | None = None) -> int:
    """Cases without a location (no cell) selected by ``filters``' categories, sources and local days:
    the store's, or those of ``cases`` (a frame with ``cell``, ``source``, ``category_code``,
    ``reported_at``) when given."""
    if cases is not None:
        frame = cases.loc[cases["cell"].isna().to_numpy()]
    else:
        frame = _cached_read(("unlocated", *_store_key(ctx)), lambda: repository.unlocated_cases(ctx.engine))
    if frame.empty:
        return 0
    keep = np.ones(len(frame), dtype=bool)
    if filters.sources:
        keep &= frame["source"].isin(list(filters.sources)).to_numpy()
    if filters.categories:
        codes = frame["category_code"].astype(str)
        chosen = np.zeros(len(frame), dtype=bool)
        for entry in filters.categories:
            chosen |= codes.str.startswith(entry).to_numpy()
        keep &= chosen
    days = pd.to_datetime(frame["reported_at"], utc=True).dt.tz_convert(ctx.timezone).dt.date
    if filters.start is not None:
        keep &= (days >= filters.start).to_numpy()
    if filters.end is not None:
        keep &= (days <= filters.end).to_numpy()
    return int(keep.sum())


@functools.lru_cache(maxsize=1)
def category_table() -> pd.DataFrame:
    """The shipped standard category table (:func:`cases.categories.load_categories`)."""
    from cases.categories import load_categories

    return load_categories()


def _cached_read(key: tuple, load: Callable[[], Any]) -> Any:
    """``load()``, reused for :data:`READ_TTL_S` seconds under ``key`` (which holds the store and its row
    counts, so an import or a new event is seen at once). The value is shared: read-only by contract."""
    now = time.monotonic()
    hit = _READS.get(key)
    if hit is not None and now - hit[0] < READ_TTL_S:
        return hit[1]
    value = load()
    if len(_READS) >= 16:
        _READS.clear()
    _READS[key] = (now, value)
    return value


def _store_key(ctx: ServiceContext) -> tuple:
    """The store and its data version: row counts of the main tables plus the largest ids of ``cases``,
    ``case_events`` and ``import_batches`` (:func:`cases.repository_version.store_fingerprint`), so an
    import (even one that replaces as many rows as it adds) is seen by the next read at once."""
    from cases.repository_version import store_fingerprint

    version = tuple(sorted((k, str(v)) for k, v in store_fingerprint(ctx.engine).items()))
    return (str(ctx.engine.url), tuple(sorted(repository.table_counts(ctx.engine).items())), version)


def load_cases(ctx: ServiceContext) -> pd.DataFrame:
    """The located cases of the store (shared, read-only); a ServiceError ``no_cases`` when there are none."""
    cases = _cached_read(("cases", *_store_key(ctx)), lambda: repository.cases_frame(ctx.engine))
    if cases.empty:
        msg = "empty selection: there are no located cases to analyse (import cases first)"
        raise ServiceError("no_cases", msg)
    return cases


def warm_up(ctx: ServiceContext) -> None:
    """Read the cases and the areas' cells at the configured resolution into the read cache (what a
    server does in the background while the first planner logs in)."""
    for res in dict.fromkeys((ctx.config.analysis.resolution, *RESOLUTIONS)):  # the configured one first
        _area_cells(ctx, res)
    load_cases(ctx)


def _area_cells(ctx: ServiceContext, res: int) -> tuple[np.ndarray, int]:
    """(the cells of the stored areas at ``res``, how many areas); no cells when no area is stored."""

    def load() -> tuple[np.ndarray, int]:
        areas = repository.load_areas(ctx.engine)
        if not len(areas):
            return np.empty(0, dtype=np.int64), 0
        from grid.build import cells_from_polygons

        # The study area is the union of the areas: the top level present covers the levels under it
        # (districts hold their subdistricts and communities), so only it is filled — a third of the work.
        levels = [lv for lv in ("district", "subdistrict", "community") if (areas["level"] == lv).any()]
        top = areas[areas["level"] == levels[0]] if levels else areas
        cells = np.unique(cells_from_polygons(top, res=res)["cell"].to_numpy(dtype=np.int64))
        return cells, len(areas)

    return _cached_read(("areas", int(res), *_store_key(ctx)), load)


def study_area(
    ctx: ServiceContext, cases: pd.DataFrame, res: int, rings: int
) -> tuple[np.ndarray, StudyArea]:
    """The cell universe at ``res``: the stored areas' cells, else the k-ring hull of ``cases``."""
    universe, n_areas = _area_cells(ctx, res)
    if n_areas:
        return universe, StudyArea("areas", int(res), len(universe), n_areas=n_areas)
    universe = universe_from_cases(cases, res, k=rings)
    return universe, StudyArea("case_hull", int(res), len(universe), rings=int(rings))


def analysis_cube(
    ctx: ServiceContext, filters: AnalysisFilters, *, rings: int, by_category: bool = False
) -> tuple[CaseCube, StudyArea]:
    """The cell × period cube of the store's cases under ``filters`` (resolved) over the study area."""
    from analytics._validate import EmptySelectionError

    cases = load_cases(ctx)
    universe, area = study_area(ctx, cases, filters.resolution, rings)
    try:
        cube = build_cube(
            cases,
            universe,
            period=filters.period,
            timezone=ctx.timezone,
            categories=list(filters.categories) or None,
            category_table=category_table(),
            by_category=by_category,
            sources=list(filters.sources) or None,
            start=filters.start,
            end=filters.end,
        )
    except EmptySelectionError as exc:  # no case in the range, categories and sources chosen
        raise ServiceError("empty_selection", str(exc)) from exc
    except ValueError as exc:  # an unknown category or source
        raise ServiceError("bad_request", str(exc), error=str(exc)) from exc
    cube = dataclasses.replace(cube, n_unlocated=unlocated_count(ctx, filters))
    return cube, area


def with_h3(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``cell`` int64 first and its hex string ``h3`` second; categoricals as text."""
    from grid.cells import cells_to_strings

    frame = frame.copy()
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.CategoricalDtype):
            frame[column] = frame[column].astype(str)
    frame["cell"] = frame["cell"].to_numpy(dtype=np.int64)
    frame["h3"] = cells_to_strings(frame["cell"].to_numpy())
    return frame[["cell", "h3", *[c for c in frame.columns if c not in ("cell", "h3")]]].reset_index(
        drop=True
    )


@dataclasses.dataclass(frozen=True)
class PlannerOptions:
    """What the planner's filter bar offers: the cases' first and last local days, the sources present,
    the category classes (code → name), the resolutions and periods, and the configured defaults (the
    resolution, the period, the time zone and the neighbourhood rings of Gi*)."""

    first_day: dt.date
    last_day: dt.date
    sources: tuple[str, ...]
    classes: dict[str, str]
    resolutions: tuple[int, ...]
    periods: tuple[str, ...]
    resolution: int
    period: str
    timezone: str
    hotspot_k: int


def planner_options(ctx: ServiceContext) -> PlannerOptions:
    """The filter bar's choices and defaults; ServiceError ``no_cases`` on a store without located cases."""
    from cases.models import CASE_SOURCES

    ctx.require("run the planner's analyses", *ANALYSIS_ROLES)
    cases = load_cases(ctx)
    # First and last local days from the extreme timestamps: ``.dt.date`` on every case would build a
    # Python date per row.
    stamps = cases["reported_at"]
    first, last = stamps.min().tz_convert(ctx.timezone).date(), stamps.max().tz_convert(ctx.timezone).date()
    seen = set(cases["source"].dropna().unique())
    table = category_table().drop_duplicates("class_code").set_index("class_code")["class_name_zh"]
    analysis = ctx.config.analysis
    resolutions = tuple(sorted({*RESOLUTIONS, analysis.resolution}))
    periods = (analysis.period, *(p for p in PERIODS if p != analysis.period))
    return PlannerOptions(
        first, last, tuple(s for s in CASE_SOURCES if s in seen), dict(sorted(table.to_dict().items())),
        resolutions, periods, analysis.resolution, analysis.period, ctx.timezone, analysis.hotspot_k,
    )  # fmt: skip


@dataclasses.dataclass(frozen=True)
class CellHistoryRequest:
    """One cell (at ``filters.resolution``) over the filters' date range and period."""

    cell: int
    filters: AnalysisFilters = dataclasses.field(default_factory=AnalysisFilters)


@dataclasses.dataclass(frozen=True)
class CellHistory:
    """Cases per period of one cell (``counts``: ``period_start``, ``cases``) and its cases (``cases``:
    display columns, newest first, times in the city's zone, the category's name; no phone)."""

    cell: int
    h3: str
    counts: pd.DataFrame
    cases: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """Cases per period: ``period_start`` (the period's first local day), ``cases``."""
        return self.counts.copy()


def cell_history(ctx: ServiceContext, request: CellHistoryRequest, *, limit: int = 500) -> CellHistory:
    """The history of ``request.cell``: cases per period over the date range, and the cases themselves."""
    from grid.cells import cells_to_parents, cells_to_strings

    ctx.require("run the planner's analyses", *ANALYSIS_ROLES)
    filters = request.filters.resolved(ctx)
    cases = load_cases(ctx)
    local = cases["reported_at"].dt.tz_convert(ctx.timezone)
    start = filters.start or local.min().date()
    end = filters.end or local.max().date()
    lo, hi = pd.Timestamp(start, tz=ctx.timezone), pd.Timestamp(end, tz=ctx.timezone) + pd.Timedelta(days=1)
    parents = cells_to_parents(cases["cell"].to_numpy(dtype=np.int64), filters.resolution)
    inside = (parents == request.cell) & (local >= lo).to_numpy() & (local < hi).to_numpy()
    freq = PERIOD_FREQ[filters.period]
    stamps = local[inside].dt.tz_localize(None).dt.to_period(freq)
    span = pd.period_range(pd.Period(start, freq), pd.Period(end, freq), freq=freq)
    counts = stamps.value_counts().reindex(span, fill_value=0)
    series = pd.DataFrame({"period_start": span.start_time, "cases": counts.to_numpy(dtype=np.int64)})
    rows = repository.case_rows(ctx.engine, cases.loc[inside, "case_id"].astype(str).tolist())
    if len(rows):
        rows["reported_at"] = rows["reported_at"].dt.tz_convert(ctx.timezone)
        names = category_table().set_index("code")["name_zh"]
        rows.insert(3, "category", rows["category_code"].map(names))
        rows = rows.sort_values("reported_at", ascending=False).head(limit).reset_index(drop=True)
    h3 = cells_to_strings(np.array([request.cell], dtype=np.int64))[0]
    return CellHistory(int(request.cell), h3, series, rows)


@dataclasses.dataclass(frozen=True)
class DisplayNames:
    """Names for the codes a table shows: departments (id → name), areas (id → name; districts,
    subdistricts, communities) and category codes (code → name; ``categories_en``: code → English name,
    from the category table's ``name_en`` when it has one)."""

    departments: dict[str, str]
    areas: dict[str, str]
    categories: dict[str, str]
    categories_en: dict[str, str] = dataclasses.field(default_factory=dict)


def display_names(ctx: ServiceContext) -> DisplayNames:
    """The store's department and area names and the category table's names (any signed-in role)."""
    import sqlalchemy as sa

    from cases.models import Area, Department

    with ctx.engine.connect() as conn:
        departments = dict(conn.execute(sa.select(Department.department_id, Department.name)).all())
        areas = dict(conn.execute(sa.select(Area.area_id, Area.name)).all())
    table = category_table()
    categories = dict(zip(table["code"], table["name_zh"], strict=True)) if "name_zh" in table else {}
    english = dict(zip(table["code"], table["name_en"], strict=True)) if "name_en" in table else {}
    return DisplayNames(departments, areas, categories, english)
