"""Database connection: SQLite by default (WAL mode), PostgreSQL through ``GRIDPATROL_DB_URL``.

The URL is resolved in this order: the ``url`` argument, the ``GRIDPATROL_DB_URL`` environment variable,
then ``sqlite:///<data dir>/gridpatrol.db`` where the data directory is ``GRIDPATROL_DATA_DIR`` or
``./data``. The schema is created and upgraded by Alembic (``init_db``), never by ``create_all`` in
production code, so a city's database can be migrated in place when the schema grows. Only
``gridpatrol init`` (and ``make demo``, which runs it) migrates; every other command, the app and the
services open the store through :func:`require_current_schema`, which refuses an empty or older database
with that advice instead of changing it.
"""

from __future__ import annotations

import functools
import os
import sqlite3
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from grid.config import DATA_DIR_ENV, data_dir

DB_URL_ENV = "GRIDPATROL_DB_URL"
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
__all__ = [
    "DATA_DIR_ENV",
    "DB_URL_ENV",
    "SchemaOutOfDateError",
    "data_dir",
    "database_url",
    "head_revision",
    "init_db",
    "make_engine",
    "require_current_schema",
    "schema_revision",
]


def database_url(url: str | None = None) -> str:
    """The database URL to use: the argument, ``GRIDPATROL_DB_URL``, or SQLite in the data directory."""
    if url:
        return url
    env = os.environ.get(DB_URL_ENV)
    if env:
        return env
    return f"sqlite:///{(data_dir() / 'gridpatrol.db').as_posix()}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the app read while an import writes; foreign keys are off by default in SQLite.
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
    except sqlite3.OperationalError as exc:
        # a large import runs with a rollback journal (cases.bulk.bulk_journal) and switches back to WAL
        # when it ends; meanwhile this connection reads in rollback mode, then follows the file into WAL
        if "locked" not in str(exc):
            raise
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` (see module docstring); SQLite gets WAL mode and foreign keys."""
    resolved = database_url(url)
    if resolved.startswith("sqlite"):
        db_path = resolved.split("///", 1)[-1]
        if db_path and db_path != ":memory:":
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(resolved, **kwargs)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration that migrates ``engine``'s database with the packaged migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def init_db(engine: Engine) -> None:
    """Create or upgrade the schema to the latest migration (idempotent)."""
    command.upgrade(alembic_config(engine), "head")


def schema_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at, or ``None`` for an empty database."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one_or_none()


class SchemaOutOfDateError(RuntimeError):
    """The database has no GridPatrol schema, or not the revision this GridPatrol needs: the message says
    to run ``gridpatrol init`` (the one command that migrates)."""

    def __init__(self, url: str, revision: str | None, head: str) -> None:
        self.url = url
        self.revision = revision
        self.head = head
        if revision is None:
            msg = f"the database at {url} has no GridPatrol schema: run `gridpatrol init`"
        else:
            msg = (
                f"the database at {url} is at schema revision {revision}, this GridPatrol needs {head}: "
                "run `gridpatrol init`"
            )
        super().__init__(msg)


@functools.cache
def head_revision() -> str:
    """The newest schema revision of the packaged migrations (what :func:`init_db` upgrades to)."""
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    if head is None:  # pragma: no cover - the package ships its migrations
        raise RuntimeError(f"no migrations under {MIGRATIONS_DIR}")
    return head


def require_current_schema(engine: Engine) -> Engine:
    """``engine`` if its database is at :func:`head_revision`, else :class:`SchemaOutOfDateError`.

    Read-only: nothing is created or migrated (that is ``gridpatrol init``'s job). The error's URL has no
    password.
    """
    head = head_revision()
    file = engine.url.database if engine.dialect.name == "sqlite" else None
    if file and file != ":memory:" and not file.startswith("file:") and not Path(file).exists():
        revision = None  # a new SQLite file: connecting would create it
    else:
        revision = schema_revision(engine)
    if revision != head:
        url = engine.url._replace(password=None).render_as_string(hide_password=False)
        raise SchemaOutOfDateError(url, revision, head)
    return engine
