"""Application users: argon2 password hashes, roles, lockout after repeated failures.

The store keeps only hashes (argon2id via argon2-cffi). ``authenticate`` is the one door: it checks the
lockout, verifies the password, counts failures and locks the account for ``LOCKOUT`` after
``MAX_FAILED_LOGINS`` consecutive failures. Unknown users cost the same hash verification as known ones so
that timing does not reveal which usernames exist.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import secrets

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from cases.models import ROLES, User

MAX_FAILED_LOGINS = 5
LOCKOUT = dt.timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 8
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.@-]{3,64}$")

# Roles that see citizens' phone numbers in full: they call citizens back or verify reports with them.
PHONE_ROLES = frozenset({"operator", "dispatcher", "supervisor", "admin"})

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class UserError(ValueError):
    """A user could not be created or changed (bad name, role, password, or a duplicate)."""


@dataclasses.dataclass(frozen=True)
class AuthResult:
    """Outcome of a login attempt.

    ``ok`` is True only with a valid password on an unlocked, active account; ``reason`` is one of ``ok``,
    ``unknown_user_or_password`` (deliberately the same for both), ``locked`` and ``inactive`` (a
    deactivated account: told only after a correct password). ``user_id`` identifies the account for
    :func:`get_user` (a session re-reads its user by it on every page run).
    """

    ok: bool
    reason: str
    username: str
    role: str | None = None
    inspector_id: str | None = None
    department: str | None = None
    locked_until: dt.datetime | None = None
    user_id: int | None = None


def hash_password(password: str) -> str:
    """Argon2id hash of ``password`` (salted; two calls give different strings)."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches ``password_hash``."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(
    engine: Engine,
    username: str,
    role: str,
    *,
    password: str | None = None,
    inspector_id: str | None = None,
    department: str | None = None,
) -> str:
    """Create a user and return the password (generated when ``password`` is None).

    Raises
    ------
    UserError
        Invalid username or role, a password shorter than ``MIN_PASSWORD_LENGTH``, an inspector account
        without ``inspector_id``, or a username that exists already.
    """
    if not USERNAME_PATTERN.match(username):
        msg = f"username {username!r} must be 3-64 characters of letters, digits and _ . @ -"
        raise UserError(msg)
    if role not in ROLES:
        msg = f"role {role!r} is not one of {', '.join(ROLES)}"
        raise UserError(msg)
    if role == "inspector" and not inspector_id:
        msg = "an inspector account needs --inspector (the inspector_id whose cells it may see)"
        raise UserError(msg)
    password = password or secrets.token_urlsafe(12)
    if len(password) < MIN_PASSWORD_LENGTH:
        msg = f"password must have at least {MIN_PASSWORD_LENGTH} characters"
        raise UserError(msg)
    with Session(engine) as session:
        if session.scalar(sa.select(User.user_id).where(User.username == username)) is not None:
            msg = f"user {username!r} exists already"
            raise UserError(msg)
        session.add(
            User(
                username=username,
                password_hash=hash_password(password),
                role=role,
                inspector_id=inspector_id,
                department=department,
                failed_logins=0,
                created_at=dt.datetime.now(dt.UTC),
            )
        )
        session.commit()
    return password


def authenticate(
    engine: Engine, username: str, password: str, *, now: dt.datetime | None = None
) -> AuthResult:
    """Check a login and record its outcome (failure count, lockout); see the module docstring."""
    now = now or dt.datetime.now(dt.UTC)
    with Session(engine) as session:
        user = session.scalar(sa.select(User).where(User.username == username).with_for_update())
        if user is None:
            verify_password(_DUMMY_HASH, password)
            return AuthResult(ok=False, reason="unknown_user_or_password", username=username)
        if user.locked_until is not None and user.locked_until > now:
            return AuthResult(ok=False, reason="locked", username=username, locked_until=user.locked_until)
        if not verify_password(user.password_hash, password):
            user.failed_logins += 1
            if user.failed_logins >= MAX_FAILED_LOGINS:
                user.locked_until = now + LOCKOUT
                user.failed_logins = 0
            session.commit()
            return AuthResult(
                ok=False, reason="unknown_user_or_password", username=username, locked_until=user.locked_until
            )
        user.failed_logins = 0
        user.locked_until = None
        session.commit()
        if not user.active:
            return AuthResult(ok=False, reason="inactive", username=username)
        return _signed_in(user)


