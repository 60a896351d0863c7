"""One posted Open311 request as a checked case row, fast: the import's rules for one row
(:func:`cases.case_row.check_case_row`) against reference data cached per process.

The category table and the city area are read once per process and kept while the store's data version
(:func:`cases.repository_api.data_version`: the last import batch and the number of areas) is unchanged,
so a POST costs at most one cheap version query a second instead of re-reading the areas and the table;
an import of areas is seen within :data:`VERSION_CHECK_S` seconds.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
import time
from typing import Any

import pandas as pd

from cases import repository_api as store
from cases.case_row import CategoryCodes, check_case_row
from cases.categories import load_categories
from services.context import ServiceContext
from services.errors import ServiceError

__all__ = ["REASON_TEXT", "categories", "category_codes", "checked_row", "city_area"]

#: Why a posted point or field was refused, by the import's reason code.
REASON_TEXT = {
    "outside_city_area": "the point is outside the city",
    "lat_lon_swapped": "lat and long look swapped",
    "coordinate_out_of_range": "lat or long is out of range",
    "unparseable_number": "lat and long must be numbers",
    "missing_field": "a required field is missing",
    "value_too_long": "a field is too long",
    "unknown_category": "service_code is not a known service",
}
#: Seconds between two looks at the store's data version (an area import is seen within this time).
VERSION_CHECK_S = 1.0
_CACHE: dict[str, tuple[float, tuple[int, int], Any]] = {}
_LOCK = threading.Lock()


@functools.lru_cache(maxsize=4)
def categories(path: str | None = None) -> pd.DataFrame:
    """The city's category table (the shipped standard table), read once per process."""
    return load_categories(path)


@functools.lru_cache(maxsize=4)
def category_codes(path: str | None = None) -> CategoryCodes:
    """:func:`categories` as the row checks use it."""
    return CategoryCodes.from_table(categories(path))


def city_area(ctx: ServiceContext) -> Any:
    """The stored areas' union (:class:`cases.validation.CityArea` or None), re-read only when the store's
    data version changed (the version itself is asked at most every :data:`VERSION_CHECK_S` seconds)."""
    url = str(ctx.engine.url)
    now = time.monotonic()
    with _LOCK:
        hit = _CACHE.get(url)
        if hit is not None and now - hit[0] < VERSION_CHECK_S:
            return hit[2]
    version = store.data_version(ctx.engine)
    area = hit[2] if hit is not None and hit[1] == version else store.city_area(ctx.engine)
    with _LOCK:
        _CACHE[url] = (now, version, area)
    return area


def checked_row(ctx: ServiceContext, fields: dict[str, str], at: dt.datetime) -> dict[str, Any]:
    """The request's fields as a case row through the import's checks (WGS-84, reported ``at``); raises
    ServiceError with the import's reason code when a file row would be quarantined or left without a
    location."""
    fields = {**fields, "reported_at": at.isoformat()}
    checked = check_case_row(fields, category_codes(), city_area(ctx))
    if checked.problem is not None:
        reason, field, detail = checked.problem
        raise ServiceError(reason, f"{REASON_TEXT.get(reason, reason)} ({field}: {detail})")
    row = checked.values
    if row["cell"] is None:  # a field-level defect empties the location of a file row; a request needs one
        located = [d for d in checked.defects if d[1] in ("lat", "lon")]
        reason = located[0][0] if located else "missing_field"
        text = REASON_TEXT.get(reason, reason)
        raise ServiceError(reason, f"{text} (lat: {fields.get('lat')}, long: {fields.get('lon')})")
    return row
