"""The store side of the HTTP API: API keys, what each Open311 POST carried, the Open311 case queries, the
field devices' bearer tokens and the answers remembered under idempotency keys.

Keys are stored as the SHA-256 of the key only (:mod:`services.api_keys` makes and hashes them). Requests
read the cases with the columns GeoReport v2 reports and the time of each case's last event
(``updated_datetime``). Every function works on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from cases.models import ApiIdempotency, ApiKey, ApiRequest, ApiToken, Area, Case, CaseEvent, ImportBatch
from cases.repository import chunks
from cases.validation import CityArea
from cases.workflow import TERMINAL

__all__ = [
    "OPEN311_CASE_COLUMNS",
    "ApiKeyRow",
    "DuplicateKeyError",
    "city_area",
    "data_version",
    "idempotent_answer",
    "insert_key",
    "insert_request",
    "insert_token",
    "key_by_hash",
    "list_keys",
    "open311_cases",
    "remember_answer",
    "report_with_request",
    "request_by_token",
    "revoke_key",
    "revoke_token",
    "token_user",
]

_KEYS = ApiKey.__table__
_REQUESTS = ApiRequest.__table__
_CASES = Case.__table__
_EVENTS = CaseEvent.__table__
_TOKENS = ApiToken.__table__
_IDEMPOTENCY = ApiIdempotency.__table__
_BATCHES = ImportBatch.__table__
_AREAS = Area.__table__
#: Columns of :func:`open311_cases`.
OPEN311_CASE_COLUMNS = (
    "case_id",
    "status",
    "category_code",
    "description",
    "department",
    "address",
    "lat",
    "lon",
    "reported_at",
    "deadline_at",
    "closed_at",
    "updated_at",
    "media_url",
    "token",
)


class DuplicateKeyError(ValueError):
    """A key of that name exists already."""


@dataclasses.dataclass(frozen=True)
class ApiKeyRow:
    """One stored key (without its hash)."""

    key_id: int
    name: str
    source: str
    role: str
    rate_per_minute: int
    created_at: dt.datetime
    revoked_at: dt.datetime | None


def insert_key(
    engine: Engine, *, name: str, key_hash: str, source: str, role: str, rate_per_minute: int, at: dt.datetime
) -> int:
    """Store a new key; return its id. Raises :class:`DuplicateKeyError` when ``name`` is taken."""
    try:
        with engine.begin() as conn:
            result = conn.execute(
                sa.insert(_KEYS).values(
                    name=name, key_hash=key_hash, source=source, role=role,
                    rate_per_minute=rate_per_minute, created_at=at, revoked_at=None,
                )
            )  # fmt: skip
            return int(result.inserted_primary_key[0])
    except IntegrityError as exc:
        raise DuplicateKeyError(f"an API key named {name!r} exists already") from exc


def _key(row: Any) -> ApiKeyRow:
    return ApiKeyRow(
        int(row.key_id),
        row.name,
        row.source,
        row.role,
        int(row.rate_per_minute),
        row.created_at,
        row.revoked_at,
    )


_KEY_COLUMNS = ("key_id", "name", "source", "role", "rate_per_minute", "created_at", "revoked_at")


def list_keys(engine: Engine) -> list[ApiKeyRow]:
    """Every key, revoked ones included, by name."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(*(_KEYS.c[c] for c in _KEY_COLUMNS)).order_by(_KEYS.c.name)).all()
    return [_key(r) for r in rows]


def key_by_hash(engine: Engine, key_hash: str) -> ApiKeyRow | None:
    """The key with this SHA-256, revoked or not; None when there is none."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(*(_KEYS.c[c] for c in _KEY_COLUMNS)).where(_KEYS.c.key_hash == key_hash)
        ).first()
    return None if row is None else _key(row)


def revoke_key(engine: Engine, name: str, at: dt.datetime) -> bool:
    """Revoke the key ``name`` (kept, with ``revoked_at``); False when no unrevoked key has that name."""
    with engine.begin() as conn:
        done = conn.execute(
            sa.update(_KEYS).where(_KEYS.c.name == name, _KEYS.c.revoked_at.is_(None)).values(revoked_at=at)
        ).rowcount
    return bool(done)


def insert_request(engine: Engine, **values: Any) -> None:
    """Record what an Open311 POST carried (columns of :class:`cases.models.ApiRequest`)."""
    with engine.begin() as conn:
        conn.execute(sa.insert(_REQUESTS).values(**values))


class _InTransaction:
    """An open connection offered where a writer expects an engine: its ``bind.begin()`` joins the
    caller's transaction instead of opening its own."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    @contextlib.contextmanager
    def begin(self) -> Iterator[Connection]:
        yield self._conn


def report_with_request(engine: Engine, case: dict[str, Any], request: dict[str, Any]) -> None:
    """File a case (:func:`cases.lifecycle.report_case` with the keywords ``case``) and record what its
    Open311 POST carried (``request``: columns of :class:`cases.models.ApiRequest`) in ONE transaction:
    either both rows are stored or neither."""
    from cases.lifecycle import report_case

    with engine.begin() as conn:
        report_case(_InTransaction(conn), **case)  # type: ignore[arg-type]
        conn.execute(sa.insert(_REQUESTS).values(**request))


