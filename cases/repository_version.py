"""A cheap fingerprint of the store: row counts and the largest ids of the tables an import or a case
action changes (``cases``, ``case_events``, ``import_batches``). :mod:`services.cache` keys its
precomputed results by it, so any import or new event makes them stale at once.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cases.models import Case, CaseEvent, ImportBatch

__all__ = ["store_fingerprint"]


def store_fingerprint(engine: Engine) -> dict[str, object]:
    """Counts and largest ids: ``{"cases": n, "cases_max": id, "case_events": n, …}`` (a table that does
    not exist yet counts 0 with no largest id).

    ``cases_max`` is the largest ``case_id`` (text), the others the largest integer id."""
    inspector = sa.inspect(engine)
    columns = {
        "cases": Case.__table__.c.case_id,
        "case_events": CaseEvent.__table__.c.event_id,
        "import_batches": ImportBatch.__table__.c.batch_id,
    }
    found: dict[str, object] = {}
    with engine.connect() as conn:
        for name, key in columns.items():
            if not inspector.has_table(name):
                found[name], found[f"{name}_max"] = 0, None
                continue
            count, largest = conn.execute(sa.select(sa.func.count(), sa.func.max(key))).one()
            found[name], found[f"{name}_max"] = int(count), None if largest is None else str(largest)
    return found
