"""Small read helpers over the SQL store used by the CLI and the app."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cases.models import Base

COUNTED_TABLES = ("cases", "case_events", "inspectors", "assignments", "areas", "departments", "users")


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
