"""Leak-free features per (cell, target period) computed from a count history, vectorised over the cube.

A row (cell ``i``, target ``s``) only reads ``Y[:, :s]`` — periods strictly before ``s`` — through prefix
sums, so the feature table of a training target and of the period being forecast are built by the same code
and no feature can see its own target or anything later (``tests/analytics/test_forecast.py`` checks this by
rewriting the future). Spatial context comes from sparse ring matrices (``Rings``) built once per universe.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from analytics.weights import disk_weights
from cases.calendar import WorkingCalendar, default_calendar
from grid.cells import grid_disk
from grid.config import DEFAULT_TIMEZONE

__all__ = ["FEATURE_WINDOWS", "Rings", "feature_matrix", "holiday_days", "ring_matrices"]

FloatArray = npt.NDArray[np.float64]
#: Windows (periods) of the own and neighbourhood moving means.
FEATURE_WINDOWS = (4, 8, 13, 26)
#: Lags (periods before the target) of the own count.
LAGS = (1, 2, 3, 4)
#: Cap of "periods since the last case" for cells that never had one.
_SINCE_CAP = 52.0


@dataclasses.dataclass(frozen=True)
class Rings:
    """Row-normalised sparse averaging operators over a cell universe.

    Attributes
    ----------
    ring1, ring2 : scipy.sparse.csr_matrix, shape (n_cells, n_cells)
        Mean over the cells exactly 1 (resp. 2) grid steps away that are in the universe (rows of cells
        without such neighbours are zero).
    disk1, disk2 : scipy.sparse.csr_matrix, shape (n_cells, n_cells)
        Binary disks (self included) of radius 1 and 2, unnormalised.
    """

    ring1: sp.csr_matrix
    ring2: sp.csr_matrix
    disk1: sp.csr_matrix
    disk2: sp.csr_matrix


def ring_matrices(cells: npt.NDArray[np.int64]) -> Rings:
    """Ring operators for the sorted universe ``cells`` (two ``grid_disk`` passes, ~0.5 s per 20k cells)."""
    cells = np.asarray(cells, dtype=np.int64)
    pairs2 = grid_disk(cells, 2)
    d2 = disk_weights(cells, 2, pairs=pairs2).matrix
    d1 = disk_weights(cells, 1).matrix
    eye = sp.identity(cells.size, format="csr")
    return Rings(_row_mean(d1 - eye), _row_mean(d2 - d1), d1.tocsr(), d2.tocsr())


def _row_mean(m: sp.spmatrix) -> sp.csr_matrix:
    m = sp.csr_matrix(m)
    m.eliminate_zeros()
    deg = np.asarray(m.sum(axis=1)).ravel()
    scale = np.divide(1.0, deg, out=np.zeros_like(deg), where=deg > 0)
    return sp.csr_matrix(sp.diags(scale) @ m)


def holiday_days(
    periods: pd.PeriodIndex,
    timezone: str = DEFAULT_TIMEZONE,
    *,
    calendar: WorkingCalendar | None = None,
) -> FloatArray:
    """Holiday days (non-working weekdays) in each period, from the city's working calendar.

    Parameters
    ----------
    periods
        Local periods (day, week or month).
    timezone
        Zone of the default calendar when ``calendar`` is not given.
    calendar
        The city's :class:`cases.calendar.WorkingCalendar` (:func:`cases.calendar.working_calendar` of the
        city configuration: country holidays, extra holidays, make-up days); default the Chinese calendar
        (:func:`cases.calendar.default_calendar`). A city with ``calendar.country = "none"`` counts only its
        extra holidays. Calendars are known in advance, so this is not a leak.
    """
    cal = calendar if calendar is not None else default_calendar(timezone)
    out = np.zeros(len(periods))
    for i, p in enumerate(periods):  # outside the country table's years weekdays count as working days
        days = pd.date_range(p.start_time.normalize(), p.end_time.normalize(), freq="D")
        out[i] = sum(not cal.is_workday(d.date(), warn=False) for d in days if d.weekday() < 5)
    return out


def _window_means(prefix: FloatArray, targets: npt.NDArray[np.int64], w: int) -> FloatArray:
    """Mean of ``Y[:, s-w:s]`` per target ``s`` (fewer periods at the start), shape (n_cells, n_targets)."""
    lo = np.maximum(targets - w, 0)
    span = np.maximum(targets - lo, 1)
    return (prefix[:, targets] - prefix[:, lo]) / span


def _persistence(
    counts: npt.NDArray[np.integer], targets: npt.NDArray[np.int64]
) -> tuple[FloatArray, FloatArray]:
    """Per-category persistence-weighted deviations from the cell's own mean, before each target.

    For target ``s`` and category ``k``, ``ρ_k`` is the lag-1 autocorrelation of the weekly deviations
    ``y_ik,t − m_ik`` pooled over cells and the periods ``t < s`` (``m_ik`` the cell's mean over ``[0, s)``),
    clipped to [0, 1]: close to 0 where a surplus does not carry over (scattered small ads), high where it
    does (a works site, a broken lamp reported until repaired). Returns ``Σ_k ρ_k (y_ik,s−1 − m_ik)`` and
    ``Σ_k ρ_k (mean of y_ik over the last 4 periods − m_ik)``, each of shape (n_cells, n_targets). Running
    sums over time keep the memory at a few (n_cells, K) arrays; only ``counts[:, :s]`` is read.
    """
    n_cells, _, k = counts.shape
    p1 = np.zeros((n_cells, targets.size))
    p4 = np.zeros((n_cells, targets.size))
    want = {int(s): np.flatnonzero(targets == s) for s in np.unique(targets)}
    s1 = np.zeros((n_cells, k))  # Σ_{t<s} a_t
    sq = np.zeros((n_cells, k))  # Σ_{t<s} a_t²
    sp = np.zeros((n_cells, k))  # Σ_{1<=t<s} a_t a_{t-1}
    first = counts[:, 0, :].astype(np.float64)
    prev = None
    for s in range(1, max(want) + 1):
        a = counts[:, s - 1, :].astype(np.float64)
        s1 += a
        sq += a * a
        if prev is not None:
            sp += a * prev
        prev = a
        if s not in want or s < 3:
            continue
        m = s1 / s
        # Σ_{t=1}^{s-1} (a_t − m)(a_{t−1} − m) and Σ_{t=0}^{s-2} (a_t − m)², pooled over cells
        num = sp - m * (s1 - first) - m * (s1 - a) + (s - 1) * m * m
        den = (sq - a * a) - 2 * m * (s1 - a) + (s - 1) * m * m
        tot_den = den.sum(axis=0)
        rho = np.clip(np.divide(num.sum(axis=0), tot_den, out=np.zeros(k), where=tot_den > 0), 0.0, 1.0)
        last4 = counts[:, max(s - 4, 0) : s, :].mean(axis=1)
        for j in want[s]:
            p1[:, j] = (a - m) @ rho
            p4[:, j] = (last4 - m) @ rho
    return p1, p4


def feature_matrix(
    history: FloatArray,
    targets: Sequence[int] | npt.NDArray[np.int64],
    rings: Rings,
    *,
    horizon: int = 1,
    by_category: FloatArray | None = None,
    holidays: FloatArray | None = None,
    all_categories: npt.NDArray[np.integer] | None = None,
) -> tuple[FloatArray, list[str]]:
    """Feature rows for every (cell, target) pair, reading only the periods before each target.

    Parameters
    ----------
    history : ndarray, shape (n_cells, T)
        Counts per cell and period (all categories). Only ``history[:, :s]`` is read for target ``s``.
    targets : sequence of int, each in [1, T]
        "Origins": features describe the data up to (excluding) period ``s``; the forecast period is
        ``s + horizon - 1``. ``s = T`` forecasts past the history.
    rings
        :func:`ring_matrices` of the universe.
    horizon
        Periods ahead (calendar features describe period ``s + horizon - 1``).
    by_category : ndarray, shape (n_cells, T, n_cat), optional
        Per-category counts of the few largest categories; adds each one's long-run share of the cell.
    holidays : ndarray, shape (>= max(targets) + horizon,), optional
        Holiday days per period (:func:`holiday_days`).
    all_categories : ndarray, shape (n_cells, T, K), optional
        Counts of every category; adds ``pers1``/``pers4`` (:func:`_persistence`: the last period's and the
        last 4 periods' deviation of each category from the cell's own mean, weighted by how persistent
        such deviations have been in that category city-wide) and the ring-1 mean of ``pers4``.

    Returns
    -------
    (X, names)
        ``X`` has shape (n_targets * n_cells, n_features), target-major (all cells of the first target,
        then the next), float64; ``names`` the column names.
    """
    y = np.asarray(history, dtype=np.float64)
    n_cells, n_t = y.shape
    tg = np.asarray(targets, dtype=np.int64)
    if tg.size and (tg.min() < 1 or tg.max() > n_t):
        msg = f"targets must lie in [1, {n_t}] (at least one observed period before each); got {tg}"
        raise ValueError(msg)
    prefix = np.zeros((n_cells, n_t + 1))
    np.cumsum(y, axis=1, out=prefix[:, 1:])
    cols: dict[str, FloatArray] = {}
    for lag in LAGS:
        idx = tg - lag
        cols[f"lag{lag}"] = np.where(idx >= 0, y[:, np.maximum(idx, 0)], np.nan)
    for w in FEATURE_WINDOWS:
        cols[f"ma{w}"] = _window_means(prefix, tg, w)
    longrun = prefix[:, tg] / tg
    cols["mean_all"] = longrun
    # neighbourhood means (ring 1 and ring 2) of the recent, medium and long-run levels
    for name in ("lag1", "ma4", "ma13", "mean_all"):
        src = np.nan_to_num(cols[name])
        cols[f"r1_{name}"] = rings.ring1 @ src
        cols[f"r2_{name}"] = rings.ring2 @ src
    # empirical-Bayes style shrinkage of the cell's long-run mean toward its neighbourhood: a cell seen
    # for few periods borrows strength from its ring (prior weight of 8 periods)
    prior = 0.5 * cols["r1_mean_all"] + 0.5 * cols["r2_mean_all"]
    cols["shrunk_mean"] = (prefix[:, tg] + 8.0 * prior) / (tg + 8.0)
    cols["trend"] = cols["ma4"] - longrun
    # periods since the last case (capped), from a running "last positive index"
    last_pos = np.where(y > 0, np.arange(n_t)[None, :], -1)
    np.maximum.accumulate(last_pos, axis=1, out=last_pos)
    seen = last_pos[:, tg - 1]
    cols["since_last"] = np.where(seen >= 0, np.minimum(tg - seen, _SINCE_CAP), _SINCE_CAP)
    cols["active_share"] = (
        np.cumsum(y > 0, axis=1)[:, tg - 1] / tg
    )  # share of past periods with at least one case
    # city-wide level: recent vs long-run total (a global trend the trees can use for the level)
    total = prefix.sum(axis=0)
    city_recent = (total[tg] - total[np.maximum(tg - 4, 0)]) / np.minimum(tg, 4)
    city_long = total[tg] / tg
    cols["city_ratio"] = np.broadcast_to(city_recent / np.maximum(city_long, 1e-9), (n_cells, tg.size))
    cols["history_len"] = np.broadcast_to(tg.astype(float), (n_cells, tg.size))
    if holidays is not None:
        hol = np.asarray(holidays, dtype=np.float64)[tg + horizon - 1]
        cols["holidays"] = np.broadcast_to(hol, (n_cells, tg.size))
    if all_categories is not None:
        cols["pers1"], cols["pers4"] = _persistence(all_categories, tg)
        cols["r1_pers4"] = rings.ring1 @ cols["pers4"]
    if by_category is not None:
        cat_prefix = np.cumsum(np.asarray(by_category, dtype=np.float64), axis=1)
        own = prefix[:, tg]
        for k in range(by_category.shape[2]):
            part = cat_prefix[:, tg - 1, k]
            cols[f"cat{k}_share"] = np.divide(part, own, out=np.zeros_like(part), where=own > 0)
    names = list(cols)
    x = np.empty((tg.size * n_cells, len(names)))
    for j, name in enumerate(names):
        x[:, j] = np.asarray(cols[name]).T.reshape(-1)
    return x, names
