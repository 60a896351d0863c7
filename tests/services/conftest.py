"""The 60-day demo city every parity test runs on: simulated and loaded once per session.

``demo60`` is a data folder (``GRIDPATROL_DATA_DIR``) with the SQLite store and the tracks, as ``make demo``
would leave it for a 60-day city; ``ctx60`` is a :class:`services.context.ServiceContext` on it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from cases.db import init_db, make_engine
from grid.config import load_city_config
from services.context import ServiceContext
from sim.config import DemoConfig
from sim.load import load_demo
from sim.run import simulate

#: 60 days (Wed 2025-01-01 … Sun 2025-03-01), 150 cases a day on 16 km², 12 inspectors.
DEMO60 = DemoConfig(
    days=60, n_inspectors=12, cases_per_day=150.0, area_km2=16.0, n_subdistricts=6, n_communities=20
)


@pytest.fixture(scope="session")
def demo60_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The simulated and loaded 60-day city (read-only: copy it with ``demo60``)."""
    folder = tmp_path_factory.mktemp("demo60")
    out = folder / "geo" / "demo"
    simulate(DEMO60, out)
    engine = make_engine(f"sqlite:///{(folder / 'gridpatrol.db').as_posix()}")
    init_db(engine)
    load_demo(out, engine)
    engine.dispose()
    return folder


@pytest.fixture
def demo60(demo60_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the 60-day city's data folder, set as ``GRIDPATROL_DATA_DIR`` (database in it)."""
    folder = tmp_path / "data"
    shutil.copytree(demo60_template, folder, symlinks=True)
    monkeypatch.setenv("GRIDPATROL_DATA_DIR", str(folder))
    monkeypatch.delenv("GRIDPATROL_DB_URL", raising=False)
    monkeypatch.delenv("GRIDPATROL_TIMEZONE", raising=False)
    monkeypatch.setenv("GRIDPATROL_TILES", "none")
    return folder


@pytest.fixture
def ctx60(demo60: Path) -> Iterator[ServiceContext]:
    """A system context on the 60-day city."""
    engine = make_engine(f"sqlite:///{(demo60 / 'gridpatrol.db').as_posix()}")
    yield ServiceContext(engine=engine, config=load_city_config(), data_dir=demo60)
    engine.dispose()