def _signed_in(user: User) -> AuthResult:
    return AuthResult(
        ok=True,
        reason="ok",
        username=user.username,
        role=user.role,
        inspector_id=user.inspector_id,
        department=user.department,
        user_id=user.user_id,
    )


def get_user(engine: Engine, user_id: int) -> AuthResult | None:
    """The account ``user_id`` as a signed-in user (role, inspector, department as stored now), or None
    when it no longer exists or is deactivated. One indexed read: sessions call it on every page run."""
    with Session(engine) as session:
        user = session.get(User, user_id)
        if user is None or not user.active:
            return None
        return _signed_in(user)


def _change(engine: Engine, username: str, **values: object) -> None:
    """Set ``values`` on the user ``username``; UserError when there is no such user."""
    with Session(engine) as session:
        user = session.scalar(sa.select(User).where(User.username == username))
        if user is None:
            msg = f"there is no user {username!r}"
            raise UserError(msg)
        for name, value in values.items():
            setattr(user, name, value)
        session.commit()


def set_active(engine: Engine, username: str, active: bool) -> None:
    """Deactivate (``active=False``) or reactivate a user; a deactivated user cannot log in."""
    _change(engine, username, active=active)


def set_role(
    engine: Engine,
    username: str,
    role: str,
    *,
    inspector_id: str | None = None,
    department: str | None = None,
) -> None:
    """Give ``username`` another role (with the inspector id / department that role needs)."""
    if role not in ROLES:
        msg = f"role {role!r} is not one of {', '.join(ROLES)}"
        raise UserError(msg)
    if role == "inspector" and not inspector_id:
        msg = "an inspector account needs the inspector_id whose cells it may see"
        raise UserError(msg)
    _change(
        engine,
        username,
        role=role,
        inspector_id=inspector_id if role == "inspector" else None,
        department=department,
    )


def reset_password(engine: Engine, username: str, password: str | None = None) -> str:
    """Set a new password (generated when None), clear the lockout; return the password."""
    password = password or secrets.token_urlsafe(12)
    if len(password) < MIN_PASSWORD_LENGTH:
        msg = f"password must have at least {MIN_PASSWORD_LENGTH} characters"
        raise UserError(msg)
    _change(engine, username, password_hash=hash_password(password), failed_logins=0, locked_until=None)
    return password


DEMO_ROLES = ("admin", "manager", "planner", "supervisor", "operator", "dispatcher", "inspector")


def ensure_demo_users(engine: Engine, *, inspector_id: str | None = None) -> dict[str, str]:
    """Create one ``demo-<role>`` user per role in ``DEMO_ROLES`` that does not exist yet.

    The inspector account is created only when ``inspector_id`` (an existing inspector) is given. Returns
    username → generated password for the users created by this call (existing ones are left alone).
    """
    created: dict[str, str] = {}
    existing = {user["username"] for user in list_users(engine)}
    for role in DEMO_ROLES:
        username = f"demo-{role}"
        if username in existing or (role == "inspector" and not inspector_id):
            continue
        created[username] = create_user(
            engine, username, role, inspector_id=inspector_id if role == "inspector" else None
        )
    return created


def list_users(engine: Engine) -> list[dict[str, object]]:
    """Every user without the hash: username, role, inspector_id, department, locked_until, active."""
    columns = [User.username, User.role, User.inspector_id, User.department, User.locked_until, User.active]
    with engine.connect() as conn:
        rows = conn.execute(sa.select(*columns).order_by(User.username)).all()
    return [dict(zip([c.key for c in columns], row, strict=True)) for row in rows]


def mask_phone(phone: str | None, role: str | None) -> str | None:
    """A phone number as ``role`` may see it: in full for ``PHONE_ROLES``, else ``138****5678``."""
    if phone is None or role in PHONE_ROLES:
        return phone
    if not isinstance(phone, str):  # NaN / NA: a column of a frame where no case has a phone
        return None
    digits = phone.strip()
    if len(digits) <= 4:
        return "*" * len(digits)
    keep_head = 3 if len(digits) >= 11 else 0
    return digits[:keep_head] + "*" * (len(digits) - keep_head - 4) + digits[-4:]
