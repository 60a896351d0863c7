"""Migrations run only in ``gridpatrol init``: every other entry point refuses an empty or older store with
that advice and changes nothing (:func:`cases.db.require_current_schema`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from click.testing import CliRunner

from app.cli import main
from cases.db import (
    SchemaOutOfDateError,
    alembic_config,
    head_revision,
    make_engine,
    require_current_schema,
    schema_revision,
)
from services.context import open_context


def _old_db(path: Path) -> str:
    """A SQLite database one migration behind the head; its URL."""
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    cfg = alembic_config(engine)
    previous = ScriptDirectory.from_config(cfg).get_revision(head_revision()).down_revision
    assert isinstance(previous, str)
    command.upgrade(cfg, previous)
    engine.dispose()
    return url


def test_empty_and_old_stores_are_refused_with_the_advice(tmp_path: Path) -> None:
    empty = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(
        SchemaOutOfDateError, match=r"has no GridPatrol schema: run `gridpatrol init`"
    ) as info:
        require_current_schema(empty)
    assert info.value.revision is None
    assert isinstance(info.value, RuntimeError)
    assert not (tmp_path / "empty.db").exists()  # nothing was created
    old = make_engine(_old_db(tmp_path / "old.db"))
    before = schema_revision(old)
    with pytest.raises(
        SchemaOutOfDateError, match=r"is at schema revision .+ needs .+: run `gridpatrol init`"
    ):
        require_current_schema(old)
    assert schema_revision(old) == before  # not migrated


def test_the_message_never_shows_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    import cases.db

    monkeypatch.setattr(cases.db, "schema_revision", lambda _engine: None)  # no server needed
    engine = make_engine("postgresql+psycopg://city:s3cret@db.local/gp")
    with pytest.raises(SchemaOutOfDateError) as info:
        require_current_schema(engine)
    assert "postgresql+psycopg://city@db.local/gp has no GridPatrol schema" in str(info.value)
    assert "s3cret" not in str(info.value)


@pytest.mark.parametrize("command_line", [["status"], ["users", "list"]])
def test_a_command_on_an_empty_or_old_store_says_run_init(tmp_path: Path, command_line: list[str]) -> None:
    runner = CliRunner()
    for url in (f"sqlite:///{tmp_path / 'empty.db'}", _old_db(tmp_path / "old.db")):
        result = runner.invoke(main, ["--db-url", url, *command_line])
        assert result.exit_code == 1, result.output
        assert "run `gridpatrol init`" in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)  # no traceback


def test_open_context_refuses_then_init_makes_the_store_current(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRIDPATROL_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("GRIDPATROL_CONFIG", raising=False)
    url = _old_db(tmp_path / "old.db")
    with pytest.raises(SchemaOutOfDateError, match="run `gridpatrol init`"):
        open_context(url)
    runner = CliRunner()
    result = runner.invoke(main, ["--db-url", url, "init"])
    assert result.exit_code == 0, result.output
    assert f"at schema revision {head_revision()}" in result.output
    assert open_context(url).engine.url.render_as_string() == url
    status = runner.invoke(main, ["--db-url", url, "status"])
    assert status.exit_code == 0, status.output


def test_a_migrated_store_is_accepted_on_sqlite_and_postgresql(store_engine) -> None:
    assert require_current_schema(store_engine) is store_engine
    assert schema_revision(store_engine) == head_revision()
    with store_engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'an-old-one'")
    with pytest.raises(SchemaOutOfDateError, match="is at schema revision an-old-one"):
        require_current_schema(store_engine)
