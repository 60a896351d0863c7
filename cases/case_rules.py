"""Turn a mapped chunk of case rows into typed ``cases`` rows, quarantining rows that break a rule.

The checks run in this order, and a row is quarantined with the first row-level problem (reason codes and
their level in :mod:`cases.validation`): required fields → numbers → times → value maps and vocabularies →
category table → departments, phones → text lengths → coordinates (range, swap, city area) →
``closed_before_reported``. A field-level problem (a defect) empties the field and keeps the row; a case
without a usable location is imported with ``location_flag = "no_location"`` (no ``cell``).

Coordinates are converted to WGS-84 from the mapping's ``crs`` with :func:`grid.coords.to_wgs84` and indexed
with :func:`grid.cells.latlng_to_cells` at resolution :data:`CELL_RES`. "The city" is the union of the
stored areas when there are any; otherwise a box of ±``SWAP_RADIUS_DEG`` degrees around the median
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

from cases.case_coords import check_coordinates
from cases.mapping import CASE_FIELDS, CLOSED_VOCABULARIES, NUMBER, TIME, Mapped, Mapping
from cases.models import Case
from cases.parsing import (
    outside_window,
    parse_numbers,
    parse_times,
    plausible_window,
    present_mask,
    text_isin,
)
from cases.validation import CityArea, Problems, check_lengths
from grid.cells import latlng_to_cells
from grid.coords import crs_label

__all__ = [
    "CASE_COLUMNS",
    "CELL_RES",
    "NO_LOCATION",
    "REQUIRED_FIELDS",
    "CaseContext",
    "CheckedCases",
    "check_cases",
]

#: Fields without which a case is quarantined (``missing_field``); ``lat``/``lon`` too under ``strict``.
REQUIRED_FIELDS = ("case_id", "reported_at", "category_code")
#: ``cases.location_flag`` of a case without a usable location (left out of spatial analysis).
NO_LOCATION = "no_location"
#: Fields whose ``value_too_long`` / ``unmapped_value`` quarantine the row (they identify the case).
ROW_LEVEL_TEXT = ("case_id", "category_code")
#: H3 resolution of ``cases.cell``.
CELL_RES = 10
#: Columns of the typed rows, in ``cases`` table order (``import_batch``/``version`` are set on write).
CASE_COLUMNS = tuple(c.name for c in Case.__table__.columns if c.name not in ("import_batch", "version"))
TIME_FIELDS = tuple(f for f, k in CASE_FIELDS.items() if k == TIME)
#: How far a deadline may lie beyond the end of the plausibility window of report times.
DEADLINE_AHEAD = np.timedelta64(366, "D").astype("timedelta64[us]")
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
    strict : frozenset of str
        Field-level reasons that quarantine the row (the mapping's ``strict`` and the importer's).
    """

    file: str
    mapping: Mapping
    categories: pd.DataFrame | None = None
    area: CityArea | None = None
    center: tuple[float, float] | None = None
    ambiguous: int = 0
    nonexistent: int = 0
    strict: frozenset[str] = frozenset()
    #: Plausible report times (UTC); default :func:`cases.parsing.plausible_window` (2000-01-01 … now + 1d).
    time_window: tuple[np.datetime64, np.datetime64] | None = None

    def is_strict(self, reason: str) -> bool:
        return reason in self.strict or reason in self.mapping.strict

    def window_of(self, field: str) -> tuple[np.datetime64, np.datetime64]:
        """The plausible times of ``field``: :attr:`time_window`; a ``deadline_at`` may lie up to
        :data:`DEADLINE_AHEAD` beyond its end."""
        if self.time_window is None:
            self.time_window = plausible_window()
        low, high = (np.datetime64(w, "us") for w in self.time_window)
        return (low, high + DEADLINE_AHEAD) if field == "deadline_at" else (low, high)


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
    mapped = _xy_as_lat_lon(mapped)
    values = mapped.values.copy(deep=False)
    problems = Problems(len(values))
    _check_required(problems, mapped, ctx)
    given = set(mapped.sources) | set(ctx.mapping.defaults)  # fields with any value at all
    numbers = _check_numbers(problems, values, given, ctx)
    times = _check_times(problems, values, ctx, given)
    _check_vocabularies(problems, mapped, values, ctx)
    codes = _check_categories(problems, values, ctx.categories)
    _check_departments(problems, values, ctx)
    _check_phones(problems, values, ctx)
    emptied = check_lengths(
        problems, values, _TEXT_LIMITS, row_fields=ROW_LEVEL_TEXT, strict=ctx.is_strict("value_too_long")
    )
    for field, rows in emptied.items():
        _blank(values, field, rows)
    lat, lon = check_coordinates(problems, values, numbers, ctx)
    early = times["closed_at"] < times["reported_at"]  # NaT compares False
    cleared = problems.defect(
        early,
        "closed_before_reported",
        "closed_at",
        values["closed_at"],
        _before(values["reported_at"]),
        strict=ctx.is_strict("closed_before_reported"),
    )
    times["closed_at"][cleared] = np.datetime64("NaT")
    rows = _typed_rows(values, problems.ok, numbers, times, lat, lon, codes, ctx)
    return CheckedCases(rows, problems, _provided(mapped, ctx.mapping, enriched=ctx.categories is not None))


