"""Application users: argon2 password hashes, roles, district scope, lockout after repeated failures.

The store keeps only hashes (argon2id via argon2-cffi). ``authenticate`` is the one door: it verifies the
password (always: unknown and locked accounts cost the same hash verification as known ones, so timing
does not reveal which usernames exist), checks the lockout and counts failures. The counter is one atomic
``UPDATE … SET failed_logins = failed_logins + 1 … RETURNING`` (SQLite ≥ 3.35 and PostgreSQL), so parallel
wrong guesses are all counted and the account is locked for ``LOCKOUT`` after ``MAX_FAILED_LOGINS`` of them;
a success clears the counter only while the account is not locked (one conditional ``UPDATE``).

A user may be scoped to a district (``district``: an ``area_id`` of level ``district``, a 二级平台 account).
A role change, a deactivation and a password reset revoke every web session of the account
(:func:`cases.web_sessions.revoke_user_sessions`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import secrets
from pathlib import Path

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from cases.models import ROLES, Area, Department, Inspector, User
from cases.types import UTCDateTime
from cases.web_sessions import revoke_user_sessions

MAX_FAILED_LOGINS = 5
LOCKOUT = dt.timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 8
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.@-]{3,64}$")

# Roles that see citizens' phone numbers in full: they call citizens back or verify reports with them.
PHONE_ROLES = frozenset({"operator", "dispatcher", "supervisor", "admin"})

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class UserError(ValueError):
    """A user could not be created or changed (bad name, role, password, district, or a duplicate):
    ``code`` names the failure and ``params`` its values (for a translated message)."""

    def __init__(self, message: str, code: str = "user_error", **params: object) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


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
    district: str | None = None


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
    district: str | None = None,
) -> str:
    """Create a user and return the password (generated when ``password`` is None).

    Raises
    ------
    UserError
        Invalid username or role, a password shorter than ``MIN_PASSWORD_LENGTH``, an inspector account
        without ``inspector_id``, a ``district`` that is not a stored district, or a username that exists
        already.
    """
    if not USERNAME_PATTERN.match(username):
        msg = f"username {username!r} must be 3-64 characters of letters, digits and _ . @ -"
        raise UserError(msg, "bad_username", username=username)
    if role not in ROLES:
        msg = f"role {role!r} is not one of {', '.join(ROLES)}"
        raise UserError(msg, "bad_role", role=role)
    if role == "inspector" and not inspector_id:
        msg = "an inspector account needs --inspector (the inspector_id whose cells it may see)"
        raise UserError(msg, "inspector_needed")
    password = password or secrets.token_urlsafe(12)
    if len(password) < MIN_PASSWORD_LENGTH:
        msg = f"password must have at least {MIN_PASSWORD_LENGTH} characters"
        raise UserError(msg, "password_too_short", minimum=MIN_PASSWORD_LENGTH)
    with Session(engine) as session:
        if session.scalar(sa.select(User.user_id).where(User.username == username)) is not None:
            msg = f"user {username!r} exists already"
            raise UserError(msg, "user_exists", username=username)
        _check_district(session, district)
        session.add(
            User(
                username=username,
                password_hash=hash_password(password),
                role=role,
                inspector_id=inspector_id,
                department=department,
                district=district or None,
                failed_logins=0,
                created_at=dt.datetime.now(dt.UTC),
            )
        )
        session.commit()
    return password


def _check_district(session: Session, district: str | None) -> None:
    """UserError unless ``district`` is None or the ``area_id`` of a stored district."""
    if not district:
        return
    level = session.scalar(sa.select(Area.level).where(Area.area_id == district))
    if level != "district":
        msg = f"{district!r} is not a stored district (an area_id of level district)"
        raise UserError(msg, "not_a_district", district=district)


def _count_failure(engine: Engine, user_id: int, now: dt.datetime) -> dt.datetime | None:
    """Count one wrong password atomically; lock the account on the ``MAX_FAILED_LOGINS``-th. Returns the
    account's ``locked_until`` after the update."""
    u = User.__table__.c
    reached = u.failed_logins + 1 >= MAX_FAILED_LOGINS
    statement = (
        sa.update(User.__table__)
        .where(u.user_id == user_id)
        .values(
            failed_logins=sa.case((reached, 0), else_=u.failed_logins + 1),
            locked_until=sa.case((reached, sa.literal(now + LOCKOUT, UTCDateTime())), else_=u.locked_until),
        )
        .returning(u.locked_until)
    )
    with engine.begin() as conn:
        return conn.execute(statement).scalar_one_or_none()


