"""Row checks shared by the importers: reason codes, the quarantine, the city area and location clusters.

Every rejected row gets exactly one stable ``reason`` (the first failing check, in the order the importer
runs them), the ``field`` at fault and a human ``detail`` naming file, line, field and value.

Reason codes (stable; other code matches on them). A **row-level** reason quarantines the row: it cannot be
a case (no id, no report time, no category) or does not belong to this city. A **field-level** reason
(a *defect*) empties that one field and imports the case: the defect (file, line, field, reason, raw
value) is listed in the import report and the quarantine CSV, and stored with the batch's quarantine rows
as reason ``defect:<reason>``. ``strict`` (the mapping's ``[options] strict``, ``import_cases(strict=)``,
``gridpatrol import cases --strict REASON``) makes a field-level reason quarantine the row again.

==============================  =======  ==================================================================
reason                          level    when
==============================  =======  ==================================================================
``missing_field``               row      ``case_id``, ``reported_at`` or ``category_code`` is empty or its
                                         column absent. Field for ``lat``/``lon``: only one of the two is
                                         given (both empty, or ``0, 0``, the usual "no location" placeholder,
                                         is simply a case without a place, ``location_flag = "no_location"``,
                                         no defect; ``strict`` makes a location required again)
``unparseable_time``            row      ``reported_at`` matches neither the format nor ISO 8601; field for
                                         every other time (``closed_at``, ``deadline_at`` …)
``implausible_time``            row      ``reported_at`` outside the plausibility window (default 2000-01-01 …
                                         now + 1 day, ``import_cases(time_window=)``); field for every
                                         other time (``deadline_at``: up to 366 days beyond the window)
``unparseable_number``          field    ``lat``/``lon`` (the location is emptied), ``satisfaction``
``coordinate_out_of_range``     field    \\|lat\\| > 90 or \\|lon\\| > 180 (the location is emptied)
``lat_lon_swapped``             row      lat/lon fit only when swapped: out of range while the swap is in
                                         range, or outside the city (area or bounds) while the swap is inside
``outside_city_area``           row      outside the union of the stored ``areas`` plus :data:`AREA_BUFFER_M`
``outside_crs_area``            row      projected input (``crs = "EPSG:…"``) outside the system's area of use
``closed_before_reported``      field    ``closed_at`` earlier than ``reported_at`` (``closed_at`` emptied)
``unmapped_value``              field    a value the mapping's value map does not cover (no ``"*"``), or
                                         outside a closed vocabulary (``source`` → ``other``, ``kind``); row
                                         for ``category_code`` and for inspector ``active``
``unknown_category``            row      ``category_code`` not in the given category table
``unknown_department``          field    ``department`` not in the mapping's ``[options] departments``
``invalid_phone``               field    ``reporter_phone`` is not 3–20 digits (spaces, ``-``, ``.``,
                                         ``()``, a leading ``+`` and mask ``*`` allowed)
``value_too_long``              field    text longer than its database column (PostgreSQL would refuse
                                         it); row for ``case_id`` and ``category_code``
``malformed_row``               row      a CSV row with the wrong number of fields
``unterminated_quote``          row      a CSV line opening a quoted value that is never properly closed
                                         (the line is quarantined, reading resumes on the next line)
``undecodable_row``             row      a CSV line that no text encoding tried decodes
``inexact_number``              row      an xlsx cell holding a whole number beyond 2**53 (an id typed as a
                                         number, e.g. ``3.2061220250102e+17``): its digits are lost
``unknown_inspector``           row      an assignment for an inspector not in the store (nor earlier in
                                         the file)
``invalid_cell``                row      not a valid H3 cell (hex string or integer)
``valid_to_before_valid_from``  row      an assignment that ends before it starts
==============================  =======  ==================================================================
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import shapely
import shapely.affinity
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cases.report import QUARANTINE_COLUMNS

__all__ = [
    "AREA_BUFFER_M",
    "CLUSTER_MEDIAN_FACTOR",
    "CLUSTER_MIN_ROWS",
    "CLUSTER_MIN_SHARE",
    "DEFECT_PREFIX",
    "FIELD_LEVEL_REASONS",
    "REASONS",
    "CityArea",
    "Problems",
    "suspicious_points",
]

REASONS = (
    "missing_field",
    "unparseable_time",
    "unparseable_number",
    "coordinate_out_of_range",
    "lat_lon_swapped",
    "outside_city_area",
    "outside_crs_area",
    "closed_before_reported",
    "unmapped_value",
    "unknown_category",
    "unknown_department",
    "invalid_phone",
    "value_too_long",
    "malformed_row",
    "unterminated_quote",
    "undecodable_row",
    "inexact_number",
    "implausible_time",
    "unknown_inspector",
    "invalid_cell",
    "valid_to_before_valid_from",
)
#: Reasons that are field-level defects (for some or all fields) unless strict (see the module docstring).
FIELD_LEVEL_REASONS = (
    "missing_field",
    "unparseable_time",
    "implausible_time",
    "unparseable_number",
    "coordinate_out_of_range",
    "closed_before_reported",
    "unmapped_value",
    "unknown_department",
    "invalid_phone",
    "value_too_long",
)
#: ``quarantine.reason`` of a stored field defect: this prefix and the reason.
DEFECT_PREFIX = "defect:"
#: Buffer around the stored areas within which a point still counts as inside the city (m).
AREA_BUFFER_M = 200.0
_M_PER_DEG_LAT = 111_320.0

#: Suspicious location cluster: a point holding at least this many rows ...
CLUSTER_MIN_ROWS = 50
#: ... and at least this share of the file's located rows ...
CLUSTER_MIN_SHARE = 0.005
#: ... and at least this many times the median rows per distinct point.
CLUSTER_MEDIAN_FACTOR = 100.0


class Problems:
    """The first failing check of each row of a chunk (``reason`` None = the row passed every check).

    Parameters
    ----------
    n : int
        Number of rows.
    """

    def __init__(self, n: int) -> None:
        self.reason = np.full(n, None, dtype=object)
        self.field = np.full(n, None, dtype=object)
        self.value = np.full(n, None, dtype=object)
        self.why = np.full(n, None, dtype=object)
        self._ok = np.ones(n, dtype=bool)
        #: Field → rows whose field was emptied by a defect (:meth:`defect`).
        self.emptied: dict[str, np.ndarray] = {}
        self._defects: list[tuple[np.ndarray, str, str, np.ndarray, np.ndarray]] = []

    @property
    def ok(self) -> np.ndarray:
        """Rows without a problem so far (a copy)."""
        return self._ok.copy()

    def add(self, mask: np.ndarray, reason: str, field: str | None, value: object, why: object) -> None:
        """Record ``reason`` for the rows of ``mask`` that have no problem yet.

        ``value`` and ``why`` (the offending text, and a phrase completing "<field> = <value>: ...") are
        scalars, arrays or Series aligned with the chunk, or callables mapping the flagged row positions to
        values (computed only for those rows).
        """
        if reason not in REASONS:
            msg = f"unknown reason code {reason!r}; add it to cases.validation.REASONS"
            raise ValueError(msg)
        new = np.asarray(mask, dtype=bool) & self._ok
        if not new.any():
            return
        self._ok &= ~new
        self.reason[new] = reason
        self.field[new] = field
        self.value[new] = _pick(value, new)
        self.why[new] = _pick(why, new)

    def defect(
        self,
        mask: np.ndarray,
        reason: str,
        field: str,
        value: object,
        why: object,
        *,
        strict: bool = False,
    ) -> np.ndarray:
        """A field-level problem: record a defect for the rows of ``mask`` still without a problem.

        Returns the rows whose ``field`` the caller must empty (bool, shape (n,)); a field keeps its first
        defect. With ``strict`` the rows are quarantined instead (:meth:`add`) and nothing is emptied.
        """
        mask = np.asarray(mask, dtype=bool)
        if strict:
            self.add(mask, reason, field, value, why)
            return np.zeros(len(self._ok), dtype=bool)
        if reason not in REASONS:
            msg = f"unknown reason code {reason!r}; add it to cases.validation.REASONS"
            raise ValueError(msg)
        emptied = self.emptied.setdefault(field, np.zeros(len(self._ok), dtype=bool))
        new = mask & self._ok & ~emptied
        if new.any():
            emptied |= new
            idx = np.flatnonzero(new)
            self._defects.append(
                (idx, reason, field, _as_objects(_pick(value, new), idx), _as_objects(_pick(why, new), idx))
            )
        return new

    @property
    def defective(self) -> np.ndarray:
        """Rows without a row-level problem that carry at least one field defect (bool, shape (n,))."""
        out = np.zeros(len(self._ok), dtype=bool)
        for idx, *_ in self._defects:
            out[idx] = True
        return out & self._ok

    def defects_frame(self, file: str, line: np.ndarray, *, with_rows: bool = False) -> pd.DataFrame:
        """The field defects (``cases.report.QUARANTINE_COLUMNS``) of the rows without a row-level problem,
        in row order; ``raw`` is the field's value as the source had it. ``with_rows`` adds ``_row``, the
        row's position in the chunk."""
        ok = self._ok
        parts = []
        for idx, reason, field, values, why in self._defects:
            sel = ok[idx]
            if not sel.any():
                continue
            rows = idx[sel]
            shown = [_quote(v) for v in values[sel]]
            lines = np.asarray(line)[rows].astype(np.int64)
            parts.append(
                pd.DataFrame(
                    {
                        "_row": rows,
                        "file": file,
                        "line": lines,
                        "field": field,
                        "reason": reason,
                        "detail": [
                            f"{file}, line {ln}: {field} = {v}: {w}; imported with {field} empty"
                            for ln, v, w in zip(lines, shown, why[sel], strict=True)
                        ],
                        "raw": [None if v is None else str(v) for v in values[sel]],
                    }
                )
            )
        columns = ["_row", *QUARANTINE_COLUMNS] if with_rows else list(QUARANTINE_COLUMNS)
        if not parts:
            return pd.DataFrame(columns=columns)
        out = pd.concat(parts, ignore_index=True).sort_values("_row", kind="stable")
        return out.reindex(columns=columns).reset_index(drop=True)

    def to_frame(self, file: str, line: np.ndarray, raw: pd.DataFrame) -> pd.DataFrame:
        """The quarantine rows (``cases.report.QUARANTINE_COLUMNS``) of the rows with a problem.

        ``raw`` is the chunk as read (source columns); each quarantined row keeps it as a JSON object.
        """
        bad = ~self.ok
        lines = np.asarray(line)[bad]
        values = [_quote(v) for v in self.value[bad]]
        fields = self.field[bad]
        detail = [
            f"{file}, line {ln}: " + (f"{f} = {v}: {w}" if f else str(w))
            for ln, f, v, w in zip(lines, fields, values, self.why[bad], strict=True)
        ]
        return pd.DataFrame(
            {
                "file": file,
                "line": lines.astype(np.int64),
                "field": fields,
                "reason": self.reason[bad],
                "detail": detail,
                "raw": raw_json(raw.loc[bad]),
            },
            columns=list(QUARANTINE_COLUMNS),
        )


