"""Server-side web sessions: one ``web_sessions`` row per browser sign-in (migration 0006).

A session is identified by a random token that only the browser keeps (in a signed cookie); the store
keeps its SHA-256. :func:`check_session` is the one test a page run makes: the row must exist, not be
revoked, not be past ``expires_at`` (absolute lifetime) nor idle for longer than the idle timeout since
``last_seen_at``, and its user must still be active with the role the session began with. A valid check
moves ``last_seen_at`` to now. Logout revokes one session; a role change, a deactivation or a password
reset revoke all of a user's sessions (:func:`revoke_user_sessions`, called by :mod:`cases.users`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cases.models import User, WebSession

#: A session ends this long after it began, however active it is.
SESSION_LIFETIME = dt.timedelta(hours=12)
#: A valid check writes ``last_seen_at`` only when it is older than this (one write a minute, not one per
#: page run); the idle timeout is exact to this much.
TOUCH_EVERY = dt.timedelta(minutes=1)
#: Reasons :func:`check_session` gives for a session that is not valid.
SESSION_REASONS = ("ok", "unknown", "revoked", "expired", "idle", "account_gone", "role_changed")


@dataclasses.dataclass(frozen=True)
class SessionCheck:
    """Outcome of :func:`check_session`: ``reason`` one of :data:`SESSION_REASONS`; ``user_id`` of a valid
    session."""

    reason: str
    user_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.reason == "ok"


def token_hash(token: str) -> str:
    """The SHA-256 (hex) under which the session ``token`` is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_session(
    engine: Engine,
    user_id: int,
    role: str,
    *,
    now: dt.datetime | None = None,
    lifetime: dt.timedelta = SESSION_LIFETIME,
    user_agent: str | None = None,
) -> str:
    """Store a new session of ``user_id`` (signed in as ``role``) and return its token (shown once)."""
    now = now or dt.datetime.now(dt.UTC)
    token = secrets.token_urlsafe(32)
    row = {
        "session_hash": token_hash(token),
        "user_id": user_id,
        "role": role,
        "created_at": now,
        "last_seen_at": now,
        "expires_at": now + lifetime,
        "revoked_at": None,
        "user_agent": (user_agent or None) and user_agent[:500],
    }
    with engine.begin() as conn:
        conn.execute(sa.insert(WebSession.__table__).values(**row))
    return token


def check_session(
    engine: Engine,
    token: str,
    *,
    idle: dt.timedelta,
    now: dt.datetime | None = None,
    touch: bool = True,
) -> SessionCheck:
    """Whether the session ``token`` is valid at ``now`` (see the module docstring); a valid one is
    touched (``last_seen_at`` = now, at most once per :data:`TOUCH_EVERY`) unless ``touch`` is False."""
    now = now or dt.datetime.now(dt.UTC)
    s, u = WebSession.__table__.c, User.__table__.c
    query = (
        sa.select(s.user_id, s.role, s.expires_at, s.last_seen_at, s.revoked_at, u.role, u.active)
        .join_from(WebSession.__table__, User.__table__, s.user_id == u.user_id)
        .where(s.session_hash == token_hash(token))
    )
    with engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None:
        return SessionCheck("unknown")
    user_id, began_as, expires_at, last_seen_at, revoked_at, role_now, active = row
    if not active:  # the account's state first: the most telling reason
        return SessionCheck("account_gone")
    if role_now != began_as:
        return SessionCheck("role_changed")
    if revoked_at is not None:
        return SessionCheck("revoked")
    if expires_at <= now:
        return SessionCheck("expired")
    if now - last_seen_at > idle:
        return SessionCheck("idle")
    if touch and now - last_seen_at >= TOUCH_EVERY:
        statement = sa.update(WebSession.__table__).where(s.session_hash == token_hash(token))
        # a busy store (an import holding the write lock) must not break the page run: the next one retries
        with contextlib.suppress(sa.exc.OperationalError), engine.begin() as conn:
            conn.execute(statement.values(last_seen_at=now))
    return SessionCheck("ok", user_id)


def revoke_session(engine: Engine, token: str, *, now: dt.datetime | None = None) -> bool:
    """Revoke the session ``token`` (logout); False when there was no such open session."""
    s = WebSession.__table__.c
    statement = (
        sa.update(WebSession.__table__)
        .where(s.session_hash == token_hash(token), s.revoked_at.is_(None))
        .values(revoked_at=now or dt.datetime.now(dt.UTC))
    )
    with engine.begin() as conn:
        return conn.execute(statement).rowcount == 1


def revoke_user_sessions(conn: Connection | Engine, user_id: int, *, now: dt.datetime | None = None) -> int:
    """Revoke every open session of ``user_id`` (on ``conn``: inside the caller's transaction); returns how
    many were open."""
    s = WebSession.__table__.c
    statement = (
        sa.update(WebSession.__table__)
        .where(s.user_id == user_id, s.revoked_at.is_(None))
        .values(revoked_at=now or dt.datetime.now(dt.UTC))
    )
    if isinstance(conn, Engine):
        with conn.begin() as inner:
            return inner.execute(statement).rowcount
    return conn.execute(statement).rowcount
