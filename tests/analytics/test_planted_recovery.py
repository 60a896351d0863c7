"""The demo city's planted hot spots, found again by hot spot analysis (Gi*) and emerging hot spot analysis.

The city is the one ``make demo`` builds (every :class:`~sim.config.DemoConfig` default: one year, ~600 cases
a day, ~9,000 res-10 cells); its truth tables say where the simulator raised a category's intensity and how
(persistent, new, intensifying, diminishing, sporadic, oscillating, and the transient ``episode`` sites),
and ``truth/intensity.parquet`` holds the expected count of every cell, week and category.

Recall (per planted persistent / new / intensifying / diminishing hot spot, 67 in this city):

* *where*: Gi* (k = 1, FDR 5 %) of the category's cases over the full weeks classifies at least half of the
  spot's cells hot;
* *how it changes*, per cell: emerging hot spot analysis (weeks, k = 1, time step 1) gives at least half of
  a new or intensifying spot's cells a significant rising Mann–Kendall trend (a diminishing spot's:
  falling) and at least one hot week;
* *how it changes*, per area: a hot-spot area touching the spot has a significant rising (falling) trend
  of its share of the category's cases (:func:`analytics.areas.area_trends`);
* a spot is recovered when one of them finds it.

Precision (per hot spot area of at least 3 cells, :func:`analytics.areas.hotspot_areas` as on the hot-spot
page, in the 17 categories with planted sites): an area is right when it touches a planted cell of that
category (any pattern) or when at least half of its cells are hot in the same Gi* run on the noise-free
truth, the simulator's expected counts. The second clause matters: the old town has three times the
parking, ads and vending of a residential street by land use alone; a Gi* that flags it is right, though no
multiplier was planted there. The precision against planted cells alone is pinned too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from analytics.areas import area_trends, hotspot_areas
from analytics.cube import CaseCube, build_cube
from analytics.emerging import emerging_hotspots
from analytics.hotspots import GiStarResult, cube_hotspots, gi_star
from analytics.weights import DiskWeights, disk_weights
from grid.cells import strings_to_cells

from .conftest import YEAR_WEEKS

PLANTED = ("persistent", "new", "intensifying", "diminishing")
RISING = ("new", "intensifying")
MIN_AREA_CELLS = 3

pytestmark = pytest.mark.slow


class Year:
    """The demo year's cases, grid, weights and truth, read once for the module."""

    def __init__(self, root: Path) -> None:
        self.cases = pd.read_parquet(root / "cases" / "cases.parquet")
        self.grid = pd.read_parquet(root / "geo" / "cells.parquet", columns=["cell", "district"])
        self.weights: DiskWeights = disk_weights(self.grid["cell"].to_numpy(), 1)
        truth = pd.read_csv(root / "truth" / "hotspot_cells.csv", dtype=str)
        self.truth = truth.assign(cell=strings_to_cells(truth["cell"].to_numpy()))
        intensity = pd.read_parquet(root / "truth" / "intensity.parquet")
        weeks = intensity.pop("week").astype(str)
        full = (weeks >= "2025-W02") & (weeks <= "2025-W52")  # the ISO weeks of YEAR_WEEKS
        self.expected = intensity[full].groupby("cell").sum().reindex(self.weights.cells)

    def cube(self, code: str) -> CaseCube:
        return build_cube(self.cases, self.grid, categories=[code], start=YEAR_WEEKS[0], end=YEAR_WEEKS[1])

    def planted(self, code: str, patterns: tuple[str, ...]) -> list[tuple[str, str, np.ndarray]]:
        rows = self.truth[(self.truth["category_code"] == code) & self.truth["pattern"].isin(patterns)]
        return [(hid, g["pattern"].iloc[0], g["cell"].to_numpy()) for hid, g in rows.groupby("hotspot_id")]


@pytest.fixture(scope="module")
def year(year_dir: Path) -> Year:
    return Year(year_dir)


def _hot(result: GiStarResult) -> npt.NDArray[np.int64]:
    return result.cells[result.significant & (result.z > 0)]


