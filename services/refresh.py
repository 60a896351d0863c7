"""``gridpatrol refresh``: compute the slow answers once, after an import or nightly, into the cache.

The answers are those the pages ask for first (their default widgets): the Coverage page's coverage
report and effectiveness for the last week of tracks (:func:`default_coverage_range`), and the Forecast
page's forecast with the default filters (:func:`default_forecast_filters`) for the learned models and
the configured one at the default horizon. The services read them back when a request matches
(:mod:`services.cache`); older data versions are removed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time

import pandas as pd

from services import cache
from services.cache import Progress
from services.context import ServiceContext
from services.errors import ServiceError

__all__ = [
    "RefreshRequest",
    "RefreshResult",
    "default_coverage_range",
    "default_forecast_filters",
    "refresh",
]

#: Days of the Coverage page's default range (the last week of tracks).
COVERAGE_DAYS = 7


@dataclasses.dataclass(frozen=True)
class RefreshRequest:
    """What to precompute: ``models`` None: the learned models (those not in
    :data:`services.forecasting.FAST_MODELS`) and the configured one; ``()``: no forecast."""

    models: tuple[str, ...] | None = None
    horizon: int = 1
    coverage: bool = True
    prune: bool = True
    force: bool = False  #: recompute the answers already stored at the present data version


@dataclasses.dataclass(frozen=True)
class RefreshResult:
    """One row per answer (``to_frame()``: ``kind``, ``what``, ``status`` ``stored`` / ``cached``
    (already stored at this data version) / ``skipped``,
    ``seconds``, ``note``), the data version they were stored at, how many stale versions were removed."""

    entries: pd.DataFrame
    version: str
    pruned: int

    def to_frame(self) -> pd.DataFrame:
        return self.entries.copy()


def default_coverage_range(ctx: ServiceContext) -> tuple[dt.date, dt.date] | None:
    """The Coverage page's default days: the last :data:`COVERAGE_DAYS` of the track store (None: no
    track)."""
    from services.coverage import track_span

    span = track_span(ctx)
    if span is None:
        return None
    first, last = span
    return max(first, last - dt.timedelta(days=COVERAGE_DAYS - 1)), last


def default_forecast_filters(ctx: ServiceContext):
    """The planner's filter bar untouched: the configured resolution and period, every category and
    source, the cases' first to last day (:class:`services.study.AnalysisFilters`)."""
    from services.study import AnalysisFilters, planner_options

    options = planner_options(ctx)
    return AnalysisFilters(
        options.resolution, options.periods[0], (), (), options.first_day, options.last_day
    )


def _models(ctx: ServiceContext, request: RefreshRequest) -> tuple[str, ...]:
    from services.forecasting import FAST_MODELS, forecast_models

    if request.models is not None:
        return tuple(request.models)
    choices, default = forecast_models(ctx)
    learned = [m for m in choices if m not in FAST_MODELS and m != "auto"]
    return tuple(dict.fromkeys([default, *learned]))


def refresh(
    ctx: ServiceContext, request: RefreshRequest, *, progress: Progress | None = None
) -> RefreshResult:
    """Compute and store the default answers of the Coverage and Forecast pages; remove stale entries.

    A part that cannot be computed (no track, no case in the range, too few periods) is ``skipped`` with
    its reason; the others are still stored."""
    from services.coverage import CoverageRequest, EffectivenessRequest, coverage_report, effectiveness
    from services.forecasting import ForecastRequest, forecast

    ctx.require("refresh the precomputed results", "admin")
    version = cache.data_version(ctx)
    if request.force:
        cache.drop(ctx, version)
    jobs: list[tuple[str, str, object]] = []
    if request.coverage:
        days = default_coverage_range(ctx)
        if days is None:
            jobs.append(("coverage", "", None))
        else:
            never = ctx.config.patrol.never_visited_days
            cover = CoverageRequest(days[0], days[1], freq="D", never_days=never)
            jobs.append(
                (
                    "coverage",
                    f"{days[0]} … {days[1]}",
                    lambda p: coverage_report(ctx, cover, progress=p, save=True),
                )
            )
            eff = EffectivenessRequest(days[0], days[1])
            jobs.append(
                (
                    "effectiveness",
                    f"{days[0]} … {days[1]}",
                    lambda p: effectiveness(ctx, eff, progress=p, save=True),
                )
            )
    models = _models(ctx, request)
    if models:
        try:
            filters = default_forecast_filters(ctx)
        except ServiceError as exc:
            jobs.append(("forecast", ", ".join(models), exc))
        else:
            for model in models:
                ask = ForecastRequest(filters, model=model, horizon=int(request.horizon))
                jobs.append(("forecast", model, lambda p, ask=ask: forecast(ctx, ask, progress=p, save=True)))
    rows = []
    for index, (kind, what, job) in enumerate(jobs):
        cache.report(progress, kind, index / max(len(jobs), 1))
        began = time.perf_counter()
        status, note = "stored", ""
        if job is None:
            status, note = "skipped", "no patrol tracks found"
        elif isinstance(job, ServiceError):
            status, note = "skipped", str(job)
        else:
            steps: list[str] = []
            try:
                job(lambda step, fraction, seen=steps: seen.append(step))
                status = "stored" if steps else "cached"
            except ServiceError as exc:
                status, note = "skipped", str(exc)
        seconds = round(time.perf_counter() - began, 2)
        rows.append({"kind": kind, "what": what, "status": status, "seconds": seconds, "note": note})
    pruned = cache.prune(ctx, keep=version) if request.prune else 0
    cache.report(progress, "done", 1.0)
    entries = pd.DataFrame(rows, columns=["kind", "what", "status", "seconds", "note"])
    return RefreshResult(entries, version, pruned)
