"""Forecasting next period's problem cells: baselines, a learned Poisson model and one function for callers.

Every forecaster follows a scikit-learn-like protocol on the case cube (:class:`analytics.cube.CaseCube`):
``fit(cube, until=t, horizon=h)`` learns from the periods ``[0, t)`` only and ``predict()`` returns the
expected number of cases per cell (shape ``(n_cells,)``, cube order) in period ``t + h - 1``. Nothing at or
after ``t`` is read, which is what makes the rolling-origin backtest (:mod:`analytics.evaluation`) honest.

Models (names as in the backtest table):

``baseline_last``
    The count of the last observed period.
``baseline_ma4``
    Mean of the last 4 periods (fewer when the history is shorter).
``baseline_mean``
    Long-run mean of the cell over the whole history.
``baseline_kde``
    Prospective hotspotting (Bowers, Johnson & Pease 2004; open_cp's ``ProspectiveHotSpot``) on the grid:
    each past case adds ``1 / (1 + d)`` to the cells ``d <= 2`` grid steps away, weighted by ``1 / (1 + l)``
    for a case ``l`` periods before the last one, over the last 8 periods; scaled so the city total equals
    the mean total of those periods.
``poisson_gbm``
    Histogram gradient boosting with a Poisson loss (scikit-learn) on leak-free features per cell and
    period (:func:`analytics._features.feature_matrix`): own lags 1–4 and moving means over 4–26 periods,
    the long-run mean and its shrinkage toward the neighbourhood, ring-1 and ring-2 means of the same,
    periods since the last case, share of active periods, the mix of the largest categories, the
    persistence-weighted recent deviation of every category from the cell's own mean (how long a surplus
    of that category has tended to last city-wide: a works site or a broken lamp keeps producing, a burst
    of small ads does not), the city-wide trend and holiday days. Trained on the most recent periods of the
    history (direct multi-step: the target is ``h`` periods after the features' origin).
``ensemble``
    The geometric blend ``mean^(1 - w) · gbm^w`` of the shrunk long-run mean and ``poisson_gbm``, rescaled
    to the gbm's city total, with ``w`` chosen inside ``fit`` by an inner validation on the last 4
    training periods (0, ¼, ½, ¾ or 1) — trees rank well where problems come and go, the long-run mean is
    the most stable signal where they do not.

:func:`forecast_cells` is the one function route suggestion, deployment and effectiveness call.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
from numpy.typing import ArrayLike

from analytics._features import Rings, feature_matrix, holiday_days, ring_matrices
from analytics._validate import TooFewPeriodsError, check_choice, check_int
from analytics.cube import DEFAULT_TIMEZONE, PERIOD_FREQ, CaseCube, build_cube

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
]

FloatArray = npt.NDArray[np.float64]
#: Forecast columns returned by :func:`forecast_cells`.
FORECAST_COLUMNS = ("cell", "period", "period_start", "expected", "rank", "risk", "model")


class Forecaster:
    """Base class: holds the history ``[0, until)`` of a cube; subclasses implement ``_predict``.

    Attributes (after ``fit``)
    --------------------------
    history_ : ndarray, shape (n_cells, until)
        Cases per cell and period summed over categories, float64.
    horizon_ : int
        Periods ahead of the last observed one the forecast is for.
    """

    name = "forecaster"

    def fit(
        self, cube: CaseCube, until: int | None = None, *, horizon: int = 1, rings: Rings | None = None
    ) -> Self:
        """Learn from the periods ``[0, until)`` of ``cube`` (default all).

        Parameters
        ----------
        cube
            The case cube; categories are summed (``poisson_gbm`` also reads the mix).
        until
            Number of leading periods visible to the model (the forecast origin); 1 <= until <= n_periods.
        horizon
            1 forecasts period ``until``, 2 the one after, …
        rings
            Precomputed :func:`analytics._features.ring_matrices` of ``cube.cells`` (built when needed).
        """
        n_t = cube.counts.shape[1]
        until = n_t if until is None else check_int(until, "until", low=1, high=n_t)
        self.horizon_ = check_int(horizon, "horizon", low=1)
        self.cube_ = cube
        self.until_ = until
        self.history_ = cube.counts[:, :until, :].sum(axis=2).astype(np.float64)
        self.rings_ = rings
        self._fit()
        return self

    def _fit(self) -> None:
        return None

    def _rings(self) -> Rings:
        if self.rings_ is None:
            self.rings_ = ring_matrices(self.cube_.cells)
        return self.rings_

    def predict(self) -> FloatArray:
        """Expected cases per cell in period ``until + horizon - 1``, float64 >= 0, shape (n_cells,)."""
        if not hasattr(self, "history_"):
            msg = f"{type(self).__name__} is not fitted; call fit(cube, until=...) first"
            raise RuntimeError(msg)
        return np.maximum(self._predict(), 0.0)

    def _predict(self) -> FloatArray:
        raise NotImplementedError


class LastPeriod(Forecaster):
    """``baseline_last``: next period = the last observed period."""

    name = "baseline_last"

    def _predict(self) -> FloatArray:
        return self.history_[:, -1].copy()


class MovingAverage(Forecaster):
    """``baseline_ma{n}``: mean of the last ``n`` observed periods (all of them when fewer)."""

    def __init__(self, n: int = 4) -> None:
        self.n = check_int(n, "n", low=1)
        self.name = f"baseline_ma{self.n}"

    def _predict(self) -> FloatArray:
        return self.history_[:, -self.n :].mean(axis=1)


class LongRunMean(Forecaster):
    """``baseline_mean``: the cell's mean over the whole history."""

    name = "baseline_mean"

    def _predict(self) -> FloatArray:
        return self.history_.mean(axis=1)


