"""The data-access layer of the command centre's queues: open cases by status, returns, pending requests.

Reads only the open cases a queue needs (``status`` is indexed; the demo year holds ~212k cases of which
~1.5k are open), never the whole case table. Like :mod:`cases.repository`, every function returns a
DataFrame with its columns even when nothing matches, times tz-aware UTC, ``cell`` nullable Int64.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cases.models import Area, Case, CaseEvent

__all__ = [
    "QUEUE_CASE_COLUMNS",
    "REQUEST_COLUMNS",
    "areas_signature",
    "district_names",
    "latest_requests",
    "queue_cases",
    "returned_case_ids",
]

#: Columns of :func:`queue_cases`.
QUEUE_CASE_COLUMNS = (
    "case_id",
    "status",
    "source",
    "category_code",
    "kind",
    "cell",
    "lat",
    "lon",
    "reported_at",
    "registered_at",
    "dispatched_at",
    "department",
    "deadline_at",
    "suspended_at",
    "urgency",
    "version",
)
#: Columns of :func:`latest_requests`.
REQUEST_COLUMNS = ("case_id", "request", "requested_at", "requested_by", "reason", "requested_deadline")
_TIMES = ("reported_at", "registered_at", "dispatched_at", "deadline_at", "suspended_at")


def _frame(rows: Sequence, columns: Sequence[str]) -> pd.DataFrame:
    frame = pd.DataFrame([tuple(r) for r in rows], columns=list(columns), dtype=object)
    if "cell" in frame:  # exact int64 ids: through float (a NULL among them) they would lose their low bits
        frame["cell"] = pd.array(frame["cell"].tolist(), dtype="Int64")
    for name in ("lat", "lon"):
        if name in frame:
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(float)
    if "version" in frame:
        frame["version"] = pd.array(frame["version"].tolist(), dtype="Int64")
    for name in columns:
        if name.endswith("_at") or name in ("requested_deadline",):
            frame[name] = pd.to_datetime(frame[name], utc=True)
    return frame


def queue_cases(
    engine: Engine,
    statuses: Sequence[str],
    *,
    overdue_statuses: Sequence[str] = (),
    as_of: dt.datetime | None = None,
    department: str | None = None,
    category_codes: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Cases whose status is one of ``statuses``, plus those of ``overdue_statuses`` whose deadline is
    before ``as_of`` (:data:`QUEUE_CASE_COLUMNS`).

    ``department``: only that department's cases; ``category_codes``: only these categories (None: all).
    """
    c = Case.__table__.c
    wanted = c.status.in_(list(statuses)) if statuses else sa.false()
    if overdue_statuses and as_of is not None:
        late = sa.and_(c.status.in_(list(overdue_statuses)), c.deadline_at < as_of)
        wanted = sa.or_(wanted, late)
    query = sa.select(*(c[n] for n in QUEUE_CASE_COLUMNS)).where(wanted)
    if department is not None:
        query = query.where(c.department == department)
    if category_codes is not None:
        query = query.where(c.category_code.in_(list(category_codes)))
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(c.case_id)).all()
    frame = _frame(rows, QUEUE_CASE_COLUMNS)
    frame["cell"] = pd.array(frame["cell"], dtype="Int64")
    for name in ("lat", "lon"):
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(float)
    return frame


def returned_case_ids(engine: Engine, status: str = "registered") -> set[str]:
    """Ids of the cases now in ``status`` that a department once returned (an event dispatched →
    registered: 退回, whether or not the older rows name the action)."""
    c, e = Case.__table__.c, CaseEvent.__table__.c
    now_in = sa.select(c.case_id).where(c.status == status)
    query = (
        sa.select(e.case_id)
        .where(e.case_id.in_(now_in), e.from_status == "dispatched", e.to_status == "registered")
        .distinct()
    )
    with engine.connect() as conn:
        return {str(r[0]) for r in conn.execute(query).all()}


def latest_requests(
    engine: Engine, statuses: Sequence[str] = ("extension_requested", "suspension_requested")
) -> pd.DataFrame:
    """The latest request event (延期 / 挂账 申请) of each case now in one of ``statuses``
    (:data:`REQUEST_COLUMNS`: ``request`` is the status the event led to, ``reason`` its note,
    ``requested_deadline`` the deadline asked for)."""
    c, e = Case.__table__.c, CaseEvent.__table__.c
    now_in = sa.select(c.case_id).where(c.status.in_(list(statuses)))
    query = (
        sa.select(e.case_id, e.to_status, e.at, e.actor, e.note, e.deadline_at, e.event_id)
        .where(e.case_id.in_(now_in), e.to_status.in_(list(statuses)))
        .order_by(e.event_id)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    frame = _frame([r[:6] for r in rows], REQUEST_COLUMNS)
    return frame.drop_duplicates("case_id", keep="last").reset_index(drop=True)


def district_names(engine: Engine) -> dict[str, str]:
    """The stored districts: area id → name, ordered by id (no geometry is read)."""
    a = Area.__table__.c
    query = sa.select(a.area_id, a.name).where(a.level == "district").order_by(a.area_id)
    with engine.connect() as conn:
        return {str(i): str(n) for i, n in conn.execute(query).all()}


def areas_signature(engine: Engine) -> tuple[int, int, str | None]:
    """A cheap fingerprint of the stored areas (count, total area in m², largest id): it changes when an
    import adds, removes or reshapes areas, so a cell → area table built from them can be reused."""
    a = Area.__table__.c
    query = sa.select(sa.func.count(), sa.func.sum(a.area_m2), sa.func.max(a.area_id))
    with engine.connect() as conn:
        count, size, largest = conn.execute(query).one()
    return int(count or 0), round(float(size or 0.0)), None if largest is None else str(largest)