def data_version(engine: Engine) -> tuple[int, int]:
    """A cheap version of the imported reference data (areas, categories, departments …): the last import
    batch and the number of stored areas; it changes whenever an import or an area write happens."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(
                sa.select(sa.func.coalesce(sa.func.max(_BATCHES.c.batch_id), 0)).scalar_subquery(),
                sa.select(sa.func.count()).select_from(_AREAS).scalar_subquery(),
            )
        ).one()
    return int(row[0]), int(row[1])


def request_by_token(engine: Engine, token: str) -> str | None:
    """The case id of the request posted with ``token``; None when unknown."""
    with engine.connect() as conn:
        return conn.execute(sa.select(_REQUESTS.c.case_id).where(_REQUESTS.c.token == token)).scalar()


def city_area(engine: Engine) -> CityArea | None:
    """The union of the stored areas (:class:`cases.validation.CityArea`), None when no area is stored."""
    with engine.connect() as conn:
        return CityArea.from_store(conn)


def _closed() -> sa.ColumnElement[bool]:
    return sa.or_(_CASES.c.closed_at.is_not(None), _CASES.c.status.in_(TERMINAL))


def open311_cases(
    engine: Engine,
    *,
    case_ids: Sequence[str] = (),
    codes: Sequence[str] = (),
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    closed: bool | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> pd.DataFrame:
    """Cases as GeoReport v2 reports them (:data:`OPEN311_CASE_COLUMNS`), newest report first.

    ``case_ids``: only these (the other filters still apply); ``codes``: category codes; ``start`` /
    ``end``: ``reported_at`` in ``[start, end]``; ``closed``: True closed (a ``closed_at`` or a terminal
    status), False open, None both. ``updated_at`` is the time of the case's last event (its report time
    when it has none); ``media_url`` and ``token`` come from the Open311 POST that made it, if any.
    """
    last = (
        sa.select(_EVENTS.c.case_id, sa.func.max(_EVENTS.c.at).label("updated_at"))
        .group_by(_EVENTS.c.case_id)
        .subquery()
    )
    columns = [_CASES.c[c] for c in OPEN311_CASE_COLUMNS[:11]]
    query = (
        sa.select(*columns, last.c.updated_at, _REQUESTS.c.media_url, _REQUESTS.c.token)
        .outerjoin(last, last.c.case_id == _CASES.c.case_id)
        .outerjoin(_REQUESTS, _REQUESTS.c.case_id == _CASES.c.case_id)
    )
    if codes:
        query = query.where(_CASES.c.category_code.in_(list(codes)))
    if start is not None:
        query = query.where(_CASES.c.reported_at >= start)
    if end is not None:
        query = query.where(_CASES.c.reported_at <= end)
    if closed is not None:
        query = query.where(_closed() if closed else sa.not_(_closed()))
    query = query.order_by(_CASES.c.reported_at.desc(), _CASES.c.case_id)
    rows: list[Any] = []
    with engine.connect() as conn:
        if case_ids:
            for chunk in chunks(list(dict.fromkeys(case_ids))[: limit + offset]):
                rows.extend(conn.execute(query.where(_CASES.c.case_id.in_(list(chunk)))).all())
            rows = rows[offset : offset + limit]
        else:
            rows = conn.execute(query.limit(limit).offset(offset)).all()
    frame = pd.DataFrame(rows, columns=list(OPEN311_CASE_COLUMNS))
    for column in ("reported_at", "deadline_at", "closed_at", "updated_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    frame["updated_at"] = frame["updated_at"].fillna(frame["reported_at"])
    frame["closed"] = frame["closed_at"].notna() | frame["status"].isin(TERMINAL)
    return frame


def insert_token(
    engine: Engine, *, token_hash: str, user_id: int, at: dt.datetime, expires_at: dt.datetime
) -> None:
    """Store a device's bearer token (its SHA-256) for the user ``user_id``."""
    with engine.begin() as conn:
        conn.execute(
            sa.insert(_TOKENS).values(
                token_hash=token_hash, user_id=user_id, created_at=at, expires_at=expires_at, revoked_at=None
            )
        )


def token_user(engine: Engine, token_hash: str, at: dt.datetime) -> int | None:
    """The user of a token that is neither expired nor revoked at ``at``; None otherwise."""
    t = _TOKENS.c
    with engine.connect() as conn:
        return conn.execute(
            sa.select(t.user_id).where(t.token_hash == token_hash, t.revoked_at.is_(None), t.expires_at > at)
        ).scalar()


def revoke_token(engine: Engine, token_hash: str, at: dt.datetime) -> bool:
    """Revoke a token; False when it was unknown or revoked already."""
    t = _TOKENS.c
    with engine.begin() as conn:
        done = conn.execute(
            sa.update(_TOKENS).where(t.token_hash == token_hash, t.revoked_at.is_(None)).values(revoked_at=at)
        ).rowcount
    return bool(done)


def idempotent_answer(engine: Engine, username: str, key: str) -> tuple[str, str] | None:
    """``(request_sha256, response)`` remembered for the user's idempotency key; None when new."""
    i = _IDEMPOTENCY.c
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(i.request_sha256, i.response).where(i.username == username, i.idempotency_key == key)
        ).first()
    return None if row is None else (row.request_sha256, row.response)


def remember_answer(
    engine: Engine, *, username: str, key: str, request_sha256: str, response: str, at: dt.datetime
) -> tuple[str, str]:
    """Remember the answer under the key; when a concurrent request remembered one first, return that one
    (``(request_sha256, response)`` as stored)."""
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.insert(_IDEMPOTENCY).values(
                    username=username, idempotency_key=key, request_sha256=request_sha256,
                    response=response, created_at=at,
                )
            )  # fmt: skip
    except IntegrityError:
        stored = idempotent_answer(engine, username, key)
        if stored is not None:
            return stored
        raise
    return request_sha256, response
