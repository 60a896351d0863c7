"""Database connection: SQLite by default (WAL mode), PostgreSQL through ``GRIDPATROL_DB_URL``.

The URL is resolved in this order: the ``url`` argument, the ``GRIDPATROL_DB_URL`` environment variable,
then ``sqlite:///<data dir>/gridpatrol.db`` where the data directory is ``GRIDPATROL_DATA_DIR`` or
``./data``. The schema is created and upgraded by Alembic (``init_db``), never by ``create_all`` in
production code, so a city's database can be migrated in place when the schema grows.
"""

from __future__ import annotations

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
    "data_dir",
    "database_url",
    "init_db",
    "make_engine",
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
