"""Vectorised H3 cells: index WGS-84 points, convert ids, parents, centres, polygons and neighbours.

Cells are ``int64`` numpy arrays everywhere (the 64-bit H3 index that ``h3.str_to_int`` gives, viewed as
int64; every valid cell is < 2**63). Hex strings exist only at I/O, through :func:`cells_to_strings` and
:func:`strings_to_cells`. Coordinates are WGS-84 decimal degrees in **(lat, lon) order** (as h3; shapely
geometries are x = lon, y = lat). Convert GCJ-02/BD-09 input with :mod:`grid.coords` first: a 466 m
GCJ shift moves a point about six res-10 cells (DOMAIN.md §6).

Indexing, centres, boundaries and areas run in numba ports of the H3 C library (v4.5), verified
bit-identical to h3-py 4.5 (``tests/grid/test_cells.py``); pass whole arrays, there is no per-point
Python. The default resolution 10 is ~1.1 ha at Nantong, close to a 万米单元网格.

h3ronpy (Rust) was measured as a replacement for every port behind this module and kept out: it makes the
coverage cube 1.6x, Gi* 1.2-1.4x and the polygons 1.3-2.2x slower end to end
(``benchmarks/bench_h3ronpy.py``; the figures are in the docstrings of ``grid/_h3_*.py``).
"""

from __future__ import annotations

from typing import Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from numpy.typing import ArrayLike

from grid._h3_disk import disk_neighbours
from grid._h3_geometry import MAX_CELL_BOUNDARY_VERTS, cells_to_boundary_kernel, cells_to_latlng_kernel
from grid._h3_kernel import H3_NULL, is_valid_cells_kernel, latlng_to_cells_kernel
from grid.coords import _as_lat_lon

__all__ = [
    "AREA_COL_NAME",
    "CELL_COL_NAME",
    "DEFAULT_RES",
    "GEOMETRY_COL_NAME",
    "H3_NULL",
    "NEIGHBOUR_COL_NAME",
    "cell_centers",
    "cell_resolution",
    "cells_to_parents",
    "cells_to_polygons",
    "cells_to_strings",
    "grid_disk",
    "grid_disk_csr",
    "is_valid_cells",
    "latlng_to_cells",
    "strings_to_cells",
    "with_cell_polygons",
]