def _pick(value: object, mask: np.ndarray) -> object:
    idx = np.flatnonzero(mask)
    if callable(value):
        return np.asarray(value(idx), dtype=object)
    if isinstance(value, pd.Series):
        return value.iloc[idx].to_numpy(dtype=object)
    if isinstance(value, np.ndarray):
        return value[idx]
    return value


def _as_objects(value: object, idx: np.ndarray) -> np.ndarray:
    """``value`` (a scalar or per-row values picked by :func:`_pick`) as an object array of len(idx)."""
    if isinstance(value, np.ndarray) and value.shape == idx.shape:
        return value.astype(object)
    out = np.empty(len(idx), dtype=object)
    out[:] = [value] * len(idx) if not isinstance(value, np.ndarray) else list(value)
    return out


def _quote(value: object) -> str:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else str(value)


def raw_json(frame: pd.DataFrame) -> list[str]:
    """Each row of ``frame`` as a JSON object string (source column → text), Chinese kept as is.

    Only quarantined rows pass through here, so a Python call per row is acceptable.
    """
    if frame.empty:
        return []
    columns = [str(c) for c in frame.columns]
    rows = frame.astype(object).to_numpy()
    return [
        json.dumps(dict(zip(columns, row, strict=True)), ensure_ascii=False, separators=(",", ":"))
        for row in rows
    ]


