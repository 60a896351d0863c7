"""Export cases as CSV (Excel-friendly), GeoJSON points or Open311 GeoReport v2 ``requests.json``.

Cases are streamed from the database in chunks (``yield_per``: a server-side cursor on PostgreSQL), turned
into export columns with vectorised pandas operations and written chunk by chunk, so a million cases never
sit in memory as Python objects at once. Locations are WGS-84 (EPSG:4326). Times are ISO 8601 with the
offset of the chosen zone (``2015-01-01T08:00:00+08:00``). Reporter phone numbers are PII and are masked
(``138****5678``) unless ``mask_phone=False``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cases.csv_safe import defuse
from cases.models import CASE_CONTRACT_COLUMNS, Case
from grid.cells import cells_to_strings
from grid.config import DEFAULT_TIMEZONE

EXPORT_FORMATS = ("csv", "geojson", "open311")
TIME_COLUMNS = (
    "reported_at",
    "registered_at",
    "dispatched_at",
    "deadline_at",
    "resolved_at",
    "verified_at",
    "closed_at",
)
#: Columns of the CSV export, in order (``category`` is the case's ``category_code``, ``h3`` its res-10 cell).
CSV_COLUMNS = (
    *({"category_code": "category", "cell": "h3"}.get(c, c) for c in CASE_CONTRACT_COLUMNS),
    "location_flag",
)
#: Properties of each GeoJSON feature: the CSV columns without ``lat``/``lon`` (they are the geometry).
GEOJSON_PROPERTIES = tuple(c for c in CSV_COLUMNS if c not in ("lat", "lon"))
#: Fields of each Open311 GeoReport v2 service request, in the order of the specification.
OPEN311_FIELDS = (
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
)
#: Case statuses that Open311 reports as ``closed`` (besides any case with a ``closed_at``).
CLOSED_STATUSES = frozenset({"closed", "cancelled", "canceled", "void", "invalid", "结案", "作废"})
DEFAULT_CHUNK_ROWS = 50_000

_DB_COLUMNS = (
    *(c for c in CSV_COLUMNS if c not in ("category", "h3")),
    "category_code",
    "cell",
    "address",
)
_TEXT_COLUMNS = (
    "case_id",
    "source",
    "category",
    "category_standard",
    "kind",
    "department",
    "status",
    "urgency",
    "reported_by",
    "reporter_phone",
    "description",
    "location_flag",
)


def export_cases(
    engine: Engine,
    path: str | Path,
    *,
    fmt: str,
    timezone: str = DEFAULT_TIMEZONE,
    mask_phone: bool = True,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> int:
    """Write every case to ``path`` as CSV, GeoJSON or Open311 GeoReport v2; return the number written.

    Parameters
    ----------
    engine
        The database.
    path
        Output file; its folder is created. Written to ``<path>.part`` first and renamed when complete, so
        a failed export never leaves a truncated file under the final name.
    fmt
        ``csv``: UTF-8 with BOM (Excel shows Chinese), columns ``CSV_COLUMNS``, null as empty cell.
        ``geojson``: RFC 7946 FeatureCollection of Point features ``[lon, lat]`` (WGS-84), properties
        ``GEOJSON_PROPERTIES``, ``"geometry": null`` for cases without a location.
        ``open311``: a JSON array of GeoReport v2 service requests with the fields ``OPEN311_FIELDS``.
    timezone
        IANA zone the times are written in, with its offset (``+08:00`` for the default
        :data:`grid.config.DEFAULT_TIMEZONE`).
    mask_phone
        Mask reporter phone numbers as ``138****5678`` (see :func:`mask_phone_numbers`). Default True.
    chunk_rows
        Cases read and written per chunk (memory bound).

    Returns
    -------
    int
        Number of cases written, ordered by ``reported_at`` then ``case_id``.

    Raises
    ------
    ValueError
        ``fmt``, ``timezone`` or ``chunk_rows`` is not allowed.

    Notes
    -----
    Open311 mapping: ``service_request_id`` = case_id; ``status`` is ``closed`` when the case has a
    ``closed_at`` or its status is in ``CLOSED_STATUSES``, else ``open``; ``status_notes`` = the case's own
    status; ``service_code`` and ``service_name`` = category_code (no category names in the store yet);
    ``agency_responsible`` = department; ``requested_datetime`` = reported_at; ``updated_datetime`` = the
    latest of the case's times (deadline excluded); ``expected_datetime`` = deadline_at; ``lat``/``long``
    WGS-84. ``service_notice``, ``address_id``, ``zipcode``, ``media_url`` are null.

    In CSV, text cells starting with ``=``, ``+``, ``-``, ``@``, tab or CR get a leading ``'`` so that Excel
    does not run them as formulas (CSV injection); JSON outputs carry the text unchanged, with ``<``, ``>``,
    ``&`` written as ``\\u`` escapes.
    """
    writer = _WRITERS.get(fmt)
    if writer is None:
        msg = f"`fmt` was {fmt!r} but is expected to be in {list(EXPORT_FORMATS)}"
        raise ValueError(msg)
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        msg = f"`timezone` was {timezone!r}, not an IANA time zone such as {DEFAULT_TIMEZONE!r}"
        raise ValueError(msg) from exc
    if chunk_rows < 1:
        msg = f"`chunk_rows` was {chunk_rows} but must be >= 1"
        raise ValueError(msg)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(out.name + ".part")
    try:
        with part.open("w", encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="") as fh:
            written = writer(fh, _export_chunks(engine, zone, mask_phone, chunk_rows))
        part.replace(out)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return written


def mask_phone_numbers(phones: pd.Series) -> pd.Series:
    """Mask phone numbers, keeping the first 3 and last 4 digits: ``13812345678`` → ``138****5678``.

    Non-digits are dropped first and a ``+86``/``86`` prefix of a 13-digit number is removed; numbers with
    fewer than 7 digits become ``****``. Null and empty values stay null. Vectorised.
    """
    text = phones.astype("string")
    digits = text.str.replace(r"\D", "", regex=True)
    prefixed = (digits.str.len() == 13) & digits.str.startswith("86")
    digits = digits.mask(prefixed.fillna(False), digits.str[2:])
    masked = (digits.str[:3] + "****" + digits.str[-4:]).where(digits.str.len() >= 7, "****")
    return masked.astype(object).where(text.notna() & (text.str.strip() != ""), None)


def _export_chunks(
    engine: Engine, zone: ZoneInfo, mask_phone: bool, chunk_rows: int
) -> Iterator[pd.DataFrame]:
    table = Case.__table__
    query = sa.select(*(table.c[name] for name in _DB_COLUMNS)).order_by(table.c.reported_at, table.c.case_id)
    with engine.connect() as conn:
        result = conn.execution_options(yield_per=chunk_rows).execute(query)
        for rows in result.partitions():
            yield _prepare(_frame(rows), zone, mask_phone)


def _frame(rows: list[Any]) -> pd.DataFrame:
    """Build the raw chunk column by column with explicit dtypes (``cell`` must not pass through float)."""
    columns = dict(zip(_DB_COLUMNS, zip(*rows, strict=True), strict=True)) if rows else {}
    frame = pd.DataFrame(index=pd.RangeIndex(len(rows)))
    for name in _DB_COLUMNS:
        values = list(columns.get(name, ()))
        if name == "cell":
            frame[name] = pd.array(values, dtype="Int64")
        elif name in ("lat", "lon", "satisfaction"):
            frame[name] = pd.array(values, dtype="Float64").to_numpy(dtype="float64", na_value=np.nan)
        elif name in TIME_COLUMNS:
            frame[name] = pd.to_datetime(pd.Series(values, dtype=object), utc=True)
        else:
            frame[name] = pd.Series(values, dtype=object)
    return frame


def _iso(times: pd.Series, zone: ZoneInfo) -> pd.Series:
    """ISO 8601 in ``zone`` with ``±HH:MM`` offset, microseconds only when non-zero; None for NaT.

    Vectorised with numpy (``Series.dt.strftime`` with ``%z`` formats row by row and is ~20× slower).
    """
    out = np.full(len(times), None, dtype=object)
    known = times.notna().to_numpy()
    if known.any():
        aware = times[known]
        local = aware.dt.tz_convert(zone).dt.tz_localize(None).to_numpy().astype("datetime64[us]")
        utc = aware.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().astype("datetime64[us]")
        text = np.datetime_as_string(local, unit="s").astype(object)
        micros = (local - local.astype("datetime64[s]")).astype("int64")
        fraction = micros != 0
        if fraction.any():
            text[fraction] += np.char.mod(".%06d", micros[fraction]).astype(object)
        offsets, which = np.unique((local - utc) // np.timedelta64(1, "m"), return_inverse=True)
        labels = np.array([f"{'-' if m < 0 else '+'}{abs(m) // 60:02d}:{abs(m) % 60:02d}" for m in offsets])
        out[known] = text + labels.astype(object)[which]
    return pd.Series(out, index=times.index, dtype=object)


def _h3_strings(cells: pd.Series) -> pd.Series:
    out = pd.Series(None, index=cells.index, dtype=object)
    known = cells.notna().to_numpy()
    if known.any():
        out[known] = list(cells_to_strings(cells[known].to_numpy(dtype="int64")))
    return out


def _prepare(raw: pd.DataFrame, zone: ZoneInfo, mask_phone: bool) -> pd.DataFrame:
    """One chunk's export columns: ``CSV_COLUMNS``, ``address`` and Open311's ``_closed``, ``_updated``."""
    out = raw.rename(columns={"category_code": "category"})
    out["h3"] = _h3_strings(raw["cell"])
    if mask_phone:
        out["reporter_phone"] = mask_phone_numbers(raw["reporter_phone"])
    updated = raw[[c for c in TIME_COLUMNS if c != "deadline_at"]].max(axis=1)
    out["_updated"] = _iso(updated, zone)
    status = raw["status"].astype("string").str.strip().str.lower()
    out["_closed"] = (raw["closed_at"].notna() | status.isin(CLOSED_STATUSES).fillna(False)).to_numpy()
    for name in TIME_COLUMNS:
        out[name] = _iso(raw[name], zone)
    return out


def _write_csv(fh: IO[str], chunks: Iterable[pd.DataFrame]) -> int:
    written = 0
    header = True
    for chunk in chunks:
        frame = chunk[list(CSV_COLUMNS)].copy()
        for name in _TEXT_COLUMNS:
            frame[name] = defuse(frame[name])
        frame.to_csv(fh, index=False, header=header, lineterminator="\r\n")
        header, written = False, written + len(frame)
    if header:  # no case at all: still write the header so the file has its columns
        pd.DataFrame(columns=list(CSV_COLUMNS)).to_csv(fh, index=False, lineterminator="\r\n")
    return written


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    msg = f"cannot write {type(value).__name__} {value!r} as JSON"
    raise TypeError(msg)


def _dumps(obj: Any) -> str:
    text = json.dumps(obj, ensure_ascii=False, allow_nan=False, default=_json_default)
    # "<", ">" and "&" only occur inside JSON strings, so \u escapes parse back to the same text and stay
    # harmless if a consumer pastes the file into an HTML page (descriptions are untrusted text)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts of plain Python values, nulls (NaN, NA, NaT) as None."""
    columns = [frame[c].astype(object).where(frame[c].notna(), None).tolist() for c in frame.columns]
    names = list(frame.columns)
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