def _clear_failures(engine: Engine, user_id: int, now: dt.datetime) -> bool:
    """Reset the failure count of an account that is not locked at ``now``; False when it is locked
    (checked in the same statement, so a lock set by a parallel attempt is never undone)."""
    u = User.__table__.c
    statement = (
        sa.update(User.__table__)
        .where(u.user_id == user_id, sa.or_(u.locked_until.is_(None), u.locked_until <= now))
        .values(failed_logins=0, locked_until=None)
    )
    with engine.begin() as conn:
        return conn.execute(statement).rowcount == 1


def authenticate(
    engine: Engine, username: str, password: str, *, now: dt.datetime | None = None
) -> AuthResult:
    """Check a login and record its outcome (failure count, lockout); see the module docstring.

    ``reason`` tells the caller what happened (``locked`` included); front-ends show one message for
    ``unknown_user_or_password`` and ``locked`` so that an answer never reveals that an account exists."""
    now = now or dt.datetime.now(dt.UTC)
    with Session(engine) as session:
        user = session.scalar(sa.select(User).where(User.username == username))
        if user is not None:
            session.expunge(user)
    if user is None:
        verify_password(_DUMMY_HASH, password)
        return AuthResult(ok=False, reason="unknown_user_or_password", username=username)
    good = verify_password(user.password_hash, password)  # always verified: equal timing
    if user.locked_until is not None and user.locked_until > now:
        return AuthResult(ok=False, reason="locked", username=username, locked_until=user.locked_until)
    if not good:
        locked_until = _count_failure(engine, user.user_id, now)
        if locked_until is not None and locked_until > now:
            return AuthResult(ok=False, reason="locked", username=username, locked_until=locked_until)
        return AuthResult(ok=False, reason="unknown_user_or_password", username=username)
    if not _clear_failures(engine, user.user_id, now):
        with Session(engine) as session:
            until = session.scalar(sa.select(User.locked_until).where(User.user_id == user.user_id))
        return AuthResult(ok=False, reason="locked", username=username, locked_until=until)
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
        district=user.district,
    )


def get_user(engine: Engine, user_id: int) -> AuthResult | None:
    """The account ``user_id`` as a signed-in user (role, inspector, department as stored now), or None
    when it no longer exists or is deactivated. One indexed read: sessions call it on every page run."""
    with Session(engine) as session:
        user = session.get(User, user_id)
        if user is None or not user.active:
            return None
        return _signed_in(user)


def _change(engine: Engine, username: str, *, revoke: bool = False, **values: object) -> None:
    """Set ``values`` on the user ``username`` (and with ``revoke`` end all their web sessions in the same
    transaction); UserError when there is no such user."""
    with Session(engine) as session:
        user = session.scalar(sa.select(User).where(User.username == username))
        if user is None:
            msg = f"there is no user {username!r}"
            raise UserError(msg, "no_such_user", username=username)
        if "district" in values:
            _check_district(session, values["district"])  # type: ignore[arg-type]
        for name, value in values.items():
            setattr(user, name, value)
        session.flush()
        if revoke:
            revoke_user_sessions(session.connection(), user.user_id)
        session.commit()


def set_active(engine: Engine, username: str, active: bool) -> None:
    """Deactivate (``active=False``: its web sessions end at once) or reactivate a user; a deactivated user
    cannot log in."""
    _change(engine, username, revoke=not active, active=active)


def unlock(engine: Engine, username: str) -> None:
    """Lift a lockout: clear the failure count and ``locked_until``."""
    _change(engine, username, failed_logins=0, locked_until=None)


def set_role(
    engine: Engine,
    username: str,
    role: str,
    *,
    inspector_id: str | None = None,
    department: str | None = None,
    district: str | None = None,
) -> None:
    """Give ``username`` another role and scope (the inspector id / department that role needs, the
    district of a district-scoped user; None = city-wide); every web session of the account ends."""
    if role not in ROLES:
        msg = f"role {role!r} is not one of {', '.join(ROLES)}"
        raise UserError(msg, "bad_role", role=role)
    if role == "inspector" and not inspector_id:
        msg = "an inspector account needs the inspector_id whose cells it may see"
        raise UserError(msg, "inspector_needed")
    _change(
        engine,
        username,
        role=role,
        revoke=True,
        inspector_id=inspector_id if role == "inspector" else None,
        department=department,
        district=district or None,
    )


