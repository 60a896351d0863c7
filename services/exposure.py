"""What a planner analysis counts (issue #24): every case, citizen reports only, or the estimated rate.

``target="reported"`` (the default) counts every case, patrol finds included, as before; ``"citizen"``
leaves the patrol finds out; ``"estimated"`` counts the exposure-aware rate of
:mod:`analytics.exposure`: citizen reports and patrol finds per patrol-minute of presence, the presence
read from the track store (:meth:`services.context.ServiceContext.tracks_root`). Hot spots, forecasts and
backtests call :func:`target_cube` on the cube they would have counted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd

from analytics.cube import CaseCube
from analytics.exposure import (
    CITIZEN_SOURCES,
    PATROL_SOURCE,
    TARGETS,
    ExposureInputs,
    adjusted_cube,
    exposure_inputs,
)
from services.context import ServiceContext
from services.errors import ServiceError
from services.study import ANALYSIS_ROLES, AnalysisFilters, CubeSummary, StudyArea, load_cases, with_h3

__all__ = [
    "DEFAULT_TARGET",
    "TARGETS",
    "ExposureRequest",
    "ExposureResult",
    "check_target",
    "complete_target_cube",
    "exposure_rates",
    "presence_frame",
    "target_cube",
    "target_forecast",
]

#: The target when none is asked for: the backtest on the demo city has not shown a better one yet
#: (docs/concepts/exposure.md), so analyses count every case as before.
DEFAULT_TARGET = "reported"


def check_target(target: str | None) -> str:
    """``target`` (None: :data:`DEFAULT_TARGET`); ServiceError ``unknown_target`` when not in TARGETS."""
    if target is None:
        return DEFAULT_TARGET
    if target not in TARGETS:
        raise ServiceError(
            "unknown_target",
            f"unknown target {target!r}; choose one of {list(TARGETS)}",
            target=target,
            choices=", ".join(TARGETS),
        )
    return target


def presence_frame(ctx: ServiceContext, start: dt.date, end: dt.date) -> pd.DataFrame:
    """The fine coverage cube (cell × local day, ``seconds``) of the track store over ``[start, end]``;
    empty without a track store."""
    from patrol.scale import fine_cube_from_store

    root = ctx.tracks_root()
    if root is None:
        return pd.DataFrame({"cell": [], "period": [], "seconds": []})
    return fine_cube_from_store(root, start, end, timezone=ctx.timezone)


def _check_presence(inputs: ExposureInputs, first: dt.date, last: dt.date) -> None:
    """ServiceError ``no_patrol_presence`` when patrol finds are selected but no patrol minute is known."""
    if inputs.finds.sum() > 0 and inputs.minutes.sum() <= 0:
        raise ServiceError(
            "no_patrol_presence",
            f"no patrol track covers {first} … {last}: patrol finds cannot be put per patrol-hour; "
            "use the citizen target or load the tracks",
            start=str(first),
            end=str(last),
        )


def _citizen_sources(sources: tuple[str, ...]) -> list[str]:
    chosen = [s for s in (sources or CITIZEN_SOURCES) if s != PATROL_SOURCE]
    if not chosen:
        raise ServiceError(
            "empty_selection", "the citizen target leaves no source: only patrol finds were selected"
        )
    return chosen


def target_cube(
    ctx: ServiceContext,
    cube: CaseCube,
    cases: pd.DataFrame,
    *,
    target: str,
    sources: tuple[str, ...] = (),
    categories: tuple[str, ...] = (),
) -> CaseCube:
    """The cube of ``target`` over ``cube``'s cells and periods (``cube`` itself for ``reported``).

    ``cases`` is the store's cases (the contract of :func:`analytics.cube.build_cube`, with ``source``);
    ``sources`` and ``categories`` the filters the caller applied. ``estimated`` raises ServiceError
    ``no_patrol_presence`` when patrol finds are selected but no patrol presence is known for the range.
    """
    target = check_target(target)
    if target == "reported":
        return cube
    if sources:
        cases = cases[cases["source"].isin(list(sources)).to_numpy()]
    if target == "citizen":
        cases = cases[cases["source"].isin(_citizen_sources(sources)).to_numpy()]
    first, last = cube.periods[0].start_time.date(), cube.periods[-1].end_time.date()
    coverage = presence_frame(ctx, first, last) if target == "estimated" else None
    from analytics._validate import EmptySelectionError

    try:
        inputs = exposure_inputs(
            cases, cube.cells, coverage, period=cube.period, timezone=ctx.timezone, start=first, end=last,
            categories=list(categories) or None, calendar=cube.calendar,
        )  # fmt: skip
    except EmptySelectionError as exc:
        raise ServiceError("empty_selection", str(exc)) from exc
    if target == "estimated":
        _check_presence(inputs, first, last)
    out = adjusted_cube(inputs, "citizen" if target == "citizen" else "estimated")
    return dataclasses.replace(
        out, n_outside=cube.n_outside, n_flagged=cube.n_flagged, n_unlocated=cube.n_unlocated
    )


def _selected_cases(ctx: ServiceContext, filters: AnalysisFilters) -> pd.DataFrame:
    """The store's cases from ``filters.start`` on (the sources are applied by :func:`target_cube`)."""
    cases = load_cases(ctx)
    if filters.start is not None:
        cases = cases[(cases["reported_at"] >= pd.Timestamp(filters.start, tz=ctx.timezone)).to_numpy()]
    return cases


