"""Conversions between China's three geographic coordinate systems (WGS-84, GCJ-02, BD-09), vectorised.

* **WGS-84** (``"wgs84"``): GPS, OSM, Tianditu (CGCS2000 is interchangeable at metre level). The project
  stores WGS-84.
* **GCJ-02** (``"gcj02"``, "火星坐标"): AMap/Gaode, Tencent. An obfuscating shift of ~0.5 km applied inside
  a rough China bounding box.
* **BD-09** (``"bd09"``): Baidu, a second shift on top of GCJ-02, applied everywhere.

The formulas are the public, reverse-engineered algorithm (wandergis/coordTransform_py,
googollee/eviltransform; DOMAIN.md §4.2) with the Krasovsky-1940 constants ``a = 6378245.0`` and
``ee = 0.00669342162296594323``. Every function takes ``(lat, lon)`` in decimal degrees, in that order
(note: h3 also uses (lat, lng), shapely uses (x=lon, y=lat)), accepts scalars or array-likes that
broadcast together, and returns float64 arrays of the broadcast shape. NaN in gives NaN out. All of it
is vectorised; pass whole arrays rather than looping.

Any other coordinate system pyproj knows (an EPSG code such as ``"EPSG:4528"``, CGCS2000 / 3-degree
Gauss–Krüger zone 40, or ``"EPSG:2263"``, NY State Plane feet; a PROJ string; WKT) is accepted by
:func:`to_wgs84` / :func:`from_wgs84` too, through ``pyproj`` with ``always_xy=True``: there ``lat`` is the
northing (y) and ``lon`` the easting (x) of a projected system. :func:`check_crs` validates a name.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely
from numpy.typing import ArrayLike

__all__ = [
    "CRS_NAMES",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "check_crs",
    "crs_area_of_use",
    "crs_is_geographic",
    "crs_label",
    "from_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "out_of_china",
    "to_wgs84",
    "transform_geometries",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

FloatArray = npt.NDArray[np.float64]
LatLon = tuple[FloatArray, FloatArray]

#: Names accepted by :func:`to_wgs84`, :func:`from_wgs84` and :func:`transform_geometries`.
CRS_NAMES = ("wgs84", "gcj02", "bd09")

_A = 6378245.0  # Krasovsky-1940 semi-major axis (m)
_EE = 0.00669342162296594323  # Krasovsky-1940 first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0
# Rough China bounding box of the public algorithm (degrees).
_CHINA_LON_MIN, _CHINA_LON_MAX = 72.004, 137.8347
_CHINA_LAT_MIN, _CHINA_LAT_MAX = 0.8293, 55.8271


def _as_lat_lon(lat: ArrayLike, lon: ArrayLike) -> LatLon:
    """Convert to float64 arrays broadcast to a common shape, naming the argument on failure."""
    arrays = []
    for name, value in (("lat", lat), ("lon", lon)):
        try:
            arrays.append(np.asarray(value, dtype=np.float64))
        except (TypeError, ValueError) as exc:
            msg = (
                f"`{name}` must be numeric degrees (scalar or array-like); got {type(value).__name__}: {exc}"
            )
            raise TypeError(msg) from exc
    try:
        lat_a, lon_a = np.broadcast_arrays(*arrays)
    except ValueError as exc:
        msg = f"`lat` shape {arrays[0].shape} and `lon` shape {arrays[1].shape} do not broadcast together"
        raise ValueError(msg) from exc
    return lat_a, lon_a


def out_of_china(lat: ArrayLike, lon: ArrayLike) -> npt.NDArray[np.bool_]:
    """Whether points (lat, lon order, degrees) fall outside the rough China box of the GCJ-02 algorithm.

    Parameters
    ----------
    lat, lon
        Latitude and longitude in decimal degrees, any CRS of the three (the box is coarse).

    Returns
    -------
    numpy.ndarray of bool
        Broadcast shape of the inputs; True outside ``72.004 <= lon <= 137.8347``,
        ``0.8293 <= lat <= 55.8271``. NaN coordinates count as inside (so NaN propagates through shifts).

    Notes
    -----
    The box includes Hong Kong, Macau, Taiwan and parts of neighbouring countries, which real GCJ-02
    services do not shift; use a China polygon where borders matter (DOMAIN.md §4.2).
    """
    lat_a, lon_a = _as_lat_lon(lat, lon)
    return (
        (lon_a < _CHINA_LON_MIN)
        | (lon_a > _CHINA_LON_MAX)
        | (lat_a < _CHINA_LAT_MIN)
        | (lat_a > _CHINA_LAT_MAX)
    )


def _periodic_terms(x: FloatArray) -> FloatArray:
    return (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0


def _gcj_shift(lat: FloatArray, lon: FloatArray) -> LatLon:
    """The raw GCJ-02 offset (dlat, dlon) in degrees at WGS-84 (lat, lon), ignoring the China box."""
    x = lon - 105.0
    y = lat - 35.0
    common = _periodic_terms(x)
    sqrt_abs_x = np.sqrt(np.abs(x))
    dlat = (
        -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x + common
        + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    )  # fmt: skip
    dlon = (
        300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x + common
        + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    )  # fmt: skip
    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return dlat, dlon


def wgs84_to_gcj02(lat: ArrayLike, lon: ArrayLike) -> LatLon:
    """Shift WGS-84 points to GCJ-02 (AMap/Gaode, Tencent); (lat, lon) order, degrees in and out.

    Points outside the China box (:func:`out_of_china`) are returned unchanged.

    Returns
    -------
    tuple of numpy.ndarray
        ``(lat, lon)`` in GCJ-02, float64, broadcast shape of the inputs.

    Examples
    --------
    >>> lat, lon = wgs84_to_gcj02(32.015, 120.864)
    >>> round(float(lat) - 32.015, 5), round(float(lon) - 120.864, 5)
    (-0.00215, 0.00425)
    """
    lat_a, lon_a = _as_lat_lon(lat, lon)
    dlat, dlon = _gcj_shift(lat_a, lon_a)
    outside = out_of_china(lat_a, lon_a)
    return np.where(outside, lat_a, lat_a + dlat), np.where(outside, lon_a, lon_a + dlon)


def gcj02_to_wgs84(
    lat: ArrayLike, lon: ArrayLike, *, exact: bool = True, tol_deg: float = 1e-9, max_iter: int = 30
) -> LatLon:
    """Invert the GCJ-02 shift: GCJ-02 (lat, lon) degrees → WGS-84 (lat, lon) degrees.

    Parameters
    ----------
    lat, lon
        GCJ-02 latitude and longitude in decimal degrees (that order).
    exact
        True: fixed-point iteration ``w ← g − shift(w)``, vectorised over all points, until every point's
        forward residual ``|wgs84_to_gcj02(w) − g|`` is below ``tol_deg`` in both axes (typically 3–4
        iterations; round-trip error ≪ 1 mm). False: the one-step inverse ``2g − wgs84_to_gcj02(g)``,
        accurate to about 1–2 m (DOMAIN.md §4.2).
    tol_deg
        Convergence threshold in degrees (1e-9° ≈ 0.1 mm), > 0.
    max_iter
        Iteration cap, >= 1. Points still above ``tol_deg`` after it trigger a ``RuntimeWarning``
        naming how many did not converge; their last iterate is returned.

    Returns
    -------
    tuple of numpy.ndarray
        ``(lat, lon)`` in WGS-84, float64, broadcast shape. Points outside the China box are unchanged.
    """
    _check_iteration(tol_deg, max_iter)
    g_lat, g_lon = _as_lat_lon(lat, lon)
    outside = out_of_china(g_lat, g_lon)
    dlat, dlon = _gcj_shift(g_lat, g_lon)
    w_lat, w_lon = g_lat - dlat, g_lon - dlon
    if exact:
        w_lat, w_lon = _invert(_gcj_forward, g_lat, g_lon, (w_lat, w_lon), tol_deg, int(max_iter))
    return np.where(outside, g_lat, w_lat), np.where(outside, g_lon, w_lon)


def _gcj_forward(lat: FloatArray, lon: FloatArray) -> LatLon:
    dlat, dlon = _gcj_shift(lat, lon)
    return lat + dlat, lon + dlon


def _check_iteration(tol_deg: float, max_iter: int) -> None:
    if isinstance(tol_deg, bool) or not isinstance(tol_deg, int | float) or not tol_deg > 0:
        msg = f"`tol_deg` must be a positive number of degrees; got {tol_deg!r}"
        raise ValueError(msg)
    if isinstance(max_iter, bool) or not isinstance(max_iter, int | np.integer) or max_iter < 1:
        msg = f"`max_iter` must be an int >= 1; got {max_iter!r}"
        raise ValueError(msg)


def _invert(
    forward: Callable[[FloatArray, FloatArray], LatLon],
    t_lat: FloatArray,
    t_lon: FloatArray,
    start: LatLon,
    tol_deg: float,
    max_iter: int,
) -> LatLon:
    """Solve ``forward(w) = t`` by the fixed-point iteration ``w ← w − (forward(w) − t)``.

    Valid because both shifts are the identity plus a slowly varying offset (Jacobian ≈ I). Only points
    whose residual is still >= ``tol_deg`` (in either axis) are re-evaluated; non-finite ones are skipped.
    """
    w_lat = np.array(start[0], dtype=np.float64)  # a real (possibly 0-d) array, so the flat views write back
    w_lon = np.array(start[1], dtype=np.float64)
    flat_t_lat, flat_t_lon = t_lat.reshape(-1), t_lon.reshape(-1)
    flat_w_lat, flat_w_lon = w_lat.reshape(-1), w_lon.reshape(-1)
    active = np.flatnonzero(np.isfinite(flat_t_lat) & np.isfinite(flat_t_lon))
    for _ in range(max_iter):
        if active.size == 0:
            break
        f_lat, f_lon = forward(flat_w_lat[active], flat_w_lon[active])
        res_lat = f_lat - flat_t_lat[active]
        res_lon = f_lon - flat_t_lon[active]
        flat_w_lat[active] -= res_lat
        flat_w_lon[active] -= res_lon
        active = active[(np.abs(res_lat) >= tol_deg) | (np.abs(res_lon) >= tol_deg)]
    if active.size:
        msg = f"{active.size} point(s) did not converge to tol_deg={tol_deg} within max_iter={max_iter}"
        warnings.warn(msg, RuntimeWarning, stacklevel=3)
    return w_lat, w_lon


def gcj02_to_bd09(lat: ArrayLike, lon: ArrayLike) -> LatLon:
    """Shift GCJ-02 points to BD-09 (Baidu); (lat, lon) order, degrees in and out, applied everywhere."""
    lat_a, lon_a = _as_lat_lon(lat, lon)
    z = np.sqrt(lon_a * lon_a + lat_a * lat_a) + 0.00002 * np.sin(lat_a * _X_PI)
    theta = np.arctan2(lat_a, lon_a) + 0.000003 * np.cos(lon_a * _X_PI)
    return z * np.sin(theta) + 0.006, z * np.cos(theta) + 0.0065


def bd09_to_gcj02(
    lat: ArrayLike, lon: ArrayLike, *, exact: bool = True, tol_deg: float = 1e-9, max_iter: int = 30
) -> LatLon:
    """Invert the BD-09 shift: BD-09 (lat, lon) degrees → GCJ-02 (lat, lon) degrees.

    ``exact=False`` is the public closed-form inverse (round-trip error up to ~0.2 m); ``exact=True``
    (default) refines it by the same vectorised fixed-point iteration as :func:`gcj02_to_wgs84` until the
    forward residual is below ``tol_deg`` degrees for every point (``RuntimeWarning`` after ``max_iter``).
    """
    _check_iteration(tol_deg, max_iter)
    b_lat, b_lon = _as_lat_lon(lat, lon)
    x = b_lon - 0.0065
    y = b_lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    g_lat, g_lon = z * np.sin(theta), z * np.cos(theta)
    if exact:
        g_lat, g_lon = _invert(gcj02_to_bd09, b_lat, b_lon, (g_lat, g_lon), tol_deg, int(max_iter))
    return g_lat, g_lon


def wgs84_to_bd09(lat: ArrayLike, lon: ArrayLike) -> LatLon:
    """WGS-84 → BD-09, (lat, lon) degrees: :func:`wgs84_to_gcj02` then :func:`gcj02_to_bd09`."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lat, lon))


