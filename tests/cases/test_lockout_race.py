"""The lockout holds under parallel wrong passwords (issue 25): every attempt is counted by one atomic
``UPDATE … RETURNING``, the account is locked, and a correct password after the race is refused with the
same answer as a wrong one would get."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cases.models import User
from cases.users import LOCKOUT, MAX_FAILED_LOGINS, authenticate, create_user, unlock

PASSWORD = "race-password-1"
ATTEMPTS = 50


def test_fifty_parallel_wrong_passwords_lock_the_account(store_engine: Engine) -> None:
    create_user(store_engine, "target", "manager", password=PASSWORD)
    t0 = dt.datetime.now(dt.UTC)
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(
            pool.map(lambda i: authenticate(store_engine, "target", f"wrong-{i:04d}"), range(ATTEMPTS))
        )
    assert not any(r.ok for r in results)
    with store_engine.connect() as conn:
        locked_until, failed = conn.execute(
            sa.select(User.locked_until, User.failed_logins).where(User.username == "target")
        ).one()
    assert locked_until is not None
    assert t0 + LOCKOUT <= locked_until <= dt.datetime.now(dt.UTC) + LOCKOUT
    # every attempt that got past the lock check was counted: at least one lock, no lost increment
    counted = sum(r.reason == "unknown_user_or_password" for r in results)
    assert counted >= MAX_FAILED_LOGINS - 1
    assert failed < MAX_FAILED_LOGINS
    after = authenticate(store_engine, "target", PASSWORD)
    assert (after.ok, after.reason) == (False, "locked")
    unlock(store_engine, "target")
    assert authenticate(store_engine, "target", PASSWORD).ok


def test_every_parallel_failure_is_counted(store_engine: Engine) -> None:
    create_user(store_engine, "counted", "planner", password=PASSWORD)
    n = MAX_FAILED_LOGINS - 1
    with ThreadPoolExecutor(max_workers=n) as pool:
        list(pool.map(lambda i: authenticate(store_engine, "counted", f"wrong-{i}"), range(n)))
    with store_engine.connect() as conn:
        failed = conn.execute(sa.select(User.failed_logins).where(User.username == "counted")).scalar_one()
    assert failed == n  # none lost to a read-modify-write race
    assert not authenticate(store_engine, "counted", "one-more-wrong").ok
    assert authenticate(store_engine, "counted", PASSWORD).reason == "locked"
