"""User management and sign-in: create, list, deactivate, change role and scope, reset password, unlock,
authenticate, and :func:`current_user`, which a session calls on every page run so that a deactivation or a
role change takes effect at once (the web sessions themselves are :mod:`services.sessions`).

A user may be scoped to a district (``district``: the ``area_id`` of a stored district, a 二级平台 account);
:func:`actor_of` carries it into :attr:`services.context.Actor.district`.

Managing users is the administrator's (or the system's: the ``gridpatrol users`` commands); signing in
and re-reading one's own account need no role. The store writes are :mod:`cases.users`.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from cases import repository_people as store
from cases import users as user_store
from cases.users import AuthResult, UserError
from services.context import Actor, ServiceContext
from services.errors import ServiceError

__all__ = [
    "AuthResult",
    "CreateUser",
    "Login",
    "PasswordReset",
    "RoleChange",
    "ScopeChoices",
    "UserRef",
    "UserResult",
    "UsersResult",
    "actor_of",
    "authenticate",
    "change_role",
    "create_demo_users",
    "create_user",
    "current_user",
    "deactivate_user",
    "list_users",
    "reactivate_user",
    "reset_password",
    "scope_choices",
    "unlock_user",
]

ADMIN_ROLES = ("admin",)


@dataclasses.dataclass(frozen=True)
class CreateUser:
    """A new account: ``password`` None = generated (returned once in the result)."""

    username: str
    role: str
    password: str | None = None
    inspector_id: str | None = None
    department: str | None = None
    district: str | None = None


@dataclasses.dataclass(frozen=True)
class UserRef:
    """One account by name."""

    username: str


@dataclasses.dataclass(frozen=True)
class RoleChange:
    """A new role and scope for ``username`` (an inspector role needs ``inspector_id``; ``district`` None =
    city-wide)."""

    username: str
    role: str
    inspector_id: str | None = None
    department: str | None = None
    district: str | None = None


@dataclasses.dataclass(frozen=True)
class PasswordReset:
    """A new password for ``username`` (None = generated, returned once in the result)."""

    username: str
    password: str | None = None


@dataclasses.dataclass(frozen=True)
class Login:
    """A sign-in attempt."""

    username: str
    password: str


@dataclasses.dataclass(frozen=True)
class UserResult:
    """One account after the operation (``user``: its row, never the hash) and, when the operation made
    one up, the ``password`` to hand over."""

    user: dict[str, object]
    password: str | None = None

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([self.user], columns=list(user_store.USER_COLUMNS))


@dataclasses.dataclass(frozen=True)
class UsersResult:
    """Every account (:data:`cases.users.USER_COLUMNS`: username, role, scope, lockout, active)."""

    users: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.users.copy()


@dataclasses.dataclass(frozen=True)
class ScopeChoices:
    """What an account may be scoped to, each id → name: departments, (active) inspectors, districts."""

    departments: dict[str, str]
    inspectors: dict[str, str]
    districts: dict[str, str]

    def to_frame(self) -> pd.DataFrame:
        rows = [
            {"kind": kind, "id": key, "name": name}
            for kind in ("departments", "inspectors", "districts")
            for key, name in getattr(self, kind).items()
        ]
        return pd.DataFrame(rows, columns=["kind", "id", "name"])


def scope_choices(ctx: ServiceContext) -> ScopeChoices:
    """The departments, inspectors and districts an account may be given (administrator)."""
    ctx.require("list users", *ADMIN_ROLES)
    return ScopeChoices(**user_store.scope_choices(ctx.engine))


def _failed(exc: UserError) -> ServiceError:
    return ServiceError(exc.code, str(exc), **exc.params)


def _users(ctx: ServiceContext) -> pd.DataFrame:
    frame = pd.DataFrame(user_store.list_users(ctx.engine), columns=list(user_store.USER_COLUMNS))
    frame["locked_until"] = pd.to_datetime(frame["locked_until"], utc=True)
    return frame


def _row(ctx: ServiceContext, username: str) -> dict[str, object]:
    users = _users(ctx)
    match = users[users["username"] == username]
    if match.empty:
        raise ServiceError("no_such_user", f"there is no user {username!r}", username=username)
    return match.iloc[0].to_dict()


def create_user(ctx: ServiceContext, request: CreateUser) -> UserResult:
    """Create an account (administrator)."""
    ctx.require("create users", *ADMIN_ROLES)
    try:
        password = user_store.create_user(
            ctx.engine,
            request.username,
            request.role,
            password=request.password,
            inspector_id=request.inspector_id,
            department=request.department,
            district=request.district,
        )
    except UserError as exc:
        raise _failed(exc) from exc
    return UserResult(_row(ctx, request.username), password if request.password is None else None)


def list_users(ctx: ServiceContext) -> UsersResult:
    """Every account, without password hashes (administrator)."""
    ctx.require("list users", *ADMIN_ROLES)
    return UsersResult(_users(ctx))


def _set_active(ctx: ServiceContext, request: UserRef, active: bool) -> UserResult:
    ctx.require("deactivate users" if not active else "reactivate users", *ADMIN_ROLES)
    try:
        user_store.set_active(ctx.engine, request.username, active)
    except UserError as exc:
        raise _failed(exc) from exc
    return UserResult(_row(ctx, request.username))


def deactivate_user(ctx: ServiceContext, request: UserRef) -> UserResult:
    """Deactivate an account (administrator): it cannot log in, and its open sessions end on their next
    page run. The row stays (its events name it)."""
    if ctx.actor.role != "system" and ctx.actor.username == request.username:
        raise ServiceError("own_account", "an administrator may not deactivate their own account")
    return _set_active(ctx, request, False)


def reactivate_user(ctx: ServiceContext, request: UserRef) -> UserResult:
    """Let a deactivated account log in again (administrator)."""
    return _set_active(ctx, request, True)


def change_role(ctx: ServiceContext, request: RoleChange) -> UserResult:
    """Give an account another role and scope (administrator); its web sessions end at once."""
    ctx.require("change roles", *ADMIN_ROLES)
    try:
        user_store.set_role(
            ctx.engine,
            request.username,
            request.role,
            inspector_id=request.inspector_id,
            department=request.department,
            district=request.district,
        )
    except UserError as exc:
        raise _failed(exc) from exc
    return UserResult(_row(ctx, request.username))


def unlock_user(ctx: ServiceContext, request: UserRef) -> UserResult:
    """Lift a lockout: clear the failure count and the lock (administrator)."""
    ctx.require("unlock users", *ADMIN_ROLES)
    try:
        user_store.unlock(ctx.engine, request.username)
    except UserError as exc:
        raise _failed(exc) from exc
    return UserResult(_row(ctx, request.username))


def reset_password(ctx: ServiceContext, request: PasswordReset) -> UserResult:
    """Set a new password and lift a lockout (administrator); the account's web sessions end."""
    ctx.require("reset passwords", *ADMIN_ROLES)
    try:
        password = user_store.reset_password(ctx.engine, request.username, request.password)
    except UserError as exc:
        raise _failed(exc) from exc
    return UserResult(_row(ctx, request.username), password if request.password is None else None)


