"""Administrative area polygons (district → subdistrict → community) read from GIS files into WGS-84.

Pure functions, no database: :func:`read_areas` reads a GeoJSON, Shapefile or GeoPackage with geopandas
(pyogrio engine), picks the code and name columns, converts GCJ-02 / BD-09 geometry to WGS-84, repairs what
can be repaired and returns the good areas plus a quarantine table of the features it could not use.
The SQL store (``cases.areas``) writes the result; this module never imports ``cases`` (floors go down).

Areas are geodesic areas on the WGS-84 ellipsoid in m² (:func:`geodesic_area_m2`).
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyogrio
import pyproj
import shapely

from grid.coords import check_crs, crs_label, transform_geometries

#: Administrative levels, coarse to fine; ``unit_grid`` is the official 14/15-digit unit grid (单元网格).
AREA_LEVELS = ("city", "district", "subdistrict", "community", "unit_grid")
SOURCE_CRSES = ("wgs84", "gcj02", "bd09")
#: Output columns of :func:`read_areas`, in order.
AREA_COLUMNS = ("area_id", "name", "level", "parent_id", "geometry", "area_m2", "source_crs")
#: Same as ``cases.report.QUARANTINE_COLUMNS`` (``grid`` must not import ``cases``; a test keeps them equal).
QUARANTINE_COLUMNS = ("file", "line", "field", "reason", "detail", "raw")
#: Column names tried, in order and case-insensitively, when no field is given.
ID_FIELD_CANDIDATES = ("adcode", "code", "area_id", "id", "gb", "区划代码", "行政区划代码", "代码", "编码")
NAME_FIELD_CANDIDATES = ("name", "area_name", "名称", "区划名称", "行政区划名称")
PARENT_FIELD_CANDIDATES = ("parent_id", "parent_code", "parent_adcode", "pid", "parent")
#: ``DataFrame.attrs`` keys that :func:`read_areas` sets on the areas it returns.
ATTR_ROWS_READ = "rows_read"
ATTR_DUPLICATES = "duplicates"
ATTR_WARNINGS = "warnings"

_WGS84 = "EPSG:4326"
_POLYGONAL_TYPE_IDS = (3, 6)  # shapely type ids of Polygon, MultiPolygon
_GEOD = pyproj.Geod(ellps="WGS84")


class AreaFileError(ValueError):
    """The file cannot be used as area polygons at all: unreadable, unknown layer or field, no id column."""


def read_areas(
    path: str | Path,
    *,
    level: str,
    crs: str = "wgs84",
    id_field: str | None = None,
    name_field: str | None = None,
    parent_field: str | None = None,
    layer: str | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Read area polygons from a GeoJSON, Shapefile or GeoPackage and return them in WGS-84 with areas in m².

    Parameters
    ----------
    path
        The file. A Shapefile is given by its ``.shp``.
    level
        Administrative level of every polygon in the file, one of ``AREA_LEVELS``.
    crs
        Coordinate system of the file's lon/lat: ``wgs84`` (also for CGCS2000), ``gcj02`` (Amap, Tencent,
        DataV) or ``bd09`` (Baidu); or any CRS pyproj knows (``"EPSG:4528"``, a PROJ string) for a file that
        does not declare one (stored as :func:`grid.coords.crs_label`). A file that declares a projected
        CRS (``.prj``, GeoJSON ``crs``, GeoPackage SRS) is first reprojected to lon/lat with that CRS;
        the GCJ-02/BD-09 conversion then applies to the resulting lon/lat. A file without a CRS is taken
        as lon/lat.
    id_field, name_field, parent_field
        Columns holding the area code, its name and the parent area's code. Default: the first column
        whose name matches (case-insensitively) ``ID_FIELD_CANDIDATES``, ``NAME_FIELD_CANDIDATES``,
        ``PARENT_FIELD_CANDIDATES``; no parent column means ``parent_id`` is null. A parent value that is an
        object such as DataV's ``{"adcode": 320600}`` gives its code.
    layer
        Layer to read from a multi-layer source (GeoPackage). Required when there are several layers.

    Returns
    -------
    areas : geopandas.GeoDataFrame
        One row per usable area, in file order, CRS EPSG:4326, columns ``AREA_COLUMNS``: ``area_id`` (str),
        ``name`` (str; the code when the name is missing), ``level`` (str), ``parent_id`` (str, null when
        unknown), ``geometry`` (Polygon or MultiPolygon, WGS-84 lon/lat), ``area_m2`` (float, geodesic area
        on the WGS-84 ellipsoid), ``source_crs`` (str, the ``crs`` argument). ``areas.attrs`` holds
        ``rows_read`` (features in the file), ``duplicates`` (features repeating an earlier feature's id,
        dropped) and ``warnings`` (list of str: repairs, fallbacks, dropped repeats), so that
        ``rows_read == len(areas) + duplicates + len(quarantine)``.
    quarantine : pandas.DataFrame
        One row per unusable feature, columns ``QUARANTINE_COLUMNS``: ``file``, ``line`` (feature index + 1),
        ``field``, ``reason`` (``missing_field`` – no id; ``empty_geometry``; ``not_polygon``;
        ``invalid_geometry`` – could not be repaired into a polygon), ``detail`` and ``raw`` (the feature's
        properties and source geometry as GeoJSON text).

    Raises
    ------
    AreaFileError
        The file cannot be read, the layer is missing or ambiguous, a named field is not in the file, no id
        column can be found, or coordinates without a declared CRS are not lon/lat.
    ValueError
        ``level`` or ``crs`` is not one of the allowed values.

    Notes
    -----
    Invalid polygons (self-intersections, bow-ties …) are repaired with ``shapely.make_valid`` and the repair
    is reported in ``warnings``; only a feature whose repair has no polygonal part is quarantined.
    Geometry validity is checked again after the GCJ-02/BD-09 conversion, which moves vertices by slightly
    different amounts. ``area_m2`` uses ``pyproj.Geod.geometry_area_perimeter`` (exact on the ellipsoid,
    independent of any projection, valid for a province as for a community).
    """
    _check_options(level, crs)
    file = str(path)
    raw = _read_file(path, layer).reset_index(drop=True)
    fields = _pick_fields(raw, file, id_field=id_field, name_field=name_field, parent_field=parent_field)
    notes: list[str] = []
    lonlat = _to_lonlat(raw, file, crs, notes)

    attrs = _attributes(raw, fields)
    problems = pd.DataFrame(pd.NA, index=raw.index, columns=["reason", "detail", "field"], dtype="object")
    no_id = attrs["area_id"].isna().to_numpy()
    problems.loc[no_id, :] = ["missing_field", f"no area code in column {fields['id']!r}", fields["id"]]
    if level == "unit_grid":
        _check_unit_grid_codes(attrs, problems, fields["id"])

    geoms = _check_geometries(lonlat.to_numpy(), problems, attrs["area_id"], notes)
    ok = problems["reason"].isna().to_numpy()
    if crs in SOURCE_CRSES and crs != "wgs84" and ok.any():  # the GCJ-02/BD-09 shift (pyproj CRSs are done)
        converted = transform_geometries(gpd.GeoSeries(geoms[ok], crs=_WGS84), crs, "wgs84")
        geoms[ok] = np.asarray(converted.to_numpy(), dtype=object)
        _repair(geoms, ok.copy(), problems, attrs["area_id"], notes, when=f" after {crs} → wgs84")
        ok = problems["reason"].isna().to_numpy()

    quarantine = _quarantine_frame(raw, file, problems)
    repeats = attrs["area_id"].where(ok).duplicated(keep="first").to_numpy() & ok
    notes.extend(_repeat_warnings(attrs["area_id"], ok, repeats))
    keep = ok & ~repeats
    areas = _areas_frame(attrs[keep], geoms[keep], level, crs, notes)
    areas.attrs = {ATTR_ROWS_READ: len(raw), ATTR_DUPLICATES: int(repeats.sum()), ATTR_WARNINGS: notes}
    return areas, quarantine