class KernelDensity(Forecaster):
    """``baseline_kde``: prospective hotspotting on the grid (space and time decay, as open_cp).

    Parameters
    ----------
    window
        Past periods used (the last ``window``).
    bandwidth
        Grid steps a case spreads to (0, 1 or 2); weight ``1 / (1 + d)`` at distance ``d``.
    """

    name = "baseline_kde"

    def __init__(self, window: int = 8, bandwidth: int = 2) -> None:
        self.window = check_int(window, "window", low=1)
        self.bandwidth = check_int(bandwidth, "bandwidth", low=0, high=2)

    def _predict(self) -> FloatArray:
        recent = self.history_[:, -self.window :]
        lags = np.arange(recent.shape[1], 0, -1, dtype=np.float64)  # 1 = last observed period
        time_weighted = recent @ (1.0 / lags)  # case l periods before the forecast counts 1 / l
        risk = time_weighted.copy()
        if self.bandwidth >= 1:
            rings = self._rings()
            d1 = rings.disk1 @ time_weighted - time_weighted  # sum over the ring at distance 1
            risk += d1 / 2.0
            if self.bandwidth == 2:
                d2 = rings.disk2 @ time_weighted - rings.disk1 @ time_weighted
                risk += d2 / 3.0
        level = recent.sum(axis=0).mean()
        total = risk.sum()
        return risk * (level / total) if total > 0 else risk


