"""Emerging hot spots: space-time Gi* per period, a Mann–Kendall trend per cell, and the ArcGIS Pro classes.

Space-time Gi* (ArcGIS "Emerging Hot Spot Analysis" on a space-time cube): the neighbourhood of bin (i, t) is
every cell within ``k`` rings of i in periods t - time_step … t (binary weights, self included, truncated at
the first period); mean and standard deviation are over all n_cells × n_periods bins. Bin p-values are
two-sided normal, corrected by Benjamini–Hochberg over all bins; a bin is a significant hot (cold) spot when
q <= alpha and z > 0 (z < 0). The Mann–Kendall test (two-sided, normal approximation with the tie
correction) runs on each cell's z series; "increasing" means S > 0 and p_trend <= alpha.

Patterns, as published by Esri (first match wins, hot before cold; "90 %" is a share of the periods):

* new: hot in the final period and never before;
* consecutive: a single run of >= 2 hot periods ending at the final one, never hot before the run, and
  < 90 % of periods hot;
* intensifying / persistent / diminishing: hot in >= 90 % of periods including the final one, with a
  significant upward / no significant / a significant downward trend of z;
* sporadic: hot in the final period, < 90 % hot, on-and-off, never a significant cold spot;
* oscillating: hot in the final period, < 90 % hot, a significant cold spot in some earlier period;
* historical: not hot in the final period but hot in >= 90 % of periods;

and the eight cold-spot mirrors (for cold spots "intensifying" is a significant *downward* trend of z).
Esri's text leaves overlaps open; here the final-period patterns are tried before "historical", and a cell
that was a significant spot of the opposite sign earlier is "oscillating" rather than "new"/"consecutive".
"""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from analytics._validate import TooFewPeriodsError, check_int, check_probability
from analytics.cube import CaseCube
from analytics.hotspots import _with_polygons, benjamini_hochberg, two_sided_p
from analytics.recurrence import run_lengths
from analytics.weights import DiskWeights, disk_weights
from grid.cells import CELL_COL_NAME

__all__ = ["MIN_EVENTS", "MIN_PERIODS", "PATTERNS", "EmergingResult", "emerging_hotspots", "mann_kendall"]

FloatArray = npt.NDArray[np.float64]
#: ArcGIS needs at least 10 time steps for a trend.
MIN_PERIODS = 10
#: ArcGIS's Create Space Time Cube needs at least 60 points.
MIN_EVENTS = 60
_KINDS = ("new", "consecutive", "intensifying", "persistent", "diminishing", "sporadic", "oscillating")
PATTERNS = (
    *(f"{kind}_hot_spot" for kind in (*_KINDS, "historical")),
    *(f"{kind}_cold_spot" for kind in (*_KINDS, "historical")),
    "no_pattern",
)


