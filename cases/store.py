"""Small read helpers over the SQL store used by the CLI and the app."""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cases.models import Base, Case

COUNTED_TABLES = ("cases", "case_events", "inspectors", "assignments", "areas", "departments", "users")
#: Columns of the cases table the analytics cube needs (``cases`` data contract).
CASE_COLUMNS = ("case_id", "source", "category_code", "lat", "lon", "cell", "reported_at", "location_flag")


def table_counts(engine: Engine) -> dict[str, int]:
    """Row count of each main table (``COUNTED_TABLES``); tables that do not exist yet count as 0."""
    inspector = sa.inspect(engine)
    counts: dict[str, int] = {}
    with engine.connect() as conn:
        for name in COUNTED_TABLES:
            if not inspector.has_table(name):
                counts[name] = 0
                continue
            table = Base.metadata.tables[name]
            counts[name] = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
    return counts


def load_case_frame(engine: Engine, columns: tuple[str, ...] = CASE_COLUMNS) -> pd.DataFrame:
    """The located cases of ``engine`` as a DataFrame with the columns the cube needs (:data:`CASE_COLUMNS`).

    ``cell`` is int64 (cases without a cell are left out), ``reported_at`` (and any other ``*_at`` column
    asked for in ``columns``, e.g. ``status`` and ``deadline_at`` for open tasks) tz-aware UTC.
    """
    table = Case.__table__
    query = sa.select(*(table.c[name] for name in columns)).where(table.c.cell.is_not(None))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    values_by_column = list(zip(*rows, strict=True)) if rows else [()] * len(columns)
    frame = pd.DataFrame(index=pd.RangeIndex(len(rows)))
    for name, values in zip(columns, values_by_column, strict=True):
        if name == "cell":
            frame[name] = np.array(values, dtype=np.int64)
        elif name in ("lat", "lon"):
            frame[name] = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
        elif name.endswith("_at"):
            frame[name] = pd.to_datetime(pd.Series(values, dtype=object), utc=True)
        else:
            frame[name] = pd.Series(values, dtype=object)
    return frame
