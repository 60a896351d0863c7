"""Roll a per-cell table up to coarser H3 parents: the zoomed-out view of a map of many small cells.

A city at resolution 10 has ~10,000 cells; at a city-wide zoom each is a few pixels wide, so maps draw the
parents instead (one resolution up: 7 children per parent) and switch to the cells when zoomed in. The
roll-up is one ``groupby`` on the parent id: sums of count columns, and for a class column the class that
carries the most weight (e.g. the most cases) among the children, so a parent looks like where its cases are.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from grid.cells import CELL_COL_NAME, cell_resolution, cells_to_parents, cells_to_polygons

__all__ = ["rollup_cells"]


def rollup_cells(
    frame: pd.DataFrame,
    res: int,
    *,
    sums: Sequence[str] = (),
    dominant: str | None = None,
    weight: str | None = None,
    geometry: bool = True,
) -> pd.DataFrame:
    """One row per parent cell at ``res`` of the cells in ``frame``.

    Parameters
    ----------
    frame : DataFrame
        One row per cell: an int64 column ``cell`` (one resolution, finer than or equal to ``res``) and the
        columns named below.
    res : int
        Parent resolution (0–15, <= the cells' resolution).
    sums : sequence of str
        Numeric columns summed over the children (e.g. ``count``).
    dominant : str, optional
        A class column: each parent takes the class with the largest total ``weight`` among its children
        (ties: the first in order of appearance of the class in ``frame``).
    weight : str, optional
        Numeric column weighting ``dominant``; default (or when a parent's weights are all 0) one per child.
    geometry : bool
        Return a GeoDataFrame with the parents' hexagons (EPSG:4326); else a DataFrame.

    Returns
    -------
    DataFrame or GeoDataFrame
        Columns ``cell`` (the parent, int64, sorted), ``children`` (cells of ``frame`` inside it), the
        ``sums`` columns, the ``dominant`` column, and ``geometry`` when asked.

    Raises
    ------
    KeyError
        A named column is missing.
    ValueError
        ``frame`` mixes resolutions or ``res`` is finer than the cells.
    """
    missing = [c for c in (CELL_COL_NAME, *sums, dominant, weight) if c is not None and c not in frame]
    if missing:
        msg = f"rollup_cells: column(s) {missing} missing from the frame (has {list(frame.columns)})"
        raise KeyError(msg)
    cells = frame[CELL_COL_NAME].to_numpy(dtype=np.int64)
    resolutions = np.unique(cell_resolution(cells))
    if resolutions.size > 1:
        msg = f"rollup_cells: the frame mixes H3 resolutions {resolutions.tolist()}"
        raise ValueError(msg)
    if resolutions.size and res > int(resolutions[0]):
        msg = (
            f"rollup_cells: parent resolution {res} is finer than the cells' resolution {int(resolutions[0])}"
        )
        raise ValueError(msg)
    parent = cells_to_parents(cells, res) if cells.size else cells
    grouped = pd.DataFrame({CELL_COL_NAME: parent})
    for column in sums:
        grouped[column] = frame[column].to_numpy()
    out = grouped.groupby(CELL_COL_NAME, sort=True).agg(
        children=(CELL_COL_NAME, "size"), **{c: (c, "sum") for c in sums}
    )
    if dominant is not None:
        out[dominant] = _dominant(parent, frame[dominant], frame[weight] if weight else None).reindex(
            out.index
        )
    out = out.reset_index()
    if not geometry:
        return out
    shapes = cells_to_polygons(out[CELL_COL_NAME].to_numpy(dtype=np.int64))
    return shapes[[CELL_COL_NAME, "geometry"]].merge(out, on=CELL_COL_NAME).set_geometry("geometry")


def _dominant(parent: np.ndarray, labels: pd.Series, weight: pd.Series | None) -> pd.Series:
    """Per parent, the label with the largest summed weight (children counted when the weights sum to 0)."""
    codes, uniques = pd.factorize(labels.astype(object), use_na_sentinel=False)
    w = np.ones(parent.size) if weight is None else weight.to_numpy(dtype=np.float64, na_value=0.0)
    table = pd.DataFrame({"parent": parent, "code": codes, "w": w, "n": 1.0})
    totals = table.groupby(["parent", "code"], sort=False)[["w", "n"]].sum().reset_index()
    has_weight = totals.groupby("parent")["w"].transform("sum") > 0
    totals["score"] = np.where(has_weight, totals["w"], totals["n"])
    # codes number the labels in order of first appearance: ascending code breaks ties toward the first seen
    best = totals.sort_values(["parent", "score", "code"], ascending=[True, False, True])
    best = best.drop_duplicates("parent")
    return pd.Series(
        np.asarray(uniques, dtype=object)[best["code"].to_numpy()], index=best["parent"].to_numpy()
    )
