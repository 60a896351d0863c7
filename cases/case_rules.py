"""Turn a mapped chunk of case rows into typed ``cases`` rows, quarantining rows that break a rule.

The checks run in this order, and a row is quarantined with the first that fails (reason codes in
:mod:`cases.validation`): required fields → numbers → times → value maps and vocabularies → category table →
text lengths → coordinates (range, swap, city area) → ``closed_before_reported``.

Coordinates are converted to WGS-84 from the mapping's ``crs`` with :func:`grid.coords.to_wgs84` and indexed
with :func:`grid.cells.latlng_to_cells` at resolution :data:`CELL_RES`. "The city" is the union of the
stored areas when there are any; otherwise a box of ±:data:`SWAP_RADIUS_DEG` degrees around the median
point of the first chunk, used only to recognise swapped coordinates (a point far from the city whose swap
lands inside it), never to reject a point for being far.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cases.mapping import CASE_FIELDS, CLOSED_VOCABULARIES, NUMBER, TIME, Mapped, Mapping
from cases.models import Case
from cases.parsing import parse_numbers, parse_times, present_mask, text_isin
from cases.validation import CityArea, Problems, check_lengths
from grid.cells import latlng_to_cells
from grid.coords import to_wgs84

__all__ = ["CASE_COLUMNS", "CELL_RES", "REQUIRED_FIELDS", "CaseContext", "CheckedCases", "check_cases"]

#: Fields without which a case is quarantined (``missing_field``).
REQUIRED_FIELDS = ("case_id", "reported_at", "category_code", "lat", "lon")
#: H3 resolution of ``cases.cell``.
CELL_RES = 10
#: Half-width (degrees) of the box around the file's median point used to spot swapped lat/lon.
SWAP_RADIUS_DEG = 2.0
#: Columns of the typed rows, in ``cases`` table order (``import_batch``/``version`` are set on write).
CASE_COLUMNS = tuple(c.name for c in Case.__table__.columns if c.name not in ("import_batch", "version"))
TIME_FIELDS = tuple(f for f, k in CASE_FIELDS.items() if k == TIME)
_STRING = pd.ArrowDtype(pa.string())
_TEXT_LIMITS = {
    c.name: c.type.length
    for c in Case.__table__.columns
    if getattr(c.type, "length", None) and c.name in CASE_FIELDS
}


@dataclasses.dataclass
class CaseContext:
    """What the checks need besides the rows; ``center`` and the DST counts accumulate across chunks.

    Attributes
    ----------
    file : str
        The input file as given (for messages).
    mapping : Mapping
    categories : pandas.DataFrame or None
        The city's category table (column ``code``; optional ``standard``, ``kind``).
    area : CityArea or None
        The stored areas, or ``None`` when the store holds none.
    center : tuple of float or None
        (lat, lon) of the file's median point, set from the first chunk with located rows.
    ambiguous, nonexistent : int
        DST-ambiguous / nonexistent local times seen (see :mod:`cases.parsing`).
    """

    file: str
    mapping: Mapping
    categories: pd.DataFrame | None = None
    area: CityArea | None = None
    center: tuple[float, float] | None = None
    ambiguous: int = 0
    nonexistent: int = 0


@dataclasses.dataclass(frozen=True)
class CheckedCases:
    """Result of :func:`check_cases` for one chunk.

    Attributes
    ----------
    rows : pandas.DataFrame
        The rows that passed, columns :data:`CASE_COLUMNS`: text as object (None when empty), ``lat``/``lon``
        WGS-84 float64 degrees, ``cell`` int64 (res 10), times datetime64[us, UTC], ``satisfaction``
        float64. Its index holds the row positions in the chunk.
    problems : Problems
        The first failing check of every row.
    provided : tuple of str
        Columns the file supplies (mapped, same-named or defaulted, plus the derived ``cell``,
        ``source_crs`` and ``location_flag`` when it has coordinates): the columns an update overwrites.
    """

    rows: pd.DataFrame
    problems: Problems
    provided: tuple[str, ...]


def check_cases(mapped: Mapped, ctx: CaseContext) -> CheckedCases:
    """Parse and check a mapped chunk (see the module docstring for the order of the checks)."""
    values = mapped.values
    problems = Problems(len(values))
    _check_required(problems, mapped, ctx)
    given = set(mapped.sources) | set(ctx.mapping.defaults)  # fields with any value at all
    numbers = _check_numbers(problems, values, given)
    times = _check_times(problems, values, ctx, given)
    _check_vocabularies(problems, mapped, ctx.mapping)
    codes = _check_categories(problems, values, ctx.categories)
    check_lengths(problems, values, _TEXT_LIMITS)
    lat, lon = _check_coordinates(problems, values, numbers, ctx)
    early = times["closed_at"] < times["reported_at"]  # NaT compares False
    problems.add(
        early, "closed_before_reported", "closed_at", values["closed_at"], _before(values["reported_at"])
    )
    rows = _typed_rows(values, problems.ok, numbers, times, lat, lon, codes, ctx)
    return CheckedCases(rows, problems, _provided(mapped, ctx.mapping, enriched=ctx.categories is not None))


def _check_required(problems: Problems, mapped: Mapped, ctx: CaseContext) -> None:
    for field in REQUIRED_FIELDS:
        if field in mapped.sources or field in ctx.mapping.defaults:
            why = "is required"
            missing = ~present_mask(mapped.values[field])
        else:
            column = ctx.mapping.columns.get(field, field)
            why = f"is required, but the file has no column {column!r}"
            missing = np.ones(len(mapped.values), dtype=bool)
        problems.add(missing, "missing_field", field, mapped.values[field], why)


def _check_numbers(problems: Problems, values: pd.DataFrame, given: set[str]) -> dict[str, np.ndarray]:
    out = {}
    for field in (f for f, k in CASE_FIELDS.items() if k == NUMBER):
        if field not in given:
            out[field] = np.full(len(values), np.nan)
            continue
        numbers, _, bad = parse_numbers(values[field])
        problems.add(bad, "unparseable_number", field, values[field], "is not a number")
        out[field] = numbers
    null_island = (out["lat"] == 0) & (out["lon"] == 0)
    problems.add(null_island, "missing_field", "lat", "0, 0", "0, 0 is a placeholder for 'no location'")
    return out


def _check_times(
    problems: Problems, values: pd.DataFrame, ctx: CaseContext, given: set[str]
) -> dict[str, np.ndarray]:
    out = {}
    for field in TIME_FIELDS:
        if field not in given:
            out[field] = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[us]")
            continue
        fmt = ctx.mapping.format_of(field)
        parsed = parse_times(values[field], fmt=fmt, timezone=ctx.mapping.timezone)
        why = f"does not match {fmt!r} nor ISO 8601" if fmt else "is not an ISO 8601 time"
        problems.add(parsed.bad, "unparseable_time", field, values[field], why)
        ctx.ambiguous += parsed.ambiguous
        ctx.nonexistent += parsed.nonexistent
        out[field] = parsed.utc
    return out


def _check_vocabularies(problems: Problems, mapped: Mapped, mapping: Mapping) -> None:
    for field, unmapped in mapped.unmapped.items():
        why = f'is not in [values.{field}] of {mapping.origin}, which has no "*" default'
        problems.add(unmapped, "unmapped_value", field, mapped.original[field], why)
    for field, allowed in CLOSED_VOCABULARIES.items():
        arr = pa.array(mapped.values[field], type=pa.string())
        outside = pc.and_(pc.not_equal(arr, ""), pc.invert(pc.is_in(arr, value_set=pa.array(allowed))))
        why = f"is not one of {', '.join(allowed)} (map it with [values.{field}])"
        problems.add(
            outside.to_numpy(zero_copy_only=False), "unmapped_value", field, mapped.values[field], why
        )


def _check_categories(problems: Problems, values: pd.DataFrame, table: pd.DataFrame | None) -> pd.DataFrame:
    """``unknown_category`` against the table; return the table's unique codes with standard/kind."""
    if table is None:
        return pd.DataFrame(columns=["code", "standard", "kind"])
    codes = table["code"].astype(str).str.strip()
    unknown = ~text_isin(values["category_code"], codes)
    problems.add(
        unknown, "unknown_category", "category_code", values["category_code"], "is not in the category table"
    )
    unique = table.assign(code=codes).drop_duplicates("code", keep=False)
    return unique.reindex(columns=["code", "standard", "kind"])


