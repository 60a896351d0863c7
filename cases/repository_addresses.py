"""SQL of the address table, of intake (duplicate candidates, new case ids) and of merged calls.

Every query the address lookup (:mod:`services.addresses`) and the intake service (:mod:`services.intake`)
need: stored address keys for the importer's duplicate check, the exact / contains / bigram candidate
queries of a lookup, the cases of one category in a set of cells and a time window (duplicate candidates,
found by cell ring, never by reading every case), the highest intake id of a day, and ``case_merges``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cases.models import Address, Case, CaseMerge

__all__ = [
    "ADDRESS_COLUMNS",
    "MERGE_COLUMNS",
    "address_candidates",
    "address_count",
    "case_merges",
    "cases_near",
    "insert_merge",
    "last_case_id",
    "stored_keys",
]

ADDRESS_COLUMNS = ("address_id", "name", "address", "normalized", "kind", "lat", "lon", "cell")
MERGE_COLUMNS = ("merge_id", "case_id", "at", "actor", "reporter_name", "reporter_phone", "description")
_LOOKUP_CHUNK = 500
_A = Address.__table__.c


def stored_keys(conn: Connection, normalized: Sequence[str]) -> set[tuple[str, str]]:
    """(normalized, name or "") of the stored addresses whose normalized text is in ``normalized``."""
    out: set[tuple[str, str]] = set()
    for start in range(0, len(normalized), _LOOKUP_CHUNK):
        part = list(normalized[start : start + _LOOKUP_CHUNK])
        query = sa.select(_A.normalized, _A.name).where(_A.normalized.in_(part))
        out.update((n, name or "") for n, name in conn.execute(query))
    return out


def address_count(engine: Engine) -> int:
    """Rows of the address table."""
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(Address.__table__)).scalar_one())


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def address_candidates(
    engine: Engine, normalized: str, raw: str, grams: Sequence[str], limit: int
) -> pd.DataFrame:
    """Candidate rows for a lookup (:data:`ADDRESS_COLUMNS` plus ``match``): ``exact`` (normalized text
    or name equal), ``contains`` (the normalized text or the name contains the query, or the query starts
    with the stored text), then up to ``limit`` × 20 rows sharing a character bigram (``similar``), for
    the caller to score. Each row appears once, with its best match kind."""
    columns = [_A[c] for c in ADDRESS_COLUMNS]
    like = f"%{_escape(normalized)}%"
    raw_like = f"%{_escape(raw)}%"
    queries = [
        ("exact", sa.or_(_A.normalized == normalized, _A.name == raw), limit * 5),
        (
            "contains",
            sa.or_(
                _A.normalized.like(like, escape="\\"),
                _A.name.like(raw_like, escape="\\"),
                # the query holds the whole stored address (city and district typed in front); normalized
                # text has no ``%`` or ``_`` (punctuation is stripped), so it is a safe pattern
                sa.and_(
                    sa.func.length(_A.normalized) >= 4,
                    sa.literal(normalized, sa.String).like(sa.literal("%") + _A.normalized + sa.literal("%")),
                ),
            ),
            limit * 20,
        ),
    ]
    if grams:
        clauses = [_A.normalized.like(f"%{_escape(g)}%", escape="\\") for g in grams]
        clauses += [_A.name.like(f"%{_escape(g)}%", escape="\\") for g in grams]
        queries.append(("similar", sa.or_(*clauses), limit * 200))
    frames = []
    with engine.connect() as conn:
        for match, where, cap in queries:
            rows = conn.execute(sa.select(*columns).where(where).limit(cap)).all()
            frames.append(pd.DataFrame(rows, columns=list(ADDRESS_COLUMNS)).assign(match=match))
    out = pd.concat(frames, ignore_index=True)
    return out.drop_duplicates("address_id", keep="first").reset_index(drop=True)


def cases_near(
    engine: Engine, cells: Sequence[int], category_code: str, since: dt.datetime, until: dt.datetime
) -> pd.DataFrame:
    """Cases of ``category_code`` in ``cells`` reported in [``since``, ``until``], not cancelled:
    ``case_id``, ``status``, ``lat``, ``lon``, ``cell``, ``reported_at``, ``department``, ``deadline_at``,
    ``description`` (uses the ``(cell, reported_at)`` index)."""
    c = Case.__table__.c
    names = (
        "case_id",
        "status",
        "lat",
        "lon",
        "cell",
        "reported_at",
        "department",
        "deadline_at",
        "description",
    )
    query = sa.select(*(c[n] for n in names)).where(
        c.cell.in_([int(x) for x in cells]),
        c.reported_at >= since,
        c.reported_at <= until,
        c.category_code == category_code,
        sa.or_(c.status.is_(None), c.status != "cancelled"),
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    frame = pd.DataFrame(rows, columns=list(names))
    for name in ("reported_at", "deadline_at"):
        frame[name] = pd.to_datetime(frame[name], utc=True)
    return frame


def last_case_id(engine: Engine, prefix: str) -> str | None:
    """The greatest case id starting with ``prefix`` (None when there is none)."""
    c = Case.__table__.c
    query = sa.select(sa.func.max(c.case_id)).where(c.case_id.like(f"{_escape(prefix)}%", escape="\\"))
    with engine.connect() as conn:
        return conn.execute(query).scalar_one_or_none()


def insert_merge(
    engine: Engine,
    *,
    case_id: str,
    at: dt.datetime,
    actor: str,
    reporter_name: str | None,
    reporter_phone: str | None,
    description: str | None,
) -> int:
    """Record a call merged into case ``case_id``; return its ``merge_id``."""
    with engine.begin() as conn:
        result = conn.execute(
            sa.insert(CaseMerge.__table__).values(
                case_id=case_id,
                at=at,
                actor=actor,
                reporter_name=reporter_name,
                reporter_phone=reporter_phone,
                description=description,
            )
        )
    return int(result.inserted_primary_key[0])


def case_merges(engine: Engine, case_id: str) -> pd.DataFrame:
    """The calls merged into case ``case_id``, oldest first (:data:`MERGE_COLUMNS`)."""
    m = CaseMerge.__table__.c
    query = sa.select(*(m[n] for n in MERGE_COLUMNS)).where(m.case_id == case_id).order_by(m.merge_id)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    frame = pd.DataFrame(rows, columns=list(MERGE_COLUMNS))
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    return frame
