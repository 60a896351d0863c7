"""The planner's forecasts: expected cases per cell next period, and the backtest that measures them.

Both read the store's cases over the study area of :func:`services.study.study_area` and keep the
complete periods only (:func:`analytics.forecast.complete_range`), in the city's zone. The model is
decided here: ``None`` is the city's configured model (``patrol.forecast_model``, the one routes and
beats use); ``"auto"`` backtests every model on the city's own history and keeps the best PAI at 5 %.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd

from cases.calendar import working_calendar
from services import cache
from services.cache import Progress
from services.context import ServiceContext
from services.errors import ServiceError
from services.study import (
    ANALYSIS_ROLES,
    AnalysisFilters,
    CubeSummary,
    StudyArea,
    load_cases,
    study_area,
    summary_of,
    with_h3,
)

__all__ = [
    "BACKTEST_COLUMNS",
    "FAST_MODELS",
    "BacktestRequest",
    "BacktestResult",
    "ForecastRequest",
    "ForecastResult",
    "backtest",
    "forecast",
    "forecast_models",
]

#: Leading columns of the backtest table (issue #6); more metrics follow.
BACKTEST_COLUMNS = ("model", "origin", "hit_rate_1", "pai_1", "pai_2", "pai_5", "pai_10", "pei_5", "deviance")
#: Models that answer in a fraction of a second (the learned ones and ``auto`` take a minute or more).
FAST_MODELS = ("baseline_last", "baseline_ma4", "baseline_mean", "baseline_kde")


def forecast_models(ctx: ServiceContext) -> tuple[tuple[str, ...], str]:
    """(the model choices, fast ones first, then the slow ones and ``auto``; the configured default)."""
    from analytics.forecast import MODELS

    fast = [m for m in MODELS if m in FAST_MODELS]
    return (*fast, *(m for m in MODELS if m not in FAST_MODELS), "auto"), ctx.config.patrol.forecast_model


@dataclasses.dataclass(frozen=True)
class ForecastRequest:
    """Expected cases per cell ``horizon`` periods after the last complete one.

    ``model``: a name of :data:`analytics.forecast.MODELS` or ``"auto"`` (default the configured model);
    ``as_of``: forecast as on this local day (later cases ignored; default ``filters.end``, else the last
    case); ``k``: rings of the case hull when no areas are stored (default ``analysis.hotspot_k``).
    ``filters.start`` drops earlier cases; the periods are complete ones.
    """

    filters: AnalysisFilters = dataclasses.field(default_factory=AnalysisFilters)
    model: str | None = None
    horizon: int = 1
    as_of: dt.date | None = None
    k: int | None = None
    #: What is forecast: ``reported`` (every case; None: the default), ``citizen`` or ``estimated``
    #: (:mod:`services.exposure`).
    target: str | None = None


@dataclasses.dataclass(frozen=True)
class ForecastResult:
    """The forecast (``table``, sorted by rank) and the universe it covers."""

    table: pd.DataFrame
    study: StudyArea
    model: str
    period: str
    target: str = "reported"

    def to_frame(self) -> pd.DataFrame:
        """``cell``, ``h3``, ``period`` (label), ``period_start`` (``YYYY-MM-DD``), ``expected``, ``rank``
        (1 = highest, ties share it), ``risk`` (expected / max), ``model``."""
        return self.table.copy()


def _check_model(name: str, *, auto: bool) -> None:
    from analytics.forecast import MODELS

    if name not in MODELS and not (auto and name == "auto"):
        choices = ["auto", *MODELS] if auto else list(MODELS)
        raise ServiceError("unknown_model", f"unknown model {name!r}; choose one of {choices}", model=name)


def _selected_cases(ctx: ServiceContext, filters: AnalysisFilters) -> pd.DataFrame:
    cases = load_cases(ctx)
    if filters.sources:
        cases = cases[cases["source"].isin(filters.sources)]
    if filters.start is not None:
        start = pd.Timestamp(filters.start, tz=ctx.timezone)
        cases = cases[(cases["reported_at"] >= start).to_numpy()]
    return cases


def forecast(
    ctx: ServiceContext, request: ForecastRequest, *, progress: Progress | None = None, save: bool = False
) -> ForecastResult:
    """Expected cases per cell in the next period, ranked (:func:`analytics.forecast.forecast_cells`).

    Read from the cache (:mod:`services.cache`) when ``gridpatrol refresh`` stored this request (its
    defaults resolved) at the store's present data version; else computed, telling ``progress(step,
    fraction)``. ``save``: also store a computed answer in the cache."""
    from analytics.forecast import forecast_cells

    ctx.require("run the planner's analyses", *ANALYSIS_ROLES)
    filters = request.filters.resolved(ctx)
    model = request.model or ctx.config.patrol.forecast_model
    _check_model(model, auto=True)
    k = ctx.config.analysis.hotspot_k if request.k is None else int(request.k)
    version, key = cache.data_version(ctx), dataclasses.replace(request, filters=filters, model=model, k=k)
    hit = cache.load(ctx, "forecast", key, version=version)
    if hit is not None:
        return _forecast_of(hit)
    cache.report(progress, "read_cases", 0.05)
    universe, study = study_area(ctx, load_cases(ctx), filters.resolution, k)
    as_of = request.as_of if request.as_of is not None else filters.end
    from analytics._validate import EmptySelectionError, TooFewPeriodsError

    cache.report(progress, "fit_model", 0.2)
    if request.target not in (None, "reported"):  # issue #24: citizen reports or the estimated rate
        from services.exposure import check_target, target_forecast

        target = check_target(request.target)
        table = target_forecast(
            ctx, filters, universe, model=model, horizon=request.horizon, as_of=as_of, target=target
        )
        return ForecastResult(table, study, str(table["model"].iloc[0]), str(table["period"].iloc[0]), target)

    try:
        frame = forecast_cells(
            _selected_cases(ctx, filters),
            universe,
            period=filters.period,
            horizon=request.horizon,
            model=model,
            timezone=ctx.timezone,
            as_of=as_of,
            categories=list(filters.categories) or None,
            calendar=working_calendar(ctx.config),
        )
    except (TooFewPeriodsError, EmptySelectionError) as exc:  # no whole period before as_of, no case
        raise ServiceError("no_complete_period", str(exc), period=filters.period) from exc
    frame["period_start"] = frame["period_start"].dt.strftime("%Y-%m-%d")  # plain text for CSV and GeoJSON
    table = with_h3(frame)
    result = ForecastResult(table, study, str(table["model"].iloc[0]), str(table["period"].iloc[0]))
    if save:
        meta = {"study": dataclasses.asdict(study), "model": result.model, "period": result.period}
        cache.store(ctx, "forecast", key, {"table": table}, meta, version=version)
    cache.report(progress, "done", 1.0)
    return result


def _forecast_of(entry: cache.CachedEntry) -> ForecastResult:
    """The :class:`ForecastResult` of a cache entry."""
    meta = entry.meta
    return ForecastResult(entry.frames["table"], StudyArea(**meta["study"]), meta["model"], meta["period"])


@dataclasses.dataclass(frozen=True)
class BacktestRequest:
    """Rolling-origin backtest of ``models`` (default all) over the last ``n_origins`` periods."""

    filters: AnalysisFilters = dataclasses.field(default_factory=AnalysisFilters)
    models: tuple[str, ...] = ()
    n_origins: int = 12
    horizon: int = 1
    as_of: dt.date | None = None
    k: int | None = None
    #: ``reported`` (None: the default), ``citizen`` or ``estimated``: fitted and scored on that target.
    target: str | None = None


@dataclasses.dataclass(frozen=True)
class BacktestResult:
    """One row per model and held-out period (``table``), the summary per model, the hit-rate curve."""

    table: pd.DataFrame
    summary: pd.DataFrame
    curve: pd.DataFrame
    models: tuple[str, ...]
    study: StudyArea
    cube: CubeSummary
    res: int
    target: str = "reported"

    def to_frame(self) -> pd.DataFrame:
        """:data:`BACKTEST_COLUMNS`, then ``trained_through``, ``cases``, the other rates, ``mae``,
        ``seconds``."""
        return self.table.copy()


def backtest(ctx: ServiceContext, request: BacktestRequest) -> BacktestResult:
    """Hit rate, PAI, PEI at 1/2/5/10 % of the area, Poisson deviance and MAE of each model, each refitted on
    the periods before each held-out one (:func:`analytics.evaluation.backtest`)."""
    from analytics._features import ring_matrices
    from analytics.cube import build_cube
    from analytics.evaluation import backtest as run_backtest
    from analytics.evaluation import summarise
    from analytics.forecast import MODELS, complete_range

    ctx.require("run the planner's analyses", *ANALYSIS_ROLES)
    filters = request.filters.resolved(ctx)
    names = tuple(request.models) or tuple(MODELS)
    for name in names:
        _check_model(name, auto=False)
    k = ctx.config.analysis.hotspot_k if request.k is None else int(request.k)
    universe, study = study_area(ctx, load_cases(ctx), filters.resolution, k)
    as_of = request.as_of if request.as_of is not None else filters.end
    first, last, cases = complete_range(_selected_cases(ctx, filters), filters.period, ctx.timezone, as_of)
    cube = build_cube(
        cases, universe, period=filters.period, timezone=ctx.timezone,
        categories=list(filters.categories) or None, by_category=True, start=first, end=last,
        calendar=working_calendar(ctx.config),
    )  # fmt: skip
    target = "reported"
    if request.target not in (None, "reported"):  # issue #24: fitted and scored on another target
        from services.exposure import check_target, complete_target_cube

        target = check_target(request.target)
        cube = complete_target_cube(ctx, filters, universe, as_of, target)
    table = run_backtest(
        cube,
        list(names),
        n_origins=request.n_origins,
        horizon=request.horizon,
        rings=ring_matrices(cube.cells),
        curve_areas=np.linspace(0.005, 0.3, 60),
    )
    curve = table.attrs.pop("curve")
    table = table[[*BACKTEST_COLUMNS, *[c for c in table.columns if c not in BACKTEST_COLUMNS]]]
    return BacktestResult(
        table.reset_index(drop=True), summarise(table), curve, names, study, summary_of(cube), cube.res,
        target,
    )  # fmt: skip
