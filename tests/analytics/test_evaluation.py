"""Known answers for the forecast metrics: hit rate with honest ties, PAI, PEI, Poisson deviance."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.evaluation import captured, coverage_metrics, hit_rate, pai, pei, poisson_deviance


def test_hit_rate_pai_pei_known_answers_without_ties() -> None:
    # 20 cells; 5 % area = 1 cell, 10 % = 2 cells
    score = np.arange(20, dtype=float)[::-1]  # cell 0 highest
    actual = np.zeros(20)
    actual[[0, 1, 5]] = [3, 1, 6]  # 10 cases
    assert hit_rate(score, actual, 0.05) == pytest.approx(0.3)
    assert pai(score, actual, 0.05) == pytest.approx(6.0)
    assert hit_rate(score, actual, 0.10) == pytest.approx(0.4)
    assert pai(score, actual, 0.10) == pytest.approx(4.0)
    # the perfect forecast takes cell 5 (6 cases), then 0 (3): PEI = 3/6 and 4/9
    assert pei(score, actual, 0.05) == pytest.approx(0.5)
    assert pei(score, actual, 0.10) == pytest.approx(4 / 9)
    assert pei(actual, actual, 0.10) == pytest.approx(1.0)


def test_ties_at_the_cut_count_as_a_random_draw() -> None:
    # 10 cells, 20 % area = 2 cells; one clear top cell, then 4 tied cells holding 1, 0, 0, 3 cases
    score = np.array([5.0, 1, 1, 1, 1, 0, 0, 0, 0, 0])
    actual = np.array([2.0, 1, 0, 0, 3, 0, 0, 0, 0, 4])
    # top cell (2 cases) + 1 slot out of 4 tied cells holding 4 cases -> 2 + 1 = 3 of 10
    assert captured(score, actual, 0.2) == pytest.approx(3.0)
    assert hit_rate(score, actual, 0.2) == pytest.approx(0.3)
    # a constant forecast is exactly as good as a random choice: PAI 1 at every area
    flat = np.zeros(10)
    for a in (0.1, 0.2, 0.35, 1.0):
        assert pai(flat, actual, a) == pytest.approx(1.0)
    # order of the tied cells in the input does not matter
    perm = np.random.default_rng(0).permutation(10)
    assert captured(score[perm], actual[perm], 0.2) == pytest.approx(3.0)


def test_fractional_area_takes_a_share_of_the_cell_at_the_cut() -> None:
    score = np.array([3.0, 2.0, 1.0])
    actual = np.array([4.0, 2.0, 0.0])
    # 50 % of 3 cells = 1.5 cells: the top cell plus half of the second
    assert captured(score, actual, 0.5) == pytest.approx(5.0)


def test_poisson_deviance_and_mae_known_answers() -> None:
    expected = np.array([1.0, 2.0, 0.5])
    actual = np.array([1.0, 0.0, 2.0])
    # 2 * [0, -(0 - 2), 2 log 4 - 1.5] / 3
    want = 2 * (0 + 2 + (2 * np.log(4.0) - 1.5)) / 3
    assert poisson_deviance(expected, actual) == pytest.approx(want)
    assert poisson_deviance(actual, actual) == pytest.approx(0.0, abs=1e-5)
    metrics = coverage_metrics(expected, actual, areas=(1 / 3,))
    assert metrics["mae"] == pytest.approx((0 + 2 + 1.5) / 3)
    assert metrics["hit_rate_33.3333"] == pytest.approx(0.0)  # the top cell (2.0) had no case


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="equal length"):
        captured(np.ones(3), np.ones(4), 0.1)
    with pytest.raises(ValueError, match="area"):
        captured(np.ones(3), np.ones(3), 0.0)
    assert np.isnan(hit_rate(np.ones(3), np.zeros(3), 0.5))
