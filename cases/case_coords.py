"""The coordinate checks of the case import: range, swapped lat/lon, the city area, a projected system's
area of use; every point converted to WGS-84 (:func:`grid.coords.to_wgs84`).

"The city" is the union of the stored areas when there are any; otherwise a box of ±:data:`SWAP_RADIUS_DEG`
degrees around the median point of the first chunk, used only to recognise swapped coordinates (a point far
from the city whose swap lands inside it), never to reject a point for being far. Input in a projected system
(``crs = "EPSG:4528"`` …; ``lat``/``lon`` or ``y``/``x`` are northing/easting) skips the degree checks: a
point outside the system's area of use (± :data:`CRS_AREA_MARGIN_DEG`) is ``outside_crs_area``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cases.validation import Problems
from grid.coords import crs_area_of_use, crs_is_geographic, to_wgs84

if TYPE_CHECKING:
    from cases.case_rules import CaseContext

__all__ = ["CRS_AREA_MARGIN_DEG", "SWAP_RADIUS_DEG", "check_coordinates"]

#: Half-width (degrees) of the box around the file's median point used to spot swapped lat/lon.
SWAP_RADIUS_DEG = 2.0
#: Degrees around a projected system's area of use still accepted (a zone's neighbours use it too).
CRS_AREA_MARGIN_DEG = 1.0


def check_coordinates(
    problems: Problems, values: pd.DataFrame, numbers: dict[str, np.ndarray], ctx: CaseContext
) -> tuple[np.ndarray, np.ndarray]:
    """Range, swap and city checks; return WGS-84 (lat, lon), NaN where not usable (no location)."""
    lat, lon = numbers["lat"], numbers["lon"]
    shown = _pair(values["lat"], values["lon"])
    if not crs_is_geographic(ctx.mapping.crs):
        return _check_projected(problems, lat, lon, shown, ctx)
    has = np.isfinite(lat) & np.isfinite(lon)
    in_range = has & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    swap_in_range = has & (np.abs(lon) <= 90) & (np.abs(lat) <= 180)
    problems.add(
        has & ~in_range & swap_in_range, "lat_lon_swapped", "lat", shown, "lat, lon fit only swapped"
    )
    strict = ctx.is_strict("coordinate_out_of_range")
    bad_lat = problems.defect(
        has & (np.abs(lat) > 90), "coordinate_out_of_range", "lat", values["lat"], "|lat| > 90", strict=strict
    )
    bad_lon = problems.defect(
        has & (np.abs(lon) > 180),
        "coordinate_out_of_range",
        "lon",
        values["lon"],
        "|lon| > 180",
        strict=strict,
    )
    in_range &= ~(bad_lat | bad_lon)
    w_lat, w_lon = _wgs84(lat, lon, in_range, ctx.mapping.crs)
    # The swapped point matters only where the point itself is not in (near) the city: converting just
    # those rows gives the same per-row result (to_wgs84 is element-wise) at a fraction of the cost.
    if ctx.area is not None:
        inside = ctx.area.contains(w_lat, w_lon)
        s_lat, s_lon = _wgs84(lon, lat, in_range & swap_in_range & ~inside, ctx.mapping.crs)
        swapped_inside = ctx.area.contains(s_lat, s_lon)
        problems.add(
            in_range & ~inside & swapped_inside,
            "lat_lon_swapped",
            "lat",
            shown,
            "only the swap is in the city",
        )
        problems.add(in_range & ~inside, "outside_city_area", "lat", shown, "is outside the city's areas")
    else:
        usable = in_range & problems.ok
        if ctx.center is None and usable.any():
            ctx.center = (float(np.median(w_lat[usable])), float(np.median(w_lon[usable])))
        if ctx.center is not None:
            near = _near(w_lat, w_lon, ctx.center)
            s_lat, s_lon = _wgs84(lon, lat, in_range & swap_in_range & ~near, ctx.mapping.crs)
            swapped_near = _near(s_lat, s_lon, ctx.center)
            clat, clon = ctx.center
            why = f"far from the file's median point {clat:.4f}, {clon:.4f}; its swap is near it"
            problems.add(in_range & ~near & swapped_near, "lat_lon_swapped", "lat", shown, why)
    return w_lat, w_lon


def _near(lat: np.ndarray, lon: np.ndarray, center: tuple[float, float]) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return (np.abs(lat - center[0]) <= SWAP_RADIUS_DEG) & (np.abs(lon - center[1]) <= SWAP_RADIUS_DEG)


def _wgs84(lat: np.ndarray, lon: np.ndarray, rows: np.ndarray, crs: str) -> tuple[np.ndarray, np.ndarray]:
    out_lat = np.full(lat.shape, np.nan)
    out_lon = np.full(lon.shape, np.nan)
    if rows.any():
        out_lat[rows], out_lon[rows] = to_wgs84(lat[rows], lon[rows], crs)
    return out_lat, out_lon


def _check_projected(
    problems: Problems, y: np.ndarray, x: np.ndarray, shown: Callable, ctx: CaseContext
) -> tuple[np.ndarray, np.ndarray]:
    crs = ctx.mapping.crs
    has = np.isfinite(y) & np.isfinite(x)
    w_lat, w_lon = _wgs84(y, x, has, crs)
    usable = has & np.isfinite(w_lat) & np.isfinite(w_lon)
    bounds = crs_area_of_use(crs)
    if bounds is not None:
        west, south, east, north = bounds
        m = CRS_AREA_MARGIN_DEG
        with np.errstate(invalid="ignore"):
            usable &= (w_lon >= west - m) & (w_lon <= east + m) & (w_lat >= south - m) & (w_lat <= north + m)
    problems.add(has & ~usable, "outside_crs_area", "lat", shown, f"is outside the area of use of {crs}")
    if ctx.area is not None:
        inside = ctx.area.contains(w_lat, w_lon)
        problems.add(usable & ~inside, "outside_city_area", "lat", shown, "is outside the city's areas")
    return np.where(usable, w_lat, np.nan), np.where(usable, w_lon, np.nan)


def _pair(lat: pd.Series, lon: pd.Series) -> Callable[[np.ndarray], list[str]]:
    """Lazy "lat, lon" text of the flagged rows."""

    def shown(idx: np.ndarray) -> list[str]:
        return [f"{a}, {b}" for a, b in zip(lat.iloc[idx], lon.iloc[idx], strict=True)]

    return shown
