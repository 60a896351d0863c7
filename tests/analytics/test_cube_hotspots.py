"""Cube, recurrence and Gi* on small hand-checkable inputs, and the clear errors (the demo city's planted hot
spots: ``test_planted_recovery.py``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics._validate import EmptySelectionError
from analytics.cube import build_cube, universe_from_cases
from analytics.hotspots import benjamini_hochberg, cube_hotspots, gi_star
from analytics.recurrence import recurrence, run_lengths
from analytics.weights import disk_weights
from grid.cells import cells_to_parents, grid_disk, latlng_to_cells

A = int(latlng_to_cells(32.0, 120.86, 10))


def _cases(cells: list[int], times: list[str], codes: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "cell": np.array(cells, dtype=np.int64),
            "reported_at": pd.to_datetime(times).tz_localize("UTC"),
            "category_code": codes,
            "source": "patrol",
        }
    )


def test_cube_counts_zeros_and_local_weeks() -> None:
    universe = np.sort(grid_disk(np.array([A]), 1)["neighbour"].to_numpy())
    # 2025-01-05 17:00 UTC is Monday 01:00 in Shanghai: ISO week 2, not week 1
    cases = _cases([A, A, A], ["2025-01-01 02:00", "2025-01-05 17:00", "2025-01-14 03:00"], ["06010"] * 3)
    cube = build_cube(cases, universe, period="week")
    assert cube.counts.shape == (7, 3, 1)
    assert [str(p) for p in cube.periods] == [
        "2024-12-30/2025-01-05",
        "2025-01-06/2025-01-12",
        "2025-01-13/2025-01-19",
    ]
    row = int(np.searchsorted(cube.cells, A))
    assert cube.counts[row, :, 0].tolist() == [1, 1, 1]
    assert cube.counts.sum() == 3
    frame = cube.to_frame()
    assert frame.shape == (21, 1)
    assert frame.index.names == ["cell", "period"]
    assert int(frame["count"].sum()) == 3
    parents = cube.to_parents(9)
    assert parents.counts.sum() == 3
    assert parents.res == 9


def test_cube_category_prefix_dates_and_flagged_rows() -> None:
    universe = np.array([A])
    cases = _cases([A] * 4, ["2025-03-01"] * 4, ["06010", "06036", "07001", "06010"])
    cases["location_flag"] = [None, None, None, "suspicious_cluster"]
    cube = build_cube(cases, universe, period="month", categories=["06"], by_category=True)
    assert cube.categories == ("06010", "06036")
    assert cube.counts[0, 0].tolist() == [1, 1]
    assert cube.n_flagged == 1
    with pytest.raises(EmptySelectionError, match="empty selection"):
        build_cube(cases, universe, start="2025-04-01", end="2025-04-30")


def test_clear_errors() -> None:
    universe = np.array([A])
    cases = _cases([A], ["2025-03-01"], ["06010"])
    with pytest.raises(ValueError, match="category '99999' does not exist"):
        build_cube(cases, universe, categories=["99999"])
    with pytest.raises(ValueError, match="resolution mismatch"):
        build_cube(cases.assign(cell=cells_to_parents(cases["cell"], 8)), universe)
    with pytest.raises(ValueError, match="resolution mismatch"):
        build_cube(cases, np.array([A, int(cells_to_parents(np.array([A]), 9)[0])]))
    with pytest.raises(ValueError, match="`period` was 'year'"):
        build_cube(cases, universe, period="year")
    cube = build_cube(cases, np.sort(grid_disk(np.array([A]), 2)["neighbour"].to_numpy()))
    wrong = disk_weights(cells_to_parents(cube.cells, 9), 1)
    with pytest.raises(ValueError, match="resolution mismatch"):
        cube_hotspots(cube, weights=wrong)
    with pytest.raises(EmptySelectionError):
        gi_star(np.zeros(cube.cells.size), disk_weights(cube.cells, 1))


def test_universe_from_cases_is_the_k_ring_hull() -> None:
    cases = _cases([A], ["2025-03-01"], ["06010"])
    assert universe_from_cases(cases, 10, k=1).size == 7


def test_recurrence_runs() -> None:
    assert run_lengths(np.array([[1, 1, 0, 1, 1, 1, 0, 1]], bool)).tolist() == [[1, 2, 0, 1, 2, 3, 0, 1]]
    universe = np.sort(grid_disk(np.array([A]), 1)["neighbour"].to_numpy())
    days = ["2025-03-03", "2025-03-10", "2025-03-24", "2025-03-31", "2025-04-07"]
    cube = build_cube(_cases([A] * 5, days, ["06010"] * 5), universe, period="week")
    rec = recurrence(cube, last=5)
    row = int(np.searchsorted(cube.cells, A))
    assert (rec.active_periods[row, 0], rec.longest_run[row, 0], rec.current_run[row, 0]) == (4, 3, 3)
    top = rec.chronic(top=3)
    assert top.loc[0, "cell"] == A
    assert top.loc[0, "rank"] == 1


def test_benjamini_hochberg_matches_hand_computation() -> None:
    q = benjamini_hochberg([0.01, 0.04, 0.03, 0.5])
    np.testing.assert_allclose(q, [0.04, 0.0533333333, 0.0533333333, 0.5])
