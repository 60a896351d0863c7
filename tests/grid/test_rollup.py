"""grid.rollup.rollup_cells: parents, sums and the dominant class, checked against h3 by hand."""

from __future__ import annotations

import h3
import numpy as np
import pandas as pd
import pytest

from grid.rollup import rollup_cells


def _children(parent: str) -> list[int]:
    return [h3.str_to_int(c) for c in sorted(h3.cell_to_children(parent))]


PARENT_A = h3.latlng_to_cell(32.0, 120.86, 9)
PARENT_B = h3.latlng_to_cell(32.05, 120.90, 9)


def _frame() -> pd.DataFrame:
    a, b = _children(PARENT_A), _children(PARENT_B)
    return pd.DataFrame(
        {
            # parent A: three quiet not-significant cells, one hot cell holding most cases
            # parent B: two cells, no cases at all (weights 0 → count children)
            "cell": np.array([a[0], a[1], a[2], a[3], b[0], b[1]], dtype=np.int64),
            "count": [1, 1, 1, 9, 0, 0],
            "gi_class": ["not_significant"] * 3 + ["hot_99", "cold_90", "not_significant"],
        }
    )


def test_sums_children_and_the_class_holding_most_cases() -> None:
    out = rollup_cells(_frame(), 9, sums=("count",), dominant="gi_class", weight="count", geometry=False)
    out = out.set_index("cell")
    a, b = h3.str_to_int(PARENT_A), h3.str_to_int(PARENT_B)
    assert sorted(out.index) == sorted([a, b])
    assert out.loc[a, "count"] == 12
    assert out.loc[a, "children"] == 4
    # 9 of the 12 cases sit in the hot cell: the parent is hot although 3 of its 4 cells are not
    assert out.loc[a, "gi_class"] == "hot_99"
    # no cases: one child each → a tie, broken toward the class seen first in the frame
    assert out.loc[b, "children"] == 2
    assert out.loc[b, "gi_class"] == "not_significant"


def test_unweighted_dominant_counts_children() -> None:
    out = rollup_cells(_frame(), 9, dominant="gi_class", geometry=False).set_index("cell")
    assert out.loc[h3.str_to_int(PARENT_A), "gi_class"] == "not_significant"


def test_geometry_is_the_parent_hexagon_in_wgs84() -> None:
    out = rollup_cells(_frame(), 8, sums=("count",))
    assert out.crs.to_epsg() == 4326
    parents = {h3.cell_to_parent(PARENT_A, 8), h3.cell_to_parent(PARENT_B, 8)}
    assert {h3.int_to_str(int(c)) for c in out["cell"]} == parents
    for cell, shape in zip(out["cell"], out.geometry, strict=True):
        lat, lon = h3.cell_to_latlng(h3.int_to_str(int(cell)))
        assert shape.contains(shape.centroid)
        assert abs(shape.centroid.y - lat) < 1e-3
        assert abs(shape.centroid.x - lon) < 1e-3
    assert int(out["count"].sum()) == 12


def test_bad_input_is_named() -> None:
    with pytest.raises(KeyError, match="weight_col"):
        rollup_cells(_frame(), 9, dominant="gi_class", weight="weight_col")
    with pytest.raises(ValueError, match="finer"):
        rollup_cells(_frame(), 11)
    mixed = _frame()
    mixed.loc[0, "cell"] = h3.str_to_int(PARENT_A)
    with pytest.raises(ValueError, match="mixes"):
        rollup_cells(mixed, 8)


def test_empty_frame_gives_an_empty_table() -> None:
    empty = _frame().iloc[:0]
    out = rollup_cells(empty, 9, sums=("count",), dominant="gi_class", weight="count", geometry=False)
    assert len(out) == 0
    assert {"cell", "children", "count", "gi_class"} <= set(out.columns)
