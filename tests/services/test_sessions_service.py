"""Web sessions through the service layer: a login starts a server-side session whose signed cookie
resumes it; expiry, the idle timeout, logout, a role change, a deactivation and a password reset end it;
district scope and unlock; the demo accounts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import stat

import pytest

from cases.web_sessions import SESSION_LIFETIME
from services.context import ServiceContext
from services.errors import ServiceError
from services.sessions import (
    SECRET_FILE,
    SessionToken,
    SignIn,
    cookie_value,
    end_session,
    resume_session,
    sign_in,
    token_of_cookie,
)
from services.users import (
    CreateUser,
    PasswordReset,
    RoleChange,
    UserRef,
    actor_of,
    change_role,
    create_demo_users,
    create_user,
    deactivate_user,
    list_users,
    reactivate_user,
    reset_password,
    scope_choices,
    unlock_user,
)

PASSWORD = "session-password-1"


def _signed_in(ctx: ServiceContext, username: str = "desk9", role: str = "operator") -> str:
    create_user(ctx, CreateUser(username, role, password=PASSWORD))
    result = sign_in(ctx, SignIn(username, PASSWORD, user_agent="pytest"))
    assert result.auth.ok
    assert result.token
    assert result.cookie
    assert token_of_cookie(ctx, result.cookie) == result.token
    return result.token


def test_a_signed_cookie_resumes_the_session_and_a_forged_one_does_not(ctx60: ServiceContext) -> None:
    token = _signed_in(ctx60)
    state = resume_session(ctx60, SessionToken(token))
    assert (state.reason, state.user.username, state.user.role) == ("ok", "desk9", "operator")
    secret = ctx60.data_dir / SECRET_FILE
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert token_of_cookie(ctx60, cookie_value(ctx60, token).replace(token, forged)) is None
    assert token_of_cookie(ctx60, "no-signature") is None
    assert resume_session(ctx60, SessionToken(forged)).reason == "unknown"
    wrong = sign_in(ctx60, SignIn("desk9", "wrong-password"))
    assert (wrong.auth.ok, wrong.token, wrong.cookie) == (False, None, None)


def test_expiry_and_idle_timeout(ctx60: ServiceContext) -> None:
    token = _signed_in(ctx60)
    now = dt.datetime.now(dt.UTC)
    idle = dt.timedelta(minutes=ctx60.config.session_idle_minutes)
    assert resume_session(ctx60, SessionToken(token), now=now + idle - dt.timedelta(minutes=1)).reason == "ok"
    # the check above touched it: idle counts from then
    later = now + 2 * idle - dt.timedelta(minutes=3)
    assert resume_session(ctx60, SessionToken(token), now=later).reason == "ok"
    assert (
        resume_session(ctx60, SessionToken(token), now=later + idle + dt.timedelta(seconds=1)).reason
        == "idle"
    )
    other = _signed_in(ctx60, "desk10")
    short = dataclasses.replace(ctx60, config=ctx60.config.replace(session_idle_minutes=10**6))
    end = dt.datetime.now(dt.UTC) + SESSION_LIFETIME + dt.timedelta(seconds=1)
    assert resume_session(short, SessionToken(other), now=end).reason == "expired"


def test_logout_role_change_deactivation_and_password_reset_end_sessions(ctx60: ServiceContext) -> None:
    token = _signed_in(ctx60)
    assert end_session(ctx60, SessionToken(token))
    assert resume_session(ctx60, SessionToken(token)).reason == "revoked"
    assert not end_session(ctx60, SessionToken(token))

    for change in (
        lambda: change_role(ctx60, RoleChange("desk9", "dispatcher")),
        lambda: deactivate_user(ctx60, UserRef("desk9")),
        lambda: reset_password(ctx60, PasswordReset("desk9", PASSWORD)),
    ):
        reactivate_user(ctx60, UserRef("desk9"))
        two = [sign_in(ctx60, SignIn("desk9", PASSWORD)).token for _ in range(2)]
        assert all(resume_session(ctx60, SessionToken(t)).reason == "ok" for t in two)
        change()
        reasons = {resume_session(ctx60, SessionToken(t)).reason for t in two}
        assert reasons <= {"revoked", "role_changed", "account_gone"}
        with ctx60.engine.connect() as conn:
            open_rows = conn.exec_driver_sql(
                "SELECT count(*) FROM web_sessions s JOIN users u USING (user_id) "
                "WHERE u.username = 'desk9' AND s.revoked_at IS NULL"
            ).scalar_one()
        assert open_rows == 0


def test_district_scope_unlock_and_one_message_for_a_locked_account(ctx60: ServiceContext) -> None:
    choices = scope_choices(ctx60)
    district = next(iter(choices.districts))
    created = create_user(ctx60, CreateUser("district1", "supervisor", district=district))
    assert created.password  # generated, shown once
    assert created.to_frame().iloc[0]["district"] == district
    with pytest.raises(ServiceError) as bad:
        create_user(ctx60, CreateUser("district2", "supervisor", district="nowhere"))
    assert bad.value.code == "not_a_district"
    user = sign_in(ctx60, SignIn("district1", created.password)).auth
    assert actor_of(user).district == district
    change_role(ctx60, RoleChange("district1", "supervisor"))
    assert list_users(ctx60).to_frame().set_index("username").loc["district1", "district"] is None

    for _ in range(5):
        sign_in(ctx60, SignIn("district1", "wrong-password"))
    assert sign_in(ctx60, SignIn("district1", created.password)).auth.reason == "locked"
    assert unlock_user(ctx60, UserRef("district1")).to_frame().iloc[0]["failed_logins"] == 0
    assert sign_in(ctx60, SignIn("district1", created.password)).auth.ok


def test_demo_accounts_per_department_and_a_district_supervisor(ctx60: ServiceContext) -> None:
    create_demo_users(ctx60, None)  # idempotent: the demo build made them already
    users = list_users(ctx60).to_frame().set_index("username")
    choices = scope_choices(ctx60)
    for department in choices.departments:
        row = users.loc[f"demo-dept-{department.lower()}"]
        assert (row["role"], row["department"]) == ("department", department)
    row = users.loc["demo-district-supervisor"]
    assert (row["role"], row["district"]) == ("supervisor", min(choices.districts))


def test_a_client_with_many_failed_logins_is_throttled(ctx60: ServiceContext) -> None:
    from services.sessions import THROTTLE_FAILURES

    create_user(ctx60, CreateUser("desk11", "operator", password=PASSWORD))
    for i in range(THROTTLE_FAILURES):
        # many accounts (unknown ones too): no single account reaches its lockout
        result = sign_in(ctx60, SignIn(f"guess{i % 7}", "wrong-password", client="10.0.0.9"))
        assert result.auth.reason == "unknown_user_or_password"
    refused = sign_in(ctx60, SignIn("desk11", PASSWORD, client="10.0.0.9"))
    assert (refused.auth.ok, refused.auth.reason, refused.token) == (False, "throttled", None)
    assert sign_in(ctx60, SignIn("desk11", PASSWORD, client="10.0.0.10")).auth.ok