def _write_json_array(fh: IO[str], items: Iterable[dict[str, Any]], head: str, tail: str) -> int:
    fh.write(head)
    written = 0
    for item in items:
        fh.write(("\n" if written == 0 else ",\n") + _dumps(item))
        written += 1
    fh.write(tail)
    return written


def _features(chunks: Iterable[pd.DataFrame]) -> Iterator[dict[str, Any]]:
    for chunk in chunks:
        located = (chunk["lat"].notna() & chunk["lon"].notna()).to_numpy()
        lon, lat = chunk["lon"].to_numpy(), chunk["lat"].to_numpy()
        for i, props in enumerate(_records(chunk[list(GEOJSON_PROPERTIES)])):
            point = {"type": "Point", "coordinates": [float(lon[i]), float(lat[i])]} if located[i] else None
            yield {"type": "Feature", "id": props["case_id"], "geometry": point, "properties": props}


def _write_geojson(fh: IO[str], chunks: Iterable[pd.DataFrame]) -> int:
    return _write_json_array(fh, _features(chunks), '{"type": "FeatureCollection", "features": [', "\n]}\n")


def _open311_requests(chunks: Iterable[pd.DataFrame]) -> Iterator[dict[str, Any]]:
    for chunk in chunks:
        frame = pd.DataFrame(
            {
                "service_request_id": chunk["case_id"],
                "status": np.where(chunk["_closed"], "closed", "open"),
                "status_notes": chunk["status"],
                "service_name": chunk["category"],
                "service_code": chunk["category"],
                "description": chunk["description"],
                "agency_responsible": chunk["department"],
                "service_notice": None,
                "requested_datetime": chunk["reported_at"],
                "updated_datetime": chunk["_updated"],
                "expected_datetime": chunk["deadline_at"],
                "address": chunk["address"],
                "address_id": None,
                "zipcode": None,
                "lat": chunk["lat"],
                "long": chunk["lon"],
                "media_url": None,
            },
            columns=list(OPEN311_FIELDS),
        )
        yield from _records(frame)


def _write_open311(fh: IO[str], chunks: Iterable[pd.DataFrame]) -> int:
    return _write_json_array(fh, _open311_requests(chunks), "[", "\n]\n")


_WRITERS: dict[str, Callable[[IO[str], Iterable[pd.DataFrame]], int]] = {
    "csv": _write_csv,
    "geojson": _write_geojson,
    "open311": _write_open311,
}