def malformed_frame(file: str, malformed: pd.DataFrame) -> pd.DataFrame:
    """Quarantine rows for CSV rows with the wrong number of fields (``readers.Chunk.malformed``)."""
    return pd.DataFrame(
        {
            "file": file,
            "line": malformed["line"].astype(np.int64),
            "field": None,
            "reason": malformed.get("reason", "malformed_row"),
            "detail": [
                f"{file}, line {ln}: {d}"
                for ln, d in zip(malformed["line"], malformed["detail"], strict=True)
            ],
            "raw": malformed["raw"].astype(object),
        },
        columns=list(QUARANTINE_COLUMNS),
    )


def check_lengths(
    problems: Problems,
    values: pd.DataFrame,
    limits: dict[str, int],
    *,
    row_fields: tuple[str, ...] | None = None,
    strict: bool = False,
) -> dict[str, np.ndarray]:
    """``value_too_long`` for text longer than its column's length (``limits``: field → characters).

    Row-level for ``row_fields`` (default: every field); field-level (a defect, the text emptied) for the
    others unless ``strict``. Returns field → rows to empty.
    """
    out = {}
    for field, limit in limits.items():
        if field in values:
            too_long = (values[field].str.len() > limit).to_numpy(dtype=bool, na_value=False)
            why = f"longer than {limit} characters"
            if row_fields is None or field in row_fields:
                problems.add(too_long, "value_too_long", field, values[field], why)
            else:
                out[field] = problems.defect(
                    too_long, "value_too_long", field, values[field], why, strict=strict
                )
    return out