def _check_coordinates(
    problems: Problems, values: pd.DataFrame, numbers: dict[str, np.ndarray], ctx: CaseContext
) -> tuple[np.ndarray, np.ndarray]:
    """Range, swap and city checks; return WGS-84 (lat, lon), NaN where not usable."""
    lat, lon = numbers["lat"], numbers["lon"]
    shown = _pair(values["lat"], values["lon"])
    has = np.isfinite(lat) & np.isfinite(lon)
    in_range = has & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    swap_in_range = has & (np.abs(lon) <= 90) & (np.abs(lat) <= 180)
    problems.add(
        has & ~in_range & swap_in_range, "lat_lon_swapped", "lat", shown, "lat, lon fit only swapped"
    )
    problems.add(has & (np.abs(lat) > 90), "coordinate_out_of_range", "lat", values["lat"], "|lat| > 90")
    problems.add(has & (np.abs(lon) > 180), "coordinate_out_of_range", "lon", values["lon"], "|lon| > 180")
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


def _typed_rows(
    values: pd.DataFrame,
    ok: np.ndarray,
    numbers: dict[str, np.ndarray],
    times: dict[str, np.ndarray],
    lat: np.ndarray,
    lon: np.ndarray,
    codes: pd.DataFrame,
    ctx: CaseContext,
) -> pd.DataFrame:
    idx = np.flatnonzero(ok)
    take = pa.array(idx)
    data: dict[str, object] = {}
    for name in CASE_COLUMNS:
        if name in times:
            data[name] = pd.DatetimeIndex(times[name][idx]).tz_localize("UTC")
        elif name in ("lat", "lon"):
            data[name] = (lat if name == "lat" else lon)[idx]
        elif name == "satisfaction":
            data[name] = numbers[name][idx]
        elif name in CASE_FIELDS:
            data[name] = _text(pa.array(values[name], type=pa.string()).take(take), idx)
    frame = pd.DataFrame(data, index=idx)
    frame["source"] = frame["source"].fillna("other")
    frame["cell"] = latlng_to_cells(frame["lat"].to_numpy(), frame["lon"].to_numpy(), CELL_RES)
    frame["source_crs"] = ctx.mapping.crs
    frame["location_flag"] = pd.Series(pa.nulls(len(idx), pa.string()), dtype=_STRING, index=frame.index)
    _enrich_from_categories(frame, codes)
    return frame.reindex(columns=list(CASE_COLUMNS))


