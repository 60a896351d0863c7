"""Scores of a cell forecast against what happened: expected cases caught, hit rate, PAI and PEI at a share
of the area, Poisson deviance and the table of all of them (:func:`coverage_metrics`).

Pure functions of two arrays; the definitions (random order within ties, area shares of universe cells)
are in :mod:`analytics.evaluation`, which re-exports everything below. Estimators that validate
themselves (:class:`analytics.forecast_models.Ensemble`) and the backtest both import from here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from numpy.typing import ArrayLike

FloatArray = npt.NDArray[np.float64]
#: Area shares of the backtest table (1, 2, 5, 10 %).
AREA_SHARES = (0.01, 0.02, 0.05, 0.10)


def captured(score: ArrayLike, actual: ArrayLike, area: float) -> float:
    """Expected cases caught by the top ``area`` share of cells by ``score`` (random order within ties).

    Parameters
    ----------
    score : array, shape (n_cells,)
        Forecast (any monotone risk score).
    actual : array, shape (n_cells,)
        Observed cases in the forecast period.
    area : float in (0, 1]
        Share of the cells selected (``area · n_cells`` cells, fractional allowed).
    """
    s = np.asarray(score, dtype=np.float64)
    y = np.asarray(actual, dtype=np.float64)
    if s.shape != y.shape or s.ndim != 1:
        msg = f"`score` and `actual` must be 1-d of equal length; got {s.shape} and {y.shape}"
        raise ValueError(msg)
    if not 0.0 < area <= 1.0:
        msg = f"`area` must be in (0, 1]; got {area}"
        raise ValueError(msg)
    m = area * s.size
    # distinct score levels, highest first, with the cells and cases of each level
    levels, inverse = np.unique(-s, return_inverse=True)
    n_level = np.bincount(inverse, minlength=levels.size).astype(np.float64)
    c_level = np.bincount(inverse, weights=y, minlength=levels.size)
    n_before = np.concatenate([[0.0], np.cumsum(n_level)[:-1]])
    c_before = np.concatenate([[0.0], np.cumsum(c_level)[:-1]])
    cut = int(np.searchsorted(np.cumsum(n_level), m, side="left"))  # the level the cut falls in
    if cut >= levels.size:
        return float(y.sum())
    fraction = (m - n_before[cut]) / n_level[cut]
    return float(c_before[cut] + fraction * c_level[cut])


def hit_rate(score: ArrayLike, actual: ArrayLike, area: float) -> float:
    """Share of the period's cases in the top ``area`` of cells by ``score`` (NaN when there is no case)."""
    total = float(np.asarray(actual, dtype=np.float64).sum())
    return captured(score, actual, area) / total if total > 0 else float("nan")


def pai(score: ArrayLike, actual: ArrayLike, area: float) -> float:
    """Predictive accuracy index: hit rate ÷ area share (1 = no better than a random choice of cells)."""
    return hit_rate(score, actual, area) / area


def pei(score: ArrayLike, actual: ArrayLike, area: float) -> float:
    """Predictive efficiency index: hit rate ÷ the hit rate of the perfect forecast at the same area."""
    best = captured(actual, actual, area)
    return captured(score, actual, area) / best if best > 0 else float("nan")


def poisson_deviance(expected: ArrayLike, actual: ArrayLike, *, floor: float = 1e-6) -> float:
    """Mean Poisson deviance per cell, ``2 (y log(y / μ) − (y − μ))`` with ``μ`` floored at ``floor``."""
    mu = np.maximum(np.asarray(expected, dtype=np.float64), floor)
    y = np.asarray(actual, dtype=np.float64)
    term = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0) / mu), 0.0)
    return float(np.mean(2.0 * (term - (y - mu))))


def coverage_metrics(
    expected: ArrayLike, actual: ArrayLike, areas: Sequence[float] = AREA_SHARES
) -> dict[str, float]:
    """``hit_rate_<p>``, ``pai_<p>``, ``pei_<p>`` per area (``p`` in per cent), ``deviance`` and ``mae``."""
    out: dict[str, float] = {}
    for a in areas:
        key = f"{a * 100:g}"
        h = hit_rate(expected, actual, a)
        out[f"hit_rate_{key}"] = h
        out[f"pai_{key}"] = h / a
        out[f"pei_{key}"] = pei(expected, actual, a)
    out["deviance"] = poisson_deviance(expected, actual)
    out["mae"] = float(np.mean(np.abs(np.asarray(expected, float) - np.asarray(actual, float))))
    return out
