"""Exposure-aware problem rates: patrol finds per patrol-hour beside citizen reports (issue #24).

Patrols find problems where they walk; counting their finds like citizen reports makes a forecast chase its
own patrols (Lum & Isaac 2016; Ensign et al. 2018). This module separates, per cell × period, the citizen
reports (``source != "patrol"``), the patrol finds (``source == "patrol"``) and the patrol presence in
minutes (the coverage cube, :func:`patrol.coverage.coverage_cube`), and estimates the underlying problem
rate with the patrol minutes as exposure.

Model (one cell ``i``, period ``t``; ``θ_i`` the underlying rate in *citizen reports per period*)::

    citizen reports  c_it ~ Poisson(θ_i)                 exposure 1 period
    patrol finds     p_it ~ Poisson(κ · θ_i · m_it)      exposure κ · m_it, m_it patrol minutes
    ⇒ y_it = c_it + p_it ~ Poisson(θ_i · e_it),          e_it = 1 + κ · m_it

``κ`` (finds per patrol-minute per unit of citizen rate) is one number for the city, estimated by the ratio
of sums ``Σ p / Σ_i c̄_i · M_i``. The cell rate gets an empirical-Bayes Gamma prior (method of moments
across cells, Clayton & Kaldor 1987), so cells with little exposure are shrunk to the city mean and carry a
wide interval: posterior ``Gamma(a + Y_i, b + E_i)`` with ``Y_i``, ``E_i`` the (optionally discounted)
sums over periods. The per-period adjusted rates ``y_it / e_it`` are unbiased for ``θ_i`` whatever the
patrol time, so any count forecaster can run on them (:func:`adjusted_cube`).

Everything here is pure numpy / pandas on arrays shaped (n_cells, n_periods), aligned with a
:class:`analytics.cube.CaseCube`; the service layer reads the store and the track store.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from analytics._validate import EmptySelectionError, check_choice
from analytics.cube import PERIOD_FREQ, CaseCube, build_cube
from cases.models import CASE_SOURCES
from grid.cells import CELL_COL_NAME, cell_resolution, cells_to_parents

__all__ = [
    "PATROL_SOURCE",
    "TARGETS",
    "ExposureInputs",
    "ExposureRateEstimator",
    "adjusted_cube",
    "exploration_demand",
    "exposure_inputs",
    "presence_minutes",
]

#: The case source of patrol finds; every other source is a citizen (or camera) report.
PATROL_SOURCE = "patrol"
#: What an analysis counts: every case (today's behaviour), citizen reports only, or the estimated rate.
TARGETS = ("reported", "citizen", "estimated")
#: Sources that are not patrol finds.
CITIZEN_SOURCES = tuple(s for s in CASE_SOURCES if s != PATROL_SOURCE)

FloatArray = npt.NDArray[np.float64]


@dataclasses.dataclass(frozen=True)
class ExposureInputs:
    """The three series per cell × period, aligned with a cube's cells and periods.

    Attributes
    ----------
    citizen, finds : numpy.ndarray of float64, shape (n_cells, n_periods)
        Citizen reports (sources other than ``patrol``) and patrol finds, counts per period.
    minutes : numpy.ndarray of float64, shape (n_cells, n_periods)
        Patrol presence in minutes (all inspectors summed).
    cube : CaseCube
        The cube of every case (the ``reported`` target); its ``cells`` and ``periods`` index the arrays.
    """

    citizen: FloatArray
    finds: FloatArray
    minutes: FloatArray
    cube: CaseCube

    def to_frame(self) -> pd.DataFrame:
        """Long table indexed by (``cell``, ``period``): ``citizen``, ``finds``, ``minutes``, ``reported``."""
        frame = self.cube.to_frame()
        index = frame.index
        return pd.DataFrame(
            {
                "citizen": self.citizen.ravel(),
                "finds": self.finds.ravel(),
                "minutes": self.minutes.ravel(),
                "reported": self.cube.total().ravel().astype(np.float64),
            },
            index=index,
        )


def presence_minutes(
    coverage: pd.DataFrame,
    cells: npt.ArrayLike,
    periods: pd.PeriodIndex,
    *,
    timezone: str,
    minutes_col: str = "minutes",
) -> FloatArray:
    """Patrol minutes per cell × period from a coverage (or fine) cube, aggregated to a cube's grain.

    Parameters
    ----------
    coverage
        Rows with ``cell`` (int64 H3 at a resolution at least as fine as ``cells``), ``period`` (tz-aware
        start of a day or an hour) and ``minutes`` (or ``seconds``: the fine cube of
        :func:`patrol.coverage.reduce_tracks`).
    cells
        The cube's cell universe, sorted, shape (n_cells,); finer cells are mapped to their parent.
    periods
        The cube's periods (day, ISO week or month), shape (n_periods,).
    timezone
        The city's zone: the day starts are localised there before they are put in periods.

    Returns
    -------
    numpy.ndarray of float64, shape (n_cells, n_periods)
        Minutes of presence; rows outside the universe or the periods are dropped.
    """
    universe = np.asarray(cells, dtype=np.int64)
    out = np.zeros((universe.size, len(periods)), dtype=np.float64)
    if coverage is None or len(coverage) == 0 or universe.size == 0 or len(periods) == 0:
        return out
    frame = coverage.reset_index() if CELL_COL_NAME not in coverage.columns else coverage
    if minutes_col in frame.columns:
        minutes = frame[minutes_col].to_numpy(dtype=np.float64)
    else:
        minutes = frame["seconds"].to_numpy(dtype=np.float64) / 60.0
    fine = frame[CELL_COL_NAME].to_numpy().astype(np.int64)
    res = int(cell_resolution(universe[:1])[0])
    parents = cells_to_parents(fine, res)
    starts = pd.DatetimeIndex(frame["period"])
    if starts.tz is not None:
        starts = starts.tz_convert(timezone).tz_localize(None)
    stamps = starts.to_period(periods.freqstr if periods.freqstr else PERIOD_FREQ["week"])
    t_idx = stamps.asi8 - periods[0].ordinal
    pos = np.searchsorted(universe, parents)
    inside = (pos < universe.size) & (universe[np.minimum(pos, universe.size - 1)] == parents)
    inside &= (t_idx >= 0) & (t_idx < len(periods))
    np.add.at(out, (pos[inside], t_idx[inside]), minutes[inside])
    return out


def _cube_or_zeros(cases: pd.DataFrame, like: CaseCube, sources: Sequence[str], **kw) -> FloatArray:
    try:
        cube = build_cube(cases, like.cells, sources=list(sources), **kw)
    except EmptySelectionError:
        return np.zeros(like.total().shape, dtype=np.float64)
    return cube.total().astype(np.float64)


def exposure_inputs(
    cases: pd.DataFrame,
    cells: npt.ArrayLike | pd.DataFrame,
    coverage: pd.DataFrame | None,
    *,
    period: str = "week",
    timezone: str,
    start: object = None,
    end: object = None,
    categories: Sequence[str] | None = None,
    calendar: object = None,
) -> ExposureInputs:
    """Citizen reports, patrol finds and patrol minutes per cell × period over one cell universe.

    ``cases`` is the cases contract with ``source``; ``coverage`` as for :func:`presence_minutes` (None: no
    patrol presence known, every minute 0). ``start``/``end`` (local dates) fix the period range, so the
    three arrays share the cube's periods. Raises :class:`~analytics._validate.EmptySelectionError` when no
    case is selected at all.
    """
    period = check_choice(period, "period", PERIOD_FREQ)
    kw = {"period": period, "timezone": timezone, "categories": categories}
    cube = build_cube(cases, cells, start=start, end=end, calendar=calendar, **kw)  # type: ignore[arg-type]
    bounds = {"start": cube.periods[0].start_time.date(), "end": cube.periods[-1].end_time.date()}
    citizen = _cube_or_zeros(cases, cube, CITIZEN_SOURCES, **kw, **bounds)
    finds = _cube_or_zeros(cases, cube, (PATROL_SOURCE,), **kw, **bounds)
    minutes = presence_minutes(coverage, cube.cells, cube.periods, timezone=timezone)
    return ExposureInputs(citizen, finds, minutes, cube)


class ExposureRateEstimator:
    """Underlying problem rate per cell from citizen reports and patrol finds per patrol-minute.

    Parameters
    ----------
    half_life : float or None
        Discount of older periods (in periods) in the cell sums; None: every period weighs 1.
    level : float
        Mass of the central credible interval (default 0.9).
    kappa : float or None
        Finds per patrol-minute per unit of citizen rate; None: estimated (ratio of sums).

    Attributes (after :meth:`fit`; PySAL style, every intermediate kept)
    ----------
    kappa_ : float
        Finds per patrol-minute per citizen report per period.
    exposure_ : ndarray (n_cells, n_periods)
        ``1 + κ · m`` in period-equivalents of citizen observation.
    events_ : ndarray (n_cells, n_periods)
        ``c + p``.
    rates_ : ndarray (n_cells, n_periods)
        Per-period adjusted rate ``(c + p) / (1 + κ m)``, citizen reports per period.
    weights_ : ndarray (n_periods,)
        Period weights (discount).
    cell_events_, cell_exposure_, raw_rate_ : ndarray (n_cells,)
        Weighted sums ``Y_i``, ``E_i`` and ``Y_i / E_i`` (the unshrunk rate).
    cell_minutes_ : ndarray (n_cells,)
        Patrol minutes per cell over the fit window.
    prior_a_, prior_b_ : float
        Gamma prior (shape, rate) fitted by the method of moments across cells.
    post_a_, post_b_ : ndarray (n_cells,)
        Gamma posterior per cell.
    mean_, var_, lower_, upper_ : ndarray (n_cells,)
        Posterior mean, variance and credible bounds of ``θ_i`` (citizen reports per period).
    shrinkage_ : ndarray (n_cells,)
        ``b / (b + E_i)``: weight of the city mean in the posterior mean (1 = nothing known about the cell).
    """

    def __init__(self, *, half_life: float | None = None, level: float = 0.9, kappa: float | None = None):
        if not 0.0 < level < 1.0:
            msg = f"`level` must be in (0, 1); got {level}"
            raise ValueError(msg)
        if half_life is not None and half_life <= 0:
            msg = f"`half_life` must be > 0 periods or None; got {half_life}"
            raise ValueError(msg)
        self.half_life = half_life
        self.level = level
        self.kappa = kappa

    def fit(
        self,
        citizen: npt.ArrayLike,
        finds: npt.ArrayLike,
        minutes: npt.ArrayLike,
        until: int | None = None,
    ) -> ExposureRateEstimator:
        """Fit on periods ``[0, until)`` of arrays shaped (n_cells, n_periods) (counts, counts, minutes)."""
        c = np.asarray(citizen, dtype=np.float64)
        p = np.asarray(finds, dtype=np.float64)
        m = np.asarray(minutes, dtype=np.float64)
        if not (c.shape == p.shape == m.shape) or c.ndim != 2:
            msg = f"citizen, finds and minutes must share one 2-d shape; got {c.shape}, {p.shape}, {m.shape}"
            raise ValueError(msg)
        until = c.shape[1] if until is None else int(until)
        if until < 1:
            msg = "the fit needs at least one period"
            raise ValueError(msg)
        c, p, m = c[:, :until], p[:, :until], m[:, :until]
        if (c < 0).any() or (p < 0).any() or (m < 0).any():
            msg = "counts and minutes must be >= 0"
            raise ValueError(msg)
        self.kappa_ = float(self.kappa) if self.kappa is not None else _kappa(c, p, m)
        self.exposure_ = 1.0 + self.kappa_ * m
        self.events_ = c + p
        self.rates_ = self.events_ / self.exposure_
        ages = np.arange(until - 1, -1, -1, dtype=np.float64)
        self.weights_ = 0.5 ** (ages / self.half_life) if self.half_life else np.ones(until)
        self.cell_events_ = self.events_ @ self.weights_
        self.cell_exposure_ = self.exposure_ @ self.weights_
        self.cell_minutes_ = m.sum(axis=1)
        self.raw_rate_ = self.cell_events_ / self.cell_exposure_
        self.prior_a_, self.prior_b_ = _gamma_prior(self.cell_events_, self.cell_exposure_)
        self.post_a_ = self.prior_a_ + self.cell_events_
        self.post_b_ = self.prior_b_ + self.cell_exposure_
        self.mean_ = self.post_a_ / self.post_b_
        self.var_ = self.post_a_ / self.post_b_**2
        tail = (1.0 - self.level) / 2.0
        self.lower_ = stats.gamma.ppf(tail, self.post_a_, scale=1.0 / self.post_b_)
        self.upper_ = stats.gamma.ppf(1.0 - tail, self.post_a_, scale=1.0 / self.post_b_)
        self.shrinkage_ = self.prior_b_ / self.post_b_
        return self

    def predict(self) -> FloatArray:
        """Posterior mean rate per cell (citizen reports per period), shape (n_cells,)."""
        return self.mean_

    def to_frame(self, cells: npt.ArrayLike | None = None) -> pd.DataFrame:
        """One row per cell: ``cell`` (when given), ``events``, ``exposure``, ``minutes``, ``raw_rate``,
        ``mean``, ``var``, ``lower``, ``upper``, ``shrinkage``."""
        frame = pd.DataFrame(
            {
                "events": self.cell_events_,
                "exposure": self.cell_exposure_,
                "minutes": self.cell_minutes_,
                "raw_rate": self.raw_rate_,
                "mean": self.mean_,
                "var": self.var_,
                "lower": self.lower_,
                "upper": self.upper_,
                "shrinkage": self.shrinkage_,
            }
        )
        if cells is not None:
            frame.insert(0, CELL_COL_NAME, np.asarray(cells, dtype=np.int64))
        return frame


def _kappa(c: FloatArray, p: FloatArray, m: FloatArray) -> float:
    """Finds per patrol-minute per unit citizen rate: ``Σ p / Σ_i c̄_i · M_i`` (0 when nothing is known)."""
    cell_minutes = m.sum(axis=1)
    denominator = float(c.mean(axis=1) @ cell_minutes)
    finds = float(p.sum())
    if denominator <= 0.0 or finds <= 0.0:
        return 0.0
    return finds / denominator


def _gamma_prior(events: FloatArray, exposure: FloatArray) -> tuple[float, float]:
    """Method-of-moments Gamma (shape, rate) of the cell rates, exposure-weighted, Poisson noise removed."""
    total_e = float(exposure.sum())
    mu = float(events.sum()) / total_e if total_e > 0 else 0.0
    if mu <= 0.0:
        return 1e-3, 1e-3 / 1e-9  # nothing seen: a prior mean of ~0 with little weight
    raw = events / exposure
    spread = float(exposure @ (raw - mu) ** 2) / total_e
    noise = mu * exposure.size / total_e
    var = max(spread - noise, 1e-3 * mu * mu)
    return mu * mu / var, mu / var


def adjusted_cube(inputs: ExposureInputs, target: str, *, kappa: float | None = None) -> CaseCube:
    """The cube a hot-spot or forecast analysis counts for ``target`` (one of :data:`TARGETS`).

    ``reported``: every case (the input cube); ``citizen``: citizen reports only; ``estimated``: the
    per-period adjusted rates ``(c + p) / (1 + κ m)`` (float, citizen reports per period).
    """
    target = check_choice(target, "target", TARGETS)
    cube = inputs.cube
    if target == "reported":
        return cube
    if target == "citizen":
        values = inputs.citizen
    else:
        est = ExposureRateEstimator(kappa=kappa).fit(inputs.citizen, inputs.finds, inputs.minutes)
        values = est.rates_
    counts = values[:, :, None]
    return dataclasses.replace(cube, counts=counts, categories=("count",), n_cases=round(float(values.sum())))


def exploration_demand(mean: npt.ArrayLike, upper: npt.ArrayLike, share: float = 0.1) -> FloatArray:
    """Patrol demand per cell: ``(1 − share)`` by the posterior mean, ``share`` by its uncertainty
    (``upper − mean``), each normalised to sum 1; shape (n_cells,), sums to 1 (0 when both are empty)."""
    if not 0.0 <= share <= 1.0:
        msg = f"`share` must be in [0, 1]; got {share}"
        raise ValueError(msg)
    mean = np.clip(np.asarray(mean, dtype=np.float64), 0.0, None)
    spread = np.clip(np.asarray(upper, dtype=np.float64) - mean, 0.0, None)
    parts = []
    for values, weight in ((mean, 1.0 - share), (spread, share)):
        total = values.sum()
        parts.append(weight * values / total if total > 0 else np.zeros_like(values))
    return parts[0] + parts[1]