def _xy_as_lat_lon(mapped: Mapped) -> Mapped:
    """``x``/``y`` columns (easting/northing) stand for ``lon``/``lat`` when the file maps no lat/lon."""
    sources = mapped.sources
    if not {"x", "y"} <= set(sources) or {"lat", "lon"} & set(sources):
        return mapped
    values = mapped.values.assign(lat=mapped.values["y"], lon=mapped.values["x"])
    return dataclasses.replace(
        mapped, values=values, sources={**sources, "lat": sources["y"], "lon": sources["x"]}
    )


def _blank(values: pd.DataFrame, field: str, rows: np.ndarray) -> None:
    """Empty ``field`` (text) in ``rows`` of ``values``."""
    if rows.any():
        arr = pa.array(values[field], type=pa.string())
        values[field] = pd.Series(pc.if_else(pa.array(rows), "", arr), dtype=_STRING, index=values.index)


def _check_required(problems: Problems, mapped: Mapped, ctx: CaseContext) -> None:
    strict_location = ctx.is_strict("missing_field")
    for field in (*REQUIRED_FIELDS, "lat", "lon"):
        if field in mapped.sources or field in ctx.mapping.defaults:
            why = "is required"
            missing = ~present_mask(mapped.values[field])
        else:
            column = ctx.mapping.columns.get(field, field)
            why = f"is required, but the file has no column {column!r}"
            missing = np.ones(len(mapped.values), dtype=bool)
        if field in REQUIRED_FIELDS or strict_location:
            problems.add(missing, "missing_field", field, mapped.values[field], why)
        else:  # only one half of a location is a defect; none at all is a case without a place
            other = "lon" if field == "lat" else "lat"
            has_other = present_mask(mapped.values[other]) if other in mapped.sources else False
            problems.defect(
                missing & has_other,
                "missing_field",
                field,
                mapped.values[field],
                f"is empty but {other} is not",
            )


def _check_numbers(
    problems: Problems, values: pd.DataFrame, given: set[str], ctx: CaseContext
) -> dict[str, np.ndarray]:
    out = {}
    strict = ctx.is_strict("unparseable_number")
    for field in (f for f, k in CASE_FIELDS.items() if k == NUMBER and f not in ("x", "y")):
        if field not in given:
            out[field] = np.full(len(values), np.nan)
            continue
        numbers, _, bad = parse_numbers(values[field])
        problems.defect(bad, "unparseable_number", field, values[field], "is not a number", strict=strict)
        out[field] = numbers
    null_island = (out["lat"] == 0) & (out["lon"] == 0)
    if ctx.is_strict("missing_field"):
        problems.add(null_island, "missing_field", "lat", "0, 0", "0, 0 is a placeholder for 'no location'")
    # a location with a defect on either half is no location at all
    gone = null_island | problems.emptied.get("lat", False) | problems.emptied.get("lon", False)
    out["lat"] = np.where(gone, np.nan, out["lat"])
    out["lon"] = np.where(gone, np.nan, out["lon"])
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
        utc = np.array(parsed.utc, dtype="datetime64[us]", copy=True)
        if field == "reported_at":
            problems.add(parsed.bad, "unparseable_time", field, values[field], why)
        else:
            cleared = problems.defect(
                parsed.bad,
                "unparseable_time",
                field,
                values[field],
                why,
                strict=ctx.is_strict("unparseable_time"),
            )
            utc[cleared] = np.datetime64("NaT")
        _check_window(problems, values, ctx, field, utc)
        ctx.ambiguous += parsed.ambiguous
        ctx.nonexistent += parsed.nonexistent
        out[field] = utc
    return out


