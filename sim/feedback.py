"""The patrol feedback loop on a small synthetic grid (issue #24): does a forecast chase its own patrols?

Two areas, ``A`` and ``B``, of ``cells_per_area`` cells each have the *same* true problem intensity (area B's
cells are a permutation of area A's weekly rates). Citizens report a problem with a fixed propensity wherever
it is; patrol finds are planted only where and when inspectors walk, with a probability proportional to the
presence (``finds ~ Poisson(detect · λ · minutes)``). No H3 grid and no city: arrays only, so it runs in
a fraction of a second.

- :func:`equal_intensity_scenario`: ``weeks`` of history where area A gets ``ratio`` (3) times the patrol
  time of B.
- :func:`closed_loop`: from that history, ``weeks`` (26) of forecast → allocate patrol time → simulated
  patrol → finds → next forecast, for a policy (``true``, ``reported``, ``estimated``), with the patrol
  time allocated as hot-spot patrolling does (a share of the budget on the top cells, the rest spread).
- :func:`replay_quarters`: the three policies side by side, area A's share of patrol time per quarter and its
  deviation from the share the true intensity gives.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt
import pandas as pd

from analytics.exposure import ExposureRateEstimator

__all__ = [
    "POLICIES",
    "LoopHistory",
    "Scenario",
    "allocate",
    "closed_loop",
    "equal_intensity_scenario",
    "replay_quarters",
]

#: Allocation policies of the replay: the true intensity, the reported counts, the estimated rate.
POLICIES = ("true", "reported", "estimated")
FloatArray = npt.NDArray[np.float64]


@dataclasses.dataclass(frozen=True)
class Scenario:
    """A synthetic two-area city and its history.

    Attributes
    ----------
    intensity : ndarray (n_cells,)
        True problems per week per cell (area A first, then area B, same multiset of values).
    area : ndarray of int64 (n_cells,)
        0 for area A, 1 for area B.
    citizen, finds, minutes : ndarray (n_cells, n_weeks)
        Citizen reports, patrol finds and patrol minutes per cell and week of the history.
    report_p : float
        Share of problems citizens report.
    detect : float
        Finds per problem per patrol-minute (``finds ~ Poisson(detect · λ · minutes)``).
    budget : float
        Patrol minutes per week over the whole grid.
    """

    intensity: FloatArray
    area: npt.NDArray[np.int64]
    citizen: FloatArray
    finds: FloatArray
    minutes: FloatArray
    report_p: float
    detect: float
    budget: float

    @property
    def reported(self) -> FloatArray:
        """Every case (citizen reports and patrol finds), shape (n_cells, n_weeks)."""
        return self.citizen + self.finds


def _observe(
    rng: np.random.Generator, lam: FloatArray, minutes: FloatArray, report_p: float, detect: float
) -> tuple[FloatArray, FloatArray]:
    citizen = rng.poisson(report_p * lam).astype(np.float64)
    finds = rng.poisson(detect * lam * minutes).astype(np.float64)
    return citizen, finds


def equal_intensity_scenario(
    *,
    cells_per_area: int = 200,
    weeks: int = 13,
    ratio: float = 3.0,
    mean_rate: float = 4.0,
    report_p: float = 0.2,
    detect: float = 0.02,
    budget: float = 24_000.0,
    seed: int = 24,
) -> Scenario:
    """Two areas of equal true intensity; area A gets ``ratio`` × the patrol minutes of B each week.

    Cell rates are Gamma (shape 2) around ``mean_rate`` problems per week; area B's rates are area A's, in
    another order. Within an area the minutes are spread evenly. ``budget`` minutes per week in all.
    """
    rng = np.random.default_rng(seed)
    rates_a = rng.gamma(2.0, mean_rate / 2.0, cells_per_area)
    intensity = np.concatenate([rates_a, rng.permutation(rates_a)])
    area = np.repeat(np.arange(2, dtype=np.int64), cells_per_area)
    per_cell_b = budget / (cells_per_area * (ratio + 1.0))
    per_cell = np.where(area == 0, ratio * per_cell_b, per_cell_b)
    minutes = np.repeat(per_cell[:, None], weeks, axis=1)
    lam = np.repeat(intensity[:, None], weeks, axis=1)
    citizen, finds = _observe(rng, lam, minutes, report_p, detect)
    return Scenario(intensity, area, citizen, finds, minutes, report_p, detect, budget)


def allocate(
    score: npt.ArrayLike, budget: float, *, top_share: float = 0.2, focus: float = 0.6
) -> FloatArray:
    """Hot-spot patrolling: ``focus`` of the ``budget`` shared evenly by the ``top_share`` highest-scoring
    cells (ties broken by cell order), the rest in proportion to the score. Shape (n_cells,), sums to
    ``budget``."""
    score = np.clip(np.asarray(score, dtype=np.float64), 0.0, None)
    n = score.size
    k = max(1, round(top_share * n))
    top = np.argsort(-score, kind="stable")[:k]
    out = np.zeros(n)
    out[top] = focus * budget / k
    total = score.sum()
    spread = score / total if total > 0 else np.full(n, 1.0 / n)
    return out + (1.0 - focus) * budget * spread


def _score(
    policy: str,
    scenario: Scenario,
    citizen: FloatArray,
    finds: FloatArray,
    minutes: FloatArray,
    window: int | None,
) -> FloatArray:
    if policy == "true":
        return scenario.intensity
    if window is not None:
        citizen, finds, minutes = citizen[:, -window:], finds[:, -window:], minutes[:, -window:]
    if policy == "reported":
        return (citizen + finds).mean(axis=1)
    return ExposureRateEstimator().fit(citizen, finds, minutes).predict()


@dataclasses.dataclass(frozen=True)
class LoopHistory:
    """Patrol minutes allocated per cell and replay week (``allocation``, shape (n_cells, weeks)) by
    ``policy``, and the observations they produced (``citizen``, ``finds``, same shape)."""

    policy: str
    allocation: FloatArray
    citizen: FloatArray
    finds: FloatArray

    def area_share(self, area: npt.NDArray[np.int64], which: int = 0) -> FloatArray:
        """Share of each week's patrol minutes spent in area ``which``, shape (weeks,)."""
        return self.allocation[area == which].sum(axis=0) / self.allocation.sum(axis=0)


