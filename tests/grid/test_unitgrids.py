"""grid.unitgrids: 14/15-digit unit-grid codes and the unit grid ↔ H3 crosswalk."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from grid.build import cells_from_polygons
from grid.unitgrids import (
    UnitGridCodeError,
    check_unit_grid_codes,
    parse_unit_grid_codes,
    unit_grid_crosswalk,
)


def test_valid_codes_parse() -> None:
    parts = parse_unit_grid_codes(pd.Series(["32060200100101", "110101001002003"]))
    assert parts["digits"].tolist() == [14, 15]
    assert parts["county"].tolist() == ["320602", "110101"]
    assert parts["street"].tolist() == ["001", "001"]
    assert parts["community"].tolist() == ["320602001001", "110101001002"]
    assert parts["seq"].tolist() == ["01", "003"]


def test_invalid_codes_are_named_with_row_and_reason() -> None:
    codes = pd.Series(
        [
            "32060200100101",
            "3206020010010",
            "32060200100101",
            None,
            "3206020010010A",
            "320602000001010",
            3.2e13,
        ]
    )
    problems = check_unit_grid_codes(codes)
    assert problems[["row", "reason"]].values.tolist() == [
        [1, "bad_format"],
        [2, "duplicate"],
        [3, "missing"],
        [4, "bad_format"],
        [5, "zero_part"],
        [6, "not_string"],
    ]
    with pytest.raises(UnitGridCodeError, match=r"grids.csv: 6 invalid .*row 1: '3206020010010'"):
        parse_unit_grid_codes(codes, source="grids.csv")


def test_all_valid_gives_no_problems() -> None:
    assert check_unit_grid_codes(pd.Series(["32060200100101", "32060200100102"])).empty


def test_crosswalk_shares_sum_to_one() -> None:
    units = gpd.GeoDataFrame(
        {"code": ["32060200100101", "32060200100102", "32060200100103"]},
        geometry=[
            shapely.box(120.800, 32.000, 120.803, 32.004),
            shapely.box(120.803, 32.000, 120.806, 32.004),
            shapely.Polygon([(120.800, 32.004), (120.806, 32.004), (120.803, 32.007)]),
        ],
        crs=4326,
    )
    study = gpd.GeoDataFrame(
        {"area_id": ["D"], "level": ["district"]}, geometry=[units.union_all()], crs=4326
    )
    cells = cells_from_polygons(study, res=10)
    walk = unit_grid_crosswalk(units, cells)
    assert set(walk.columns) == {"unit_grid", "cell", "area_m2", "share_of_unit", "share_of_cell"}
    np.testing.assert_allclose(walk.groupby("unit_grid")["share_of_unit"].sum(), 1.0, rtol=1e-9)
    per_cell = walk.groupby("cell")["share_of_cell"].sum()
    np.testing.assert_allclose(per_cell, cells.set_index("cell").loc[per_cell.index, "share"], atol=1e-4)
    # interior cells are wholly covered by unit grids
    assert (per_cell > 1 - 1e-9).sum() > 0
    assert (per_cell <= 1 + 1e-9).all()


def test_crosswalk_refuses_wrong_crs() -> None:
    units = gpd.GeoDataFrame({"code": ["32060200100101"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=3857)
    cells = gpd.GeoDataFrame({"cell": [1]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4326)
    with pytest.raises(ValueError, match="EPSG:4326"):
        unit_grid_crosswalk(units, cells)