def _check_window(
    problems: Problems, values: pd.DataFrame, ctx: CaseContext, field: str, utc: np.ndarray
) -> None:
    """``implausible_time``: row-level for ``reported_at``, a field defect (``utc`` emptied) otherwise."""
    low, high = ctx.window_of(field)
    outside = outside_window(utc, (low, high))
    if not outside.any():
        return
    why = f"is outside the plausible times {str(low)[:10]} … {str(high)[:10]} (UTC)"
    if field == "reported_at":
        problems.add(outside, "implausible_time", field, values[field], why)
        return
    strict = ctx.is_strict("implausible_time")
    cleared = problems.defect(outside, "implausible_time", field, values[field], why, strict=strict)
    utc[cleared] = np.datetime64("NaT")


def _check_vocabularies(problems: Problems, mapped: Mapped, values: pd.DataFrame, ctx: CaseContext) -> None:
    strict = ctx.is_strict("unmapped_value")
    for field, unmapped in mapped.unmapped.items():
        why = f'is not in [values.{field}] of {ctx.mapping.origin}, which has no "*" default'
        if field in ROW_LEVEL_TEXT:
            problems.add(unmapped, "unmapped_value", field, mapped.original[field], why)
        else:
            cleared = problems.defect(
                unmapped, "unmapped_value", field, mapped.original[field], why, strict=strict
            )
            _blank(values, field, cleared)
    for field, allowed in CLOSED_VOCABULARIES.items():
        arr = pa.array(values[field], type=pa.string())
        outside = pc.and_(pc.not_equal(arr, ""), pc.invert(pc.is_in(arr, value_set=pa.array(allowed))))
        why = f"is not one of {', '.join(allowed)} (map it with [values.{field}])"
        cleared = problems.defect(
            outside.to_numpy(zero_copy_only=False), "unmapped_value", field, values[field], why, strict=strict
        )
        _blank(values, field, cleared)


def _check_departments(problems: Problems, values: pd.DataFrame, ctx: CaseContext) -> None:
    known = ctx.mapping.departments
    if known is None:
        return
    given = present_mask(values["department"])
    unknown = given & ~text_isin(values["department"], list(known))
    cleared = problems.defect(
        unknown,
        "unknown_department",
        "department",
        values["department"],
        "is not one of the city's departments ([options] departments)",
        strict=ctx.is_strict("unknown_department"),
    )
    _blank(values, "department", cleared)


#: A phone number: 3–20 digits (or mask stars) once spaces, dashes, dots, brackets and a leading + are gone.
_PHONE = r"^\+?[0-9*]{3,20}$"


def _check_phones(problems: Problems, values: pd.DataFrame, ctx: CaseContext) -> None:
    arr = pa.array(values["reporter_phone"], type=pa.string())
    squeezed = pc.replace_substring_regex(arr, r"[\s\-.()（）]", "")
    ok = pc.match_substring_regex(squeezed, _PHONE)
    bad = pc.and_(pc.not_equal(arr, ""), pc.invert(ok)).to_numpy(zero_copy_only=False)
    cleared = problems.defect(
        bad,
        "invalid_phone",
        "reporter_phone",
        values["reporter_phone"],
        "is not a phone number",
        strict=ctx.is_strict("invalid_phone"),
    )
    _blank(values, "reporter_phone", cleared)


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
    frame["cell"] = _cells(frame["lat"].to_numpy(), frame["lon"].to_numpy())
    frame["source_crs"] = crs_label(ctx.mapping.crs)
    located = np.isfinite(frame["lat"].to_numpy())
    flag = pc.if_else(pa.array(located), pa.scalar(None, pa.string()), NO_LOCATION)
    frame["location_flag"] = pd.Series(flag, dtype=_STRING, index=frame.index)
    _enrich_from_categories(frame, codes)
    return frame.reindex(columns=list(CASE_COLUMNS))


def _cells(lat: np.ndarray, lon: np.ndarray) -> pd.Series | np.ndarray:
    """H3 cells at :data:`CELL_RES`: int64, or nullable ``Int64`` (NA where there is no location)."""
    located = np.isfinite(lat) & np.isfinite(lon)
    if located.all():
        return latlng_to_cells(lat, lon, CELL_RES)
    cells = np.zeros(len(lat), dtype=np.int64)
    if located.any():
        cells[located] = latlng_to_cells(lat[located], lon[located], CELL_RES)
    return pd.arrays.IntegerArray(cells, ~located)


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
