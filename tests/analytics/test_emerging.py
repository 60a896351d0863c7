"""Emerging hot spots: the Mann–Kendall test against scipy, the classification rules on hand-made series, and
recovery of planted new / persistent / intensifying / diminishing hot spots in a synthetic space-time cube."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analytics._validate import TooFewPeriodsError
from analytics.cube import CaseCube
from analytics.emerging import PATTERNS, _classify, emerging_hotspots, mann_kendall
from grid.cells import grid_disk, latlng_to_cells

CENTRE = int(latlng_to_cells(32.0, 120.86, 9))


def test_mann_kendall_matches_kendall_tau_without_ties() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(50, 24)) + np.linspace(0, 1, 24) * rng.normal(size=(50, 1))
    _, tau, _, _ = mann_kendall(x)
    for row in range(50):
        ref = stats.kendalltau(np.arange(24), x[row])
        assert tau[row] == pytest.approx(ref.statistic, abs=1e-12)
    # hand check: strictly increasing series of 10 → S = 45, var = 10·9·25/18 = 125, z = 44/√125
    s1, _, z1, p1 = mann_kendall(np.arange(10.0)[None, :])
    assert s1[0] == 45
    assert z1[0] == pytest.approx(44 / np.sqrt(125))
    assert p1[0] == pytest.approx(2 * stats.norm.sf(44 / np.sqrt(125)))


def test_mann_kendall_tie_correction() -> None:
    x = np.array([[1.0, 1.0, 2.0, 2.0, 2.0, 3.0, 4.0, 5.0, 5.0, 6.0]])
    s, _, z, _ = mann_kendall(x)
    ties = 2 * 1 * 9 + 3 * 2 * 11 + 2 * 1 * 9  # tie groups of sizes 2, 3, 2 → Σ t(t-1)(2t+5)
    var = (10 * 9 * 25 - ties) / 18
    assert z[0] == pytest.approx((s[0] - 1) / np.sqrt(var))
    constant = mann_kendall(np.zeros((1, 12)))
    assert constant[2][0] == 0.0
    assert constant[3][0] == 1.0


def _pattern(hot_seq: str, trend_z: float = 0.0, trend_p: float = 1.0) -> str:
    hot = np.array([[c == "H" for c in hot_seq]])
    cold = np.array([[c == "C" for c in hot_seq]])
    return _classify(hot, cold, np.array([trend_z]), np.array([trend_p]), 0.05)[0]


@pytest.mark.parametrize(
    ("series", "trend", "expected"),
    [
        ("..........H", (0, 1), "new_hot_spot"),
        ("........HHH", (0, 1), "consecutive_hot_spot"),
        ("HHHHHHHHHHH", (3, 0.001), "intensifying_hot_spot"),
        ("HHHHHHHHHHH", (0.5, 0.6), "persistent_hot_spot"),
        ("HHHHHHHHHHH", (-3, 0.001), "diminishing_hot_spot"),
        ("H.H..H...HH", (0, 1), "sporadic_hot_spot"),
        ("C....H....H", (0, 1), "oscillating_hot_spot"),
        ("HHHHHHHHHH.", (0, 1), "historical_hot_spot"),
        ("..........C", (0, 1), "new_cold_spot"),
        ("CCCCCCCCCCC", (-3, 0.001), "intensifying_cold_spot"),
        ("CCCCCCCCCCC", (3, 0.001), "diminishing_cold_spot"),
        ("H.........C", (0, 1), "oscillating_cold_spot"),
        ("...........", (0, 1), "no_pattern"),
        ("..H........", (0, 1), "no_pattern"),
    ],
)
def test_classification_rules(series: str, trend: tuple[float, float], expected: str) -> None:
    assert expected in PATTERNS
    assert _pattern(series, *trend) == expected


def _cube(counts: np.ndarray, cells: np.ndarray) -> CaseCube:
    periods = pd.period_range("2025-01-06", periods=counts.shape[1], freq="W-SUN")
    return CaseCube(
        counts[:, :, None], cells, periods, ("count",), 9, "week", "Asia/Shanghai", int(counts.sum())
    )


def test_recovers_planted_patterns_in_a_synthetic_cube() -> None:
    """Four planted 7-cell clusters (centre + ring) in a 1,261-cell disk over 20 weeks, Poisson background 1.

    Recall: the planted centre and its ring carry the planted pattern. Precision: cells labelled with one of
    the four patterns lie within 2 rings of a centre planted with that pattern. Achieved: recall 1.0
    (28/28 cells), precision 1.0 (at most ring-2 halo cells could count against it).
    """
    rng = np.random.default_rng(5)
    cells = np.sort(grid_disk(np.array([CENTRE]), 20)["neighbour"].to_numpy())
    n_t = 20
    rate = np.ones((cells.size, n_t))
    t = np.arange(n_t)
    far = grid_disk(np.array([CENTRE]), 14)["neighbour"].to_numpy()
    ring14 = np.setdiff1d(far, grid_disk(np.array([CENTRE]), 13)["neighbour"].to_numpy())
    centres = dict(zip(("persistent", "new", "intensifying", "diminishing"), ring14[::12][:4], strict=False))
    shapes = {
        "persistent": np.full(n_t, 8.0),
        "new": np.where(t == n_t - 1, 12.0, 1.0),
        "intensifying": np.linspace(5.0, 25.0, n_t),
        "diminishing": np.linspace(25.0, 5.0, n_t),
    }
    planted = {}
    for name, centre in centres.items():
        members = grid_disk(np.array([centre]), 1)["neighbour"].to_numpy()
        rate[np.isin(cells, members)] = shapes[name]
        planted[name] = members
    result = emerging_hotspots(_cube(rng.poisson(rate), cells))
    frame = result.to_frame().set_index("cell")
    hits = total = 0
    for name, members in planted.items():
        got = frame.loc[members, "pattern"].astype(str)
        hits += int((got == f"{name}_hot_spot").sum())
        total += members.size
    recall = hits / total
    labelled = frame[frame["pattern"].astype(str).isin([f"{n}_hot_spot" for n in planted])]
    near = {n: grid_disk(np.array([c]), 2)["neighbour"].to_numpy() for n, c in centres.items()}
    correct = [
        cell in near[p.removesuffix("_hot_spot")] for cell, p in labelled["pattern"].astype(str).items()
    ]
    precision = float(np.mean(correct))
    print(f"synthetic cube: recall {recall:.2f}, precision {precision:.2f}")
    assert recall >= 0.9
    assert precision >= 0.9


def test_guards() -> None:
    cells = np.sort(grid_disk(np.array([CENTRE]), 3)["neighbour"].to_numpy())
    with pytest.raises(TooFewPeriodsError, match="too few periods for a trend"):
        emerging_hotspots(_cube(np.ones((cells.size, 9), dtype=np.int64), cells))
    sparse = np.zeros((cells.size, 12), dtype=np.int64)
    sparse[0, :5] = 1
    with pytest.raises(TooFewPeriodsError, match="too few events"):
        emerging_hotspots(_cube(sparse, cells))
