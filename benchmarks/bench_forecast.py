"""Forecast speed: fit + predict of the learned models on 20k cells × 104 weeks (issue #6: <= 30 s) and a
12-week rolling-origin backtest of every model (<= 5 min). Quick: 5k cells × 52 weeks, 4 origins.

Cells: a disk of res-10 cells around Nantong; counts: Poisson with gamma-distributed cell rates, a few
planted cells that switch on mid-series, two categories. The ring operators (two ``grid_disk`` passes) are
built once and timed on their own row, as every caller builds them once per universe.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analytics._features import ring_matrices
from analytics.cube import CaseCube
from analytics.evaluation import backtest
from analytics.forecast import _GBM_CACHE, MODELS, Ensemble, PoissonGBM
from benchmarks._measure import measure
from grid.cells import grid_disk, latlng_to_cells
from grid.config import DEFAULT_TIMEZONE

BENCHMARK = "forecast"
SEED = 20240606


def _cube(n: int, n_weeks: int) -> CaseCube:
    centre = np.array([int(latlng_to_cells(32.0, 120.86, 10))])
    k = int(np.ceil((-3 + np.sqrt(9 + 12 * (n - 1))) / 6))
    cells = np.sort(grid_disk(centre, k)["neighbour"].to_numpy())[:n]
    rng = np.random.default_rng(SEED)
    rate = rng.gamma(0.6, 0.5, n)
    lam = np.repeat(rate[:, None], n_weeks, axis=1)
    new = rng.choice(n, n // 200, replace=False)
    lam[new, n_weeks // 2 :] += 4.0
    counts = rng.poisson(np.stack([0.7 * lam, 0.3 * lam], axis=2))
    periods = pd.period_range("2024-01-01", periods=n_weeks, freq="W-SUN")
    return CaseCube(counts, cells, periods, ("a", "b"), 10, "week", DEFAULT_TIMEZONE, int(counts.sum()))


def run(quick: bool) -> list[dict[str, Any]]:
    """Rows: ring operators, poisson_gbm fit+predict, ensemble fit+predict, backtest of every model."""
    n, n_weeks, n_origins = (5_000, 52, 4) if quick else (20_000, 104, 12)
    cube = _cube(n, n_weeks)
    ring_s, _, rings = measure(lambda: ring_matrices(cube.cells))
    rows = [_row("ring operators (grid_disk k=1,2)", n, ring_s, float("nan"))]

    def gbm() -> np.ndarray:
        _GBM_CACHE.clear()
        return PoissonGBM().fit(cube, rings=rings).predict()

    def ensemble() -> np.ndarray:
        _GBM_CACHE.clear()
        return Ensemble().fit(cube, rings=rings).predict()

    gbm_s, gbm_peak, _ = measure(gbm, memory=not quick)
    rows.append(_row(f"poisson_gbm fit+predict ({n_weeks} weeks)", n, gbm_s, gbm_peak, budget_s=30.0))
    ens_s, _, _ = measure(ensemble)
    rows.append(_row(f"ensemble fit+predict ({n_weeks} weeks)", n, ens_s, float("nan"), budget_s=30.0))
    _GBM_CACHE.clear()
    bt_s, _, table = measure(lambda: backtest(cube, list(MODELS), n_origins=n_origins, rings=rings))
    rows.append(
        _row(
            f"backtest {n_origins} origins × {len(MODELS)} models",
            n,
            bt_s,
            float("nan"),
            budget_s=300.0,
            pai_5_ensemble=float(table.loc[table["model"] == "ensemble", "pai_5"].mean()),
            pai_5_baseline_mean=float(table.loc[table["model"] == "baseline_mean", "pai_5"].mean()),
        )
    )
    return rows


def _row(subject: str, n: int, seconds: float, peak: float, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "benchmark": BENCHMARK,
        "subject": subject,
        "n": n,
        "seconds": seconds,
        "per_s": n / seconds,
        "ratio": float("nan"),
        "peak_mib": peak,
    }
    row.update(extra)
    return row
