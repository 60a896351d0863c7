"""One small simulated city per session (56 days, 20 inspectors, 150 cases a day), written to a tmp dir."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.config import DemoConfig
from sim.run import DemoCity, simulate

SMALL = DemoConfig(
    days=56, n_inspectors=20, cases_per_day=150.0, area_km2=25.0, n_subdistricts=8, n_communities=30
)


@pytest.fixture(scope="session")
def small_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo")


@pytest.fixture(scope="session")
def city(small_out: Path) -> DemoCity:
    return simulate(SMALL, small_out)