Int64Array = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: Project default H3 resolution (≈1.1 ha cells at Nantong's latitude).
DEFAULT_RES = 10
CELL_COL_NAME = "cell"
NEIGHBOUR_COL_NAME = "neighbour"
AREA_COL_NAME = "area_m2"
GEOMETRY_COL_NAME = "geometry"
_MAX_RES = 15
_RES_SHIFT = 52
_HEX_CHARS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_HEX_VALUES = np.full(256, 255, dtype=np.uint8)
_HEX_VALUES[np.frombuffer(b"0123456789", dtype=np.uint8)] = np.arange(10)
_HEX_VALUES[np.frombuffer(b"abcdef", dtype=np.uint8)] = np.arange(10, 16)
_HEX_VALUES[np.frombuffer(b"ABCDEF", dtype=np.uint8)] = np.arange(10, 16)
_NIBBLE_SHIFTS = np.arange(60, -4, -4, dtype=np.uint64)


# --- validation -------------------------------------------------------------------------------------------


def _check_res(res: object, name: str = "res") -> int:
    if isinstance(res, bool) or not isinstance(res, int | np.integer):
        msg = f"`{name}` must be an int H3 resolution in 0..15; got {type(res).__name__} {res!r}"
        raise TypeError(msg)
    if not 0 <= int(res) <= _MAX_RES:
        msg = f"`{name}` must be an H3 resolution in 0..15; got {res}"
        raise ValueError(msg)
    return int(res)


def _as_cells(cells: ArrayLike, name: str = "cells") -> Int64Array:
    """Integer H3 ids as an int64 array of the input's shape (uint64 values are reinterpreted)."""
    arr = np.asarray(cells)
    if arr.size == 0:
        return np.empty(arr.shape, dtype=np.int64)
    if arr.dtype.kind == "O":
        try:
            try:
                arr = np.asarray(arr, dtype=np.int64)
            except OverflowError:
                arr = np.asarray(arr, dtype=np.uint64)
        except (TypeError, ValueError, OverflowError) as exc:
            msg = f"`{name}` must hold 64-bit integer H3 cell ids; {exc}. Parse hex with strings_to_cells()."
            raise TypeError(msg) from exc
    if arr.dtype.kind == "u":
        return arr.astype(np.uint64, copy=False).view(np.int64)
    if arr.dtype.kind == "i":
        return arr.astype(np.int64, copy=False)
    msg = f"`{name}` must be integer H3 cell ids (int64 or uint64); got dtype {arr.dtype}."
    if arr.dtype.kind in "US":
        msg += " Use strings_to_cells() to parse hex strings."
    raise TypeError(msg)


def _valid_mask(flat: Int64Array) -> npt.NDArray[np.bool_]:
    out = np.empty(flat.shape[0], dtype=np.bool_)
    is_valid_cells_kernel(np.ascontiguousarray(flat), out)
    return out


def _require_valid(flat: Int64Array, name: str = "cells") -> None:
    valid = _valid_mask(flat)
    if not valid.all():
        bad = np.flatnonzero(~valid)
        value = int(flat[bad[0]])
        msg = (
            f"`{name}` has {bad.size} value(s) that are not valid H3 cells; the first is {value} "
            f"(hex {value & 0xFFFFFFFFFFFFFFFF:x}) at position {bad[0]}. Check with is_valid_cells()."
        )
        raise ValueError(msg)


# --- indexing ---------------------------------------------------------------------------------------------


def latlng_to_cells(
    lat: ArrayLike, lon: ArrayLike, res: int = DEFAULT_RES, *, invalid: Literal["raise", "null"] = "raise"
) -> Int64Array:
    """H3 cells (int64) containing WGS-84 points given as (lat, lon) degrees. Vectorised; pass arrays.

    Parameters
    ----------
    lat, lon
        Latitude and longitude in decimal degrees, WGS-84, **in that order**; scalars or arrays that
        broadcast together.
    res
        H3 resolution, 0..15 (default 10).
    invalid
        What to do with non-finite (NaN/inf) coordinates: ``"raise"`` (default) or ``"null"`` to give those
        rows the id 0 (``H3_NULL``).

    Returns
    -------
    numpy.ndarray of int64
        Broadcast shape of ``lat``/``lon``; equal to ``h3.str_to_int(h3.latlng_to_cell(lat, lon, res))``.

    Raises
    ------
    TypeError
        ``res`` is not an int, or ``lat``/``lon`` are not numeric.
    ValueError
        ``res`` is outside 0..15, ``invalid`` is unknown, or (with ``invalid="raise"``) some coordinates are
        not finite; the message gives how many and the first position.

    Notes
    -----
    A numba port of H3's ``latLngToCell`` (single-threaded, ~0.3 µs per point at res 10, 6-8× an h3-py
    loop); the first call in a fresh environment compiles it (~10 s), later processes load it from
    numba's disk cache (``__pycache__``).

    Examples
    --------
    >>> int(latlng_to_cells(32.0, 120.86)) == 0x8A309D5541A7FFF
    True
    """
    res = _check_res(res)
    if invalid not in ("raise", "null"):
        msg = f"`invalid` was {invalid!r} but is expected to be one of ['raise', 'null']"
        raise ValueError(msg)
    lat_a, lon_a = _as_lat_lon(lat, lon)
    flat_lat = np.ascontiguousarray(lat_a.reshape(-1))
    flat_lon = np.ascontiguousarray(lon_a.reshape(-1))
    out = np.empty(flat_lat.shape[0], dtype=np.int64)
    n_bad = latlng_to_cells_kernel(flat_lat, flat_lon, res, out)
    if n_bad and invalid == "raise":
        first = int(np.flatnonzero(~(np.isfinite(flat_lat) & np.isfinite(flat_lon)))[0])
        msg = (
            f"`lat`/`lon` have {n_bad} non-finite value(s); the first at position {first} "
            f"(lat={flat_lat[first]}, lon={flat_lon[first]}). Drop them, or pass invalid='null' to get "
            f"{H3_NULL} (H3_NULL) for those rows."
        )
        raise ValueError(msg)
    return out.reshape(lat_a.shape)


def is_valid_cells(cells: ArrayLike) -> npt.NDArray[np.bool_]:
    """Whether each integer id is a valid H3 cell (h3 ``isValidCell``), as a bool array of the input shape.

    Never raises for bad values (0, negative, edges, vertices, corrupt digits all give False); raises
    TypeError for non-integer input.
    """
    arr = _as_cells(cells)
    return _valid_mask(arr.reshape(-1)).reshape(arr.shape)


def cell_resolution(cells: ArrayLike) -> Int64Array:
    """H3 resolution (0..15) of each cell, int64 array of the input shape. Raises ValueError if invalid."""
    arr = _as_cells(cells)
    _require_valid(arr.reshape(-1))
    return (arr >> _RES_SHIFT) & 0xF


def cells_to_parents(cells: ArrayLike, res: int) -> Int64Array:
    """Parent cells at the coarser resolution ``res`` (bit operations, like h3 ``cell_to_parent``).

    Parameters
    ----------
    cells
        Valid H3 cells (int64/uint64), any shape.
    res
        Parent resolution, 0..15, not finer than any cell's own resolution (equal returns the cell).

    Returns
    -------
    numpy.ndarray of int64
        Same shape as ``cells``.

    Raises
    ------
    ValueError
        Invalid cells, ``res`` out of range, or ``res`` finer than a cell (first offender named).
    """
    arr = _as_cells(cells)
    res = _check_res(res)
    _require_valid(arr.reshape(-1))
    child_res = (arr >> _RES_SHIFT) & 0xF
    finer = child_res < res
    if finer.any():
        pos = int(np.flatnonzero(finer.reshape(-1))[0])
        msg = (
            f"`res`={res} is finer than cell {int(arr.reshape(-1)[pos]):x} (resolution "
            f"{int(child_res.reshape(-1)[pos])}) at position {pos}; a parent needs res <= the cell's"
        )
        raise ValueError(msg)
    # set the resolution field and every digit after `res` to 7 (digits after the child's are 7 already)
    return (arr & ~(0xF << _RES_SHIFT)) | (res << _RES_SHIFT) | ((1 << (3 * (_MAX_RES - res))) - 1)


# --- strings (I/O only) -----------------------------------------------------------------------------------


def cells_to_strings(cells: ArrayLike) -> npt.NDArray[np.object_]:
    """Lower-case hex strings of H3 ids (``h3.int_to_str``; 15 characters for valid cells), object array.

    No validity check: 0 (``H3_NULL``) gives ``"0"``, as h3-py would. Vectorised over nibbles.

    Examples
    --------
    >>> cells_to_strings(np.array([0x8A309D5541A7FFF])).tolist()
    ['8a309d5541a7fff']
    """
    arr = _as_cells(cells)
    flat = np.ascontiguousarray(arr.reshape(-1)).view(np.uint64)
    nibbles = (flat[:, None] >> _NIBBLE_SHIFTS) & np.uint64(0xF)
    chars = np.ascontiguousarray(_HEX_CHARS[nibbles]).view("S16").reshape(-1)
    stripped = np.strings.lstrip(chars, b"0")
    stripped = np.where(stripped == b"", b"0", stripped)
    return stripped.astype(str).astype(object).reshape(arr.shape)


def strings_to_cells(strings: ArrayLike) -> Int64Array:
    """Parse hex H3 strings (upper or lower case, as h3-py writes them) into int64 cells.

    Parameters
    ----------
    strings
        Array-like (list, numpy array, pandas Series) of ``str``, any shape.

    Returns
    -------
    numpy.ndarray of int64
        Same shape as ``strings``.

    Raises
    ------
    TypeError
        An element is not a string (the first is named with its position).
    ValueError
        A string is not hexadecimal or not a valid H3 cell; the message names how many and the first one
        with its position.
    """
    if isinstance(strings, np.ndarray | pd.Series | pd.Index) and np.asarray(strings).dtype.kind not in "UO":
        msg = f"`strings` must be hex strings (str); got dtype {np.asarray(strings).dtype}."
        raise TypeError(msg + " Integer ids need no parsing.")
    arr = strings if isinstance(strings, np.ndarray) and strings.dtype.kind == "U" else None
    if arr is None:  # check element types (lists would silently turn numbers into strings)
        arr = np.asarray(strings, dtype=object)
        not_str = [i for i, s in enumerate(arr.reshape(-1).tolist()) if not isinstance(s, str)]
        if not_str:
            first = arr.reshape(-1)[not_str[0]]
            msg = f"`strings` must hold str; element {not_str[0]} is {type(first).__name__}"
            raise TypeError(msg)
    if arr.size == 0:
        return np.empty(arr.shape, dtype=np.int64)
    flat = arr.reshape(-1).astype(str)
    lengths = np.strings.str_len(flat)
    # non-ASCII characters become "?", which is not a hex digit
    encoded = np.strings.encode(np.where(lengths <= 16, flat, ""), "ascii", "replace").astype("S16")
    padded = np.strings.rjust(encoded, 16, b"0")
    codes = np.frombuffer(padded.tobytes(), dtype=np.uint8).reshape(-1, 16)
    values = _HEX_VALUES[codes]
    bad = (lengths == 0) | (lengths > 16) | (values == 255).any(axis=1)
    ids = np.zeros(flat.shape[0], dtype=np.uint64)
    for column in range(16):
        ids |= values[:, column].astype(np.uint64) << _NIBBLE_SHIFTS[column]
    cells = ids.view(np.int64)
    bad |= ~_valid_mask(cells)
    if bad.any():
        where = np.flatnonzero(bad)
        msg = (
            f"`strings` has {where.size} value(s) that are not valid H3 cells; the first is "
            f"{str(flat[where[0]])!r} at position {where[0]}"
        )
        raise ValueError(msg)
    return cells.reshape(arr.shape)


# --- geometry ---------------------------------------------------------------------------------------------


def cell_centers(cells: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Centres of H3 cells as ``(lat, lon)`` WGS-84 degrees (h3 ``cell_to_latlng``), each of the input shape.

    Raises ValueError for invalid cells.
    """
    arr = _as_cells(cells)
    flat = np.ascontiguousarray(arr.reshape(-1))
    _require_valid(flat)
    lat = np.empty(flat.shape[0], dtype=np.float64)
    lon = np.empty(flat.shape[0], dtype=np.float64)
    cells_to_latlng_kernel(flat, lat, lon)
    return lat.reshape(arr.shape), lon.reshape(arr.shape)


def cells_to_polygons(cells: ArrayLike) -> gpd.GeoDataFrame:
    """Cell polygons and areas as a GeoDataFrame in EPSG:4326 (x = lon, y = lat), one row per input cell.

    Parameters
    ----------
    cells
        Valid H3 cells, any shape (flattened, order kept, duplicates kept).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``cell`` (int64), ``geometry`` (shapely Polygon, the h3 ``cell_to_boundary`` vertices, 5 to 10
        of them, counter-clockwise) and ``area_m2`` (float64, h3 ``cell_area(..., unit="m^2")``: spherical
        area with the WGS-84 authalic radius). CRS EPSG:4326; index 0..n-1.

    Notes
    -----
    Boundaries and areas come from the numba port of ``cellToBoundary``/``cellAreaM2`` and equal h3-py's;
    the polygons are built in one ``shapely.from_ragged_array`` call on a packed coordinate array (~0.4 s
    per 100k cells in all). Cells crossing the antimeridian (±180°) are not split: their polygons span
    the map in planar lon/lat, as ``h3.cell_to_boundary`` coordinates would. Raises ValueError for
    invalid cells.
    """
    flat = np.ascontiguousarray(_as_cells(cells).reshape(-1))
    _require_valid(flat)
    n = flat.shape[0]
    lat = np.empty((n, MAX_CELL_BOUNDARY_VERTS), dtype=np.float64)
    lon = np.empty((n, MAX_CELL_BOUNDARY_VERTS), dtype=np.float64)
    counts = np.empty(n, dtype=np.int64)
    area_m2 = np.empty(n, dtype=np.float64)
    cells_to_boundary_kernel(flat, lat, lon, counts, area_m2)
    polygons = _pack_polygons(lat, lon, counts)
    frame = pd.DataFrame({CELL_COL_NAME: flat, GEOMETRY_COL_NAME: polygons, AREA_COL_NAME: area_m2})
    return gpd.GeoDataFrame(frame, geometry=GEOMETRY_COL_NAME, crs="EPSG:4326")


def with_cell_polygons(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    """``frame`` (with an int64 ``cell`` column, kept) with its cells' polygons as geometry (EPSG:4326); a
    GeoDataFrame is returned as it is. For writing a table as GeoJSON / GeoParquet."""
    if isinstance(frame, gpd.GeoDataFrame):
        return frame
    polygons = cells_to_polygons(frame[CELL_COL_NAME].to_numpy(dtype=np.int64))
    return gpd.GeoDataFrame(frame.reset_index(drop=True), geometry=polygons.geometry.to_numpy(), crs=4326)


def _pack_polygons(lat: FloatArray, lon: FloatArray, counts: Int64Array) -> npt.NDArray[np.object_]:
    """Shapely polygons from padded (n, 10) vertex rows, via one ``from_ragged_array`` call."""
    n = counts.shape[0]
    if n == 0:
        return np.empty(0, dtype=object)
    xy = np.empty((n, MAX_CELL_BOUNDARY_VERTS + 1, 2), dtype=np.float64)
    xy[:, :-1, 0] = lon
    xy[:, :-1, 1] = lat
    rows = np.arange(n)
    xy[rows, counts] = xy[:, 0]  # close each ring
    closed = counts + 1
    coords = xy[np.arange(MAX_CELL_BOUNDARY_VERTS + 1) < closed[:, None]]
    ring_offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(closed, out=ring_offsets[1:])
    offsets = (ring_offsets, np.arange(n + 1))
    return shapely.from_ragged_array(shapely.GeometryType.POLYGON, coords, offsets)


# --- neighbourhoods ---------------------------------------------------------------------------------------


def _sorted_distinct(flat: Int64Array) -> Int64Array:
    """``np.unique`` of a 1-D int64 array by sorting: numpy 2.4's hash-based ``unique`` is ~50x slower on
    H3 ids (70 ms vs 1.4 ms for 100k cells), and an already sorted universe needs no sort at all."""
    if flat.size > 1 and not (flat[1:] > flat[:-1]).all():
        flat = np.sort(flat)
        keep = np.empty(flat.size, dtype=np.bool_)
        keep[0] = True
        np.not_equal(flat[1:], flat[:-1], out=keep[1:])
        flat = flat[keep]
    return flat


def _check_k(k: object) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        msg = f"`k` must be an int number of grid steps; got {type(k).__name__} {k!r}"
        raise TypeError(msg)
    if k < 0:
        msg = f"`k` must be >= 0 (grid steps); got {k}"
        raise ValueError(msg)
    return int(k)


def grid_disk(cells: ArrayLike, k: int = 1, *, include_self: bool = True) -> pd.DataFrame:
    """All cells within ``k`` grid steps of each distinct input cell, as (cell, neighbour) pairs.

    Parameters
    ----------
    cells
        Valid H3 cells; duplicates are collapsed.
    k
        Grid distance, >= 0 (1 = the cell and its 6 neighbours, 5 around pentagons).
    include_self
        Keep the (cell, cell) pair (h3 ``grid_disk`` semantics, as for Getis-Ord Gi*); False drops it.

    Returns
    -------
    pandas.DataFrame
        Columns ``cell`` and ``neighbour`` (int64), sorted by cell then neighbour; neighbours need not be
        in the input. Empty (typed) for empty input.

    Notes
    -----
    Vectorised: a numba kernel (:mod:`grid._h3_disk`) walks each cell's face lattice and checks every
    neighbour by a FaceIJK round trip (converting each input cell once; only neighbours outside the
    input are converted again); the few cells it cannot vouch for (pentagons, face edges) go to the h3
    library one by one. Results are identical to h3's ``grid_disk`` (tested on cells worldwide).
    """
    k = _check_k(k)
    flat = _sorted_distinct(_as_cells(cells).reshape(-1))
    _require_valid(flat)
    indptr, neighbour = disk_neighbours(flat, k)  # ascending within each origin, origins ascending
    origin = np.repeat(flat, np.diff(indptr))
    if not include_self:
        keep = origin != neighbour
        origin, neighbour = origin[keep], neighbour[keep]
    return pd.DataFrame({CELL_COL_NAME: origin, NEIGHBOUR_COL_NAME: neighbour})


def grid_disk_csr(cells: ArrayLike, k: int = 1) -> tuple[Int64Array, Int64Array, Int64Array]:
    """The k-disks of the distinct input cells *within those cells*, as CSR arrays (for spatial weights).

    Parameters
    ----------
    cells
        Valid H3 cells (the universe); duplicates are collapsed.
    k
        Grid distance, >= 0.

    Returns
    -------
    universe : int64, shape (n,)
        The distinct cells, ascending (row and column order).
    indptr : int64, shape (n + 1,)
        Row r lists the disk of ``universe[r]`` in ``indices[indptr[r]:indptr[r + 1]]``.
    indices : int64, shape (nnz,)
        Positions in ``universe`` of the disk's cells that are in the universe (self included), ascending
        within each row.

    Notes
    -----
    The same neighbours as :func:`grid_disk` (same kernels), without the pair table: no lexsort, no
    frame, so a 100k-cell universe takes tens of milliseconds.
    """
    k = _check_k(k)
    flat = _sorted_distinct(_as_cells(cells).reshape(-1))
    _require_valid(flat)
    indptr, indices = disk_neighbours(flat, k, inside=True)
    return flat, indptr, indices
