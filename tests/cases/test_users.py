"""Users: hashing, lockout, roles, phone masking."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.engine import Engine

from app.cli import main
from cases.models import User
from cases.users import (
    LOCKOUT,
    MAX_FAILED_LOGINS,
    UserError,
    authenticate,
    create_user,
    list_users,
    mask_phone,
)
from tests.conftest import migrated_sqlite


def test_passwords_are_stored_hashed(store_engine: Engine) -> None:
    create_user(store_engine, "planner1", "planner", password="correct horse")
    with store_engine.connect() as conn:
        stored = conn.execute(sa.select(User.password_hash)).scalar_one()
    assert "correct horse" not in stored
    assert stored.startswith("$argon2id$")
    assert authenticate(store_engine, "planner1", "correct horse").ok
    result = authenticate(store_engine, "planner1", "wrong password")
    assert (result.ok, result.reason) == (False, "unknown_user_or_password")


def test_deactivate_role_change_and_reset_read_back_by_id(store_engine: Engine) -> None:
    from cases import repository_people
    from cases.users import get_user, reset_password, set_active, set_role

    create_user(store_engine, "desk1", "operator", password="s3cret-pass")
    user_id = authenticate(store_engine, "desk1", "s3cret-pass").user_id
    assert user_id is not None
    set_role(store_engine, "desk1", "department", department="D-HW")
    assert (get_user(store_engine, user_id).role, get_user(store_engine, user_id).department) == (
        "department",
        "D-HW",
    )
    set_active(store_engine, "desk1", False)
    assert get_user(store_engine, user_id) is None
    assert authenticate(store_engine, "desk1", "s3cret-pass").reason == "inactive"
    assert not repository_people.users_frame(store_engine)["active"].iloc[0]
    set_active(store_engine, "desk1", True)
    new = reset_password(store_engine, "desk1")
    assert authenticate(store_engine, "desk1", new).ok
    with pytest.raises(UserError):
        set_role(store_engine, "nobody", "planner")


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(store_engine: Engine) -> None:
    result = authenticate(store_engine, "nobody", "whatever1")
    assert (result.ok, result.reason) == (False, "unknown_user_or_password")


def test_lockout_after_repeated_failures_and_release(store_engine: Engine) -> None:
    create_user(store_engine, "mgr", "manager", password="s3cret-pass")
    t0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    for _ in range(MAX_FAILED_LOGINS):
        assert not authenticate(store_engine, "mgr", "bad-pass-1", now=t0).ok
    locked = authenticate(store_engine, "mgr", "s3cret-pass", now=t0 + dt.timedelta(minutes=1))
    assert (locked.ok, locked.reason) == (False, "locked")
    assert locked.locked_until == t0 + LOCKOUT
    released = authenticate(store_engine, "mgr", "s3cret-pass", now=t0 + LOCKOUT + dt.timedelta(seconds=1))
    assert released.ok
    assert released.role == "manager"


def test_a_success_resets_the_failure_count(store_engine: Engine) -> None:
    create_user(store_engine, "op1", "operator", password="s3cret-pass")
    for _ in range(MAX_FAILED_LOGINS - 1):
        authenticate(store_engine, "op1", "bad-pass-1")
    assert authenticate(store_engine, "op1", "s3cret-pass").ok
    for _ in range(MAX_FAILED_LOGINS - 1):
        authenticate(store_engine, "op1", "bad-pass-1")
    assert authenticate(store_engine, "op1", "s3cret-pass").ok


@pytest.mark.parametrize(
    ("username", "role", "kwargs", "message"),
    [
        ("x", "planner", {}, "3-64 characters"),
        ("bad name", "planner", {}, "3-64 characters"),
        ("okname", "wizard", {}, "not one of"),
        ("insp", "inspector", {}, "needs --inspector"),
        ("short", "planner", {"password": "1234567"}, "at least 8"),
    ],
)
def test_invalid_users_are_refused(
    sqlite_engine: Engine, username: str, role: str, kwargs: dict, message: str
) -> None:
    with pytest.raises(UserError, match=message):
        create_user(sqlite_engine, username, role, **kwargs)


def test_duplicate_username_is_refused(sqlite_engine: Engine) -> None:
    create_user(sqlite_engine, "admin1", "admin")
    with pytest.raises(UserError, match="exists already"):
        create_user(sqlite_engine, "admin1", "admin")


def test_generated_passwords_work_and_differ(sqlite_engine: Engine) -> None:
    p1 = create_user(sqlite_engine, "user1", "planner")
    p2 = create_user(sqlite_engine, "user2", "planner")
    assert p1 != p2
    assert len(p1) >= 12
    assert authenticate(sqlite_engine, "user1", p1).ok
    assert [u["username"] for u in list_users(sqlite_engine)] == ["user1", "user2"]


@pytest.mark.parametrize(
    ("phone", "role", "expected"),
    [
        ("13812345678", "planner", "138****5678"),
        ("13812345678", "inspector", "138****5678"),
        ("13812345678", "operator", "13812345678"),
        ("85123456", "manager", "****3456"),
        ("123", "manager", "***"),
        (None, "manager", None),
    ],
)
def test_phone_masking(phone: str | None, role: str, expected: str | None) -> None:
    assert mask_phone(phone, role) == expected


def test_cli_users_add_and_list(tmp_path) -> None:
    url = migrated_sqlite(tmp_path / "u.db")
    runner = CliRunner()
    added = runner.invoke(main, ["--db-url", url, "users", "add", "chief", "--role", "manager"])
    assert added.exit_code == 0, added.output
    password = added.output.strip().rsplit(" ", 1)[-1]
    listed = runner.invoke(main, ["--db-url", url, "users", "list"])
    assert "chief" in listed.output
    assert "manager" in listed.output
    bad = runner.invoke(main, ["--db-url", url, "users", "add", "chief", "--role", "manager"])
    assert bad.exit_code == 1
    assert "exists already" in bad.output
    from cases.db import make_engine

    assert authenticate(make_engine(url), "chief", password).ok


def test_demo_users_one_per_role_created_once(tmp_path) -> None:
    url = migrated_sqlite(tmp_path / "d.db")
    out = tmp_path / "demo-users.txt"
    runner = CliRunner()
    first = runner.invoke(main, ["--db-url", url, "users", "demo", "--out", str(out)])
    assert first.exit_code == 0, first.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert [line.split()[0] for line in lines] == [
        "demo-admin",
        "demo-manager",
        "demo-planner",
        "demo-supervisor",
        "demo-operator",
        "demo-dispatcher",
    ]  # no inspector account without an inspector
    second = runner.invoke(main, ["--db-url", url, "users", "demo", "--out", str(out)])
    assert second.exit_code == 0
    assert out.read_text(encoding="utf-8").splitlines() == lines
    from cases.db import make_engine

    engine = make_engine(url)
    for line in lines:
        username, password = line.split()
        assert authenticate(engine, username, password).ok


def test_mask_phone_treats_missing_values_from_a_frame_as_no_phone() -> None:
    """A task list built with pandas has NaN / NA where a case has no phone (the demo city's patrol finds)."""
    import pandas as pd

    from cases.users import mask_phone

    for missing in (float("nan"), pd.NA, None):
        assert mask_phone(missing, "inspector") is None
    assert mask_phone("13812345678", "inspector") == "138****5678"