def bd09_to_wgs84(lat: ArrayLike, lon: ArrayLike, *, exact: bool = True) -> LatLon:
    """BD-09 → WGS-84, (lat, lon) degrees: :func:`bd09_to_gcj02` then :func:`gcj02_to_wgs84`.

    ``exact`` is passed to both inverses (see :func:`gcj02_to_wgs84`).
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lat, lon, exact=exact), exact=exact)


def _identity(lat: ArrayLike, lon: ArrayLike) -> LatLon:
    lat_a, lon_a = _as_lat_lon(lat, lon)
    return lat_a.copy(), lon_a.copy()


_TO_WGS84: dict[str, Callable[[ArrayLike, ArrayLike], LatLon]] = {
    "wgs84": _identity,
    "gcj02": gcj02_to_wgs84,
    "bd09": bd09_to_wgs84,
}
_FROM_WGS84: dict[str, Callable[[ArrayLike, ArrayLike], LatLon]] = {
    "wgs84": _identity,
    "gcj02": wgs84_to_gcj02,
    "bd09": wgs84_to_bd09,
}


def _check_crs_name(value: object, name: str) -> str:
    if not isinstance(value, str) or value not in CRS_NAMES:
        msg = f"`{name}` was {value!r} but is expected to be one of {list(CRS_NAMES)}"
        raise ValueError(msg)
    return value


@functools.lru_cache(maxsize=32)
def _pyproj_crs(crs: str) -> Any:
    import pyproj

    try:
        return pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as exc:
        msg = (
            f"`crs` was {crs!r} but is expected to be one of {list(CRS_NAMES)}, an EPSG code "
            "(e.g. 'EPSG:4528') or a PROJ string"
        )
        raise ValueError(msg) from exc


@functools.lru_cache(maxsize=32)
def _transformer(crs: str, inverse: bool) -> Any:
    import pyproj

    src, dst = (_pyproj_crs(crs), "EPSG:4326") if not inverse else ("EPSG:4326", _pyproj_crs(crs))
    return pyproj.Transformer.from_crs(src, dst, always_xy=True)


def check_crs(crs: object) -> str:
    """``crs`` if it names a coordinate system: one of :data:`CRS_NAMES`, an EPSG code or a PROJ string;
    else ``ValueError``."""
    if isinstance(crs, str) and crs in CRS_NAMES:
        return crs
    if not isinstance(crs, str) or not crs.strip():
        msg = f"`crs` was {crs!r} but is expected to be one of {list(CRS_NAMES)}, an EPSG code or PROJ string"
        raise ValueError(msg)
    _pyproj_crs(crs)
    return crs


def crs_is_geographic(crs: str) -> bool:
    """Whether ``crs`` is in degrees (lat/lon); False for projected systems (metres, feet)."""
    return crs in CRS_NAMES or bool(_pyproj_crs(crs).is_geographic)


def crs_area_of_use(crs: str) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) degrees where ``crs`` is meant to be used; None when unknown or named."""
    if crs in CRS_NAMES:
        return None
    area = _pyproj_crs(crs).area_of_use
    return None if area is None else (area.west, area.south, area.east, area.north)


