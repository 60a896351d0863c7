"""Exposure-aware rates (issue #24): the estimator, its inputs and the equal-intensity loop scenario."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.exposure import (
    ExposureInputs,
    ExposureRateEstimator,
    adjusted_cube,
    exploration_demand,
    exposure_inputs,
    presence_minutes,
)
from grid.cells import cells_to_parents, grid_disk, latlng_to_cells
from sim.feedback import equal_intensity_scenario


def test_estimator_recovers_rate_under_unequal_patrol() -> None:
    rng = np.random.default_rng(0)
    theta = np.full(400, 3.0)
    minutes = np.where(np.arange(400) < 200, 200.0, 0.0)[:, None] * np.ones((1, 30))
    citizen = rng.poisson(theta[:, None] * np.ones((1, 30)))
    finds = rng.poisson(0.01 * theta[:, None] * minutes)
    est = ExposureRateEstimator().fit(citizen, finds, minutes)
    assert est.kappa_ == pytest.approx(0.01, rel=0.05)
    assert est.predict()[:200].mean() / est.predict()[200:].mean() == pytest.approx(1.0, abs=0.05)
    # patrolled cells know more: narrower intervals, less shrinkage
    assert (est.upper_ - est.lower_)[:200].mean() < (est.upper_ - est.lower_)[200:].mean()
    assert est.shrinkage_[:200].mean() < est.shrinkage_[200:].mean()
    assert np.all(est.lower_ <= est.mean_)
    assert np.all(est.mean_ <= est.upper_)
    frame = est.to_frame(cells=np.arange(400))
    assert list(frame.columns[:2]) == ["cell", "events"]
    assert len(frame) == 400


def test_shrinkage_pulls_empty_cells_to_the_city_mean() -> None:
    citizen = np.zeros((3, 4))
    citizen[0] = 10
    citizen[1] = 1
    est = ExposureRateEstimator().fit(citizen, np.zeros_like(citizen), np.zeros_like(citizen))
    assert est.kappa_ == 0.0
    assert 0 < est.mean_[2] < est.mean_[1] < est.mean_[0] < 10
    assert est.var_[0] > 0


def test_no_patrol_means_citizen_rates_and_bad_input_is_refused() -> None:
    c = np.array([[1.0, 2.0], [0.0, 1.0]])
    est = ExposureRateEstimator().fit(c, np.zeros_like(c), np.zeros_like(c), until=1)
    assert est.rates_.shape == (2, 1)
    with pytest.raises(ValueError, match="share one 2-d shape"):
        ExposureRateEstimator().fit(c, c[:1], c)
    with pytest.raises(ValueError, match="level"):
        ExposureRateEstimator(level=1.5)


def test_reported_forecast_chases_patrols_estimated_does_not() -> None:
    """Equal true intensity, area A patrolled 3×: reported counts rank A above B, the estimate does not."""
    s = equal_intensity_scenario()
    a = s.area == 0
    reported = s.reported.mean(axis=1)
    risk_reported = reported / reported.max()
    assert risk_reported[a].mean() / risk_reported[~a].mean() > 1.5
    estimate = ExposureRateEstimator().fit(s.citizen, s.finds, s.minutes).predict()
    risk = estimate / estimate.max()
    assert risk[a].mean() / risk[~a].mean() == pytest.approx(1.0, abs=0.10)


def test_exploration_demand_sums_to_one() -> None:
    d = exploration_demand([1.0, 1.0, 0.0], [1.5, 1.2, 2.0], share=0.2)
    assert d.sum() == pytest.approx(1.0)
    assert d[2] > 0  # an unknown cell keeps some patrol time
    with pytest.raises(ValueError, match="share"):
        exploration_demand([1.0], [1.0], share=2.0)


def _cases(cells: np.ndarray, sources: list[str], days: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "cell": cells,
            "reported_at": pd.to_datetime(days).tz_localize("Asia/Shanghai").tz_convert("UTC"),
            "category_code": "01",
            "source": sources,
        }
    )


def test_inputs_split_sources_and_aggregate_presence() -> None:
    centre = np.array([int(latlng_to_cells(32.0, 120.86, 10))])
    fine_cells = np.sort(grid_disk(centre, 3)["neighbour"].to_numpy())
    universe = np.unique(cells_to_parents(fine_cells, 9))
    cases = _cases(
        fine_cells[[0, 0, 1, 5]],
        ["hotline", "patrol", "patrol", "wechat"],
        ["2025-03-03 10:00", "2025-03-04 10:00", "2025-03-11 09:00", "2025-03-12 09:00"],
    )
    coverage = pd.DataFrame(
        {
            "cell": fine_cells[[0, 0, 1]],
            "period": pd.to_datetime(["2025-03-03", "2025-03-05", "2025-03-10"]).tz_localize("Asia/Shanghai"),
            "seconds": [600.0, 1200.0, 300.0],
        }
    )
    inputs = exposure_inputs(
        cases, universe, coverage, timezone="Asia/Shanghai", start="2025-03-03", end="2025-03-16"
    )
    assert isinstance(inputs, ExposureInputs)
    assert inputs.citizen.sum() == 2
    assert inputs.finds.sum() == 2
    assert inputs.minutes.sum() == pytest.approx(35.0)
    assert inputs.minutes.shape == (universe.size, 2)
    assert inputs.minutes[:, 0].sum() == pytest.approx(30.0)
    frame = inputs.to_frame()
    assert {"citizen", "finds", "minutes", "reported"} <= set(frame.columns)
    assert (frame["reported"] == frame["citizen"] + frame["finds"]).all()
    est_cube = adjusted_cube(inputs, "estimated")
    assert est_cube.counts.shape == (universe.size, 2, 1)
    assert adjusted_cube(inputs, "citizen").counts.sum() == 2
    assert adjusted_cube(inputs, "reported") is inputs.cube
    empty = presence_minutes(coverage.iloc[:0], universe, inputs.cube.periods, timezone="Asia/Shanghai")
    assert empty.sum() == 0


def test_presence_minutes_by_month_in_the_city_zone() -> None:
    """A day start just after local midnight counts in the local month; minutes outside the range drop."""
    centre = np.array([int(latlng_to_cells(32.0, 120.86, 10))])
    cells = np.sort(grid_disk(centre, 1)["neighbour"].to_numpy())
    periods = pd.period_range("2025-01", "2025-02", freq="M")
    coverage = pd.DataFrame(
        {
            "cell": [cells[0], cells[1], cells[2]],
            "period": pd.to_datetime(["2025-02-01", "2025-01-31", "2025-03-01"]).tz_localize("Asia/Shanghai"),
            "minutes": [10.0, 5.0, 99.0],
        }
    )
    out = presence_minutes(coverage, cells, periods, timezone="Asia/Shanghai")
    assert out[0, 1] == pytest.approx(10.0)
    assert out[1, 0] == pytest.approx(5.0)
    assert out.sum() == pytest.approx(15.0)