def test_gi_star_finds_where_the_planted_hot_spots_are(year: Year) -> None:
    """Achieved on the demo year (seed 7): recall 0.925 (62/67; missed: both diminishing spots, whose
    surplus ends in the first third of the year, two of the intensifying night-life street's three
    categories and a new construction site's 08005); precision 0.942 over the 428 areas of at least 3
    cells in the 17 planted categories (403 right: 386 touch a planted cell, i.e. 0.902 against planted
    cells alone, and 17 more lie where the true intensity is hot)."""
    found = planted = 0
    areas = right = touching = 0
    missed: list[str] = []
    for code in sorted(year.truth["category_code"].unique()):
        result = cube_hotspots(year.cube(code), weights=year.weights)
        hot = _hot(result)
        for spot, pattern, cells in year.planted(code, PLANTED):
            planted += 1
            seen = np.isin(cells, hot).mean() >= 0.5
            found += int(seen)
            missed += [] if seen else [f"{spot} {code} {pattern}"]
        truly_hot = _hot(gi_star(year.expected[code].to_numpy(), year.weights))
        sites = year.truth.loc[year.truth["category_code"] == code, "cell"].to_numpy()
        for cells in hotspot_areas(result, min_cells=MIN_AREA_CELLS)["cells"]:
            areas += 1
            near_site = bool(np.isin(cells, sites).any())
            touching += near_site
            right += near_site or np.isin(cells, truly_hot).mean() >= 0.5
    recall, precision = found / planted, right / areas
    print(
        f"demo year Gi*: recall {recall:.3f} ({found}/{planted}); precision {precision:.3f} ({right}/{areas} "
        f"areas of >= {MIN_AREA_CELLS} cells), {touching / areas:.3f} against planted cells alone; "
        f"missed {missed}"
    )
    assert planted == 67
    assert recall >= 0.9
    assert precision >= 0.9
    assert touching / areas >= 0.85


def test_trends_say_how_the_planted_hot_spots_change(year: Year) -> None:
    """Two readings of change. Per cell, the emerging analysis's Mann–Kendall trend of the space-time Gi* z;
    per hot-spot area (:func:`analytics.areas.area_trends`), the trend of the area's share of the
    category's cases. Achieved on the demo year, both ways: new 11/12, diminishing 2/2, intensifying 1/3
    (the night-life street's barbecue and cooking-fume complaints, 06029 / 06027, are a few dozen a year:
    too few per week for a trend; its road-side vending, 09006, rises). 22 of the 24 areas on persistent
    spots alone are steady. Found by Gi* or a trend: 66 of 67 (0.985; missed: the street's 06027)."""
    per_cell = {pattern: [0, 0] for pattern in ("new", "intensifying", "diminishing")}
    per_area = {pattern: [0, 0] for pattern in per_cell}
    found = planted = persistent_areas = steady = 0
    missed: list[str] = []
    for code in sorted(year.truth["category_code"].unique()):
        spots = year.planted(code, PLANTED)
        if not spots:
            continue
        cube = year.cube(code)
        gi = cube_hotspots(cube, weights=year.weights)
        hot = _hot(gi)
        areas = area_trends(hotspot_areas(gi, min_cells=MIN_AREA_CELLS), cube)
        emerging = emerging_hotspots(cube, weights=year.weights)
        ever_hot = emerging.hot.any(axis=1)
        significant = emerging.trend_p <= emerging.alpha
        moving = {
            "rising": emerging.cells[significant & (emerging.trend_z > 0) & ever_hot],
            "falling": emerging.cells[significant & (emerging.trend_z < 0) & ever_hot],
        }
        for spot, pattern, cells in spots:
            planted += 1
            seen = False
            if pattern in per_cell:
                direction = "rising" if pattern in RISING else "falling"
                by_cell = np.isin(cells, moving[direction]).mean() >= 0.5
                touching = areas["cells"].map(lambda c, cells=cells: bool(np.isin(c, cells).any()))
                by_area = bool((areas.loc[touching, "trend"] == direction).any())
                for tally, hit in ((per_cell, by_cell), (per_area, by_area)):
                    tally[pattern][0] += int(hit)
                    tally[pattern][1] += 1
                seen = by_cell or by_area
            either = seen or np.isin(cells, hot).mean() >= 0.5
            found += int(either)
            missed += [] if either else [f"{spot} {code} {pattern}"]
        # an area on a persistent spot and nothing else planted should not be moving
        truth = year.truth[year.truth["category_code"] == code]
        for cells, trend in zip(areas["cells"], areas["trend"], strict=True):
            if set(truth.loc[truth["cell"].isin(cells), "pattern"]) == {"persistent"}:
                persistent_areas += 1
                steady += int(trend == "steady")

    def fmt(tally: dict[str, list[int]]) -> dict[str, str]:
        return {p: f"{a}/{b}" for p, (a, b) in tally.items()}

    print(
        f"demo year trends per cell {fmt(per_cell)}, per area {fmt(per_area)}; areas on persistent spots "
        f"steady {steady}/{persistent_areas}; found by Gi* or a trend: {found}/{planted}, missed {missed}"
    )
    for tally in (per_cell, per_area):
        assert tally["new"][0] / tally["new"][1] >= 0.9
        assert tally["diminishing"][0] == tally["diminishing"][1]
    assert steady / persistent_areas >= 0.8
    assert found / planted >= 0.95
