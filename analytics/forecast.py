"""Forecasting next period's problem cells: baselines, a learned Poisson model and one function for callers.

The forecasters (``baseline_last``, ``baseline_ma4``, ``baseline_mean``, ``baseline_kde``, ``poisson_gbm``,
``ensemble``), their scikit-learn-like protocol and the leak-free contract of ``fit(cube, until=t)`` are
described in :mod:`analytics.forecast_models`.

:func:`forecast_cells` is the one function route suggestion, deployment and effectiveness call;
:func:`choose_model` picks a model by backtest. The estimators and their registry are
:mod:`analytics.forecast_models` (re-exported here), their scores :mod:`analytics.forecast_metrics`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
from numpy.typing import ArrayLike

from analytics._features import Rings, ring_matrices
from analytics._validate import TooFewPeriodsError, check_choice, check_int
from analytics.cube import PERIOD_FREQ, CaseCube, build_cube
from analytics.evaluation import backtest
from analytics.forecast_models import _GBM_CACHE as _GBM_CACHE  # re-exported (benchmarks clear it)
from analytics.forecast_models import (
    BASELINES,
    MODELS,
    Ensemble,
    FloatArray,
    Forecaster,
    KernelDensity,
    LastPeriod,
    LongRunMean,
    MovingAverage,
    PoissonGBM,
    make_model,
    period_label,
    shrunk_mean,
)
from cases.calendar import WorkingCalendar
from grid.config import DEFAULT_TIMEZONE

__all__ = [
    "BASELINES",
    "MODELS",
    "Ensemble",
    "Forecaster",
    "KernelDensity",
    "LastPeriod",
    "LongRunMean",
    "MovingAverage",
    "PoissonGBM",
    "forecast_cells",
    "make_model",
    "period_label",
    "shrunk_mean",
]

#: Forecast columns returned by :func:`forecast_cells`.
FORECAST_COLUMNS = ("cell", "period", "period_start", "expected", "rank", "risk", "model")


def complete_range(
    cases: pd.DataFrame, period: str, timezone: str, as_of: object = None
) -> tuple[dt.date, dt.date, pd.DataFrame]:
    """(first day, last day, cases) spanning only the periods fully covered by the cases up to ``as_of``.

    A period counts as complete when the data reach its last local day; a partly covered first or last
    period would look like a drop in counts. Cases after ``as_of`` (a local date or time, inclusive of
    that day) are removed before anything else, so nothing after ``as_of`` can influence a forecast.
    """
    period = check_choice(period, "period", PERIOD_FREQ)
    times = pd.to_datetime(cases["reported_at"])
    if times.dt.tz is None:
        msg = "`cases['reported_at']` is naive: times must be tz-aware (stored in UTC)"
        raise ValueError(msg)
    local = times.dt.tz_convert(timezone).dt.tz_localize(None)
    if as_of is not None:
        stamp = pd.Timestamp(as_of)
        if stamp.tzinfo is not None:
            stamp = stamp.tz_convert(timezone).tz_localize(None)
        limit = stamp.normalize() + pd.Timedelta(days=1) if stamp == stamp.normalize() else stamp
        keep = (local < limit).to_numpy()
        cases, local = cases.loc[keep], local[keep]
        last_day = (limit - pd.Timedelta(microseconds=1)).normalize()
    else:
        last_day = local.max().normalize()
    if local.empty:
        msg = "no case before `as_of`; nothing to forecast from"
        raise TooFewPeriodsError(msg)
    freq = PERIOD_FREQ[period]
    first_p = local.min().to_period(freq)
    if local.min().normalize() > first_p.start_time.normalize():
        first_p += 1
    last_p = last_day.to_period(freq)
    if last_day < last_p.end_time.normalize():
        last_p -= 1
    if last_p < first_p:
        msg = f"the cases cover no complete {period}; forecasting needs whole periods"
        raise TooFewPeriodsError(msg)
    return first_p.start_time.date(), last_p.end_time.date(), cases


def forecast_cells(
    cases: pd.DataFrame,
    cells: ArrayLike | pd.DataFrame,
    *,
    period: str = "week",
    horizon: int = 1,
    model: str = "auto",
    timezone: str = DEFAULT_TIMEZONE,
    as_of: object = None,
    categories: Sequence[str] | None = None,
    auto_origins: int = 6,
    calendar: WorkingCalendar | None = None,
) -> pd.DataFrame:
    """Expected cases per cell in the next period: the one function route suggestion and deployment call.

    Parameters
    ----------
    cases
        The ``cases`` contract (``cell``, ``reported_at`` tz-aware, ``category_code``, optional
        ``location_flag``: default-geocode rows are left out, as in the cube).
    cells
        The cell universe (int64 H3 cells or a DataFrame with ``cell``), as for
        :func:`analytics.cube.build_cube`; the output has one row per universe cell.
    period
        ``"day"``, ``"week"`` (ISO) or ``"month"`` in ``timezone``.
    horizon
        1 = the period right after the last complete one, 2 = the one after, …
    model
        A name of :data:`MODELS`, or ``"auto"``: the model with the best mean PAI at 5 % area over a
        rolling-origin backtest of the last ``auto_origins`` periods of this city's own history (falls back
        to ``baseline_mean`` when the history is too short for a backtest).
    as_of
        Forecast as if today were this local date/time: later cases are ignored. Default: the last case.
    categories
        Category codes or class prefixes to forecast (default all), as in ``build_cube``.
    auto_origins
        Backtest origins for ``model="auto"``.
    calendar
        The city's working calendar (holiday features); default the Chinese calendar in ``timezone``.

    Returns
    -------
    pandas.DataFrame
        One row per universe cell, sorted by ``rank``: ``cell`` (int64), ``period`` (the forecast period's
        label: ISO week ``YYYY-Www``, day ``YYYY-MM-DD`` or month ``YYYY-MM``), ``period_start`` (its first
        local day, ``datetime64``), ``expected`` (float >= 0: expected cases in that period), ``rank``
        (int64, 1 = highest; tied cells share the best rank of their group — "competition" ranking — so
        two cells never look different when the model cannot tell them apart), ``risk`` (``expected``
        divided by the largest expected count: 0–1, 1 for the top cell) and ``model`` (the model used).

    Notes
    -----
    Only complete periods are used (a period is complete when the cases reach its last local day), so
    ``period`` is the ``horizon``-th period after the last complete one.
    """
    horizon = check_int(horizon, "horizon", low=1)
    first, last, cases = complete_range(cases, period, timezone, as_of)
    cube = build_cube(
        cases, cells, period=period, timezone=timezone, categories=categories, by_category=True,
        start=first, end=last, calendar=calendar,
    )  # fmt: skip
    rings = ring_matrices(cube.cells)
    name = model
    if model == "auto":
        name = choose_model(cube, horizon=horizon, n_origins=auto_origins, rings=rings)
    forecaster = make_model(name)
    try:
        forecaster.fit(cube, horizon=horizon, rings=rings)
    except TooFewPeriodsError:
        if model != "auto":
            raise
        name, forecaster = "baseline_mean", LongRunMean().fit(cube, horizon=horizon, rings=rings)
    expected = forecaster.predict()
    target = cube.periods[-1] + horizon
    return forecast_frame(cube.cells, expected, target, cube.period, name)


def forecast_frame(
    cells: npt.NDArray[np.int64], expected: FloatArray, target: pd.Period, kind: str, name: str
) -> pd.DataFrame:
    """The :func:`forecast_cells` table from a prediction vector (ranked, risk-scaled, sorted by rank)."""
    expected = np.asarray(expected, dtype=np.float64)
    top = expected.max() if expected.size else 0.0
    frame = pd.DataFrame(
        {
            "cell": np.asarray(cells, dtype=np.int64),
            "period": period_label(target, kind),
            "period_start": pd.Timestamp(target.start_time.date()),
            "expected": expected,
            "rank": competition_rank(expected),
            "risk": expected / top if top > 0 else np.zeros_like(expected),
            "model": name,
        }
    )
    return frame.sort_values(["rank", "cell"], kind="stable").reset_index(drop=True)


def competition_rank(score: ArrayLike) -> npt.NDArray[np.int64]:
    """1 + the number of strictly larger scores ("1224" ranking): ties share their best rank."""
    s = np.asarray(score, dtype=np.float64)
    order = np.sort(s)
    return (s.size - np.searchsorted(order, s, side="right") + 1).astype(np.int64)


def choose_model(
    cube: CaseCube,
    *,
    horizon: int = 1,
    n_origins: int = 6,
    candidates: Sequence[str] | None = None,
    rings: Rings | None = None,
) -> str:
    """The candidate with the best mean PAI at 5 % area over the last ``n_origins`` periods of ``cube``."""
    names = list(candidates) if candidates is not None else list(MODELS)
    n_t = cube.counts.shape[1]
    n_origins = min(n_origins, n_t - 8 - horizon + 1)
    if n_origins < 1:
        return "baseline_mean"
    table = backtest(cube, names, n_origins=n_origins, horizon=horizon, rings=rings)
    means = table.groupby("model", sort=False)["pai_5"].mean()
    return str(means.idxmax())
