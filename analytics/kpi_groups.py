"""Grouping columns of the KPI tables: the district and subdistrict of each case and the inspector whose
beat holds it.

Spatial joins are joins on ``cell`` (DESIGN, spine rule 2): :func:`attach_areas` takes a cells table, and
:func:`attach_areas_from_polygons` turns area polygons into a cell → area table for the cases' cells first.
Only cases that carry no cell fall back to point-in-polygon of their ``lat``/``lon``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd


def _utc(cases: pd.DataFrame, column: str) -> pd.Series:
    if column not in cases:
        return pd.Series(pd.NaT, index=cases.index, dtype="datetime64[ns, UTC]")
    return pd.to_datetime(cases[column], utc=True)


def _text(cases: pd.DataFrame, column: str) -> pd.Series:
    if column not in cases:
        return pd.Series(pd.NA, index=cases.index, dtype="string")
    return cases[column].astype("string")


# ---- grouping columns ------------------------------------------------------------------------------------
def attach_areas(cases: pd.DataFrame, cells: pd.DataFrame) -> pd.DataFrame:
    """Add ``district`` and ``subdistrict`` to ``cases`` from a cells table (``cell`` int64 + the columns).

    ``cells`` is the ``cells`` contract (``gridpatrol grid build``, the demo's ``geo/cells.parquet``) at
    the cases' resolution (res 10); cases whose cell is not in it get NA.
    """
    wanted = [c for c in ("district", "subdistrict") if c in cells]
    table = cells.drop_duplicates("cell").set_index("cell")[wanted]
    cell = pd.array(cases["cell"], dtype="Int64")
    out = cases.copy()
    for name in wanted:
        out[name] = table[name].astype("string").reindex(cell).to_numpy()
    return out


def attach_areas_from_polygons(cases: pd.DataFrame, areas: Any) -> pd.DataFrame:
    """Add ``district`` / ``subdistrict`` (area ids) from area polygons, joined on the cases' ``cell``.

    ``areas`` is :func:`cases.areas.load_areas` (GeoDataFrame, EPSG:4326, ``area_id``, ``level``); levels
    that are not stored are left out. The distinct cells of the cases are tagged with the area covering the
    largest part of each cell (:func:`area_cells`: the rule of :func:`grid.build.cells_from_polygons`, so
    the result is the one :func:`attach_areas` gives with a cells table built from the same polygons; ties
    go to the earlier row of ``areas``, i.e. the smallest id from ``load_areas``), then the cases are
    joined to them on ``cell``. Only cases without a valid ``cell`` (or a frame without the column) are
    placed by point-in-polygon of ``lat``/``lon``; a point on a shared border takes the smallest area id.
    """
    from grid.cells import is_valid_cells  # grid.cells (geopandas, the H3 kernels) only when needed

    out = cases.copy()
    if areas is None or len(areas) == 0:
        return out
    levels = [level for level in ("district", "subdistrict") if (areas["level"] == level).any()]
    cell = (
        pd.array(cases["cell"], dtype="Int64") if "cell" in cases else pd.array([pd.NA] * len(cases), "Int64")
    )
    has_cell = ~np.asarray(cell.isna())
    values = np.where(has_cell, np.asarray(cell.fillna(0), dtype=np.int64), 0)
    has_cell &= is_valid_cells(values)
    if has_cell.any():
        table = area_cells(np.unique(values[has_cell]), areas)
        joined = attach_areas(pd.DataFrame({"cell": cell}), table)
        for level in levels:
            out[level] = joined[level].where(has_cell, pd.NA).to_numpy()
    if not has_cell.all():
        rows = np.flatnonzero(~has_cell)
        found = _areas_by_point(cases.iloc[rows], areas, levels)
        for level in levels:
            start = out[level].to_numpy() if has_cell.any() else pd.NA
            column = pd.Series(start, index=range(len(cases)), dtype="string")
            column.iloc[rows] = found[level]
            out[level] = column.to_numpy()
    return out


def area_cells(cells: npt.ArrayLike, areas: Any) -> pd.DataFrame:
    """``cell``, ``district``, ``subdistrict`` of ``cells`` (int64 H3 ids): the area of each level covering
    the largest part of the cell (ties to the earlier row of ``areas``), NA where none touches it."""
    from grid.build import largest_share, utm_epsg
    from grid.cells import cells_to_polygons

    polygons = cells_to_polygons(np.asarray(cells, dtype=np.int64))
    minx, miny, maxx, maxy = areas.total_bounds
    epsg = utm_epsg((minx + maxx) / 2.0, (miny + maxy) / 2.0)
    cells_metric = polygons.geometry.to_crs(epsg).to_numpy()
    table = pd.DataFrame({"cell": polygons["cell"].to_numpy(dtype=np.int64)})
    for level in ("district", "subdistrict"):
        zones = areas[areas["level"] == level]
        pos, _ = largest_share(cells_metric, zones.geometry.to_crs(epsg).to_numpy())
        codes = zones["area_id"].astype(object).to_numpy()
        tagged = np.where(pos >= 0, codes[np.maximum(pos, 0)] if len(codes) else None, None)
        table[level] = pd.Series(tagged, dtype="string")
    return table


def _areas_by_point(cases: pd.DataFrame, areas: Any, levels: list[str]) -> dict[str, np.ndarray]:
    """Point-in-polygon of ``lat``/``lon`` for cases without a cell (smallest area id on a border)."""
    import geopandas as gpd

    located = (cases["lat"].notna() & cases["lon"].notna()).to_numpy()
    points = gpd.GeoDataFrame(
        {"_row": np.flatnonzero(located)},
        geometry=gpd.points_from_xy(cases["lon"].to_numpy()[located], cases["lat"].to_numpy()[located]),
        crs="EPSG:4326",
    )
    found = {}
    for level in levels:
        polys = areas[areas["level"] == level][["area_id", "geometry"]]
        hit = gpd.sjoin(points, polys.to_crs("EPSG:4326"), predicate="within", how="inner")
        hit = hit.sort_values(["_row", "area_id"]).drop_duplicates("_row")
        column = pd.Series(pd.NA, index=range(len(cases)), dtype="string")
        column.iloc[hit["_row"].to_numpy()] = hit["area_id"].astype("string").to_numpy()
        found[level] = column.to_numpy()
    return found


def attach_inspectors(cases: pd.DataFrame, assignments: pd.DataFrame | None) -> pd.DataFrame:
    """Add ``inspector``: whose beat (assignment valid at ``reported_at``) holds the case's cell.

    ``assignments`` is the assignments contract (``inspector_id``, ``cell`` int64 or H3 hex, ``valid_from``,
    ``valid_to`` NaT = still valid); when a cell has several inspectors at once the smallest id is taken.
    Cases outside every beat fall back to ``reported_by`` for patrol finds, else NA.
    """
    out = cases.copy()
    fallback = _text(cases, "reported_by").where(_text(cases, "source") == "patrol")
    if assignments is None or assignments.empty:
        out["inspector"] = fallback
        return out
    a = assignments.copy()
    if not pd.api.types.is_integer_dtype(a["cell"]):
        from grid.cells import strings_to_cells

        a["cell"] = strings_to_cells(a["cell"].astype(str).to_numpy())
    a["valid_from"] = pd.to_datetime(a["valid_from"], utc=True)
    a["valid_to"] = pd.to_datetime(a.get("valid_to"), utc=True)
    left = pd.DataFrame({"_row": np.arange(len(cases)), "cell": pd.array(cases["cell"], dtype="Int64"),
                         "t": _utc(cases, "reported_at").reset_index(drop=True)})  # fmt: skip
    m = left.merge(a[["cell", "inspector_id", "valid_from", "valid_to"]].astype({"cell": "Int64"}), on="cell")
    ok = (m["valid_from"] <= m["t"]) & (m["valid_to"].isna() | (m["t"] < m["valid_to"]))
    m = m[ok.to_numpy()].sort_values(["_row", "inspector_id"]).drop_duplicates("_row")
    inspector = pd.Series(pd.NA, index=range(len(cases)), dtype="string")
    inspector.iloc[m["_row"].to_numpy()] = m["inspector_id"].astype("string").to_numpy()
    out["inspector"] = inspector.to_numpy()
    out["inspector"] = out["inspector"].astype("string").fillna(fallback)
    return out