def _check_unit_grid_codes(attrs: pd.DataFrame, problems: pd.DataFrame, id_field: str) -> None:
    """Quarantine malformed unit-grid codes; a missing parent defaults to the code's community (12 digits)."""
    from grid.unitgrids import check_unit_grid_codes

    bad = check_unit_grid_codes(attrs["area_id"])
    bad = bad[~bad["reason"].isin(["missing", "duplicate"])]  # handled as missing_field / duplicates
    for row, code, reason, detail in bad.itertuples(index=False):
        problems.iloc[row] = ["invalid_unit_grid_code", f"{code!r}: {reason}: {detail}", id_field]
    attrs["parent_id"] = attrs["parent_id"].fillna(attrs["area_id"].str.slice(0, 12))


def geodesic_area_m2(geoms: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Geodesic area (m²) on the WGS-84 ellipsoid of lon/lat polygons; NaN for missing or empty geometry.

    Parameters
    ----------
    geoms
        Polygons or MultiPolygons in EPSG:4326 (lon, lat), shape (n,). Orientation does not matter: rings
        are oriented (exterior counter-clockwise, holes clockwise) before measuring, so holes subtract.

    Returns
    -------
    numpy.ndarray of float64, shape (n,)
        Area in m²; 0 for non-polygonal geometry.
    """
    arr = np.asarray(geoms, dtype=object)
    oriented = shapely.orient_polygons(arr, exterior_cw=False)
    usable = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
    out = np.full(len(arr), np.nan)
    for i in np.flatnonzero(usable):  # pyproj measures one geometry per call; areas are few (≤ ~10⁴)
        out[i] = abs(_GEOD.geometry_area_perimeter(oriented[i])[0])
    return out


def _check_options(level: str, crs: str) -> None:
    if level not in AREA_LEVELS:
        msg = f"`level` was {level!r} but is expected to be in {list(AREA_LEVELS)}"
        raise ValueError(msg)
    if crs not in SOURCE_CRSES:
        try:
            check_crs(crs)
        except ValueError as exc:
            msg = (
                f"`crs` was {crs!r} but is expected to be in {list(SOURCE_CRSES)}, an EPSG code or PROJ text"
            )
            raise ValueError(msg) from exc


def _read_file(path: str | Path, layer: str | None) -> gpd.GeoDataFrame:
    try:
        layers = [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    except Exception as exc:  # pyogrio raises DataSourceError, OSError … for anything GDAL cannot open
        msg = f"{path}: not a readable GeoJSON, Shapefile or GeoPackage ({exc})"
        raise AreaFileError(msg) from exc
    if layer is None and len(layers) > 1:
        msg = f"{path}: the file has {len(layers)} layers {layers}; choose one with `layer`"
        raise AreaFileError(msg)
    if layer is not None and layer not in layers:
        msg = f"{path}: `layer` was {layer!r} but the file's layers are {layers}"
        raise AreaFileError(msg)
    try:
        return gpd.read_file(path, engine="pyogrio", layer=layer)
    except Exception as exc:
        msg = f"{path}: cannot read layer {layer or layers[0]!r} ({exc})"
        raise AreaFileError(msg) from exc


def _find_column(columns: list[str], candidates: tuple[str, ...]) -> str | None:
    folded = {c.casefold(): c for c in reversed(columns)}  # first column wins on a case-only clash
    for candidate in candidates:
        if candidate.casefold() in folded:
            return folded[candidate.casefold()]
    return None


def _pick_fields(
    raw: gpd.GeoDataFrame,
    file: str,
    *,
    id_field: str | None,
    name_field: str | None,
    parent_field: str | None,
) -> dict[str, str | None]:
    columns = [str(c) for c in raw.columns if c != raw.geometry.name]
    for arg, value in (("id_field", id_field), ("name_field", name_field), ("parent_field", parent_field)):
        if value is not None and value not in columns:
            msg = f"{file}: `{arg}` was {value!r} but the file's fields are {columns}"
            raise AreaFileError(msg)
    picked = {
        "id": id_field or _find_column(columns, ID_FIELD_CANDIDATES),
        "name": name_field or _find_column(columns, NAME_FIELD_CANDIDATES),
        "parent": parent_field or _find_column(columns, PARENT_FIELD_CANDIDATES),
    }
    if picked["id"] is None:
        msg = (
            f"{file}: no area code column: none of {list(ID_FIELD_CANDIDATES)} is among the file's fields "
            f"{columns}; name it with `id_field`"
        )
        raise AreaFileError(msg)
    return picked


def _to_lonlat(raw: gpd.GeoDataFrame, file: str, crs: str, notes: list[str]) -> gpd.GeoSeries:
    """The geometry as lon/lat in the file's own datum (still GCJ-02/BD-09 when ``crs`` says so)."""
    geometry = raw.geometry
    if crs not in SOURCE_CRSES:  # any pyproj CRS (EPSG:4528 …) for a file declaring none, or GeoJSON's 4326
        declared = None if geometry.crs is None else pyproj.CRS.from_user_input(geometry.crs)
        if declared is None or declared.equals(pyproj.CRS.from_epsg(4326), ignore_axis_order=True):
            geometry = geometry.set_crs(crs, allow_override=True)
        else:
            notes.append(f"{file}: the file declares {declared.to_string()}, used instead of crs {crs!r}")
        return geometry.to_crs(_WGS84)
    if geometry.crs is None:
        minx, miny, maxx, maxy = geometry.total_bounds
        if len(geometry.dropna()) and not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            msg = (
                f"{file}: no CRS declared and the coordinates (x {minx:.0f}..{maxx:.0f}, "
                f"y {miny:.0f}..{maxy:.0f}) are not lon/lat; add the .prj / GeoJSON crs or convert the file"
            )
            raise AreaFileError(msg)
        return geometry.set_crs(_WGS84)
    declared = pyproj.CRS.from_user_input(geometry.crs)
    if declared.equals(pyproj.CRS.from_epsg(4326), ignore_axis_order=True):
        return geometry
    if declared.is_projected and crs != "wgs84":
        notes.append(
            f"{file}: projected CRS {declared.to_string()} reprojected to lon/lat before {crs} → wgs84"
        )
    return geometry.to_crs(_WGS84)


def _codes(values: pd.Series) -> pd.Series:
    """Area codes as strings (``320602``, not ``320602.0``); blanks become NA."""
    if pd.api.types.is_float_dtype(values):
        integral = values.notna() & (values % 1 == 0)
        out = values.astype("string")
        out[integral] = values[integral].astype("int64").astype("string")
    elif pd.api.types.is_object_dtype(values):
        out = pd.Series([_unwrap_code(v) for v in values], index=values.index, dtype="string")
    else:
        out = values.astype("string")
    out = out.str.strip()
    return out.mask(out == "", pd.NA)


def _unwrap_code(value: Any) -> str | None:
    """``{"adcode": 320600}`` (DataV's ``parent``) → ``"320600"``; ``320600.0`` → ``"320600"``."""
    if isinstance(value, dict):
        value = next((value[key] for key in ("adcode", "code", "id") if key in value), None)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _attributes(raw: gpd.GeoDataFrame, fields: dict[str, str | None]) -> pd.DataFrame:
    missing = pd.Series(pd.NA, index=raw.index, dtype="string")
    out = pd.DataFrame(index=raw.index)
    for column, source in (
        ("area_id", fields["id"]),
        ("name", fields["name"]),
        ("parent_id", fields["parent"]),
    ):
        out[column] = _codes(raw[source]) if source is not None else missing
    return out


def _polygonal_part(geom: shapely.Geometry) -> shapely.Geometry | None:
    """The Polygon/MultiPolygon made of ``geom``'s polygonal parts (e.g. of a make_valid result), or None."""
    parts = shapely.get_parts(shapely.get_parts(geom))
    polygons = [p for p in parts if shapely.get_type_id(p) == 3 and not p.is_empty]
    if not polygons:
        return None
    return polygons[0] if len(polygons) == 1 else shapely.MultiPolygon(polygons)


def _check_geometries(
    geoms: npt.NDArray[Any], problems: pd.DataFrame, area_id: pd.Series, notes: list[str]
) -> npt.NDArray[Any]:
    """Classify each feature's geometry; repair invalid polygons; fill ``problems`` for the unusable ones."""
    out = np.array(geoms, dtype=object)
    todo = problems["reason"].isna().to_numpy().copy()
    empty = todo & (shapely.is_missing(out) | shapely.is_empty(out))
    _set(problems, empty, "empty_geometry", "the feature has no geometry")
    todo &= ~empty
    types = shapely.get_type_id(out)
    not_polygon = todo & ~np.isin(types, _POLYGONAL_TYPE_IDS)
    for i in np.flatnonzero(not_polygon):
        polygonal = _polygonal_part(out[i]) if types[i] == 7 else None  # a collection of polygons is fine
        if polygonal is not None and len(shapely.get_parts(out[i])) == len(shapely.get_parts(polygonal)):
            out[i], not_polygon[i] = polygonal, False
        else:
            _set(problems, i, "not_polygon", f"{out[i].geom_type}, expected Polygon or MultiPolygon")
    todo &= ~not_polygon
    _repair(out, todo, problems, area_id, notes, when="")
    return out


def _repair(
    geoms: npt.NDArray[Any],
    todo: npt.NDArray[np.bool_],
    problems: pd.DataFrame,
    area_id: pd.Series,
    notes: list[str],
    *,
    when: str,
) -> None:
    """Replace invalid polygons among ``todo`` by their ``make_valid`` polygonal part, or quarantine them."""
    invalid = todo & ~shapely.is_valid(geoms)
    for i in np.flatnonzero(invalid):
        why = shapely.is_valid_reason(geoms[i])
        fixed = _polygonal_part(shapely.make_valid(geoms[i]))
        if fixed is None or fixed.area == 0:
            _set(problems, i, "invalid_geometry", f"{why}{when}; make_valid leaves no polygon")
            continue
        geoms[i] = fixed
        notes.append(
            f"feature {i + 1} (area {area_id.iloc[i]}): invalid geometry ({why}){when} "
            "repaired with make_valid"
        )


def _set(problems: pd.DataFrame, where: Any, reason: str, detail: str) -> None:
    rows = np.flatnonzero(where) if isinstance(where, np.ndarray) else [where]
    for column, value in (("reason", reason), ("detail", detail), ("field", "geometry")):
        problems.iloc[rows, problems.columns.get_loc(column)] = value


def _json_value(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def _raw_feature(properties: dict[str, Any], geom: shapely.Geometry | None) -> str:
    geometry = None if shapely.is_missing(geom) else json.loads(shapely.to_geojson(geom))
    clean = {str(k): _json_value(v) for k, v in properties.items()}
    return json.dumps({"properties": clean, "geometry": geometry}, ensure_ascii=False, default=str)


def _quarantine_frame(raw: gpd.GeoDataFrame, file: str, problems: pd.DataFrame) -> pd.DataFrame:
    bad = np.flatnonzero(problems["reason"].notna().to_numpy())
    props = raw.drop(columns=raw.geometry.name)
    rows = [
        {
            "file": file,
            "line": int(i) + 1,
            "field": problems["field"].iloc[i],
            "reason": problems["reason"].iloc[i],
            "detail": problems["detail"].iloc[i],
            "raw": _raw_feature(props.iloc[i].to_dict(), raw.geometry.iloc[i]),
        }
        for i in bad
    ]
    return pd.DataFrame(rows, columns=list(QUARANTINE_COLUMNS)).astype({"line": "int64"})


def _areas_frame(
    attrs: pd.DataFrame, geoms: npt.NDArray[Any], level: str, crs: str, notes: list[str]
) -> gpd.GeoDataFrame:
    area_id = attrs["area_id"].astype(str).to_numpy()
    unnamed = attrs["name"].isna().to_numpy()
    if unnamed.any():
        codes = list(area_id[unnamed])
        notes.append(f"{len(codes)} area(s) without a name are named by their code: {codes}")
    name = np.where(unnamed, area_id, attrs["name"].astype(object).to_numpy())
    parent = attrs["parent_id"].astype(object).where(attrs["parent_id"].notna(), None).to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # shapely warns on empty input arrays
        area_m2 = geodesic_area_m2(geoms)
    frame = gpd.GeoDataFrame(
        {
            "area_id": pd.Series(area_id, dtype=str),
            "name": pd.Series(name, dtype=str),
            "level": pd.Series([level] * len(area_id), dtype=str),
            "parent_id": pd.Series(parent, dtype=object),
            "geometry": gpd.GeoSeries(list(geoms), crs=_WGS84),
            "area_m2": pd.Series(area_m2, dtype="float64"),
            "source_crs": pd.Series([crs_label(crs)] * len(area_id), dtype=str),
        },
        geometry="geometry",
        crs=_WGS84,
    )
    return frame[list(AREA_COLUMNS)]


def _repeat_warnings(
    area_id: pd.Series, ok: npt.NDArray[np.bool_], repeats: npt.NDArray[np.bool_]
) -> list[str]:
    first_line = {area_id.iloc[i]: i + 1 for i in np.flatnonzero(ok)[::-1]}
    return [
        f"feature {i + 1}: area {area_id.iloc[i]} repeats feature {first_line[area_id.iloc[i]]}; "
        "counted as a duplicate, the first feature is kept"
        for i in np.flatnonzero(repeats)
    ]
