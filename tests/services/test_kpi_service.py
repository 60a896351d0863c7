"""The KPI service on the 60-day demo city: groupings, the city's scoring table and time zone, roles."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from services.context import Actor, ServiceContext
from services.errors import NotAllowedError, ServiceError
from services.kpi import DashboardRequest, KpiRequest, dashboard, kpi_table, recent_cases

START, END = dt.date(2025, 1, 6), dt.date(2025, 2, 9)


def test_every_grouping_adds_up_to_the_cohort(ctx60: ServiceContext) -> None:
    total = kpi_table(ctx60, KpiRequest(by=None, start=START, end=END)).to_frame().iloc[0]
    for by in ("department", "inspector", "category", "district"):
        table = kpi_table(ctx60, KpiRequest(by=by, start=START, end=END)).to_frame()
        assert table["should_close"].sum() == total["should_close"], by
    people = kpi_table(ctx60, KpiRequest(by="inspector", start=START, end=END)).to_frame()
    assert {"inspector_score", "inspector_grade"} <= set(people.columns)


def test_the_citys_scoring_table_and_time_zone_apply(ctx60: ServiceContext, tmp_path: Path) -> None:
    request = KpiRequest(by="department", start=START, end=END)
    shipped = kpi_table(ctx60, request).to_frame().set_index("department")
    strict = tmp_path / "scoring.toml"
    strict.write_text(
        "[grades]\nA = 99.9\nB = 99.0\nC = 98.0\nD = 97.0\n"
        "[department]\nweights = { on_time_closure_rate = 1.0 }\n",
        encoding="utf-8",
    )
    city = dataclasses.replace(ctx60, config=ctx60.config.replace(kpi_scoring=str(strict)))
    scored = kpi_table(city, request).to_frame().set_index("department")
    assert not shipped["score"].equals(scored["score"])
    assert (scored["grade"] >= shipped.loc[scored.index, "grade"]).all()  # stricter grades
    far = dataclasses.replace(ctx60, config=ctx60.config.replace(timezone="America/New_York"))
    moved = kpi_table(far, KpiRequest(by=None, start=START, end=END)).to_frame()
    here = kpi_table(ctx60, KpiRequest(by=None, start=START, end=END)).to_frame()
    assert int(moved["cases"].iloc[0]) != int(here["cases"].iloc[0])  # the local days shift by 13 h


def test_dashboard_series_and_roles(ctx60: ServiceContext) -> None:
    result = dashboard(ctx60, DashboardRequest(START, END))
    assert pd.to_datetime(result.to_frame()["month"]).dt.month.tolist() == [1, 2]
    assert int(result.overall["cases"].iloc[0]) == int(result.trend["cases"].sum())
    assert len(recent_cases(ctx60).daily) == 28
    inspector = ctx60.as_actor(Actor("i", "inspector", inspector_id="NT0001"))
    with pytest.raises(NotAllowedError):
        kpi_table(inspector, KpiRequest())
    with pytest.raises(ServiceError) as bad:
        kpi_table(ctx60, KpiRequest(by="street"))
    assert bad.value.code == "bad_request"
