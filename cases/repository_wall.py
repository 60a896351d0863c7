"""The data-access layer of the wall display (大屏): the cases reported in a time window, the open cases.

Reads only the cases of the window or of the open statuses (both indexed), never the whole case table.
Returns a DataFrame with :data:`WALL_CASE_COLUMNS` even when nothing matches; times tz-aware UTC, ``cell``
nullable Int64 (exact, also next to NULL cells), ``lat``/``lon`` float.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cases.models import Case

__all__ = ["WALL_CASE_COLUMNS", "cases_reported_between", "open_cases"]

#: Columns of :func:`cases_reported_between` (no reporter fields: the wall is public in the room).
WALL_CASE_COLUMNS = ("case_id", "source", "status", "category_code", "department", "cell", "lat", "lon",
                     "reported_at", "deadline_at")  # fmt: skip


def _frame(rows: list, columns: tuple[str, ...]) -> pd.DataFrame:
    """Rows as a frame built column by column: a NULL cell does not turn the H3 ids into (rounded) floats."""
    data = {name: [r[i] for r in rows] for i, name in enumerate(columns)}
    frame = pd.DataFrame({n: pd.Series(v, dtype=object) for n, v in data.items() if n != "cell"})
    frame.insert(columns.index("cell"), "cell", pd.array(data["cell"], dtype="Int64"))
    for name in columns:
        if name.endswith("_at"):
            frame[name] = pd.to_datetime(frame[name], utc=True)
    for name in ("lat", "lon"):
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(float)
    return frame


def cases_reported_between(
    engine: Engine, start: dt.datetime | pd.Timestamp, end: dt.datetime | pd.Timestamp
) -> pd.DataFrame:
    """The cases reported in ``[start, end]`` (:data:`WALL_CASE_COLUMNS`), by report time."""
    c = Case.__table__.c
    since, until = pd.Timestamp(start).to_pydatetime(), pd.Timestamp(end).to_pydatetime()
    query = (
        sa.select(*(c[n] for n in WALL_CASE_COLUMNS))
        .where(c.reported_at >= since, c.reported_at <= until)
        .order_by(c.reported_at, c.case_id)
    )
    with engine.connect() as conn:
        return _frame(conn.execute(query).all(), WALL_CASE_COLUMNS)


def open_cases(engine: Engine, statuses: Sequence[str], until: dt.datetime | pd.Timestamp) -> pd.DataFrame:
    """The cases in one of ``statuses`` reported up to ``until`` (:data:`WALL_CASE_COLUMNS`)."""
    c = Case.__table__.c
    query = sa.select(*(c[n] for n in WALL_CASE_COLUMNS)).where(
        c.status.in_(list(statuses)), c.reported_at <= pd.Timestamp(until).to_pydatetime()
    )
    with engine.connect() as conn:
        return _frame(conn.execute(query.order_by(c.case_id)).all(), WALL_CASE_COLUMNS)
