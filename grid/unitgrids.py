"""Official unit grids (单元网格): code validation and the unit-grid ↔ H3 cell crosswalk.

Unit-grid codes (DOMAIN.md §1) are strings of **14 digits** (CJ/T 213-2005: county 6 + street 3 +
community 3 + sequence 2) or **15 digits** (DB11/T 2157-2023, GB/T 47678.3: sequence 3). They are kept as
strings (leading zeros matter) and validated with one vectorised regular expression.

The crosswalk splits every unit grid over the H3 cells it overlaps, with the share of the unit grid and
the share of the cell each piece represents, so counts can move either way (cells → unit grids for official
reporting, unit grids → cells for analysis). Areas are planar in the UTM zone of the data's centre.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from grid.build import _metric_crs

__all__ = [
    "CROSSWALK_COLUMNS",
    "UNIT_GRID_CODE_PATTERN",
    "UnitGridCodeError",
    "check_unit_grid_codes",
    "parse_unit_grid_codes",
    "unit_grid_crosswalk",
]

#: 6-digit county + 3-digit street + 3-digit community + 2- or 3-digit sequence.
UNIT_GRID_CODE_PATTERN = r"^(?P<county>\d{6})(?P<street>\d{3})(?P<community>\d{3})(?P<seq>\d{2,3})$"
#: Columns of :func:`unit_grid_crosswalk`.
CROSSWALK_COLUMNS = ("unit_grid", "cell", "area_m2", "share_of_unit", "share_of_cell")
#: Columns of :func:`check_unit_grid_codes`.
PROBLEM_COLUMNS = ("row", "code", "reason", "detail")


class UnitGridCodeError(ValueError):
    """Unit-grid codes are invalid; the message names the rows and codes."""


def check_unit_grid_codes(codes: pd.Series) -> pd.DataFrame:
    """The invalid unit-grid codes of ``codes``, one row each (empty when all are valid). Never raises.

    Parameters
    ----------
    codes
        Codes as strings (a numeric Series is refused as ``not_string``: leading zeros may have been lost).

    Returns
    -------
    pandas.DataFrame
        Columns ``row`` (position in ``codes``, 0-based), ``code`` (as given), ``reason`` (``missing``,
        ``not_string``, ``bad_format``: not 14 or 15 digits, ``zero_part``: the street, community or
        sequence part is all zeros, ``duplicate``: repeats an earlier row) and ``detail``.
    """
    series = pd.Series(codes).reset_index(drop=True)
    raw = series.astype(object)
    missing = raw.isna().to_numpy()
    is_str = raw.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
    text = raw.where(is_str, "").astype(str).str.strip()
    parts = text.str.extract(UNIT_GRID_CODE_PATTERN)
    matched = parts["county"].notna().to_numpy()
    zero = matched & (
        (parts["street"] == "000") | (parts["community"] == "000") | parts["seq"].str.fullmatch("0+")
    ).fillna(False).to_numpy(dtype=bool)
    duplicate = text.where(matched).duplicated(keep="first").to_numpy() & matched
    reason = np.select(
        [missing, ~is_str, ~matched, zero, duplicate],
        ["missing", "not_string", "bad_format", "zero_part", "duplicate"],
        default="",
    )
    lengths = text.str.len().to_numpy()
    detail = np.select(
        [missing, ~is_str, ~matched, zero, duplicate],
        [
            "no code",
            "codes must be text (read the column as str to keep leading zeros)",
            pd.Series(lengths).map(lambda n: f"expected 14 or 15 digits, got {n} characters").to_numpy(),
            "street, community or sequence part is all zeros",
            "repeats an earlier row",
        ],
        default="",
    )
    bad = reason != ""
    return pd.DataFrame(
        {
            "row": np.flatnonzero(bad).astype(np.int64),
            "code": raw[bad].to_numpy(),
            "reason": reason[bad],
            "detail": detail[bad],
        },
        columns=list(PROBLEM_COLUMNS),
    )


def parse_unit_grid_codes(codes: pd.Series, *, source: str = "codes") -> pd.DataFrame:
    """Split valid unit-grid codes into their parts; raise naming the bad rows otherwise.

    Parameters
    ----------
    codes
        14- or 15-digit code strings.
    source
        Name used in the error message (a file name, say).

    Returns
    -------
    pandas.DataFrame
        Columns ``code``, ``county`` (6 digits), ``street`` (3), ``community`` (county + street + community,
        12 digits: the community's statistical code), ``seq`` (2 or 3 digits), ``digits`` (14 or 15); one row
        per input, same order.

    Raises
    ------
    UnitGridCodeError
        Any code is missing, not text, not 14/15 digits, has an all-zero part or repeats; the message gives
        the count and up to five ``row N: 'code' (reason)`` entries.
    """
    problems = check_unit_grid_codes(codes)
    if len(problems):
        listed = "; ".join(
            f"row {r.row}: {r.code!r} ({r.reason}: {r.detail})" for r in problems.head(5).itertuples()
        )
        msg = f"{source}: {len(problems)} invalid unit-grid code(s): {listed}"
        raise UnitGridCodeError(msg)
    text = pd.Series(codes).reset_index(drop=True).astype(str).str.strip()
    parts = text.str.extract(UNIT_GRID_CODE_PATTERN)
    return pd.DataFrame(
        {
            "code": text,
            "county": parts["county"],
            "street": parts["street"],
            "community": parts["county"] + parts["street"] + parts["community"],
            "seq": parts["seq"],
            "digits": text.str.len().astype(np.int64),
        }
    )


def unit_grid_crosswalk(
    unit_grids_gdf: gpd.GeoDataFrame, cells_gdf: gpd.GeoDataFrame, *, code_field: str = "code"
) -> pd.DataFrame:
    """Pieces of each unit grid in each H3 cell, with the share of the unit grid and of the cell.

    Parameters
    ----------
    unit_grids_gdf
        Unit-grid polygons in EPSG:4326 with their code in ``code_field``.
    cells_gdf
        The cells table (``cell`` and ``geometry`` in EPSG:4326), e.g. from
        :func:`grid.build.cells_from_polygons`.
    code_field
        Column of ``unit_grids_gdf`` holding the code (default ``"code"``).

    Returns
    -------
    pandas.DataFrame
        Columns ``CROSSWALK_COLUMNS``: ``unit_grid`` (code), ``cell`` (int64), ``area_m2`` (planar area of the
        piece in the UTM zone of the data, m²), ``share_of_unit`` (piece / unit grid area) and
        ``share_of_cell`` (piece / cell area). Sorted by unit grid then cell. ``share_of_unit`` sums to 1
        per unit grid lying wholly inside the cells; ``share_of_cell`` sums to 1 per cell lying wholly
        inside the unit grids (less at the edge of the grid).

    Raises
    ------
    ValueError
        A frame is not in EPSG:4326 or lacks its code/cell column.
    """
    for name, frame, column in (
        ("unit_grids_gdf", unit_grids_gdf, code_field),
        ("cells_gdf", cells_gdf, "cell"),
    ):
        if not isinstance(frame, gpd.GeoDataFrame) or frame.crs is None or frame.crs.to_epsg() != 4326:
            msg = f"`{name}` must be a GeoDataFrame in EPSG:4326; got crs={getattr(frame, 'crs', None)}"
            raise ValueError(msg)
        if column not in frame.columns:
            msg = f"`{name}` has no column {column!r}; columns: {list(frame.columns)}"
            raise ValueError(msg)
    epsg = _metric_crs(unit_grids_gdf)
    units = unit_grids_gdf.geometry.to_crs(epsg).to_numpy()
    cells = cells_gdf.geometry.to_crs(epsg).to_numpy()
    u_idx, c_idx = shapely.STRtree(cells).query(units, predicate="intersects")
    piece = shapely.area(shapely.intersection(units[u_idx], cells[c_idx]))
    keep = piece > 0
    u_idx, c_idx, piece = u_idx[keep], c_idx[keep], piece[keep]
    out = pd.DataFrame(
        {
            "unit_grid": unit_grids_gdf[code_field].astype(str).to_numpy()[u_idx],
            "cell": cells_gdf["cell"].to_numpy(dtype=np.int64)[c_idx],
            "area_m2": piece,
            "share_of_unit": piece / shapely.area(units[u_idx]),
            "share_of_cell": piece / shapely.area(cells[c_idx]),
        }
    )
    return out.sort_values(["unit_grid", "cell"], ignore_index=True)
