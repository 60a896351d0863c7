"""User management through the service layer: create, deactivate, change role, reset password; only the
administrator (or the system) may; ``current_user`` follows the store."""

from __future__ import annotations

import pytest

from services.context import Actor, ServiceContext
from services.errors import NotAllowedError, ServiceError
from services.users import (
    CreateUser,
    Login,
    PasswordReset,
    RoleChange,
    UserRef,
    authenticate,
    change_role,
    create_user,
    current_user,
    deactivate_user,
    list_users,
    reactivate_user,
    reset_password,
)

PASSWORD = "service-password-1"


def test_create_deactivate_and_change_role(ctx60: ServiceContext) -> None:
    created = create_user(ctx60, CreateUser("chief", "manager", password=PASSWORD))
    assert created.password is None  # given, not generated
    assert created.to_frame().iloc[0][["username", "role", "active"]].tolist() == ["chief", "manager", True]
    login = authenticate(ctx60, Login(" chief ", PASSWORD))
    assert login.ok
    assert login.user_id is not None
    assert current_user(ctx60, login.user_id).role == "manager"

    changed = change_role(ctx60, RoleChange("chief", "supervisor", department="CG"))
    assert changed.to_frame().iloc[0][["role", "department"]].tolist() == ["supervisor", "CG"]
    assert current_user(ctx60, login.user_id).role == "supervisor"

    deactivate_user(ctx60, UserRef("chief"))
    assert current_user(ctx60, login.user_id) is None
    refused = authenticate(ctx60, Login("chief", PASSWORD))
    assert (refused.ok, refused.reason) == (False, "inactive")
    assert not list_users(ctx60).to_frame().set_index("username").loc["chief", "active"]
    reactivate_user(ctx60, UserRef("chief"))
    assert current_user(ctx60, login.user_id).role == "supervisor"

    new = reset_password(ctx60, PasswordReset("chief"))
    assert new.password
    assert authenticate(ctx60, Login("chief", new.password)).ok
    assert not authenticate(ctx60, Login("chief", PASSWORD)).ok


def test_only_the_administrator_manages_users(ctx60: ServiceContext) -> None:
    create_user(ctx60, CreateUser("boss", "admin", password=PASSWORD))
    admin = ctx60.as_actor(Actor("boss", "admin"))
    generated = create_user(admin, CreateUser("ins1", "inspector", inspector_id="NT0001"))
    assert generated.password
    manager = ctx60.as_actor(Actor("m", "manager"))
    for operation, request in (
        (create_user, CreateUser("x-user", "planner", password=PASSWORD)),
        (deactivate_user, UserRef("ins1")),
        (change_role, RoleChange("ins1", "admin")),
        (reset_password, PasswordReset("boss")),
    ):
        with pytest.raises(NotAllowedError):
            operation(manager, request)
    with pytest.raises(NotAllowedError):
        list_users(manager)
    with pytest.raises(ServiceError) as own:
        deactivate_user(admin, UserRef("boss"))
    assert own.value.code == "own_account"
    with pytest.raises(ServiceError) as bad:
        change_role(admin, RoleChange("ins1", "inspector"))  # an inspector account needs its inspector
    assert bad.value.code == "inspector_needed"
    with pytest.raises(ServiceError) as missing:
        deactivate_user(admin, UserRef("nobody"))
    assert missing.value.code == "no_such_user"
    with pytest.raises(ServiceError):
        create_user(admin, CreateUser("ins1", "planner", password=PASSWORD))  # exists already
