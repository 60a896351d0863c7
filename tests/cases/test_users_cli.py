"""``gridpatrol users disable|enable|passwd|role|unlock`` and the demo users file (mode 0600)."""

from __future__ import annotations

import stat

from click.testing import CliRunner

from app.cli import main
from cases.db import make_engine
from cases.users import MAX_FAILED_LOGINS, authenticate, create_user
from tests.conftest import migrated_sqlite

PASSWORD = "cli-password-1"


def test_disable_enable_passwd_role_and_unlock(tmp_path) -> None:
    url = migrated_sqlite(tmp_path / "u.db")
    engine = make_engine(url)
    create_user(engine, "clerk", "operator", password=PASSWORD)
    runner = CliRunner()

    def run(*args: str):
        result = runner.invoke(main, ["--db-url", url, "users", *args])
        assert result.exit_code == 0, result.output
        return result.output

    assert "disabled clerk" in run("disable", "clerk")
    assert authenticate(engine, "clerk", PASSWORD).reason == "inactive"
    assert "enabled clerk" in run("enable", "clerk")
    assert authenticate(engine, "clerk", PASSWORD).ok

    new = run("passwd", "clerk").strip().rsplit(" ", 1)[-1]
    assert not authenticate(engine, "clerk", PASSWORD).ok
    assert authenticate(engine, "clerk", new).ok

    assert "clerk is now dispatcher" in run("role", "clerk", "--role", "dispatcher")
    assert authenticate(engine, "clerk", new).role == "dispatcher"

    for _ in range(MAX_FAILED_LOGINS):
        authenticate(engine, "clerk", "wrong-password")
    assert authenticate(engine, "clerk", new).reason == "locked"
    assert "unlocked clerk" in run("unlock", "clerk")
    assert authenticate(engine, "clerk", new).ok

    missing = runner.invoke(main, ["--db-url", url, "users", "disable", "nobody"])
    assert missing.exit_code == 1
    assert "there is no user 'nobody'" in missing.output
    district = runner.invoke(main, ["--db-url", url, "users", "role", "clerk", "--role", "supervisor",
                                    "--district", "nowhere"])  # fmt: skip
    assert district.exit_code == 1
    assert "not a stored district" in district.output


def test_the_demo_users_file_is_readable_by_its_owner_only(tmp_path) -> None:
    url = migrated_sqlite(tmp_path / "d.db")
    out = tmp_path / "demo-users.txt"
    out.write_text("", encoding="utf-8")
    out.chmod(0o644)  # an older file with a wider mode is narrowed
    result = CliRunner().invoke(main, ["--db-url", url, "users", "demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert "demo-admin" in out.read_text(encoding="utf-8")
