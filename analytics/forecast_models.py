"""Forecasters of next period's problem cells: baselines and a learned Poisson model, and their registry.

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

This module holds the estimators and their registry (:data:`MODELS`, :func:`make_model`); the function
callers use (:func:`analytics.forecast.forecast_cells`) and the model selection
(:func:`analytics.forecast.choose_model`) are :mod:`analytics.forecast`, which re-exports everything here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any, Self

import numpy as np
import numpy.typing as npt
import pandas as pd

from analytics._features import Rings, feature_matrix, holiday_days, ring_matrices
from analytics._validate import TooFewPeriodsError, check_choice, check_int
from analytics.cube import CaseCube
from analytics.forecast_metrics import pai

FloatArray = npt.NDArray[np.float64]


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
        extras["holidays"] = holiday_days(future, self.cube_.timezone, calendar=self.cube_.calendar)
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
    h = hashlib.blake2b(digest_size=16)
    h.update(np.ascontiguousarray(cube.counts[:, :until, :]).tobytes())
    h.update(np.ascontiguousarray(cube.cells).tobytes())
    h.update(f"{cube.periods[0]}|{cube.period}|{cube.timezone}|{cube.categories}".encode())
    if cube.calendar is not None:  # the holiday features read it
        cal = cube.calendar
        h.update(f"{cal.country}|{sorted(cal.extra_holidays)}|{sorted(cal.extra_workdays)}".encode())
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