def crs_label(crs: str) -> str:
    """A short label of ``crs`` (≤ 8 characters, ``cases.source_crs``): the name, ``EPSG4528`` or the
    EPSG digits, else ``proj``."""
    if crs in CRS_NAMES:
        return crs
    code = _pyproj_crs(crs).to_epsg()
    if code is None:
        return "proj"
    return f"EPSG{code}" if len(str(code)) <= 4 else str(code)[:8]


def to_wgs84(lat: ArrayLike, lon: ArrayLike, crs: str) -> LatLon:
    """Convert (lat, lon) from ``crs`` to WGS-84 degrees.

    ``crs``: one of :data:`CRS_NAMES` (GCJ-02 and BD-09 use the exact, iterated inverse), or any system
    pyproj knows (:func:`check_crs`), where ``lat``/``lon`` are y/x (northing/easting of a projected
    system). Returns new float64 arrays ``(lat, lon)``.

    Raises
    ------
    ValueError
        If ``crs`` is not a coordinate system.
    """
    if isinstance(crs, str) and crs in CRS_NAMES:
        return _TO_WGS84[crs](lat, lon)
    y, x = _as_lat_lon(lat, lon)
    out_lon, out_lat = _transformer(check_crs(crs), False).transform(x, y)
    return np.asarray(out_lat, dtype=np.float64), np.asarray(out_lon, dtype=np.float64)