def complete_target_cube(
    ctx: ServiceContext, filters: AnalysisFilters, universe: np.ndarray, as_of: dt.date | None, target: str
) -> CaseCube:
    """The cube of ``target`` over ``universe`` and the complete periods up to ``as_of`` (what forecasts and
    backtests fit on); ServiceError ``no_complete_period`` when no period is whole."""
    from analytics._validate import EmptySelectionError, TooFewPeriodsError
    from analytics.cube import build_cube
    from analytics.forecast import complete_range
    from cases.calendar import working_calendar

    try:
        first, last, cases = complete_range(
            _selected_cases(ctx, filters), filters.period, ctx.timezone, as_of
        )
        cube = build_cube(
            cases, universe, period=filters.period, timezone=ctx.timezone,
            categories=list(filters.categories) or None, start=first, end=last,
            sources=list(filters.sources) or None, calendar=working_calendar(ctx.config),
        )  # fmt: skip
    except (TooFewPeriodsError, EmptySelectionError) as exc:
        raise ServiceError("no_complete_period", str(exc), period=filters.period) from exc
    return target_cube(
        ctx, cube, cases, target=target, sources=filters.sources, categories=filters.categories
    )


def target_forecast(
    ctx: ServiceContext,
    filters: AnalysisFilters,
    universe: np.ndarray,
    *,
    model: str,
    horizon: int,
    as_of: dt.date | None,
    target: str,
) -> pd.DataFrame:
    """The forecast table (as :func:`analytics.forecast.forecast_cells`, with ``h3``) of ``model`` fitted on
    the ``target`` cube: ``expected`` is in that target's unit (cases, citizen reports, or the estimated
    rate in citizen reports per period)."""
    from analytics._features import ring_matrices
    from analytics._validate import TooFewPeriodsError
    from analytics.forecast import choose_model, forecast_frame, make_model

    cube = complete_target_cube(ctx, filters, universe, as_of, target)
    rings = ring_matrices(cube.cells)
    name = choose_model(cube, horizon=horizon, n_origins=6, rings=rings) if model == "auto" else model
    try:
        fitted = make_model(name).fit(cube, horizon=horizon, rings=rings)
    except TooFewPeriodsError as exc:
        raise ServiceError("no_complete_period", str(exc), period=filters.period) from exc
    frame = forecast_frame(cube.cells, fitted.predict(), cube.periods[-1] + horizon, cube.period, name)
    frame["period_start"] = frame["period_start"].dt.strftime("%Y-%m-%d")
    return with_h3(frame)


@dataclasses.dataclass(frozen=True)
class ExposureRequest:
    """The exposure-aware rate per cell over ``filters`` (:class:`analytics.exposure.ExposureRateEstimator`).

    ``k``: rings of the case hull when no areas are stored (default ``analysis.hotspot_k``); ``level``: mass
    of the credible interval; ``half_life``: discount of older periods (periods; None: none).
    """

    filters: AnalysisFilters = dataclasses.field(default_factory=AnalysisFilters)
    k: int | None = None
    level: float = 0.9
    half_life: float | None = None


@dataclasses.dataclass(frozen=True)
class ExposureResult:
    """One row per cell (``table``, highest estimated rate first), κ and what was counted."""

    table: pd.DataFrame
    kappa: float
    study: StudyArea
    cube: CubeSummary

    def to_frame(self) -> pd.DataFrame:
        """``cell``, ``h3``, ``cases`` (every case), ``exposure_citizen`` (citizen reports),
        ``exposure_finds`` (patrol finds), ``patrol_minutes``, ``exposure_rate`` (posterior mean, citizen
        reports per period), ``exposure_rate_lower``, ``exposure_rate_upper`` (credible bounds),
        ``exposure_shrinkage`` (weight of the city mean, 0–1)."""
        return self.table.copy()


def exposure_rates(ctx: ServiceContext, request: ExposureRequest) -> ExposureResult:
    """Citizen reports, patrol finds, patrol minutes and the estimated rate with its interval per cell.

    ServiceError ``bad_request`` for a ``level`` outside (0, 1) or a ``half_life`` <= 0;
    ``no_patrol_presence`` when patrol finds are selected but no track covers the range.
    """
    from analytics.exposure import ExposureRateEstimator
    from services.study import analysis_cube, summary_of

    ctx.require("run the planner's analyses", *ANALYSIS_ROLES)
    filters = request.filters.resolved(ctx)
    k = ctx.config.analysis.hotspot_k if request.k is None else int(request.k)
    try:
        estimator = ExposureRateEstimator(level=request.level, half_life=request.half_life)
    except ValueError as exc:
        raise ServiceError("bad_request", str(exc), error=str(exc)) from exc
    cube, study = analysis_cube(ctx, filters, rings=k)
    cases = load_cases(ctx)
    if filters.sources:
        cases = cases[cases["source"].isin(list(filters.sources)).to_numpy()]
    first, last = cube.periods[0].start_time.date(), cube.periods[-1].end_time.date()
    inputs = exposure_inputs(
        cases, cube.cells, presence_frame(ctx, first, last), period=cube.period, timezone=ctx.timezone,
        start=first, end=last, categories=list(filters.categories) or None,
    )  # fmt: skip
    _check_presence(inputs, first, last)
    estimator.fit(inputs.citizen, inputs.finds, inputs.minutes)
    frame = pd.DataFrame(
        {
            "cell": cube.cells,
            "cases": cube.total().sum(axis=1),
            "exposure_citizen": inputs.citizen.sum(axis=1).astype(np.int64),
            "exposure_finds": inputs.finds.sum(axis=1).astype(np.int64),
            "patrol_minutes": inputs.minutes.sum(axis=1),
            "exposure_rate": estimator.mean_,
            "exposure_rate_lower": estimator.lower_,
            "exposure_rate_upper": estimator.upper_,
            "exposure_shrinkage": estimator.shrinkage_,
        }
    ).sort_values(["exposure_rate", "cell"], ascending=[False, True], kind="stable")
    return ExposureResult(with_h3(frame), float(estimator.kappa_), study, summary_of(cube))