class CityArea:
    """The union of the stored area polygons plus a buffer, for vectorised point-in-city tests.

    Parameters
    ----------
    geometries : sequence of shapely geometries
        WGS-84 (x = lon, y = lat) polygons.
    buffer_m : float
        Buffer in metres, applied in a local equirectangular frame (lon scaled by cos(lat)).
    """

    def __init__(self, geometries: list, buffer_m: float = AREA_BUFFER_M) -> None:
        union = shapely.union_all(geometries)
        lat0 = union.centroid.y
        k = math.cos(math.radians(lat0))
        scaled = shapely.affinity.scale(union, xfact=k, yfact=1.0, origin=(0, 0))
        buffered = scaled.buffer(buffer_m / _M_PER_DEG_LAT)
        self.geometry = shapely.affinity.scale(buffered, xfact=1.0 / k, yfact=1.0, origin=(0, 0))
        self.bounds = self.geometry.bounds  # (min lon, min lat, max lon, max lat)
        shapely.prepare(self.geometry)

    def contains(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Whether each WGS-84 point (lat, lon degrees) is inside; NaN gives False. Vectorised."""
        lat = np.asarray(lat, dtype=np.float64)
        lon = np.asarray(lon, dtype=np.float64)
        ok = np.isfinite(lat) & np.isfinite(lon)
        out = np.zeros(lat.shape, dtype=bool)
        if ok.any():
            out[ok] = shapely.contains_xy(self.geometry, lon[ok], lat[ok])
        return out

    @classmethod
    def from_store(cls, conn: Connection) -> CityArea | None:
        """The city from the ``areas`` table (every level), or ``None`` when no area is stored."""
        rows = conn.execute(sa.text("SELECT geometry_wkb FROM areas")).scalars().all()
        geometries = [g for g in shapely.from_wkb(rows) if g is not None and not g.is_empty] if rows else []
        return cls(geometries) if geometries else None


def suspicious_points(points: pd.DataFrame, total: int) -> pd.DataFrame:
    """Exact points holding implausibly many rows, such as a default geocode (城市中心/市政府 fallback).

    Rule: a point is suspicious when it holds at least ``max(CLUSTER_MIN_ROWS, CLUSTER_MIN_SHARE × total)``
    rows **and** at least ``CLUSTER_MEDIAN_FACTOR ×`` the median number of rows per distinct point.

    Parameters
    ----------
    points : pandas.DataFrame
        Columns ``lat``, ``lon`` (WGS-84 degrees) and ``rows`` (rows at that exact point), one row per
        distinct point of the file.
    total : int
        Located rows of the file (the sum of ``rows``).

    Returns
    -------
    pandas.DataFrame
        The suspicious points: ``lat``, ``lon``, ``rows``, ``share`` (of ``total``), ``median_factor``
        (rows / median rows per point), largest first.

    Notes
    -----
    Why these numbers (analysis of Boston 311, 2015: 121,145 rows on 42,843 distinct points, coordinates
    rounded to 4 decimals ≈ 10 m): the median point holds 1 row; the City Hall default geocode
    (42.3594, -71.0587) holds 17,070 rows (14.1 %); the next points hold 387 (0.32 %, City Hall Plaza
    itself), 143, 104 and 90 rows. Genuine hotspots are spread over neighbouring points by geocoding
    jitter, so no genuine exact point comes near half a percent of a city's cases: in a Chinese city with
    600 cases a day, 0.5 % of a year is ~1,100 cases on one exact coordinate. The share alone would flag
    small files, hence the floor of 50 rows; and where coordinates are coarse (snapped to a few hundred
    points) many rows per point are normal, hence the comparison with the median point, which makes the
    rule scale-free. On Boston exactly one point passes (17,070 rows; the runner-up misses the share test
    by a factor of 1.6).
    """
    if points.empty or total == 0:
        return points.assign(share=[], median_factor=[]).iloc[0:0]
    median = float(np.median(points["rows"]))
    threshold = max(CLUSTER_MIN_ROWS, CLUSTER_MIN_SHARE * total)
    hit = (points["rows"] >= threshold) & (points["rows"] >= CLUSTER_MEDIAN_FACTOR * median)
    out = points.loc[hit].assign(
        share=lambda d: d["rows"] / total, median_factor=lambda d: d["rows"] / median
    )
    return out.sort_values("rows", ascending=False).reset_index(drop=True)