def mann_kendall(series: npt.ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Mann–Kendall trend test on each row of ``series`` (shape (n, T), time along axis 1), vectorised.

    Null hypothesis: no monotonic trend (the values are i.i.d. over time). Returns ``(s, tau, z, p)``:
    S = Σ_{a<b} sign(x_b - x_a); tau = S / (T(T-1)/2) (Kendall's tau-a against time); z with the
    continuity correction and tie-corrected variance [T(T-1)(2T+5) - Σ t(t-1)(2t+5)] / 18; p two-sided.
    Rows with zero variance (all values tied) get z = 0, p = 1. Cost O(n T²) in T - 1 vector passes.
    """
    x = np.asarray(series, dtype=np.float64)
    n_t = x.shape[1]
    s = np.zeros(x.shape[0])
    for lag in range(1, n_t):
        s += np.sign(x[:, lag:] - x[:, :-lag]).sum(axis=1)
    ordered = np.sort(x, axis=1)
    tie_term = np.zeros(x.shape[0])
    same = np.concatenate(
        [np.zeros((x.shape[0], 1), bool), ordered[:, 1:] == ordered[:, :-1]], axis=1
    )  # True when equal to the previous value
    runs = run_lengths(same) + 1  # size of the tie group so far
    ends = np.concatenate([~same[:, 1:], np.ones((x.shape[0], 1), bool)], axis=1)
    t = np.where(ends, runs, 1).astype(np.float64)
    tie_term = (t * (t - 1) * (2 * t + 5)).sum(axis=1)
    var = (n_t * (n_t - 1) * (2 * n_t + 5) - tie_term) / 18.0
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(s > 0, (s - 1) / np.sqrt(var), np.where(s < 0, (s + 1) / np.sqrt(var), 0.0))
    z = np.where(var > 0, z, 0.0)
    return s, s / (n_t * (n_t - 1) / 2), z, two_sided_p(z)


@dataclasses.dataclass(frozen=True)
class EmergingResult:
    """Space-time Gi* bins, Mann–Kendall trends and the emerging-pattern class of every cell.

    Attributes
    ----------
    cells : int64, shape (n_cells,). periods : PeriodIndex, length n_periods.
    counts : int64, shape (n_cells, n_periods).
    z, p, q : float64, shape (n_cells, n_periods): space-time Gi* z, two-sided p, BH q over all bins.
    hot, cold : bool, shape (n_cells, n_periods): q <= alpha with z > 0 / z < 0.
    trend_s, trend_tau, trend_z, trend_p : float64, shape (n_cells,): Mann–Kendall on each z series.
    pattern : object, shape (n_cells,): one of :data:`PATTERNS`.
    k, time_step : neighbourhood in rings and in previous periods. alpha : significance level.
    """

    cells: npt.NDArray[np.int64]
    periods: pd.PeriodIndex
    counts: npt.NDArray[np.int64]
    z: FloatArray
    p: FloatArray
    q: FloatArray
    hot: npt.NDArray[np.bool_]
    cold: npt.NDArray[np.bool_]
    trend_s: FloatArray
    trend_tau: FloatArray
    trend_z: FloatArray
    trend_p: FloatArray
    pattern: npt.NDArray[np.object_]
    k: int
    time_step: int
    alpha: float

    def to_frame(self) -> pd.DataFrame:
        """One row per cell: ``cell``, ``count``, ``pattern``, trend, hot/cold periods, final ``gi_z``."""
        return pd.DataFrame(
            {
                CELL_COL_NAME: self.cells,
                "count": self.counts.sum(axis=1),
                "pattern": pd.Categorical(self.pattern, categories=PATTERNS),
                "trend_tau": self.trend_tau,
                "trend_z": self.trend_z,
                "trend_p": self.trend_p,
                "hot_periods": self.hot.sum(axis=1),
                "cold_periods": self.cold.sum(axis=1),
                "gi_z": self.z[:, -1],
                "gi_p": self.p[:, -1],
            }
        )

    def to_geodataframe(self) -> gpd.GeoDataFrame:
        """:meth:`to_frame` with the cell polygons (EPSG:4326)."""
        return _with_polygons(self.to_frame())


def _space_time_gi(y: FloatArray, weights: DiskWeights, time_step: int) -> FloatArray:
    """Space-time Gi* z, shape (n_cells, n_periods)."""
    spatial = weights.matrix @ y  # (n, T) ring sums per period
    card = np.diff(weights.matrix.indptr).astype(np.float64)
    csum = np.cumsum(spatial, axis=1)
    window = csum.copy()
    window[:, time_step + 1 :] -= csum[:, : -(time_step + 1)]
    n_t = y.shape[1]
    depth = np.minimum(np.arange(n_t), time_step) + 1.0
    w_it = card[:, None] * depth[None, :]
    n = y.size
    mean = y.mean()
    s = np.sqrt((y**2).mean() - mean**2)
    return (window - mean * w_it) / (s * np.sqrt((n * w_it - w_it**2) / (n - 1)))


def _classify(hot, cold, trend_z, trend_p, alpha):
    out = np.full(hot.shape[0], "no_pattern", dtype=object)
    up = (trend_p <= alpha) & (trend_z > 0)
    down = (trend_p <= alpha) & (trend_z < 0)
    done = np.zeros(hot.shape[0], dtype=bool)
    historical = []
    for name, sig, other, rising, falling in (("hot", hot, cold, up, down), ("cold", cold, hot, down, up)):
        n_t = sig.shape[1]
        n_sig = sig.sum(axis=1)
        final = sig[:, -1]
        share = n_sig / n_t
        run = run_lengths(sig)[:, -1]
        prior_other = other[:, :-1].any(axis=1)
        rules = (
            ("new", final & (n_sig == 1) & ~prior_other),
            ("consecutive", final & (run >= 2) & (n_sig == run) & (share < 0.9) & ~prior_other),
            ("intensifying", final & (share >= 0.9) & rising),
            ("persistent", final & (share >= 0.9) & ~rising & ~falling),
            ("diminishing", final & (share >= 0.9) & falling),
            ("sporadic", final & (share < 0.9) & ~other.any(axis=1)),
            ("oscillating", final & (share < 0.9) & prior_other),
        )
        for kind, mask in rules:
            take = mask & ~done
            out[take] = f"{kind}_{name}_spot"
            done |= take
        historical.append((f"historical_{name}_spot", ~final & (share >= 0.9)))
    for label, mask in historical:
        take = mask & ~done
        out[take] = label
        done |= take
    return out


def emerging_hotspots(
    cube: CaseCube,
    *,
    k: int = 1,
    time_step: int = 1,
    weights: DiskWeights | None = None,
    alpha: float = 0.05,
    min_periods: int = MIN_PERIODS,
    min_events: int = MIN_EVENTS,
) -> EmergingResult:
    """Emerging hot spot analysis of a cube (counts summed over categories).

    Parameters
    ----------
    cube
        Cell × period counts; at least ``min_periods`` periods and ``min_events`` cases.
    k
        Spatial neighbourhood in rings (>= 1).
    time_step
        Temporal neighbourhood: the current and this many previous periods (>= 0; ArcGIS default 1).
    weights
        Precomputed :func:`~analytics.weights.disk_weights` of ``cube.cells`` (same resolution).
    alpha
        Significance of the FDR-corrected bins and of the trend.
    min_periods, min_events
        Input guards (ArcGIS: 10 time steps, 60 points); lower them only knowingly.

    Returns
    -------
    EmergingResult

    Raises
    ------
    TooFewPeriodsError
        Fewer than ``min_periods`` periods or ``min_events`` cases.
    ValueError
        Resolution or cell mismatch between ``weights`` and the cube.
    """
    k = check_int(k, "k", low=1)
    time_step = check_int(time_step, "time_step", low=0)
    alpha = check_probability(alpha, "alpha")
    n_t = cube.counts.shape[1]
    if n_t < check_int(min_periods, "min_periods", low=2):
        msg = (
            f"too few periods for a trend: the cube has {n_t} {cube.period}(s), emerging hot spot analysis "
            f"needs at least {min_periods} (use a finer period or a longer date range)"
        )
        raise TooFewPeriodsError(msg)
    if cube.n_cases < min_events:
        msg = f"too few events: the cube holds {cube.n_cases} case(s), at least {min_events} are needed"
        raise TooFewPeriodsError(msg)
    if weights is None:
        weights = disk_weights(cube.cells, k)
    if weights.res != cube.res or not np.array_equal(weights.cells, cube.cells):
        msg = (
            f"resolution mismatch: weights at res {weights.res} over {weights.n} cells do not match the cube "
            f"(res {cube.res}, {cube.cells.size} cells); build them from cube.cells"
        )
        raise ValueError(msg)
    counts = cube.total()
    y = counts.astype(np.float64)
    z = _space_time_gi(y, weights, time_step)
    p = two_sided_p(z)
    q = benjamini_hochberg(p)
    hot = (q <= alpha) & (z > 0)
    cold = (q <= alpha) & (z < 0)
    s, tau, tz, tp = mann_kendall(z)
    pattern = _classify(hot, cold, tz, tp, alpha)
    return EmergingResult(
        cube.cells,
        cube.periods,
        counts,
        z,
        p,
        q,
        hot,
        cold,
        s,
        tau,
        tz,
        tp,
        pattern,
        weights.k,
        time_step,
        alpha,
    )
