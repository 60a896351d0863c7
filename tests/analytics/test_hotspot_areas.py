"""Hot-spot areas: planted blobs come out as ranked areas, cells join only when they touch, their trends
(rising, falling, steady, whatever the season), clear errors."""

from __future__ import annotations

import dataclasses

import h3
import numpy as np
import pandas as pd
import pytest

from analytics._validate import TooFewPeriodsError
from analytics.areas import AREA_COLUMNS, TREND_COLUMNS, area_trends, hotspot_areas
from analytics.cube import CaseCube
from analytics.emerging import mann_kendall
from analytics.hotspots import gi_star
from analytics.weights import disk_weights
from grid.cells import cells_to_parents, grid_disk, latlng_to_cells

A = int(latlng_to_cells(32.0, 120.86, 10))


def _disk(centre: int, k: int) -> np.ndarray:
    return np.unique(grid_disk(np.array([centre]), k)["neighbour"].to_numpy())


def _planted() -> tuple[object, np.ndarray, np.ndarray]:
    universe = _disk(A, 14)
    rng = np.random.default_rng(3)
    values = rng.poisson(1.0, universe.size).astype(float)
    # two centres on opposite sides of the ring 10 steps out: 20 steps apart, well inside the universe
    ring = h3.grid_ring(h3.int_to_str(A), 10)
    far = max(ring, key=lambda c: h3.grid_distance(ring[0], c))
    big, small = h3.str_to_int(ring[0]), h3.str_to_int(far)
    assert h3.grid_distance(ring[0], far) >= 15
    big_cells, small_cells = _disk(big, 1), _disk(small, 1)
    values[np.isin(universe, big_cells)] = 14.0
    values[np.isin(universe, small_cells)] = 9.0
    return gi_star(values, disk_weights(universe, 1)), big_cells, small_cells


def test_planted_blobs_are_the_top_areas_with_their_cases() -> None:
    result, big_cells, small_cells = _planted()
    areas = hotspot_areas(result, min_cells=3)
    assert tuple(areas.columns) == AREA_COLUMNS
    assert areas["area"].tolist() == list(range(1, len(areas) + 1))
    first, second = areas.iloc[0], areas.iloc[1]
    assert set(big_cells) <= set(first["cells"])
    assert set(small_cells) <= set(second["cells"])
    for _, row in areas.iterrows():
        inside = np.isin(result.cells, row["cells"])
        assert row["n_cells"] == len(row["cells"]) >= 3
        assert row["count"] == pytest.approx(result.values[inside].sum())
        assert row["peak_z"] == pytest.approx(result.z[inside].max())
        assert row["peak_cell"] in row["cells"]
        assert (result.significant[inside] & (result.z[inside] > 0)).all()
    assert areas["count"].is_monotonic_decreasing
    # every significant hot cell is in exactly one area once the size floor is 1
    everything = hotspot_areas(result, min_cells=1)
    hot = result.cells[result.significant & (result.z > 0)]
    assert sorted(np.concatenate(everything["cells"].to_list()).tolist()) == sorted(hot.tolist())
    assert len(everything) >= len(areas)


def test_cells_join_only_when_they_touch() -> None:
    """Areas follow grid distance 1 even when the Gi* weights reach 2 rings."""
    universe = _disk(A, 4)
    result = gi_star(np.arange(universe.size, dtype=float), disk_weights(universe, 2))
    centre = h3.int_to_str(A)
    one_away = h3.grid_ring(centre, 1)[0]
    two_away = next(c for c in h3.grid_ring(centre, 2) if h3.grid_distance(c, one_away) >= 2)
    chosen = np.isin(universe, [A, h3.str_to_int(one_away), h3.str_to_int(two_away)])
    fake = dataclasses.replace(result, significant=chosen, z=np.where(chosen, 3.0, 0.0))
    areas = hotspot_areas(fake)
    assert sorted(len(c) for c in areas["cells"]) == [1, 2]
    assert areas.loc[areas["n_cells"] == 1, "peak_cell"].item() == h3.str_to_int(two_away)
    assert hotspot_areas(fake, min_cells=2)["n_cells"].tolist() == [2]