def from_wgs84(lat: ArrayLike, lon: ArrayLike, crs: str) -> LatLon:
    """Convert WGS-84 (lat, lon) degrees to ``crs`` (as :func:`to_wgs84`: y/x for projected systems).

    Raises
    ------
    ValueError
        If ``crs`` is not a coordinate system.
    """
    if isinstance(crs, str) and crs in CRS_NAMES:
        return _FROM_WGS84[crs](lat, lon)
    lat_a, lon_a = _as_lat_lon(lat, lon)
    x, y = _transformer(check_crs(crs), True).transform(lon_a, lat_a)
    return np.asarray(y, dtype=np.float64), np.asarray(x, dtype=np.float64)


def transform_geometries(geoms: Any, src: str, dst: str) -> Any:
    """Move shapely geometries between WGS-84, GCJ-02 and BD-09 (vectorised over all coordinates).

    Parameters
    ----------
    geoms
        A ``geopandas.GeoSeries`` (CRS None or EPSG:4326, i.e. lon/lat degrees; GCJ/BD data is
        customarily labelled 4326 too), a numpy array / list of shapely geometries, or one geometry.
        Coordinates are x = lon, y = lat (shapely order); z values are kept.
    src, dst
        Source and target system, each one of :data:`CRS_NAMES`.

    Returns
    -------
    geopandas.GeoSeries, numpy.ndarray or shapely geometry
        Same kind and shape as ``geoms``; a GeoSeries keeps its index and gets ``crs="EPSG:4326"``.

    Raises
    ------
    ValueError
        If ``src``/``dst`` are not in :data:`CRS_NAMES`, or a GeoSeries has a non-EPSG:4326 CRS.

    Notes
    -----
    One ``shapely.transform`` call converts every vertex at once; vertices move independently, so
    edges are not densified (the shift varies by < 1 mm over 100 m, far below its own accuracy).
    """
    _check_crs_name(src, "src")
    _check_crs_name(dst, "dst")

    def _move(x: FloatArray, y: FloatArray, *z: FloatArray) -> tuple[FloatArray, ...]:
        lat, lon = from_wgs84(*to_wgs84(y, x, src), dst)
        return (lon, lat, *z)

    if isinstance(geoms, gpd.GeoSeries):
        if geoms.crs is not None and geoms.crs.to_epsg() != 4326:
            msg = (
                f"`geoms` has CRS {geoms.crs.to_string()!r} but transform_geometries expects lon/lat degrees "
                "(EPSG:4326 or no CRS). Use `to_crs('EPSG:4326')` first."
            )
            raise ValueError(msg)
        moved = shapely.transform(geoms.values.to_numpy(), _move, include_z=None, interleaved=False)
        return gpd.GeoSeries(moved, index=geoms.index, crs="EPSG:4326", name=geoms.name)
    if isinstance(geoms, shapely.Geometry):
        return shapely.transform(geoms, _move, include_z=None, interleaved=False)
    arr = np.asarray(geoms, dtype=object)
    return shapely.transform(arr, _move, include_z=None, interleaved=False)
