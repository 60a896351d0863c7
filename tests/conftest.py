"""Fixtures shared by the whole suite: databases (SQLite always, PostgreSQL when available) and datasets."""

from __future__ import annotations

import os
import shutil
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


#: The 60-day demo city of the parity, page and no-traceback tests (Wed 2025-01-01 … Sun 2025-03-01,
#: 150 cases a day on 16 km², 12 inspectors, tracks included).
DEMO60_CONFIG = {
    "days": 60, "n_inspectors": 12, "cases_per_day": 150.0, "area_km2": 16.0, "n_subdistricts": 6,
    "n_communities": 20,
}  # fmt: skip


@pytest.fixture(scope="session")
def demo60_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The simulated and loaded 60-day city's data folder, built once per session (read-only: copy it
    with :func:`use_data_copy`)."""
    from sim.config import DemoConfig
    from sim.load import load_demo
    from sim.run import simulate

    folder = tmp_path_factory.mktemp("demo60")
    out = folder / "geo" / "demo"
    simulate(DemoConfig(**DEMO60_CONFIG), out)
    engine = make_engine(f"sqlite:///{(folder / 'gridpatrol.db').as_posix()}")
    init_db(engine)
    load_demo(out, engine)
    engine.dispose()
    return folder


def use_data_copy(template: Path, target: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Copy the data folder ``template`` to ``target`` and make it the app's and the CLI's
    (``GRIDPATROL_DATA_DIR``; no ``GRIDPATROL_DB_URL`` or zone override; tiles off); returns ``target``."""
    shutil.copytree(template, target, symlinks=True)
    monkeypatch.setenv("GRIDPATROL_DATA_DIR", str(target))
    monkeypatch.delenv("GRIDPATROL_DB_URL", raising=False)
    monkeypatch.delenv("GRIDPATROL_TIMEZONE", raising=False)
    monkeypatch.setenv("GRIDPATROL_TILES", "none")
    return target