class PoissonGBM(Forecaster):
    """``poisson_gbm``: ``HistGradientBoostingRegressor(loss="poisson")`` on leak-free cube features.

    Parameters
    ----------
    train_periods
        Most recent origins used as training targets (fewer when the history is short or the table would
        exceed ``max_rows``).
    max_rows
        Cap of training rows (cells × origins); the most recent origins are kept.
    min_history
        Periods of history a training origin needs.
    n_categories
        Largest categories whose share of the cell's history is a feature (0: none).
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf, l2_regularization
        Passed to scikit-learn.
    random_state
        Seed (the model has no randomness without early stopping; kept for reproducibility).
    """

    name = "poisson_gbm"

    def __init__(
        self,
        *,
        train_periods: int = 26,
        max_rows: int = 500_000,
        min_history: int = 4,
        n_categories: int = 5,
        max_iter: int = 150,
        learning_rate: float = 0.06,
        max_leaf_nodes: int = 31,
        min_samples_leaf: int = 100,
        l2_regularization: float = 1.0,
        random_state: int = 0,
    ) -> None:
        self.train_periods = train_periods
        self.max_rows = max_rows
        self.min_history = min_history
        self.n_categories = n_categories
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.random_state = random_state

    def _extras(self) -> dict[str, Any]:
        counts = self.cube_.counts[:, : self.until_, :]
        extras: dict[str, Any] = {}
        self.top_ = np.zeros(0, dtype=np.int64)
        if self.n_categories and counts.shape[2] > 1:
            self.top_ = np.argsort(-counts.sum(axis=(0, 1)), kind="stable")[: self.n_categories]
            extras["by_category"] = counts[:, :, self.top_]
            extras["all_categories"] = counts
        periods = self.cube_.periods
        future = pd.period_range(periods[0], periods[-1] + self.horizon_ + 1, freq=periods.freq)
        extras["holidays"] = holiday_days(future, self.cube_.timezone)
        return extras

    def extras_for(self, other: Forecaster) -> dict[str, Any]:
        """This model's extra feature inputs rebuilt on ``other``'s (longer) visible history.

        The same top categories as this fit, so the inner validation of :class:`Ensemble` can forecast the
        periods after this model's history with the features it was trained on.
        """
        counts = other.cube_.counts[:, : other.until_, :]
        extras = dict(self.extras_)
        if "by_category" in extras:
            extras["by_category"] = counts[:, :, self.top_]
            extras["all_categories"] = counts
        return extras

    def _params(self) -> tuple[Any, ...]:
        names = (
            "train_periods", "max_rows", "min_history", "n_categories", "max_iter", "learning_rate",
            "max_leaf_nodes", "min_samples_leaf", "l2_regularization", "random_state",
        )  # fmt: skip
        return tuple(getattr(self, k) for k in names)

    def _fit(self) -> None:
        # a backtest fits poisson_gbm and the ensemble on the same history: reuse the trees (keyed by the
        # bytes of the visible history, so a different past can never hit the cache)
        key = (_digest(self.cube_, self.until_), self.horizon_, self._params())
        if key in _GBM_CACHE:
            self.model_, self.feature_names_, self.extras_, self.top_ = _GBM_CACHE[key]
            return
        self._train()
        _GBM_CACHE[key] = (self.model_, self.feature_names_, self.extras_, self.top_)
        # 8: a rolling backtest's ensemble reuses the model of 4 origins back for its inner validation
        while len(_GBM_CACHE) > 8:
            _GBM_CACHE.pop(next(iter(_GBM_CACHE)))

    def _train(self) -> None:
        from sklearn.ensemble import HistGradientBoostingRegressor

        n_cells, n_t = self.history_.shape
        h = self.horizon_
        last_origin = n_t - h  # origin s has its target s + h - 1 inside the history
        first_origin = max(self.min_history, 1)
        if last_origin < first_origin:
            msg = (
                f"poisson_gbm needs at least {self.min_history + h} periods of history for horizon {h}; "
                f"got {n_t}"
            )
            raise TooFewPeriodsError(msg)
        n_origins = min(self.train_periods, max(self.max_rows // max(n_cells, 1), 1))
        origins = np.arange(max(first_origin, last_origin - n_origins + 1), last_origin + 1)
        self.extras_ = self._extras()
        x, self.feature_names_ = feature_matrix(
            self.history_, origins, self._rings(), horizon=h, **self.extras_
        )
        y = self.history_[:, origins + h - 1].T.reshape(-1)
        self.model_ = HistGradientBoostingRegressor(
            loss="poisson",
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            early_stopping=False,
            random_state=self.random_state,
        ).fit(x, y)

    def _predict(self) -> FloatArray:
        n_t = self.history_.shape[1]
        x, _ = feature_matrix(
            self.history_, np.array([n_t]), self._rings(), horizon=self.horizon_, **self.extras_
        )
        return self.model_.predict(x)


#: Recently fitted gradient-boosting models, keyed by (history digest, horizon, parameters).
_GBM_CACHE: dict[tuple[Any, ...], tuple[Any, list[str], dict[str, Any], npt.NDArray[np.int64]]] = {}


def _digest(cube: CaseCube, until: int) -> str:
    """Hash of everything a model fitted on ``[0, until)`` may read: counts, cells, periods, zone."""
    import hashlib

    h = hashlib.blake2b(digest_size=16)
    h.update(np.ascontiguousarray(cube.counts[:, :until, :]).tobytes())
    h.update(np.ascontiguousarray(cube.cells).tobytes())
    h.update(f"{cube.periods[0]}|{cube.period}|{cube.timezone}|{cube.categories}".encode())
    return h.hexdigest()


def shrunk_mean(history: FloatArray, rings: Rings) -> FloatArray:
    """Each cell's long-run mean shrunk toward its ring-1/ring-2 neighbourhood (prior weight 8 periods).

    ``(Σ_t y + 8 · m_ring) / (T + 8)`` with ``m_ring`` the mean of the ring-1 and ring-2 long-run means;
    ``history`` has shape (n_cells, T); returns shape (n_cells,).
    """
    longrun = history.mean(axis=1)
    prior = 0.5 * (rings.ring1 @ longrun) + 0.5 * (rings.ring2 @ longrun)
    return (history.sum(axis=1) + 8.0 * prior) / (history.shape[1] + 8.0)


def _blend(shrunk: FloatArray, learned: FloatArray, weight: float) -> FloatArray:
    eps = 1e-6
    blend = np.exp((1 - weight) * np.log(shrunk + eps) + weight * np.log(learned + eps))
    total = blend.sum()
    return blend * (learned.sum() / total) if total > 0 else blend


class Ensemble(Forecaster):
    """``ensemble``: geometric blend of the shrunk long-run mean and ``poisson_gbm``.

    ``expected = s · mean_shrunk^(1 - w) · gbm^w`` with ``s`` restoring the gbm's city total and
    ``mean_shrunk`` from :func:`shrunk_mean`, so cells with little history lean on their neighbourhood.

    Parameters
    ----------
    weight
        ``w`` in [0, 1]; ``None`` (default) chooses it inside ``fit`` by an inner validation on the training
        periods only: a second ``poisson_gbm`` is fitted on the history without its last ``validation``
        periods, each candidate of ``weights`` forecasts those periods, and the best mean PAI at 5 % area
        wins (ties go to the larger weight). Too short a history falls back to 0.5.
    weights
        Candidate weights of the inner validation.
    validation
        Periods held out by the inner validation.
    **gbm
        Parameters of :class:`PoissonGBM`.

    Attributes (after ``fit``)
    --------------------------
    weight_ : float
        The weight used.
    validation_ : dict[float, float]
        Mean PAI at 5 % of each candidate weight in the inner validation (empty when not run).
    """

    name = "ensemble"

    def __init__(
        self,
        weight: float | None = None,
        *,
        weights: Sequence[float] = (0.0, 0.25, 0.5, 0.75, 1.0),
        validation: int = 4,
        **gbm: Any,
    ) -> None:
        self.weight = weight
        self.weights = tuple(weights)
        self.validation = check_int(validation, "validation", low=1)
        self.gbm = gbm

    def _fit(self) -> None:
        self.gbm_ = PoissonGBM(**self.gbm).fit(
            self.cube_, self.until_, horizon=self.horizon_, rings=self._rings()
        )
        self.validation_: dict[float, float] = {}
        self.weight_ = 0.5 if self.weight is None else float(self.weight)
        if self.weight is None:
            self._choose_weight()

    def _choose_weight(self) -> None:
        from analytics.evaluation import pai

        h, v = self.horizon_, self.validation
        inner_until = self.until_ - v
        origins = np.arange(inner_until, self.until_ - h + 1)
        inner = PoissonGBM(**self.gbm)
        try:
            inner.fit(self.cube_, inner_until, horizon=h, rings=self._rings())
        except (TooFewPeriodsError, ValueError):
            return  # too little history for an inner fit: keep 0.5
        if origins.size == 0:
            return
        # the inner model forecasts each held-out training period from the history before it
        x, _ = feature_matrix(self.history_, origins, self._rings(), horizon=h, **inner.extras_for(self))
        learned = np.maximum(inner.model_.predict(x).reshape(origins.size, -1), 0.0)
        scores = {w: 0.0 for w in self.weights}
        scored = 0
        for j, o in enumerate(origins):
            actual = self.history_[:, o + h - 1]
            if actual.sum() <= 0:
                continue  # PAI is undefined for a period without cases
            scored += 1
            shrunk = shrunk_mean(self.history_[:, :o], self._rings())
            for w in self.weights:
                scores[w] += pai(_blend(shrunk, learned[j], w), actual, 0.05)
        if scored == 0:
            return
        self.validation_ = {w: v / scored for w, v in scores.items()}
        scores = self.validation_
        self.weight_ = max(sorted(scores, reverse=True), key=lambda w: scores[w])

    def _predict(self) -> FloatArray:
        return _blend(shrunk_mean(self.history_, self._rings()), self.gbm_.predict(), self.weight_)


#: Baseline model factories, by backtest name.
BASELINES: dict[str, Callable[[], Forecaster]] = {
    "baseline_last": LastPeriod,
    "baseline_ma4": lambda: MovingAverage(4),
    "baseline_mean": LongRunMean,
    "baseline_kde": KernelDensity,
}
#: Every model factory, by name (baselines first).
MODELS: dict[str, Callable[[], Forecaster]] = {
    **BASELINES,
    "poisson_gbm": PoissonGBM,
    "ensemble": Ensemble,
}


def make_model(name: str) -> Forecaster:
    """A fresh forecaster by name (one of :data:`MODELS`)."""
    return MODELS[check_choice(name, "model", MODELS)]()


def period_label(period: pd.Period, kind: str) -> str:
    """``YYYY-Www`` (ISO week) for weeks, ``YYYY-MM-DD`` for days, ``YYYY-MM`` for months."""
    if kind == "week":
        iso = period.start_time.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    if kind == "day":
        return period.start_time.strftime("%Y-%m-%d")
    return period.start_time.strftime("%Y-%m")


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
        start=first, end=last,
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
    from analytics.evaluation import backtest

    names = list(candidates) if candidates is not None else list(MODELS)
    n_t = cube.counts.shape[1]
    n_origins = min(n_origins, n_t - 8 - horizon + 1)
    if n_origins < 1:
        return "baseline_mean"
    table = backtest(cube, names, n_origins=n_origins, horizon=horizon, rings=rings)
    means = table.groupby("model", sort=False)["pai_5"].mean()
    return str(means.idxmax())
