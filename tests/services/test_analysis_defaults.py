"""The analysis services decide the universe and the defaults: the stored areas' cells (else the case hull,
said so), the configured resolution, period and model."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from cases.db import init_db, make_engine
from cases.importing import import_cases
from cases.repository import cases_frame
from grid.cells import cell_resolution
from services.analysis import HotspotRequest, RecurringRequest, hotspots, recurring
from services.context import ServiceContext
from services.errors import ServiceError
from services.forecasting import ForecastRequest, forecast
from services.study import AnalysisFilters, planner_options

WEEKS = AnalysisFilters(start=dt.date(2025, 1, 6), end=dt.date(2025, 2, 2))


def test_defaults_come_from_the_city_configuration(ctx60: ServiceContext) -> None:
    result = hotspots(ctx60, HotspotRequest(WEEKS))
    assert result.study.kind == "areas"
    assert result.study.res == ctx60.config.analysis.resolution == 9
    assert (cell_resolution(result.to_frame()["cell"].to_numpy()) == 9).all()
    assert result.cube.period == "week"
    assert result.k == ctx60.config.analysis.hotspot_k
    coarse = dataclasses.replace(ctx60.config.analysis, resolution=8, period="day")
    ctx8 = ServiceContext(ctx60.engine, ctx60.config.replace(analysis=coarse), ctx60.data_dir)
    result8 = recurring(ctx8, RecurringRequest(WEEKS))
    assert result8.study.res == 8
    assert result8.n_periods == 28
    options = planner_options(ctx8)
    assert (options.resolution, options.periods[0]) == (8, "day")
    assert forecast(ctx60, ForecastRequest(WEEKS)).model == ctx60.config.patrol.forecast_model


def test_without_stored_areas_the_case_hull_is_the_universe(ctx60: ServiceContext, tmp_path: Path) -> None:
    """A store holding only cases (what ``--cases FILE`` builds): the cases' cells and k rings, said so."""
    cases = cases_frame(ctx60.engine)
    engine = make_engine(f"sqlite:///{tmp_path / 'cases-only.db'}")
    init_db(engine)
    csv = tmp_path / "cases.csv"
    frame = cases[["case_id", "source", "category_code", "lat", "lon"]]
    frame.assign(reported_at=cases["reported_at"].map(lambda t: t.isoformat())).to_csv(csv, index=False)
    import_cases(csv, engine)
    ctx = ServiceContext(engine, ctx60.config, tmp_path)
    result = hotspots(ctx, HotspotRequest(WEEKS, k=2))
    assert result.study.kind == "case_hull"
    assert result.study.rings == 2
    assert "no areas stored" in result.study.describe()
    with_areas = hotspots(ctx60, HotspotRequest(WEEKS, k=2))
    assert not np.array_equal(
        result.to_frame()["cell"].sort_values(), with_areas.to_frame()["cell"].sort_values()
    )
    engine.dispose()


def test_an_empty_store_and_an_unknown_model_are_service_errors(
    ctx60: ServiceContext, tmp_path: Path
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    init_db(engine)
    with pytest.raises(ServiceError) as info:
        planner_options(ServiceContext(engine, ctx60.config, tmp_path))
    assert info.value.code == "no_cases"
    engine.dispose()
    with pytest.raises(ServiceError) as info:
        forecast(ctx60, ForecastRequest(WEEKS, model="nope"))
    assert info.value.code == "unknown_model"
