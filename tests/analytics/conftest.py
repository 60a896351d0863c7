"""Fixtures of the analytics tests: a 20-week test city and the full demo year, each simulated once."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim.config import DemoConfig
from sim.run import simulate

#: 20 weeks (Wed 2025-01-01 … Tue 2025-05-20), 200 cases a day on 25 km² (~2,200 res-10 cells); ~30 s.
CITY = DemoConfig(
    days=140, n_inspectors=20, cases_per_day=200.0, area_km2=25.0, n_subdistricts=8, n_communities=30
)
#: The demo city of ``make demo`` (every default: one year, 600 cases a day on 100 km²); ~30 s, ~0.9 GB.
YEAR = DemoConfig()
#: Its full ISO weeks (2025-W02 … 2025-W52).
YEAR_WEEKS = ("2025-01-06", "2025-12-28")


@pytest.fixture(scope="session")
def city_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("analytics_city")
    simulate(CITY, out)
    return out


@pytest.fixture(scope="session")
def year_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo_year")
    simulate(YEAR, out)
    return out


@pytest.fixture(scope="session")
def city_cases(city_dir: Path) -> pd.DataFrame:
    return pd.read_parquet(city_dir / "cases" / "cases.parquet")


@pytest.fixture(scope="session")
def city_grid(city_dir: Path) -> pd.DataFrame:
    return pd.read_parquet(city_dir / "geo" / "cells.parquet", columns=["cell", "district"])
