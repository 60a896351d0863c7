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
    # Times come back untyped (SQLite: the stored naive-UTC text; PostgreSQL: tz-aware datetimes) and are
    # parsed in one vectorised call below: the typed column would parse every value in Python.
    selected = [
        sa.type_coerce(table.c[name], sa.String).label(name) if name.endswith("_at") else table.c[name]
        for name in columns
    ]
    query = sa.select(*selected).where(table.c.cell.is_not(None))
    with engine.connect() as conn:
        # plain DBAPI tuples: SQLAlchemy Row objects and a Python transpose cost more than the query
        cursor = conn.connection.driver_connection.cursor()
        try:
            cursor.execute(str(query.compile(dialect=conn.dialect)))
            raw = pd.DataFrame.from_records(cursor.fetchall(), columns=list(columns), coerce_float=False)
        finally:
            cursor.close()
    frame = pd.DataFrame(index=pd.RangeIndex(len(raw)))
    for name in columns:
        values = raw[name]
        if name == "cell":
            frame[name] = values.to_numpy(dtype=np.int64)
        elif name in ("lat", "lon"):
            frame[name] = pd.to_numeric(values).astype(np.float64).to_numpy()
        elif name.endswith("_at"):
            frame[name] = pd.to_datetime(values.astype(object), utc=True, format="ISO8601")
        else:
            text = values.astype(object).to_numpy(copy=True)
            text[values.isna().to_numpy()] = None  # as the database has it (pandas' string dtype says NaN)
            frame[name] = pd.Series(text, dtype=object)
    return frame
