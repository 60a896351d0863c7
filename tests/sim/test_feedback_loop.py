"""The closed-loop replay of issue #24: patrol time by the estimated rate stays fair, by reports it drifts."""

from __future__ import annotations

import numpy as np
import pytest

from sim.feedback import allocate, closed_loop, equal_intensity_scenario, replay_quarters


@pytest.fixture(scope="module")
def quarters():
    return replay_quarters(equal_intensity_scenario(), weeks=26)


def test_estimated_allocation_stays_within_15_percent_of_true(quarters) -> None:
    est = quarters[(quarters["policy"] == "estimated") & (quarters["quarter"] > 0)]
    assert len(est) == 2
    assert (est["deviation"].abs() <= 0.15).all(), est


def test_reported_allocation_drifts_further_each_quarter(quarters) -> None:
    rep = quarters[quarters["policy"] == "reported"].sort_values("quarter")["deviation"].to_numpy()
    assert len(rep) == 3  # the history, then two quarters
    assert np.all(np.diff(rep) > 0), rep
    est = quarters[(quarters["policy"] == "estimated") & (quarters["quarter"] > 0)]["deviation"].abs()
    assert rep[-1] > 3 * est.max()


def test_allocation_spends_the_budget_and_loop_is_reproducible() -> None:
    alloc = allocate(np.array([3.0, 1.0, 0.0, 2.0, 5.0]), 100.0, top_share=0.4)
    assert alloc.sum() == pytest.approx(100.0)
    assert alloc[4] > alloc[0] > alloc[3] > alloc[1] >= alloc[2]
    s = equal_intensity_scenario(cells_per_area=20, weeks=4)
    one = closed_loop(s, "estimated", weeks=3)
    two = closed_loop(s, "estimated", weeks=3)
    np.testing.assert_array_equal(one.allocation, two.allocation)
    assert one.allocation.shape == (40, 3)
    with pytest.raises(ValueError, match="policy"):
        closed_loop(s, "nope")
