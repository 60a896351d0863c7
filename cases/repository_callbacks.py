"""The data-access layer of callbacks (回访), mediation (和谐调解) and citizen reporters.

Writes run in one transaction with their lifecycle step (:func:`cases.lifecycle.transition` joins the
connection): a callback row with the case's ``satisfaction`` (and, when the caller asks, the ``reopen``
transition); a mediation row with the ``mediate`` transition. Reads return DataFrames with their columns
even when nothing matches, times tz-aware UTC.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cases.lifecycle import TransitionResult, transition
from cases.models import ApiRequest, Case, CaseCallback, CaseMediation

__all__ = [
    "CALLBACK_CASE_COLUMNS",
    "CALLBACK_COLUMNS",
    "CASE_TEXT_COLUMNS",
    "REPORTER_CASE_COLUMNS",
    "callback_cases",
    "callbacks_of",
    "case_text",
    "mediate_case",
    "mediation_of",
    "record_callback_row",
    "reporter_cases",
]

#: Columns of :func:`callback_cases`.
CALLBACK_CASE_COLUMNS = (
    "case_id",
    "category_code",
    "department",
    "cell",
    "lat",
    "lon",
    "reported_at",
    "closed_at",
    "reporter_phone",
    "description",
)
#: Columns of :func:`callbacks_of`.
CALLBACK_COLUMNS = ("callback_id", "case_id", "at", "operator", "reached", "satisfied", "note")
#: Columns of :func:`reporter_cases`.
REPORTER_CASE_COLUMNS = (
    "case_id",
    "source",
    "category_code",
    "cell",
    "reported_at",
    "status",
    "reporter_phone",
    "reported_by",
    "first_name",
    "last_name",
)
#: Statuses of problems not (or not yet) accepted: waiting for verification, or found untrue.
NOT_ACCEPTED = ("reported", "verified", "cancelled")
_C, _CB, _M = Case.__table__, CaseCallback.__table__, CaseMediation.__table__


def _frame(rows: list[Any], columns: tuple[str, ...]) -> pd.DataFrame:
    frame = pd.DataFrame([tuple(r) for r in rows], columns=list(columns))
    for name in columns:
        if name.endswith("_at") or name == "at":
            frame[name] = pd.to_datetime(frame[name], utc=True)
    if "cell" in frame:
        frame["cell"] = pd.array(frame["cell"], dtype="Int64")
    return frame


def callback_cases(
    engine: Engine, *, closed_since: dt.datetime | None = None, limit: int = 500
) -> pd.DataFrame:
    """Closed cases whose reporter left a phone, without a satisfaction and without a callback since they
    were closed, newest closure first (:data:`CALLBACK_CASE_COLUMNS`; at most ``limit``)."""
    called = sa.select(_CB.c.case_id).where(_CB.c.case_id == _C.c.case_id, _CB.c.at >= _C.c.closed_at)
    query = sa.select(*(_C.c[n] for n in CALLBACK_CASE_COLUMNS)).where(
        _C.c.status == "closed",
        _C.c.closed_at.is_not(None),
        _C.c.reporter_phone.is_not(None),
        _C.c.reporter_phone != "",
        _C.c.satisfaction.is_(None),
        ~sa.exists(called),
    )
    if closed_since is not None:
        query = query.where(_C.c.closed_at >= closed_since)
    query = query.order_by(_C.c.closed_at.desc(), _C.c.case_id).limit(int(limit))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return _frame(rows, CALLBACK_CASE_COLUMNS)


def callbacks_of(engine: Engine, case_id: str) -> pd.DataFrame:
    """The callbacks of one case, oldest first (:data:`CALLBACK_COLUMNS`)."""
    query = sa.select(*(_CB.c[n] for n in CALLBACK_COLUMNS)).where(_CB.c.case_id == case_id)
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(_CB.c.callback_id)).all()
    return _frame(rows, CALLBACK_COLUMNS)


def record_callback_row(
    engine: Engine,
    *,
    case_id: str,
    at: dt.datetime,
    operator: str,
    reached: bool,
    satisfied: bool | None,
    note: str | None,
    reopen_as: str | None = None,
    reopen_note: str | None = None,
    **transition_options: Any,
) -> tuple[int, TransitionResult | None]:
    """Write a callback, the case's ``satisfaction`` (1 satisfied, 0 not; unchanged when not reached) and,
    when ``reopen_as`` names a role, the ``reopen`` transition (the satisfaction is then cleared: the
    reworked case gets its own callback once closed again) — all in one transaction.

    Returns the callback id and the transition (None without reopening)."""
    with engine.begin() as conn:
        callback_id = conn.execute(
            sa.insert(_CB).values(
                case_id=case_id, at=at, operator=operator, reached=reached, satisfied=satisfied, note=note
            )
        ).inserted_primary_key[0]
        done = None
        if reopen_as is not None:
            done = transition(
                conn, case_id, "reopen", operator, reopen_as, at, reopen_note, **transition_options
            )
            conn.execute(sa.update(_C).where(_C.c.case_id == case_id).values(satisfaction=None))
        elif reached and satisfied is not None:
            conn.execute(
                sa.update(_C)
                .where(_C.c.case_id == case_id)
                .values(satisfaction=1.0 if satisfied else 0.0, version=_C.c.version + 1)
            )
    return int(callback_id), done


def mediate_case(
    engine: Engine,
    *,
    case_id: str,
    at: dt.datetime,
    actor: str,
    role: str,
    parties: str,
    agreement: str,
    note: str | None = None,
    expected_version: int | None = None,
) -> TransitionResult:
    """Close the case as mediated (transition ``mediate``) and record the parties and the agreement."""
    with engine.begin() as conn:
        done = transition(conn, case_id, "mediate", actor, role, at, note, expected_version)
        conn.execute(
            sa.insert(_M).values(
                case_id=case_id, at=done.at, parties=parties, agreement=agreement, actor=actor
            )
        )
    return done


def mediation_of(engine: Engine, case_id: str) -> pd.DataFrame:
    """The mediation records of one case (``at``, ``parties``, ``agreement``, ``actor``)."""
    columns = ("at", "parties", "agreement", "actor")
    query = sa.select(*(_M.c[n] for n in columns)).where(_M.c.case_id == case_id).order_by(_M.c.mediation_id)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return _frame(rows, columns)


def reporter_cases(engine: Engine, start: dt.datetime | None, end: dt.datetime | None) -> pd.DataFrame:
    """Accepted (not cancelled, past verification) cases reported in ``[start, end)`` whose reporter left
    a phone, with the reporter's name where an API request carried it (:data:`REPORTER_CASE_COLUMNS`)."""
    a = ApiRequest.__table__
    query = (
        sa.select(*(_C.c[n] for n in REPORTER_CASE_COLUMNS[:8]), a.c.first_name, a.c.last_name)
        .select_from(_C.outerjoin(a, a.c.case_id == _C.c.case_id))
        .where(
            _C.c.reporter_phone.is_not(None),
            _C.c.reporter_phone != "",
            _C.c.status.not_in(NOT_ACCEPTED),
        )
    )
    if start is not None:
        query = query.where(_C.c.reported_at >= start)
    if end is not None:
        query = query.where(_C.c.reported_at < end)
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(_C.c.reported_at, _C.c.case_id)).all()
    return _frame(rows, REPORTER_CASE_COLUMNS)


#: Columns of :func:`case_text`.
CASE_TEXT_COLUMNS = ("case_id", "description", "address", "reporter_phone")


def case_text(engine: Engine, case_id: str) -> pd.DataFrame:
    """The free-text columns of one case (:data:`CASE_TEXT_COLUMNS`; the phone is PII: mask it before
    showing it to a role that may not see it)."""
    query = sa.select(*(_C.c[n] for n in CASE_TEXT_COLUMNS)).where(_C.c.case_id == case_id)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return _frame(rows, CASE_TEXT_COLUMNS)
