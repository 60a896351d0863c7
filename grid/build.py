"""Build the study area's **cells** table from area polygons: H3 polyfill, shares, district/community tags.

The output is the ``cells`` contract of DESIGN.md: one row per H3 cell of the study area with ``cell``
(int64), ``geometry`` (Polygon, EPSG:4326), ``district``, ``subdistrict``, ``community`` (area codes,
nullable), ``unit_grid`` (official code, nullable), ``area_m2`` (spherical cell area, m²) and ``share``
(fraction of the cell's area inside the study area, 0 < share <= 1).

Candidates come from h3's polyfill, one call per polygon part (``h3shape_to_cells_experimental`` with
``contain="center"`` or ``"overlap"``). Everything after that is vectorised shapely on the whole set:
cells lying wholly inside a polygon are found with one STRtree ``contains_properly`` query and get share 1;
only the boundary cells are intersected. Areas of intersections are planar in the UTM zone of the data's
centre (:func:`utm_epsg`), so shares are ratios of areas measured in the same projection.
"""

from __future__ import annotations

from typing import Literal

import geopandas as gpd
import h3.api.basic_int as h3i
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from grid.cells import DEFAULT_RES, _check_res, cells_to_polygons

__all__ = ["CELL_COLUMNS", "TAG_LEVELS", "cells_from_polygons", "largest_share", "utm_epsg"]

#: Columns of :func:`cells_from_polygons`, in order.
CELL_COLUMNS = ("cell", "geometry", "district", "subdistrict", "community", "unit_grid", "area_m2", "share")
#: Area levels that become a tag column of the cells table.
TAG_LEVELS = ("district", "subdistrict", "community")
RULES = ("overlap", "center")
_WGS84 = "EPSG:4326"
#: Shares below this (m² / m²) are numerical slivers of great-circle vs planar edges and are dropped.
_MIN_SHARE = 1e-9


def utm_epsg(lon: float, lat: float) -> int:
    """EPSG code of the WGS-84 UTM zone containing (``lon``, ``lat``) degrees: 326zz north, 327zz south."""
    zone = int(np.clip(np.floor((lon + 180.0) / 6.0) + 1, 1, 60))
    return (32600 if lat >= 0 else 32700) + zone


def _metric_crs(frame: gpd.GeoDataFrame) -> int:
    minx, miny, maxx, maxy = frame.total_bounds
    return utm_epsg((minx + maxx) / 2.0, (miny + maxy) / 2.0)


def _check_areas(areas: gpd.GeoDataFrame, name: str = "areas_gdf") -> None:
    if not isinstance(areas, gpd.GeoDataFrame):
        msg = f"`{name}` must be a GeoDataFrame; got {type(areas).__name__}"
        raise TypeError(msg)
    if areas.crs is None or areas.crs.to_epsg() != 4326:
        msg = (
            f"`{name}` must be in EPSG:4326 (WGS-84 lon/lat); got crs={areas.crs}. Use `to_crs('EPSG:4326')`,"
            " or grid.areas.read_areas(..., crs='gcj02') for GCJ-02 files."
        )
        raise ValueError(msg)
    missing = [c for c in ("area_id", "level") if c not in areas.columns]
    if missing:
        msg = f"`{name}` lacks column(s) {missing}; expected the columns of grid.areas.read_areas"
        raise ValueError(msg)
    types = shapely.get_type_id(areas.geometry.to_numpy())
    if not np.isin(types, (3, 6)).all():
        row = int(np.flatnonzero(~np.isin(types, (3, 6)))[0])
        msg = f"`{name}` row {row} (area {areas['area_id'].iloc[row]}) is not a Polygon/MultiPolygon"
        raise ValueError(msg)


