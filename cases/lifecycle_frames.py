"""Loaders of the lifecycle tables for the KPIs and reports: the cases' lifecycle columns
(:func:`load_lifecycle_frame`) and the case-event history (:func:`load_events`), as typed DataFrames."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cases.models import Case, CaseEvent
from cases.workflow import _TIME_COLUMNS, LIFECYCLE_COLUMNS


# ---- reading the store -------------------------------------------------------------------------------
def load_lifecycle_frame(engine: Engine) -> pd.DataFrame:
    """Every case with the lifecycle columns the KPIs need (:data:`LIFECYCLE_COLUMNS`).

    Times are tz-aware UTC (NaT when not reached), ``cell`` nullable Int64, ``satisfaction`` float64,
    text as pandas strings. One row per case, ordered by ``case_id``.
    """
    c = Case.__table__.c
    # times as text, parsed by pandas in one vectorised pass (the per-value UTCDateTime conversion of
    # 8 columns × 100k rows takes longer than the query)
    query = sa.select(
        *(sa.cast(c[n], sa.Text).label(n) if n in _TIME_COLUMNS else c[n] for n in LIFECYCLE_COLUMNS)
    ).order_by(c.case_id)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return _frame(rows, LIFECYCLE_COLUMNS)


def load_events(engine: Engine) -> pd.DataFrame:
    """The case-event history: ``case_id``, ``at`` (UTC), ``from_status``, ``to_status``, ``actor``,
    ``role``, ``action``, ``deadline_at``, ordered by case then ``event_id`` (the order of writing)."""
    e = CaseEvent.__table__.c
    names = (
        "event_id", "case_id", "at", "from_status", "to_status", "actor", "role", "action", "deadline_at",
    )  # fmt: skip
    query = sa.select(*(e[n] for n in names)).order_by(e.case_id, e.event_id)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return _frame(rows, names)


def _frame(rows: list[Any], names: tuple[str, ...]) -> pd.DataFrame:
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    frame = pd.DataFrame(index=pd.RangeIndex(len(rows)))
    for name, values in zip(names, columns, strict=True):
        if name in _TIME_COLUMNS or name == "at":
            times = pd.to_datetime(pd.Series(values, dtype=object), utc=True, format="ISO8601")
            frame[name] = times.astype("datetime64[ns, UTC]")
        elif name in ("cell", "event_id"):
            frame[name] = pd.array(values, dtype="Int64")
        elif name in ("lat", "lon", "satisfaction"):
            frame[name] = pd.array(values, dtype="Float64").to_numpy(dtype="float64", na_value=np.nan)
        else:
            frame[name] = pd.array(values, dtype="string")
    return frame