def closed_loop(
    scenario: Scenario,
    policy: str,
    *,
    weeks: int = 26,
    seed: int = 7,
    window: int | None = None,
    **allocation: float,
) -> LoopHistory:
    """Replay ``weeks`` of forecast → allocation (:func:`allocate`) → patrol → finds → next forecast.

    The forecast of each week reads the ``window`` weeks before it (None: every week, the history and the
    replayed weeks);
    ``policy`` is ``true`` (the intensity, the benchmark), ``reported`` (mean cases per week, patrol finds
    counted like reports) or ``estimated`` (:class:`analytics.exposure.ExposureRateEstimator`). The same
    ``seed`` gives every policy the same random stream.
    """
    if policy not in POLICIES:
        msg = f"`policy` must be one of {POLICIES}; got {policy!r}"
        raise ValueError(msg)
    rng = np.random.default_rng(seed)
    n, h = scenario.citizen.shape
    citizen = np.zeros((n, h + weeks))
    finds = np.zeros_like(citizen)
    minutes = np.zeros_like(citizen)
    citizen[:, :h], finds[:, :h], minutes[:, :h] = scenario.citizen, scenario.finds, scenario.minutes
    for w in range(h, h + weeks):
        score = _score(policy, scenario, citizen[:, :w], finds[:, :w], minutes[:, :w], window)
        minutes[:, w] = allocate(score, scenario.budget, **allocation)
        citizen[:, w], finds[:, w] = _observe(
            rng, scenario.intensity, minutes[:, w], scenario.report_p, scenario.detect
        )
    return LoopHistory(policy, minutes[:, h:], citizen[:, h:], finds[:, h:])


def replay_quarters(
    scenario: Scenario, *, weeks: int = 26, seed: int = 7, quarter: int = 13, window: int | None = None
) -> pd.DataFrame:
    """Area A's share of patrol time per quarter of the replay for each policy, and its relative deviation
    from the ``true`` policy's share (``deviation = share / true_share − 1``).

    Returns one row per policy and quarter: ``policy``, ``quarter`` (0 = the scenario's history before the
    replay, then 1, 2, …), ``weeks``, ``share_a``, ``true_share_a``, ``deviation``.
    """
    runs = {p: closed_loop(scenario, p, weeks=weeks, seed=seed, window=window) for p in POLICIES}
    shares = {p: run.area_share(scenario.area) for p, run in runs.items()}
    history = float(scenario.minutes[scenario.area == 0].sum() / scenario.minutes.sum())
    fair = allocate(scenario.intensity, scenario.budget)
    fair_share = float(fair[scenario.area == 0].sum() / fair.sum())
    rows = [
        {"policy": p, "quarter": 0, "weeks": "history", "share_a": history, "true_share_a": fair_share,
         "deviation": history / fair_share - 1.0}
        for p in POLICIES
    ]  # fmt: skip
    for q, lo in enumerate(range(0, weeks, quarter), start=1):
        hi = min(lo + quarter, weeks)
        true_share = float(shares["true"][lo:hi].mean())
        for policy in POLICIES:
            share = float(shares[policy][lo:hi].mean())
            rows.append(
                {
                    "policy": policy,
                    "quarter": q,
                    "weeks": f"{lo + 1}-{hi}",
                    "share_a": share,
                    "true_share_a": true_share,
                    "deviation": share / true_share - 1.0,
                }
            )
    return pd.DataFrame(rows)