def authenticate(ctx: ServiceContext, request: Login) -> AuthResult:
    """Check a sign-in (lockout, failure count, deactivated accounts); anyone may try."""
    return user_store.authenticate(ctx.engine, request.username.strip(), request.password)


def current_user(ctx: ServiceContext, user_id: int) -> AuthResult | None:
    """The account ``user_id`` as stored now (role, inspector, department), or None when it was deleted
    or deactivated: a session calls this on every page run."""
    return store.signed_in_user(ctx.engine, user_id)


def actor_of(user: AuthResult) -> Actor:
    """The service-layer caller a signed-in user is."""
    return Actor(
        username=user.username,
        role=user.role or "",
        inspector_id=user.inspector_id,
        department=user.department,
        district=user.district,
    )


def create_demo_users(ctx: ServiceContext, inspector_id: str | None = None) -> dict[str, str]:
    """The demo accounts that do not exist yet (:func:`cases.users.ensure_demo_users`: one ``demo-<role>``
    per role, the inspector account only with ``inspector_id``, one ``demo-dept-<id>`` per department and
    ``demo-district-supervisor``); returns username → generated password of the accounts created now
    (administrator)."""
    ctx.require("create users", *ADMIN_ROLES)
    return user_store.ensure_demo_users(ctx.engine, inspector_id=inspector_id)
