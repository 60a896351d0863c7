"""The data-access layer, second part: users, import batches and single-case reads.

Like :mod:`cases.repository` (cases in a window, assignments valid at t, inspectors, areas), these are the
reads the services need, written once for SQLite and PostgreSQL; front-ends never call them directly.
User writes (create, deactivate, role change, password reset, login) stay in :mod:`cases.users`.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cases.lifecycle import LIFECYCLE_COLUMNS
from cases.models import Case, CaseEvent, Department, ImportBatch
from cases.users import AuthResult, get_user, list_users

__all__ = [
    "CASE_RECORD_COLUMNS",
    "EVENT_COLUMNS",
    "IMPORT_COLUMNS",
    "case_events",
    "case_record",
    "departments",
    "get_user",
    "recent_imports",
    "signed_in_user",
    "users_frame",
]

#: Columns of :func:`recent_imports`.
IMPORT_COLUMNS = (
    "kind",
    "source_file",
    "finished_at",
    "rows_read",
    "rows_imported",
    "rows_duplicate",
    "rows_quarantined",
)
#: Columns of :func:`case_record`: the lifecycle columns and the row version.
CASE_RECORD_COLUMNS = (*LIFECYCLE_COLUMNS, "version")
#: Columns of :func:`case_events`.
EVENT_COLUMNS = (
    "event_id",
    "case_id",
    "at",
    "from_status",
    "to_status",
    "actor",
    "role",
    "action",
    "note",
    "deadline_at",
)
USER_COLUMNS = ("username", "role", "inspector_id", "department", "locked_until", "active")


def recent_imports(engine: Engine, limit: int = 20) -> pd.DataFrame:
    """The latest ``limit`` import batches, newest first (:data:`IMPORT_COLUMNS`)."""
    b = ImportBatch.__table__.c
    query = sa.select(*(b[n] for n in IMPORT_COLUMNS)).order_by(b.batch_id.desc()).limit(limit)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return pd.DataFrame(rows, columns=list(IMPORT_COLUMNS))


def _utc_columns(frame: pd.DataFrame) -> pd.DataFrame:
    for name in frame.columns:
        if name.endswith("_at") or name == "at":
            frame[name] = pd.to_datetime(frame[name], utc=True)
    return frame


def case_record(engine: Engine, case_id: str) -> pd.DataFrame:
    """The case ``case_id`` as one row of :data:`CASE_RECORD_COLUMNS` (empty when it does not exist)."""
    c = Case.__table__.c
    query = sa.select(*(c[n] for n in CASE_RECORD_COLUMNS)).where(c.case_id == case_id)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return _utc_columns(pd.DataFrame(rows, columns=list(CASE_RECORD_COLUMNS)))


def case_events(engine: Engine, case_id: str) -> pd.DataFrame:
    """The event history of one case in the order it was written (:data:`EVENT_COLUMNS`)."""
    e = CaseEvent.__table__.c
    query = sa.select(*(e[n] for n in EVENT_COLUMNS)).where(e.case_id == case_id).order_by(e.event_id)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return _utc_columns(pd.DataFrame(rows, columns=list(EVENT_COLUMNS)))


def users_frame(engine: Engine) -> pd.DataFrame:
    """Every user without the password hash (:func:`cases.users.list_users` as a frame)."""
    return pd.DataFrame(list_users(engine), columns=list(USER_COLUMNS))


def signed_in_user(engine: Engine, user_id: int) -> AuthResult | None:
    """:func:`cases.users.get_user`: the account as stored now, None when gone or deactivated."""
    return get_user(engine, user_id)


def departments(engine: Engine) -> pd.DataFrame:
    """The departments that handle cases: ``department_id``, ``name``, ``district`` (None = city-wide)."""
    d = Department.__table__.c
    query = sa.select(d.department_id, d.name, d.district).order_by(d.department_id)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return pd.DataFrame(rows, columns=["department_id", "name", "district"])
