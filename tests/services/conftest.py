"""The 60-day demo city every parity test runs on: simulated and loaded once per session.

``demo60`` is a data folder (``GRIDPATROL_DATA_DIR``) with the SQLite store and the tracks, as ``make demo``
would leave it for a 60-day city; ``ctx60`` is a :class:`services.context.ServiceContext` on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cases.db import make_engine
from grid.config import load_city_config
from services.context import ServiceContext
from tests.conftest import use_data_copy


@pytest.fixture
def demo60(demo60_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the 60-day city's data folder, set as ``GRIDPATROL_DATA_DIR`` (database in it)."""
    return use_data_copy(demo60_template, tmp_path / "data", monkeypatch)


@pytest.fixture
def ctx60(demo60: Path) -> Iterator[ServiceContext]:
    """A system context on the 60-day city."""
    engine = make_engine(f"sqlite:///{(demo60 / 'gridpatrol.db').as_posix()}")
    yield ServiceContext(engine=engine, config=load_city_config(), data_dir=demo60)
    engine.dispose()
