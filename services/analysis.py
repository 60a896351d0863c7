"""The planner's analyses of where problems are: hot spots, recurring problems, emerging hot spots.

One function per operation, each ``(ctx, request) -> result``. A request is a frozen dataclass of
:class:`services.study.AnalysisFilters` plus the analysis' own options (``None``: the city configuration's
default, :class:`grid.config.AnalysisConfig`). A result's ``to_frame()`` is the table the CLI writes and
the page shows (``cell`` int64, ``h3`` hex string, one row per cell, in the order shown); ``study`` says
which cell universe was used (:func:`services.study.study_area`) and ``cube`` what was counted.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from services.context import ServiceContext
from services.errors import ServiceError
from services.study import (
    ANALYSIS_ROLES,
    AnalysisFilters,
    CubeSummary,
    StudyArea,
    analysis_cube,
    load_cases,
    summary_of,
    with_h3,
)

__all__ = [
    "EmergingRequest",
    "EmergingResult",
    "HotspotRequest",
    "HotspotResult",
    "RecurringRequest",
    "RecurringResult",
    "emerging",
    "hotspots",
    "recurring",
]


@dataclasses.dataclass(frozen=True)
class HotspotRequest:
    """Gi* hot and cold spots of case counts summed over the selected periods and categories.

    ``k``: neighbourhood rings (default ``analysis.hotspot_k``; also the rings of the case hull when no
    areas are stored); ``min_area_cells``: the smallest hot-spot area listed; ``target``: what is counted,
    ``reported`` (every case, the default), ``citizen`` (patrol finds left out) or ``estimated`` (the
    exposure-aware rate, :mod:`services.exposure`; ``count`` is then a rate, float).
    """

    filters: AnalysisFilters = dataclasses.field(default_factory=AnalysisFilters)
    k: int | None = None
    min_area_cells: int = 3
    target: str | None = None


@dataclasses.dataclass(frozen=True)
class HotspotResult:
    """Gi* and Local Moran per cell (``table``, sorted by ``gi_z`` descending) and the hot-spot areas."""

    table: pd.DataFrame
    areas: pd.DataFrame
    study: StudyArea
    cube: CubeSummary
    k: int
    target: str = "reported"

    def to_frame(self) -> pd.DataFrame:
        """One row per cell: ``cell``, ``h3``, ``count``, the Gi* columns, ``lisa_quadrant``, …"""
        return self.table.copy()

    def class_counts(self) -> dict[str, int]:
        """Cells per Gi* class, hottest first."""
        from analytics.hotspots import GI_CLASSES

        counts = self.table["gi_class"].value_counts()
        return {name: int(counts.get(name, 0)) for name in GI_CLASSES}

    def shown(self) -> pd.DataFrame:
        """The cells a map draws: those with cases or a significant class."""
        table = self.table
        return table[(table["count"] > 0) | (table["gi_class"] != "not_significant")]

    def areas_frame(self) -> pd.DataFrame:
        """The areas as written to a file: ``cells`` as space-separated H3 strings, no ``peak_cell``."""
        from grid.cells import cells_to_strings

        cells = self.areas["cells"].map(lambda c: " ".join(cells_to_strings(np.asarray(c, dtype=np.int64))))
        return self.areas.assign(cells=cells).drop(columns="peak_cell")


def hotspots(ctx: ServiceContext, request: HotspotRequest) -> HotspotResult:
    """Getis-Ord Gi* (FDR-corrected classes, ``analysis.alpha``) and Local Moran's I of case counts, and the
    hot-spot areas (touching hot cells, most cases first) with their trends from 4 periods on."""
    from analytics.areas import MIN_TREND_PERIODS, area_trends, hotspot_areas
    from analytics.hotspots import cube_hotspots, local_moran
    from analytics.weights import disk_weights
    from services.exposure import check_target, target_cube

    ctx.require("run the planner's analyses", *ANALYSIS_ROLES)
    analysis = ctx.config.analysis
    filters = request.filters.resolved(ctx)
    target = check_target(request.target)
    k = analysis.hotspot_k if request.k is None else int(request.k)
    cube, study = analysis_cube(ctx, filters, rings=k)
    cube = target_cube(
        ctx, cube, load_cases(ctx), target=target, sources=filters.sources, categories=filters.categories
    )
    weights = disk_weights(cube.cells, k)
    gi = cube_hotspots(
        cube, k=k, weights=weights, alpha=analysis.alpha, permutations=analysis.permutations, seed=0
    )
    lisa = local_moran(gi.values, weights, permutations=0)
    counts = gi.values.astype("int64") if target != "estimated" else np.round(gi.values, 3)
    frame = gi.to_frame().assign(
        count=counts, lisa_quadrant=lisa.quadrant, lisa_cluster=lisa.cluster, lisa_p=lisa.p
    )
    frame = frame.sort_values(["gi_z", "cell"], ascending=[False, True], kind="stable")
    areas = hotspot_areas(gi, min_cells=request.min_area_cells)
    if cube.counts.shape[1] >= MIN_TREND_PERIODS:
        areas = area_trends(areas, cube, alpha=analysis.alpha)
    return HotspotResult(with_h3(frame), areas.reset_index(drop=True), study, summary_of(cube), k, target)


@dataclasses.dataclass(frozen=True)
class RecurringRequest:
    """Cells where problems come back: a period is active with at least ``min_count`` cases.

    ``last``: the last N periods (default all); ``min_share``: keep cells active in at least this share of
    them; ``by_category``: one row per cell and category.
    """

    filters: AnalysisFilters = dataclasses.field(default_factory=AnalysisFilters)
    last: int | None = None
    min_count: int = 1
    min_share: float = 0.0
    by_category: bool = False


@dataclasses.dataclass(frozen=True)
class RecurringResult:
    """The recurring cells ranked (share of active periods, current run, longest run, cases)."""

    table: pd.DataFrame
    n_periods: int
    study: StudyArea
    cube: CubeSummary

    def to_frame(self) -> pd.DataFrame:
        """``cell``, ``h3``, ``rank``, ``cases``, ``active_periods``, ``n_periods``, ``share``,
        ``longest_run``, ``current_run`` (``category`` with ``by_category``)."""
        return self.table.copy()


def recurring(ctx: ServiceContext, request: RecurringRequest) -> RecurringResult:
    """Recurring problems per cell (:func:`analytics.recurrence.recurrence`), the active cells ranked."""
    from analytics.recurrence import recurrence

    ctx.require("run the planner's analyses", *ANALYSIS_ROLES)
    filters = request.filters.resolved(ctx)
    cube, study = analysis_cube(
        ctx, filters, rings=ctx.config.analysis.hotspot_k, by_category=request.by_category
    )
    last = request.last
    if last is not None and last > len(cube.periods):
        raise ServiceError(
            "last_exceeds_periods",
            f"last {last} periods: only {len(cube.periods)} {cube.period}(s) are selected",
            last=last,
            n_periods=len(cube.periods),
        )
    result = recurrence(cube, last=last, min_count=request.min_count)
    frame = result.chronic(top=None, min_share=request.min_share)
    frame = frame[frame["active_periods"] > 0].reset_index(drop=True)
    frame["rank"] = np.arange(1, len(frame) + 1, dtype=np.int64)
    if not request.by_category:
        frame = frame.drop(columns="category")
    frame = frame[["cell", "rank", *[c for c in frame.columns if c not in ("cell", "rank")]]]
    return RecurringResult(with_h3(frame), len(result.periods), study, summary_of(cube))


@dataclasses.dataclass(frozen=True)
class EmergingRequest:
    """Emerging hot spots: space-time Gi* per period (``k`` rings, the current and ``time_step`` previous
    periods), a Mann–Kendall trend per cell and the ArcGIS Pro pattern."""

    filters: AnalysisFilters = dataclasses.field(default_factory=AnalysisFilters)
    k: int | None = None
    time_step: int = 1


@dataclasses.dataclass(frozen=True)
class EmergingResult:
    """The pattern of every cell (``table``: patterns in :data:`analytics.emerging.PATTERNS` order, then
    the final period's ``gi_z`` descending; ``no_pattern`` last)."""

    table: pd.DataFrame
    study: StudyArea
    cube: CubeSummary

    def to_frame(self) -> pd.DataFrame:
        """``cell``, ``h3``, ``count``, ``pattern``, ``trend_tau``, ``trend_z``, ``trend_p``, ``hot_periods``,
        ``cold_periods``, ``gi_z``, ``gi_p``."""
        return self.table.copy()

    def pattern_counts(self) -> dict[str, int]:
        """Cells per pattern present (in :data:`analytics.emerging.PATTERNS` order)."""
        from analytics.emerging import PATTERNS

        counts = self.table["pattern"].value_counts()
        return {name: int(counts[name]) for name in PATTERNS if counts.get(name, 0)}

    def shown(self) -> pd.DataFrame:
        """The cells a map draws: those with cases or a pattern."""
        table = self.table
        return table[(table["count"] > 0) | (table["pattern"] != "no_pattern")]


def emerging(ctx: ServiceContext, request: EmergingRequest) -> EmergingResult:
    """Emerging hot spot analysis (:func:`analytics.emerging.emerging_hotspots`, ``analysis.alpha``).

    Needs at least 10 periods and 60 cases (ServiceError ``too_few_periods`` / ``too_few_cases`` otherwise).
    """
    from analytics.emerging import MIN_EVENTS, MIN_PERIODS, emerging_hotspots

    ctx.require("run the planner's analyses", *ANALYSIS_ROLES)
    analysis = ctx.config.analysis
    filters = request.filters.resolved(ctx)
    k = analysis.hotspot_k if request.k is None else int(request.k)
    cube, study = analysis_cube(ctx, filters, rings=k)
    n_periods = cube.counts.shape[1]
    if n_periods < MIN_PERIODS:
        raise ServiceError(
            "too_few_periods",
            f"too few periods for a trend: {n_periods} {cube.period}(s), at least {MIN_PERIODS} are needed",
            periods=n_periods,
            needed=MIN_PERIODS,
        )
    if cube.n_cases < MIN_EVENTS:
        raise ServiceError(
            "too_few_cases",
            f"too few cases: {cube.n_cases}, at least {MIN_EVENTS} are needed",
            cases=cube.n_cases,
            needed=MIN_EVENTS,
        )
    result = emerging_hotspots(cube, k=k, time_step=request.time_step, alpha=analysis.alpha)
    frame = result.to_frame()
    frame = frame.assign(_order=frame["pattern"].cat.codes).sort_values(
        ["_order", "gi_z", "cell"], ascending=[True, False, True], kind="stable"
    )
    return EmergingResult(with_h3(frame.drop(columns="_order")), study, summary_of(cube))