def _polyfill(geoms: npt.ArrayLike, res: int, contain: str) -> npt.NDArray[np.int64]:
    """Distinct cells of every polygon part (h3 polyfill, one call per part), sorted int64."""
    found: list[npt.NDArray[np.int64]] = []
    for part in shapely.get_parts(np.asarray(geoms, dtype=object)):
        ring = shapely.get_coordinates(part.exterior)[:-1, ::-1]  # (lat, lon) for h3
        holes = [shapely.get_coordinates(r)[:-1, ::-1] for r in part.interiors]
        shape = h3i.LatLngPoly(ring.tolist(), *[h.tolist() for h in holes])
        cells = h3i.h3shape_to_cells_experimental(shape, res, contain)
        found.append(np.asarray(cells, dtype=np.uint64).view(np.int64))
    if not found:
        return np.empty(0, dtype=np.int64)
    return np.unique(np.concatenate(found))


def largest_share(
    cells_metric: npt.ArrayLike, zones_metric: npt.ArrayLike
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """For each cell polygon, the zone covering the largest part of it, and that part's area.

    Parameters
    ----------
    cells_metric, zones_metric
        Polygons in one metric CRS (areas in m²), shapes (n,) and (m,).

    Returns
    -------
    zone : numpy.ndarray of int64, shape (n,)
        Position in ``zones_metric`` of the zone with the largest intersection, -1 where none intersects.
        Ties go to the lower position.
    area_m2 : numpy.ndarray of float64, shape (n,)
        Area of that intersection (m², planar in the metric CRS); 0 where none.
    """
    cells_arr = np.asarray(cells_metric, dtype=object)
    zones_arr = np.asarray(zones_metric, dtype=object)
    zone = np.full(len(cells_arr), -1, dtype=np.int64)
    best = np.zeros(len(cells_arr), dtype=np.float64)
    if len(cells_arr) == 0 or len(zones_arr) == 0:
        return zone, best
    tree = shapely.STRtree(cells_arr)
    z_in, c_in = tree.query(zones_arr, predicate="contains_properly")
    inside = np.zeros(len(cells_arr), dtype=bool)
    inside[c_in] = True
    zone[c_in] = z_in
    best[c_in] = shapely.area(cells_arr[c_in])
    z_edge, c_edge = tree.query(zones_arr, predicate="intersects")
    keep = ~inside[c_edge]
    z_edge, c_edge = z_edge[keep], c_edge[keep]
    area = shapely.area(shapely.intersection(cells_arr[c_edge], zones_arr[z_edge]))
    order = np.lexsort((z_edge, -area, c_edge))  # per cell: largest area first, then lowest zone
    c_sorted = c_edge[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = c_sorted[1:] != c_sorted[:-1]
    pick = order[first]
    positive = area[pick] > 0
    zone[c_edge[pick[positive]]] = z_edge[pick[positive]]
    best[c_edge[pick[positive]]] = area[pick[positive]]
    return zone, best


def _tag(
    cells_metric: npt.NDArray[np.object_], zones: gpd.GeoDataFrame, code_column: str, epsg: int
) -> pd.Series:
    zones_metric = zones.geometry.to_crs(epsg).to_numpy()
    pos, _ = largest_share(cells_metric, zones_metric)
    codes = zones[code_column].astype(object).to_numpy()
    values = np.where(pos >= 0, codes[np.maximum(pos, 0)] if len(codes) else None, None)
    return pd.Series(values, dtype="string")


def cells_from_polygons(
    areas_gdf: gpd.GeoDataFrame,
    *,
    res: int = DEFAULT_RES,
    rule: Literal["overlap", "center"] = "overlap",
    unit_grids: gpd.GeoDataFrame | None = None,
    unit_grid_field: str = "code",
) -> gpd.GeoDataFrame:
    """The H3 cells of the study area covered by ``areas_gdf``, tagged with their areas (the cells contract).

    Parameters
    ----------
    areas_gdf
        Area polygons in EPSG:4326 with at least ``area_id`` and ``level`` (as returned by
        ``grid.areas.read_areas`` or ``cases.areas.load_areas``). The study area is the union of every
        polygon; polygons of level ``district``, ``subdistrict`` and ``community`` tag the cells.
    res
        H3 resolution (default 10, ≈1.1 ha at Nantong).
    rule
        ``"overlap"`` (default): every cell that overlaps the study area, however little, so narrow
        polygons (a 20 m wide riverside strip) keep their cells; ``share`` tells how much of each cell is
        inside. ``"center"``: only cells whose centre lies inside a polygon (h3's classic polyfill); a
        polygon narrower than a cell may get no cell at all.
    unit_grids
        Optional official unit-grid polygons (EPSG:4326) with their codes in ``unit_grid_field``; each cell
        gets the code of the unit grid covering the largest part of it.
    unit_grid_field
        Column of ``unit_grids`` with the 14/15-digit code (default ``"code"``).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``CELL_COLUMNS``, one row per cell, sorted by ``cell``, CRS EPSG:4326: ``cell`` (int64),
        ``geometry`` (cell Polygon), ``district``/``subdistrict``/``community``/``unit_grid`` (string,
        ``<NA>`` when no polygon of that level touches the cell; ties in area go to the earlier row),
        ``area_m2`` (float64, spherical cell area, m²) and ``share`` (float64 in (0, 1], planar area of the
        cell inside the union of ``areas_gdf`` over the cell's planar area, both in the UTM zone of the
        data's centre). ``(area_m2 * share).sum()`` approximates the study area in m².

    Raises
    ------
    TypeError
        ``areas_gdf`` is not a GeoDataFrame or ``res`` is not an int.
    ValueError
        Wrong CRS, missing columns, non-polygonal geometry, ``res`` out of range, unknown ``rule``.

    Notes
    -----
    Polyfill is one h3 call per polygon part (the whole of Nantong, ~10,000 km², is 0.5 s at res 8 and
    ~15 s at res 10 with ``overlap``); shares and tags are one vectorised shapely pass each. H3 edges are
    great circles, shapely's are straight in lon/lat: cells whose planar overlap is below 1e-9 of their
    area are dropped.
    """
    res = _check_res(res)
    if rule not in RULES:
        msg = f"`rule` was {rule!r} but is expected to be in {list(RULES)}"
        raise ValueError(msg)
    _check_areas(areas_gdf)
    if unit_grids is not None:
        _check_areas_crs_only(unit_grids, unit_grid_field)
    epsg = _metric_crs(areas_gdf)
    cells = cells_to_polygons(_polyfill(areas_gdf.geometry.to_numpy(), res, rule))
    cells_metric = cells.geometry.to_crs(epsg).to_numpy()
    union = shapely.union_all(areas_gdf.geometry.to_crs(epsg).to_numpy())
    _, inside_m2 = largest_share(cells_metric, np.array([union], dtype=object))
    share = np.minimum(inside_m2 / shapely.area(cells_metric), 1.0)
    keep = share > _MIN_SHARE
    cells, cells_metric, share = cells[keep].reset_index(drop=True), cells_metric[keep], share[keep]
    cells["share"] = share
    for level in TAG_LEVELS:
        zones = areas_gdf[areas_gdf["level"] == level]
        cells[level] = _tag(cells_metric, zones, "area_id", epsg)
    if unit_grids is not None:
        cells["unit_grid"] = _tag(cells_metric, unit_grids, unit_grid_field, epsg)
    else:
        cells["unit_grid"] = pd.Series(pd.NA, index=cells.index, dtype="string")
    return gpd.GeoDataFrame(cells[list(CELL_COLUMNS)], geometry="geometry", crs=_WGS84)


def _check_areas_crs_only(frame: gpd.GeoDataFrame, field: str) -> None:
    if not isinstance(frame, gpd.GeoDataFrame) or frame.crs is None or frame.crs.to_epsg() != 4326:
        crs = getattr(frame, "crs", None)
        msg = f"`unit_grids` must be a GeoDataFrame in EPSG:4326; got crs={crs}. Use `to_crs('EPSG:4326')`"
        raise ValueError(msg)
    if field not in frame.columns:
        msg = f"`unit_grids` has no column {field!r} (set `unit_grid_field`); columns: {list(frame.columns)}"
        raise ValueError(msg)
