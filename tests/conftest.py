"""Fixtures shared by the whole suite: databases (SQLite always, PostgreSQL when available) and datasets."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cases.db import init_db, make_engine

REPO_ROOT = Path(__file__).resolve().parents[1]
#: The public datasets (``../shared/datasets`` beside the repository, or ``GRIDPATROL_DATASETS``, e.g. from a
#: git worktree elsewhere); a test that needs one skips with the reason when it is absent.
SHARED_DATASETS = Path(os.environ.get("GRIDPATROL_DATASETS") or REPO_ROOT.parent / "shared" / "datasets")
PG_URL_ENV = "GRIDPATROL_TEST_PG_URL"


def shared_dataset(name: str) -> Path:
    """Path of ``SHARED_DATASETS / name``; skips the test with the reason when it is absent."""
    path = SHARED_DATASETS / name
    if not path.exists():
        pytest.skip(f"dataset {name} not found at {path} (the shared datasets are not on this machine)")
    return path


def migrated_sqlite(path: Path) -> str:
    """The URL of a SQLite database at ``path`` migrated as ``gridpatrol init`` leaves it: every other command
    refuses a store without the current schema (:func:`cases.db.require_current_schema`)."""
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    init_db(engine)
    engine.dispose()
    return url


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """A fresh, migrated SQLite database in a temporary folder."""
    engine = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
    init_db(engine)
    yield engine
    engine.dispose()


def _reset_postgres(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))


@pytest.fixture
def pg_engine() -> Iterator[Engine]:
    """A fresh, migrated PostgreSQL database from ``GRIDPATROL_TEST_PG_URL``.

    Skips where no server is configured (a developer's machine); fails in CI, where ``.ci/run`` starts one.
    """
    url = os.environ.get(PG_URL_ENV)
    if not url:
        reason = f"{PG_URL_ENV} is not set (start a server with: export {PG_URL_ENV}=$(bash .ci/postgres.sh))"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    engine = make_engine(url)
    _reset_postgres(engine)
    init_db(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_engine(request: pytest.FixtureRequest) -> Engine:
    """The same test on SQLite and on PostgreSQL."""
    name = "sqlite_engine" if request.param == "sqlite" else "pg_engine"
    return request.getfixturevalue(name)
