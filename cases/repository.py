"""The data-access layer: every read the services need, written once, on SQLite and PostgreSQL alike.

Front-ends never query the store; services call these functions (or the write paths in
:mod:`cases.lifecycle`, :mod:`cases.importing`, :mod:`cases.users`). Each returns a DataFrame in the data
contract of DESIGN.md (``cell`` int64, times tz-aware UTC), empty but with its columns when nothing matches.
Long id lists are chunked here (SQLite allows ~900 bound parameters a statement), never by a caller.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cases.models import Assignment, Case, Inspector
from cases.store import CASE_COLUMNS, load_case_frame, table_counts

__all__ = [
    "ASSIGNMENT_COLUMNS",
    "CASE_COLUMNS",
    "assignments",
    "assignments_overlapping",
    "assignments_valid_at",
    "case_rows",
    "cases_frame",
    "chunks",
    "inspector_cells",
    "inspectors",
    "load_areas",
    "select_overlapping",
    "select_valid_at",
    "table_counts",
    "unlocated_cases",
]

ASSIGNMENT_COLUMNS = ("inspector_id", "cell", "valid_from", "valid_to")
#: Bound parameters per statement: under SQLite's default limit of 999 with room for other parameters.
CHUNK = 900
#: Stands in for "still valid" (``valid_to`` NULL) in interval comparisons.
_OPEN_END = pd.Timestamp("2200-01-01", tz="UTC")


def chunks(items: Sequence, size: int = CHUNK) -> Iterator[Sequence]:
    """``items`` in slices of at most ``size`` (the bound-parameter limit of one statement)."""
    for i in range(0, len(items), size):
        yield items[i : i + size]


def cases_frame(engine: Engine, columns: tuple[str, ...] = CASE_COLUMNS) -> pd.DataFrame:
    """The located cases (``cell`` not null) with ``columns``: :func:`cases.store.load_case_frame`."""
    return load_case_frame(engine, columns)


def unlocated_cases(engine: Engine) -> pd.DataFrame:
    """The cases without a location (``cell`` null: ``location_flag = "no_location"``): ``case_id``,
    ``source``, ``category_code``, ``reported_at`` (tz-aware UTC). Counted by KPIs, not mapped."""
    c = Case.__table__.c
    query = sa.select(c.case_id, c.source, c.category_code, c.reported_at).where(c.cell.is_(None))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    frame = pd.DataFrame(rows, columns=["case_id", "source", "category_code", "reported_at"], dtype=object)
    frame["reported_at"] = _utc(frame["reported_at"])
    return frame


def load_areas(engine: Engine, level: str | None = None) -> Any:
    """The stored areas as a GeoDataFrame (:func:`cases.areas.load_areas`; imported here on first use:
    the area importer pulls in geopandas and the H3 kernels, ~1 s that a count or a login need not pay)."""
    from cases.areas import load_areas as load

    return load(engine, level)


def _utc(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, utc=True)


def assignments(engine: Engine) -> pd.DataFrame:
    """Every inspector ↔ cell assignment: ``inspector_id`` str, ``cell`` int64, ``valid_from``, ``valid_to``
    (tz-aware UTC; ``valid_to`` NaT = still valid)."""
    a = Assignment.__table__.c
    with engine.connect() as conn:
        rows = conn.execute(sa.select(a.inspector_id, a.cell, a.valid_from, a.valid_to)).all()
    frame = pd.DataFrame(rows, columns=list(ASSIGNMENT_COLUMNS))
    frame["inspector_id"] = frame["inspector_id"].astype(object)
    frame["cell"] = frame["cell"].to_numpy(dtype=np.int64)
    for column in ("valid_from", "valid_to"):
        frame[column] = _utc(frame[column])
    return frame


def assignments_overlapping(
    engine: Engine, start: dt.datetime | pd.Timestamp, end: dt.datetime | pd.Timestamp
) -> pd.DataFrame:
    """Assignments valid at some instant of ``[start, end)`` (tz-aware): the one definition of "live"."""
    return select_overlapping(assignments(engine), start, end)


def select_overlapping(
    frame: pd.DataFrame, start: dt.datetime | pd.Timestamp, end: dt.datetime | pd.Timestamp
) -> pd.DataFrame:
    """The rows of an assignments frame (a demo-city folder's …) valid at an instant of ``[start, end)``."""
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    if start.tzinfo is None or end.tzinfo is None:
        msg = f"start and end must be tz-aware, got {start!r}, {end!r}"
        raise ValueError(msg)
    valid_to = pd.to_datetime(frame["valid_to"], utc=True).fillna(_OPEN_END)
    live = (pd.to_datetime(frame["valid_from"], utc=True) < end) & (valid_to > start)
    return frame[live.to_numpy()].reset_index(drop=True)


def assignments_valid_at(engine: Engine, at: dt.datetime | pd.Timestamp) -> pd.DataFrame:
    """Assignments valid at the instant ``at`` (tz-aware): ``valid_from <= at < valid_to``."""
    return select_valid_at(assignments(engine), at)


def select_valid_at(frame: pd.DataFrame, at: dt.datetime | pd.Timestamp) -> pd.DataFrame:
    """The rows of an assignments frame valid at the instant ``at`` (tz-aware)."""
    at = pd.Timestamp(at)
    return select_overlapping(frame, at, at + pd.Timedelta(microseconds=1))


def inspector_cells(
    engine: Engine, inspector_id: str, start: dt.datetime | pd.Timestamp, end: dt.datetime | pd.Timestamp
) -> np.ndarray:
    """Cells assigned to ``inspector_id`` at any time in ``[start, end)``: int64, sorted, unique."""
    live = assignments_overlapping(engine, start, end)
    return np.unique(live.loc[live["inspector_id"] == inspector_id, "cell"].to_numpy(dtype=np.int64))


def inspectors(engine: Engine) -> pd.DataFrame:
    """The inspectors: ``inspector_id``, ``name``, ``district``, ``active``."""
    i = Inspector.__table__.c
    with engine.connect() as conn:
        rows = conn.execute(sa.select(i.inspector_id, i.name, i.district, i.active)).all()
    return pd.DataFrame(rows, columns=["inspector_id", "name", "district", "active"])


#: Columns of :func:`case_rows` (the phone is left out on purpose: PII is read only where a role needs it).
CASE_ROW_COLUMNS = ("case_id", "reported_at", "category_code", "source", "status", "description")


def case_rows(engine: Engine, case_ids: Sequence[str], *, limit: int = 20_000) -> pd.DataFrame:
    """The display columns (:data:`CASE_ROW_COLUMNS`) of the cases ``case_ids`` (at most ``limit`` ids)."""
    table = Case.__table__
    selected = [table.c[name] for name in CASE_ROW_COLUMNS]
    rows: list[tuple] = []
    with engine.connect() as conn:
        for chunk in chunks(list(case_ids)[:limit]):
            rows.extend(conn.execute(sa.select(*selected).where(table.c.case_id.in_(chunk))).all())
    frame = pd.DataFrame(rows, columns=list(CASE_ROW_COLUMNS))
    frame["reported_at"] = _utc(frame["reported_at"])
    return frame