def reset_password(engine: Engine, username: str, password: str | None = None) -> str:
    """Set a new password (generated when None), clear the lockout, end every web session of the account;
    return the password."""
    password = password or secrets.token_urlsafe(12)
    if len(password) < MIN_PASSWORD_LENGTH:
        msg = f"password must have at least {MIN_PASSWORD_LENGTH} characters"
        raise UserError(msg, "password_too_short", minimum=MIN_PASSWORD_LENGTH)
    _change(
        engine,
        username,
        revoke=True,
        password_hash=hash_password(password),
        failed_logins=0,
        locked_until=None,
    )
    return password


DEMO_ROLES = ("admin", "manager", "planner", "supervisor", "operator", "dispatcher", "inspector")


def ensure_demo_users(engine: Engine, *, inspector_id: str | None = None) -> dict[str, str]:
    """Create the demo accounts that do not exist yet: one ``demo-<role>`` per role in ``DEMO_ROLES``, one
    ``demo-dept-<department_id lowercased>`` per department of the store and ``demo-district-supervisor``
    (a supervisor scoped to the first stored district).

    The inspector account is created only when ``inspector_id`` (an existing inspector) is given. Returns
    username → generated password for the users created by this call (existing ones are left alone).
    """
    created: dict[str, str] = {}
    existing = {user["username"] for user in list_users(engine)}
    wanted: list[tuple[str, str, dict[str, str | None]]] = [
        (f"demo-{role}", role, {"inspector_id": inspector_id if role == "inspector" else None})
        for role in DEMO_ROLES
        if role != "inspector" or inspector_id
    ]
    with engine.connect() as conn:
        departments = conn.execute(sa.select(Department.department_id).order_by(Department.department_id))
        wanted += [
            (f"demo-dept-{dept.lower()}", "department", {"department": dept})
            for dept in departments.scalars()
            if USERNAME_PATTERN.match(f"demo-dept-{dept.lower()}")
        ]
        district = conn.execute(
            sa.select(Area.area_id).where(Area.level == "district").order_by(Area.area_id).limit(1)
        ).scalar_one_or_none()
    if district is not None:
        wanted.append(("demo-district-supervisor", "supervisor", {"district": district}))
    for username, role, scope in wanted:
        if username not in existing:
            created[username] = create_user(engine, username, role, **scope)
    return created


def append_passwords(path: Path, created: dict[str, str]) -> None:
    """Append ``username password`` lines to ``path``, a file readable by its owner only (mode 0600, set
    again when the file existed with a wider mode)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.chmod(path, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        for username, password in created.items():
            fh.write(f"{username} {password}\n")


def scope_choices(engine: Engine) -> dict[str, dict[str, str]]:
    """What an account may be scoped to: ``departments`` (id → name), ``inspectors`` (id → name, active
    ones) and ``districts`` (area_id → name of the stored districts)."""
    with engine.connect() as conn:
        departments = conn.execute(
            sa.select(Department.department_id, Department.name).order_by(Department.department_id)
        ).all()
        inspectors = conn.execute(
            sa.select(Inspector.inspector_id, Inspector.name)
            .where(Inspector.active.is_not(False))
            .order_by(Inspector.inspector_id)
        ).all()
        districts = conn.execute(
            sa.select(Area.area_id, Area.name).where(Area.level == "district").order_by(Area.area_id)
        ).all()
    return {"departments": dict(departments), "inspectors": dict(inspectors), "districts": dict(districts)}


#: Columns of :func:`list_users`.
USER_COLUMNS = (
    "username",
    "role",
    "inspector_id",
    "department",
    "district",
    "locked_until",
    "failed_logins",
    "active",
)


def list_users(engine: Engine) -> list[dict[str, object]]:
    """Every user without the hash (:data:`USER_COLUMNS`)."""
    columns = [User.__table__.c[name] for name in USER_COLUMNS]
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
