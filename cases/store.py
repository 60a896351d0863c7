"""Small read helpers over the SQL store used by the CLI and the app."""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cases.models import Base, Case
from grid.config import DEFAULT_TIMEZONE

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


def recent_activity(
    engine: Engine, *, days: int = 28, map_days: int = 7, timezone: str = DEFAULT_TIMEZONE
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The overview of the latest cases: where (last ``map_days``) and how many per day (last ``days``).

    "Latest" is relative to the newest case in the store, not to today, so a historical database (an
    import, the demo city) shows its own last weeks. Two indexed SQL queries, no case frame: the overview
    is the first page after login and must not wait for the analyses' data.

    Returns
    -------
    (cells, daily)
        ``cells``: ``cell`` (int64 H3, as stored) and ``count`` of the located cases reported in the last
        ``map_days`` local days, most first. ``daily``: ``day`` (the city's local date; every day of the last
        ``days``, zeros included) and ``count``. Both empty when the store has no case.
    """
    empty_cells = pd.DataFrame({"cell": pd.Series(dtype="int64"), "count": pd.Series(dtype="int64")})
    with engine.connect() as conn:
        newest = conn.execute(sa.select(sa.func.max(Case.reported_at))).scalar_one()
        if newest is None:
            return empty_cells, pd.DataFrame(
                {"day": pd.Series(dtype="object"), "count": pd.Series(dtype="int64")}
            )
        last_day = pd.Timestamp(newest).tz_convert(timezone).normalize()
        start = last_day - pd.Timedelta(days=days - 1)
        map_start = last_day - pd.Timedelta(days=map_days - 1)
        # times as text, parsed in one vectorised call (a typed column parses each value in Python)
        stamps = conn.execute(
            sa.select(sa.type_coerce(Case.reported_at, sa.String)).where(
                Case.reported_at >= start.to_pydatetime()
            )
        ).scalars()
        local = pd.to_datetime(pd.Series(list(stamps), dtype=object), utc=True, format="ISO8601")
        count = sa.func.count().label("count")
        where = (Case.reported_at >= map_start.to_pydatetime()) & Case.cell.is_not(None)
        located = conn.execute(sa.select(Case.cell, count).where(where).group_by(Case.cell)).all()
    span = pd.date_range(start, last_day, freq="D")
    per_day = local.dt.tz_convert(timezone).dt.normalize().value_counts().reindex(span, fill_value=0)
    daily = pd.DataFrame({"day": span.date, "count": per_day.to_numpy(dtype=np.int64)})
    cells = pd.DataFrame(located, columns=["cell", "count"]).astype({"cell": "int64", "count": "int64"})
    cells = cells.sort_values(["count", "cell"], ascending=[False, True], ignore_index=True)
    return (cells if len(cells) else empty_cells), daily
