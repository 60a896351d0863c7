"""Exposure-aware rate speed (issue #24): :class:`analytics.exposure.ExposureRateEstimator` on 20k cells ×
104 weeks (quick: 2k × 52), the target of ≤ 10 s; and the 26-week closed-loop replay of :mod:`sim.feedback`.

Citizen reports are Poisson around Gamma cell rates; patrol minutes go to a fifth of the cells; finds are
Poisson in rate × minutes. The row carries the estimate's κ against the planted one (a check, not a timing).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from analytics.exposure import ExposureRateEstimator
from benchmarks._measure import measure
from sim.feedback import equal_intensity_scenario, replay_quarters

BENCHMARK = "exposure"
SEED = 20240624
KAPPA = 0.01


def _inputs(n: int, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(SEED)
    theta = rng.gamma(2.0, 0.5, n)[:, None]
    minutes = np.where(rng.random((n, 1)) < 0.2, rng.gamma(2.0, 60.0, (n, t)), 0.0)
    citizen = rng.poisson(theta, (n, t))
    finds = rng.poisson(KAPPA * theta * minutes)
    return citizen, finds, minutes


def _row(subject: str, n: int, seconds: float, peak: float, **extra: Any) -> dict[str, Any]:
    return {
        "benchmark": BENCHMARK,
        "subject": subject,
        "n": n,
        "seconds": seconds,
        "per_s": n / seconds if seconds > 0 else float("inf"),
        "ratio": float("nan"),
        "peak_mib": peak,
        **extra,
    }


def run(quick: bool) -> list[dict[str, Any]]:
    """Rows: the estimator fit (+ posterior intervals) on cells × weeks; the closed-loop replay."""
    n, t = (2_000, 52) if quick else (20_000, 104)
    citizen, finds, minutes = _inputs(n, t)
    load = round(os.getloadavg()[0], 2)
    seconds, peak, est = measure(
        lambda: ExposureRateEstimator().fit(citizen, finds, minutes), repeat=3, memory=True
    )
    rows = [
        _row(
            f"ExposureRateEstimator.fit {n} cells x {t} weeks",
            n * t,
            seconds,
            peak,
            kappa=round(est.kappa_, 5),
            kappa_planted=KAPPA,
            load_1min=load,
        )
    ]
    scenario = equal_intensity_scenario()
    loop_s, _, _ = measure(lambda: replay_quarters(scenario, weeks=26), repeat=1)
    rows.append(
        _row(
            "sim.feedback.replay_quarters 400 cells x 26 weeks x 3 policies",
            400 * 26 * 3,
            loop_s,
            float("nan"),
        )
    )
    return rows
