"""Web sessions: sign in (a password check that starts a server-side session), resume a session from its
signed cookie on every page run, sign out.

A session is a random token; the store keeps only its SHA-256 (:mod:`cases.web_sessions`), the browser keeps
the token in a cookie signed with HMAC-SHA-256 under a secret of the data folder (``<data dir>/
session-secret``, created with mode 0600 on first use). :func:`resume_session` refuses a cookie whose
signature does not match, and a session that was revoked (logout; the account's role change, deactivation
or password reset), has expired (:data:`cases.web_sessions.SESSION_LIFETIME`), was idle for longer than the
city's ``session_idle_minutes``, or whose user was deactivated or given another role since it began.
Anyone may call these: a session is its own credential.

**Throttling per client.** Besides the per-account lockout (:mod:`cases.users`), :func:`sign_in` refuses,
without checking the password, a client (the browser's IP address, as the front-end gives it) with
:data:`THROTTLE_FAILURES` failed sign-ins within :data:`THROTTLE_WINDOW` (reason ``throttled``): one address
cannot try many accounts. The count lives in this process's memory.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import os
import secrets
import threading
import time
from collections import deque
from pathlib import Path

import pandas as pd

from cases import web_sessions as session_store
from cases.users import AuthResult
from services.context import ServiceContext
from services.users import Login, authenticate, current_user

__all__ = [
    "COOKIE_NAME",
    "SessionState",
    "SessionToken",
    "SignIn",
    "SignInResult",
    "cookie_value",
    "end_session",
    "resume_session",
    "sign_in",
    "token_of_cookie",
]

#: Name of the browser cookie that carries the signed session token.
COOKIE_NAME = "gridpatrol_session"
SECRET_FILE = "session-secret"
#: A client with this many failed sign-ins within :data:`THROTTLE_WINDOW` is refused until they age out.
THROTTLE_FAILURES = 20
THROTTLE_WINDOW = dt.timedelta(minutes=5)

_failures: dict[str, deque[float]] = {}
_failures_lock = threading.Lock()


def _throttled(client: str | None, *, failed: bool = False) -> bool:
    """Whether ``client`` has reached :data:`THROTTLE_FAILURES` (after recording one more failure when
    ``failed``)."""
    if not client:
        return False
    now, window = time.monotonic(), THROTTLE_WINDOW.total_seconds()
    with _failures_lock:
        times = _failures.setdefault(client, deque())
        while times and now - times[0] > window:
            times.popleft()
        if failed:
            times.append(now)
        if not times:
            del _failures[client]
            return False
        return len(times) >= THROTTLE_FAILURES


@dataclasses.dataclass(frozen=True)
class SignIn:
    """A sign-in attempt from a browser (``user_agent`` is stored with the session)."""

    username: str
    password: str
    user_agent: str | None = None
    client: str | None = None  #: the client's address, for :data:`THROTTLE_FAILURES`


@dataclasses.dataclass(frozen=True)
class SignInResult:
    """The password check (``auth``) and, when it succeeded, the new session's ``token`` (the cookie's
    content: hand it to the browser, never show or log it) and the signed ``cookie``."""

    auth: AuthResult
    token: str | None = None
    cookie: str | None = None

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [{"username": self.auth.username, "ok": self.auth.ok, "reason": self.auth.reason}]
        )


@dataclasses.dataclass(frozen=True)
class SessionToken:
    """A session by its token (from the signed cookie: :func:`token_of_cookie`)."""

    token: str


@dataclasses.dataclass(frozen=True)
class SessionState:
    """A resumed session: ``user`` as stored now (None when the session is not valid) and ``reason``
    (:data:`cases.web_sessions.SESSION_REASONS`, ``bad_signature`` for a forged cookie)."""

    user: AuthResult | None
    reason: str

    def to_frame(self) -> pd.DataFrame:
        username = self.user.username if self.user is not None else None
        return pd.DataFrame([{"username": username, "reason": self.reason}])


def _secret(ctx: ServiceContext) -> bytes:
    """The data folder's signing secret, created (mode 0600) on first use."""
    path = Path(ctx.data_dir) / SECRET_FILE
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it meanwhile
            return bytes.fromhex(path.read_text(encoding="ascii").strip())
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32))
        return bytes.fromhex(path.read_text(encoding="ascii").strip())


def _signature(ctx: ServiceContext, token: str) -> str:
    return hmac.new(_secret(ctx), token.encode("utf-8"), hashlib.sha256).hexdigest()


def cookie_value(ctx: ServiceContext, token: str) -> str:
    """The signed cookie content of the session ``token``: ``<token>.<HMAC-SHA-256 hex>``."""
    return f"{token}.{_signature(ctx, token)}"


def token_of_cookie(ctx: ServiceContext, value: str | None) -> str | None:
    """The session token of a signed cookie, None when it is missing or its signature does not match."""
    if not value or "." not in value:
        return None
    token, _, signature = value.rpartition(".")
    if not token or not hmac.compare_digest(signature, _signature(ctx, token)):
        return None
    return token


def sign_in(ctx: ServiceContext, request: SignIn) -> SignInResult:
    """Check the password (:func:`services.users.authenticate`) and, when it is right, start a session; a
    throttled client (see the module docstring) gets ``reason='throttled'`` without a check."""
    if _throttled(request.client):
        return SignInResult(AuthResult(ok=False, reason="throttled", username=request.username))
    auth = authenticate(ctx, Login(request.username, request.password))
    if not auth.ok or auth.user_id is None:
        _throttled(request.client, failed=True)
        return SignInResult(auth)
    token = session_store.create_session(
        ctx.engine, auth.user_id, auth.role or "", user_agent=request.user_agent
    )
    return SignInResult(auth, token, cookie_value(ctx, token))


def resume_session(
    ctx: ServiceContext, request: SessionToken, *, now: dt.datetime | None = None
) -> SessionState:
    """The session's user as stored now when the session is valid (and mark it seen), else None and why."""
    idle = dt.timedelta(minutes=ctx.config.session_idle_minutes)
    check = session_store.check_session(ctx.engine, request.token, idle=idle, now=now)
    if not check.ok or check.user_id is None:
        return SessionState(None, check.reason)
    user = current_user(ctx, check.user_id)
    return SessionState(user, "ok" if user is not None else "account_gone")


def end_session(ctx: ServiceContext, request: SessionToken) -> bool:
    """Sign out: revoke the session (its cookie is refused from now on); False when it was not open."""
    return session_store.revoke_session(ctx.engine, request.token)
