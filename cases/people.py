"""Import inspectors and their cell assignments (same readers, mapping, quarantine and idempotency as cases).

* inspectors: ``inspector_id`` (required), ``name`` (required), ``district``, ``active`` (``true``/``false``,
  ``1``/``0``, ``是``/``否``, ``在岗``/``离岗`` …; empty = active).
* assignments: ``inspector_id``, ``cell`` (H3 id as hex string, e.g. ``8a309d5541a7fff``, or decimal
  integer), ``valid_from`` (required), ``valid_to`` (empty = still valid). Times follow the mapping's zone
  and format like case times. An assignment of an inspector that is not stored (import inspectors first) is
  quarantined ``unknown_inspector``; an invalid H3 id ``invalid_cell``; one that ends before it starts
  ``valid_to_before_valid_from``.

A row whose key is stored already (inspector id; assignment inspector + cell + valid_from) or appeared
earlier in the file is a duplicate and is left as stored, so importing a file twice adds nothing. Each file
is one transaction with its ``import_batches`` and ``quarantine`` rows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cases import bulk, readers
from cases.mapping import ASSIGNMENT_FIELDS, INSPECTOR_FIELDS, Mapped, Mapping, apply_mapping, column_warnings
from cases.models import Assignment, Inspector
from cases.parsing import parse_bools, parse_times, present_mask, text_isin
from cases.readers import iter_chunks, open_table
from cases.report import QUARANTINE_COLUMNS, ImportReport
from cases.validation import Problems, check_lengths, malformed_frame
from grid.cells import is_valid_cells, strings_to_cells

__all__ = ["import_assignments", "import_inspectors"]

_INSPECTORS = Inspector.__table__
_ASSIGNMENTS = Assignment.__table__


def import_inspectors(path: str | Path, engine: Engine, *, mapping: Mapping | None = None) -> ImportReport:
    """Import inspectors (CSV/xlsx/JSON) into ``inspectors``; see the module docstring for the fields.

    Returns an :class:`~cases.report.ImportReport` (``kind="inspectors"``); raises
    :class:`~cases.readers.ImportReadError` when the file cannot be read at all.
    """
    return _import(path, engine, mapping, _InspectorKind())


def import_assignments(path: str | Path, engine: Engine, *, mapping: Mapping | None = None) -> ImportReport:
    """Import inspector ↔ H3 cell assignments into ``assignments``; see the module docstring.

    Returns an :class:`~cases.report.ImportReport` (``kind="assignments"``); raises
    :class:`~cases.readers.ImportReadError` when the file cannot be read at all.
    """
    return _import(path, engine, mapping, _AssignmentKind())


@dataclasses.dataclass
class _Kind:
    """What differs between the people imports: fields, checks, the key and how it is looked up."""

    name: str
    fields: dict[str, str]
    table: sa.Table
    seen: set = dataclasses.field(default_factory=set)

    def check(self, conn: Connection, mapped: Mapped, mapping: Mapping) -> tuple[Problems, pd.DataFrame]:
        raise NotImplementedError

    def keys(self, rows: pd.DataFrame) -> list:
        raise NotImplementedError

    def stored(self, conn: Connection, rows: pd.DataFrame) -> set:
        raise NotImplementedError


def _import(path: str | Path, engine: Engine, mapping: Mapping | None, kind: _Kind) -> ImportReport:
    given = mapping is not None
    mapping = mapping or Mapping()
    source = open_table(path, encoding=mapping.encoding, delimiter=mapping.delimiter, sheet=mapping.sheet)
    report = ImportReport(kind=kind.name, file=str(path))
    report.warnings.extend(column_warnings(source.columns, mapping, kind.fields, given=given))
    started = dt.datetime.now(dt.UTC)
    quarantine: list[pd.DataFrame] = []
    with engine.begin() as conn:
        batch_id = bulk.begin_batch(conn, kind.name, str(path), source.sha256, started)
        for chunk in iter_chunks(source, chunksize=readers.CHUNK_ROWS):
            report.read += len(chunk.frame) + len(chunk.malformed)
            problems, rows = kind.check(conn, apply_mapping(chunk.frame, mapping, kind.fields), mapping)
            quarantine.append(problems.to_frame(str(path), chunk.line, chunk.frame))
            quarantine.append(malformed_frame(str(path), chunk.malformed))
            keys = kind.keys(rows)
            stored = kind.stored(conn, rows)
            duplicate = np.array([k in stored or k in kind.seen for k in keys], dtype=bool)
            repeated = pd.Series(keys, dtype=object).duplicated().to_numpy() if keys else duplicate
            new = ~duplicate & ~repeated
            kind.seen.update(k for k, is_new in zip(keys, new, strict=True) if is_new)
            bulk.insert_frame(conn, kind.table, rows.loc[new])
            report.imported += int(new.sum())
            report.duplicates += int((~new).sum())
        frames = [q for q in quarantine if len(q)]
        if frames:
            report.quarantine = pd.concat(frames, ignore_index=True).reindex(columns=list(QUARANTINE_COLUMNS))
        report.quarantined = len(report.quarantine)
        bulk.write_quarantine(conn, batch_id, report.quarantine)
        bulk.finish_batch(conn, batch_id, report)
        report.batch_id = batch_id
        report.check()
    return report


def _required(problems: Problems, mapped: Mapped, fields: tuple[str, ...]) -> None:
    for field in fields:
        missing = ~present_mask(mapped.values[field])
        why = (
            "is required" if field in mapped.sources else f"is required, but the file has no column {field!r}"
        )
        problems.add(missing, "missing_field", field, mapped.values[field], why)


def _text(values: pd.Series, idx: np.ndarray) -> pd.Series:
    arr = pa.array(values, type=pa.string()).take(pa.array(idx))
    return pd.Series(arr, dtype=pd.ArrowDtype(pa.string()), index=idx).replace("", None)


def _limits(table: sa.Table) -> dict[str, int]:
    return {c.name: c.type.length for c in table.columns if getattr(c.type, "length", None)}


class _InspectorKind(_Kind):
    def __init__(self) -> None:
        super().__init__("inspectors", INSPECTOR_FIELDS, _INSPECTORS)

    def check(self, conn: Connection, mapped: Mapped, mapping: Mapping) -> tuple[Problems, pd.DataFrame]:
        values = mapped.values
        problems = Problems(len(values))
        _required(problems, mapped, ("inspector_id", "name"))
        active, present, bad = parse_bools(values["active"])
        problems.add(
            bad,
            "unmapped_value",
            "active",
            values["active"],
            "is not a yes/no value (true/false, 1/0, 是/否)",
        )
        check_lengths(problems, values, _limits(_INSPECTORS))
        idx = np.flatnonzero(problems.ok)
        rows = pd.DataFrame(
            {
                "inspector_id": _text(values["inspector_id"], idx),
                "name": _text(values["name"], idx),
                "district": _text(values["district"], idx),
                "active": np.where(present, active, True)[idx],
            },
            index=idx,
        )
        return problems, rows

    def keys(self, rows: pd.DataFrame) -> list:
        return pa.array(rows["inspector_id"], type=pa.string()).to_pylist()

    def stored(self, conn: Connection, rows: pd.DataFrame) -> set:
        return set(bulk.fetch_existing(conn, _INSPECTORS, self.keys(rows), []).index)


class _AssignmentKind(_Kind):
    def __init__(self) -> None:
        super().__init__("assignments", ASSIGNMENT_FIELDS, _ASSIGNMENTS)
        self.known: set[str] | None = None

    def check(self, conn: Connection, mapped: Mapped, mapping: Mapping) -> tuple[Problems, pd.DataFrame]:
        values = mapped.values
        problems = Problems(len(values))
        _required(problems, mapped, ("inspector_id", "cell", "valid_from"))
        cells, bad_cell = parse_cells(values["cell"])
        problems.add(
            bad_cell, "invalid_cell", "cell", values["cell"], "is not a valid H3 cell (hex string or integer)"
        )
        times = {}
        for field in ("valid_from", "valid_to"):
            fmt = mapping.format_of(field)
            parsed = parse_times(values[field], fmt=fmt, timezone=mapping.timezone)
            problems.add(
                parsed.bad, "unparseable_time", field, values[field], "is not a time in the expected format"
            )
            times[field] = parsed.utc
        ends_early = times["valid_to"] < times["valid_from"]
        problems.add(
            ends_early, "valid_to_before_valid_from", "valid_to", values["valid_to"], "is before valid_from"
        )
        check_lengths(problems, values, {"inspector_id": 64})
        if self.known is None:
            self.known = set(conn.execute(sa.select(_INSPECTORS.c.inspector_id)).scalars())
        unknown = ~text_isin(values["inspector_id"], self.known)
        problems.add(
            unknown, "unknown_inspector", "inspector_id", values["inspector_id"], "is not a stored inspector"
        )
        idx = np.flatnonzero(problems.ok)
        rows = pd.DataFrame(
            {
                "inspector_id": _text(values["inspector_id"], idx),
                "cell": cells[idx],
                "valid_from": pd.DatetimeIndex(times["valid_from"][idx]).tz_localize("UTC"),
                "valid_to": pd.DatetimeIndex(times["valid_to"][idx]).tz_localize("UTC"),
            },
            index=idx,
        )
        return problems, rows

    def keys(self, rows: pd.DataFrame) -> list:
        starts = rows["valid_from"].dt.tz_localize(None).to_numpy(dtype="datetime64[us]").astype(np.int64)
        ids = pa.array(rows["inspector_id"], type=pa.string()).to_pylist()
        return list(zip(ids, rows["cell"].tolist(), starts.tolist(), strict=True))

    def stored(self, conn: Connection, rows: pd.DataFrame) -> set:
        ids = sorted(set(pa.array(rows["inspector_id"], type=pa.string()).to_pylist()))
        t = _ASSIGNMENTS
        found: list = []
        for start in range(0, len(ids), bulk.LOOKUP_CHUNK):
            query = sa.select(t.c.inspector_id, t.c.cell, t.c.valid_from).where(
                t.c.inspector_id.in_(ids[start : start + bulk.LOOKUP_CHUNK])
            )
            found.extend(conn.execute(query).all())
        return {(i, int(c), _micros(v)) for i, c, v in found}


def _micros(value: dt.datetime) -> int:
    """Microseconds since the Unix epoch of a tz-aware datetime (the key representation of valid_from)."""
    return int(np.datetime64(value.astimezone(dt.UTC).replace(tzinfo=None), "us").astype(np.int64))


def parse_cells(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Parse H3 cell ids given as hex strings (``8a309d5541a7fff``, optional ``0x``) or decimal integers.

    Returns
    -------
    cells : numpy.ndarray of int64
        0 where missing or invalid.
    bad : numpy.ndarray of bool
        Has a value that is not a valid H3 cell.
    """
    present = present_mask(values)
    cells = np.zeros(len(values), dtype=np.int64)
    texts = pa.array(values, type=pa.string()).to_numpy(zero_copy_only=False)
    try:  # the usual case: every id a valid hex string, parsed vectorised
        cells[present] = strings_to_cells(np.char.lower(texts[present].astype(str)))
        return cells, np.zeros(len(values), dtype=bool)
    except ValueError:
        pass
    for base in (16, 10):
        parsed = np.array([_to_int(t, base) for t in texts], dtype=np.int64)
        valid = present & (cells == 0) & is_valid_cells(parsed)
        cells[valid] = parsed[valid]
    return cells, present & (cells == 0)


def _to_int(text: str, base: int) -> int:
    """``int(text, base)`` as a signed 64-bit value (H3 ids are < 2**63), 0 when it is not one."""
    cleaned = text.strip().lower()
    if base == 16:
        cleaned = cleaned.removeprefix("0x")
    try:
        value = int(cleaned, base)
    except ValueError:
        return 0
    return value if 0 < value < 2**63 else 0