def _text(arr: pa.Array, index: np.ndarray) -> pd.Series:
    """Arrow-backed texts, null where empty (kept in Arrow until written: no Python objects per value)."""
    return pd.Series(pc.if_else(pc.equal(arr, ""), None, arr), dtype=_STRING, index=index)


def _enrich_from_categories(frame: pd.DataFrame, codes: pd.DataFrame) -> None:
    """Fill empty ``category_standard``/``kind`` from the category table where the code is unique there."""
    if codes.empty:
        return
    position = pc.index_in(
        pa.array(frame["category_code"]), value_set=pa.array(codes["code"], type=pa.string())
    )
    for column, source in (("category_standard", "standard"), ("kind", "kind")):
        known = pa.array(codes[source].fillna("").astype(str), type=pa.string())
        fill = pc.take(known, position)
        fill = pc.if_else(pc.equal(fill, ""), None, fill)
        merged = pc.coalesce(pa.array(frame[column], type=pa.string()), fill)
        frame[column] = pd.Series(merged, dtype=_STRING, index=frame.index)


def _provided(mapped: Mapped, mapping: Mapping, *, enriched: bool) -> tuple[str, ...]:
    fields = set(mapped.sources) | set(mapping.defaults)
    if enriched:
        fields |= {"category_standard", "kind"}
    if {"lat", "lon"} <= fields:
        fields |= {"cell", "source_crs", "location_flag"}
    return tuple(c for c in CASE_COLUMNS if c in fields)


def _before(reported: pd.Series) -> Callable[[np.ndarray], list[str]]:
    """Lazy ``why`` of closed_before_reported, built only for the flagged rows."""

    def why(idx: np.ndarray) -> list[str]:
        return [f"is before reported_at {json.dumps(t, ensure_ascii=False)}" for t in reported.iloc[idx]]

    return why


def _pair(lat: pd.Series, lon: pd.Series) -> Callable[[np.ndarray], list[str]]:
    """Lazy "lat, lon" text of the flagged rows."""

    def shown(idx: np.ndarray) -> list[str]:
        return [f"{a}, {b}" for a, b in zip(lat.iloc[idx], lon.iloc[idx], strict=True)]

    return shown