def test_cold_side_and_empty_and_errors() -> None:
    universe = _disk(A, 10)
    values = np.full(universe.size, 4.0)
    values[np.isin(universe, _disk(A, 2))] = 0.0
    result = gi_star(values, disk_weights(universe, 1))
    cold = hotspot_areas(result, side="cold", min_cells=3)
    assert len(cold) == 1
    assert cold.loc[0, "peak_z"] < 0
    assert A in cold.loc[0, "cells"]
    assert hotspot_areas(result, side="hot").empty
    assert tuple(hotspot_areas(result, side="hot").columns) == AREA_COLUMNS
    with pytest.raises(ValueError, match="`side` was 'warm'"):
        hotspot_areas(result, side="warm")
    with pytest.raises(ValueError, match="min_cells"):
        hotspot_areas(result, min_cells=0)


def _trend_cube() -> tuple[CaseCube, dict[str, np.ndarray]]:
    """20 weeks over a 14-ring disk: a Poisson background and three blobs of 7 cells, one growing from 2 to
    12 cases a cell a week, one fading from 12 to 2, one steady at 7; the whole city's reporting grows from
    ×0.6 to ×1.6 over the weeks, which must not read as the areas' trend."""
    universe = _disk(A, 14)
    ring = h3.grid_ring(h3.int_to_str(A), 9)
    centres = [h3.str_to_int(ring[i]) for i in (0, len(ring) // 3, 2 * len(ring) // 3)]
    blobs = dict(zip(("rising", "falling", "steady"), (_disk(c, 1) for c in centres), strict=True))
    weeks = 20
    rng = np.random.default_rng(11)
    season = np.linspace(0.6, 1.6, weeks)
    rate = np.full((universe.size, weeks), 0.5)
    ramp = np.linspace(2.0, 12.0, weeks)
    rate[np.isin(universe, blobs["rising"])] = ramp
    rate[np.isin(universe, blobs["falling"])] = ramp[::-1]
    rate[np.isin(universe, blobs["steady"])] = 7.0
    counts = rng.poisson(rate * season[None, :])[:, :, None].astype(np.int64)
    periods = pd.period_range("2025-01-06", periods=weeks, freq="W-SUN")
    cube = CaseCube(counts, universe, periods, ("count",), 10, "week", "Asia/Shanghai", int(counts.sum()))
    return cube, blobs


def test_area_trends_read_the_share_not_the_season() -> None:
    cube, blobs = _trend_cube()
    result = gi_star(cube.cell_totals().astype(float), disk_weights(cube.cells, 1))
    areas = area_trends(hotspot_areas(result, min_cells=3), cube)
    assert tuple(areas.columns) == AREA_COLUMNS + TREND_COLUMNS
    for expected, cells in blobs.items():
        row = areas[areas["cells"].map(lambda c, cells=cells: bool(np.isin(cells, c).all()))]
        assert len(row) == 1, expected
        assert row["trend"].iloc[0] == expected
        assert (row["trend_tau"].iloc[0] > 0.5) == (expected == "rising")
        assert (row["trend_tau"].iloc[0] < -0.5) == (expected == "falling")
    # the steady area's count does rise with the city's reporting; its share does not
    steady = np.isin(cube.cells, blobs["steady"])
    _, _, z, p = mann_kendall(cube.total()[steady].sum(axis=0)[None, :])
    assert z[0] > 0
    assert p[0] < 0.01


def test_area_trends_errors_and_empty() -> None:
    cube, _ = _trend_cube()
    result = gi_star(cube.cell_totals().astype(float), disk_weights(cube.cells, 1))
    areas = hotspot_areas(result, min_cells=3)
    short = dataclasses.replace(cube, counts=cube.counts[:, :3], periods=cube.periods[:3])
    with pytest.raises(TooFewPeriodsError, match="too few periods for a trend"):
        area_trends(areas, short)
    coarse = areas.assign(cells=areas["cells"].map(lambda c: np.unique(cells_to_parents(c, 9))))
    with pytest.raises(ValueError, match="resolution mismatch"):
        area_trends(coarse, cube)
    empty = area_trends(areas.iloc[:0], cube)
    assert empty.empty
    assert tuple(empty.columns) == AREA_COLUMNS + TREND_COLUMNS
