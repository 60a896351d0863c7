"""The import's case-row checks for ONE row, without the batch machinery (for live intake: an Open311 POST).

:func:`cases.case_rules.check_cases` checks a chunk of thousands of rows with Arrow and pandas; its fixed
cost (~40 ms a call, whatever the chunk size) dominates a single posted request. :func:`check_case_row`
applies the same rules, in the same order and with the same reason codes, to one row of WGS-84 fields under
the default mapping (no value maps, no departments list, nothing strict), in plain Python:

required fields (``missing_field``) → numbers (``unparseable_number``; ``0, 0`` is no location) → category
table (``unknown_category``) → phone (``invalid_phone``: emptied) → text lengths (``value_too_long``:
row-level for ``case_id``/``category_code``, emptied otherwise) → coordinates (``lat_lon_swapped``,
``coordinate_out_of_range``, ``outside_city_area``), then the typed values: ``cell`` (res 10),
``category_standard``/``kind`` from the table where the code is unique there.

The number and presence rules are the import's own helpers (:func:`cases.parsing.parse_numbers`,
:data:`cases.parsing.NULL_TOKENS`); ``tests/api/test_case_row.py`` checks row by row that both paths agree.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from cases.case_rules import CELL_RES, REQUIRED_FIELDS, ROW_LEVEL_TEXT
from cases.mapping import CASE_FIELDS, CLOSED_VOCABULARIES
from cases.models import Case
from cases.parsing import NULL_TOKENS, parse_numbers
from cases.validation import CityArea
from grid.cells import latlng_to_cells

__all__ = ["CategoryCodes", "CheckedRow", "check_case_row"]

_TEXT_LIMITS = {
    c.name: c.type.length
    for c in Case.__table__.columns
    if getattr(c.type, "length", None) and c.name in CASE_FIELDS
}
_SQUEEZE = re.compile(r"[\s\-.()（）]")
_PHONE = re.compile(r"^\+?[0-9*]{3,20}$")
_STRING = pd.ArrowDtype(pa.string())
#: Plain ASCII decimals (what Arrow's cast and Python's float read alike); anything else goes through
#: :func:`cases.parsing.parse_numbers`.
_DECIMAL = re.compile(r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")


@dataclasses.dataclass(frozen=True)
class CategoryCodes:
    """The category table as the row checks use it: every code, and standard/kind of the unique ones."""

    codes: frozenset[str]
    enrich: dict[str, tuple[str | None, str | None]]

    @classmethod
    def from_table(cls, table: pd.DataFrame) -> CategoryCodes:
        codes = table["code"].astype(str).str.strip()
        unique = table.assign(code=codes).drop_duplicates("code", keep=False)
        enrich = {}
        for row in unique.reindex(columns=["code", "standard", "kind"]).itertuples(index=False):
            enrich[row.code] = tuple(
                None if pd.isna(v) or str(v) == "" else str(v) for v in (row.standard, row.kind)
            )
        return cls(frozenset(codes), enrich)


@dataclasses.dataclass(frozen=True)
class CheckedRow:
    """Result of :func:`check_case_row`.

    ``problem`` is the row-level ``(reason, field, detail)`` that would quarantine it (``values`` then
    empty); ``defects`` the field-level problems (the field emptied, the row kept), in check order;
    ``values`` the typed case columns given or derived (texts None when empty; ``lat``/``lon`` NaN without
    a usable location; ``cell`` None then).
    """

    values: dict[str, Any]
    problem: tuple[str, str, str] | None
    defects: tuple[tuple[str, str, str], ...]


def _present(text: str) -> bool:
    return text.lower() not in NULL_TOKENS


def check_case_row(
    fields: Mapping[str, str | None], categories: CategoryCodes | None, area: CityArea | None
) -> CheckedRow:
    """Check one row of case fields (texts, as a file row would carry them; WGS-84 lat/lon)."""
    values = {k: (v or "").strip() for k, v in fields.items()}
    for name in (*REQUIRED_FIELDS, "lat", "lon"):
        values.setdefault(name, "")
    problem: tuple[str, str, str] | None = None
    defects: list[tuple[str, str, str]] = []

    def add(reason: str, field: str, detail: str) -> None:
        nonlocal problem
        if problem is None:
            problem = (reason, field, detail)

    lat, lon = _parse_point(values, add, defects)
    _check_texts(values, categories, add, defects)
    lat, lon = _check_point(lat, lon, area, add, defects, f"{values['lat']}, {values['lon']}")
    if problem is not None:
        return CheckedRow({}, problem, tuple(defects))
    return CheckedRow(_typed(values, lat, lon, categories), None, tuple(defects))


def _parse_point(values: dict[str, str], add: Any, defects: list) -> tuple[float, float]:
    """Required fields, then lat/lon as numbers (NaN when a half is missing or bad, or at ``0, 0``)."""
    for name in REQUIRED_FIELDS:
        if not _present(values[name]):
            add("missing_field", name, values[name])
    has_lat, has_lon = _present(values["lat"]), _present(values["lon"])
    gone = False
    for name, mine, other in (("lat", has_lat, has_lon), ("lon", has_lon, has_lat)):
        if not mine and other:
            defects.append(("missing_field", name, values[name]))
            gone = True
    if _DECIMAL.match(values["lat"]) and _DECIMAL.match(values["lon"]):  # the common case, without Arrow
        lat, lon = float(values["lat"]), float(values["lon"])
    else:
        numbers, _, bad = parse_numbers(pd.Series([values["lat"], values["lon"]], dtype=_STRING))
        for k, name in enumerate(("lat", "lon")):
            if bad[k]:
                defects.append(("unparseable_number", name, values[name]))
                gone = True
        lat, lon = float(numbers[0]), float(numbers[1])
    if gone or (lat == 0 and lon == 0):
        return float("nan"), float("nan")
    return lat, lon


def _check_texts(values: dict[str, str], categories: CategoryCodes | None, add: Any, defects: list) -> None:
    """Vocabularies, category, phone and lengths (emptying the fields with a defect)."""
    for name, allowed in CLOSED_VOCABULARIES.items():
        if values.get(name) and values[name] not in allowed:
            defects.append(("unmapped_value", name, values[name]))
            values[name] = ""
    code = values["category_code"]
    if categories is not None and code not in categories.codes:
        add("unknown_category", "category_code", code)
    phone = values.get("reporter_phone", "")
    if phone and not _PHONE.match(_SQUEEZE.sub("", phone)):
        defects.append(("invalid_phone", "reporter_phone", phone))
        values["reporter_phone"] = ""
    for name, limit in _TEXT_LIMITS.items():
        if len(values.get(name, "")) > limit:
            if name in ROW_LEVEL_TEXT:
                add("value_too_long", name, values[name])
            else:
                defects.append(("value_too_long", name, values[name]))
                values[name] = ""


def _check_point(
    lat: float, lon: float, area: CityArea | None, add: Any, defects: list, shown: str
) -> tuple[float, float]:
    """Range, swap and city checks of :func:`cases.case_coords.check_coordinates` for one WGS-84 point."""
    has = np.isfinite(lat) and np.isfinite(lon)
    if not has:
        return float("nan"), float("nan")
    in_range = abs(lat) <= 90 and abs(lon) <= 180
    swap_in_range = abs(lon) <= 90 and abs(lat) <= 180
    if not in_range and swap_in_range:
        add("lat_lon_swapped", "lat", shown)
    if abs(lat) > 90:
        defects.append(("coordinate_out_of_range", "lat", shown.split(", ")[0]))
    if abs(lon) > 180:
        defects.append(("coordinate_out_of_range", "lon", shown.split(", ")[-1]))
    if not in_range:
        return float("nan"), float("nan")
    if area is not None:
        inside = bool(area.contains(np.array([lat]), np.array([lon]))[0])
        if not inside:
            swapped = swap_in_range and bool(area.contains(np.array([lon]), np.array([lat]))[0])
            if swapped:
                add("lat_lon_swapped", "lat", shown)
            add("outside_city_area", "lat", shown)
    return lat, lon


def _typed(
    values: dict[str, str], lat: float, lon: float, categories: CategoryCodes | None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        name: (values.get(name) or None)
        for name in CASE_FIELDS
        if name in values and name not in ("lat", "lon", "x", "y")
    }
    out["source"] = out.get("source") or "other"
    out["lat"], out["lon"] = lat, lon
    located = np.isfinite(lat) and np.isfinite(lon)
    out["cell"] = int(latlng_to_cells(np.array([lat]), np.array([lon]), CELL_RES)[0]) if located else None
    out["location_flag"] = None if located else "no_location"
    if categories is not None:
        standard, kind = categories.enrich.get(values["category_code"], (None, None))
        out["category_standard"] = out.get("category_standard") or standard
        out["kind"] = out.get("kind") or kind
    return out
