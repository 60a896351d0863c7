"""Fixtures of the analytics tests: a demo city (simulated once per session) and its truth tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from grid.cells import strings_to_cells
from sim.config import DemoConfig
from sim.run import simulate

#: 20 weeks (Wed 2025-01-01 … Tue 2025-05-20), 200 cases a day on 25 km² (~2,200 res-10 cells); ~30 s.
CITY = DemoConfig(
    days=140, n_inspectors=20, cases_per_day=200.0, area_km2=25.0, n_subdistricts=8, n_communities=30
)
#: Full ISO weeks of the simulated period (Monday … Sunday).
FULL_WEEKS = ("2025-01-06", "2025-05-18")


@pytest.fixture(scope="session")
def city_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("analytics_city")
    simulate(CITY, out)
    return out


@pytest.fixture(scope="session")
def city_cases(city_dir: Path) -> pd.DataFrame:
    return pd.read_parquet(city_dir / "cases" / "cases.parquet")


@pytest.fixture(scope="session")
def city_grid(city_dir: Path) -> pd.DataFrame:
    return pd.read_parquet(city_dir / "geo" / "cells.parquet", columns=["cell", "district"])


@pytest.fixture(scope="session")
def city_truth(city_dir: Path) -> pd.DataFrame:
    truth = pd.read_csv(city_dir / "truth" / "hotspot_cells.csv", dtype=str)
    return truth.assign(cell=strings_to_cells(truth["cell"].to_numpy()))
