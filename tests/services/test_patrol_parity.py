"""One answer per patrol question: the CLI's file, the page's table and the service's result agree.

On the 60-day demo city (``demo60``: 12 inspectors holding every cell, tracks on working days), for
coverage (per inspector and the neglected cells), beats, staffing, an inspector's route and effectiveness.
The page runs as a manager (Coverage, Deployment) or as inspector NT0001 (My grid) through AppTest.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from pandas.testing import assert_frame_equal
from streamlit.testing.v1 import AppTest

from app.cli import main
from cases.db import make_engine
from cases.users import create_user
from services.context import ServiceContext
from services.coverage import (
    CoverageRequest,
    EffectivenessRequest,
    coverage_report,
    effectiveness,
    track_span,
)
from services.deployment import BeatsRequest, RouteRequest, StaffingRequest, beats_plan, route, staffing

APP = str(Path(__file__).resolve().parents[2] / "app" / "streamlit_app.py")
PASSWORD = "parity-password-1"
INSPECTOR = "NT0001"


@pytest.fixture
def users(demo60: Path) -> dict[str, str]:
    """A manager and an inspector (linked to NT0001) on the 60-day city; role → username."""
    engine = make_engine(f"sqlite:///{(demo60 / 'gridpatrol.db').as_posix()}")
    create_user(engine, "manager60", "manager", password=PASSWORD)
    create_user(engine, "inspector60", "inspector", password=PASSWORD, inspector_id=INSPECTOR)
    engine.dispose()
    return {"manager": "manager60", "inspector": "inspector60"}


def _page(username: str, page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.text_input[0].input(username)
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    at.run()
    at.switch_page(f"views/{page}.py").run()
    assert not at.exception, at.exception
    return at


def _cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _table(at: AppTest, *columns: str) -> pd.DataFrame:
    """The page's first data frame with ``columns``."""
    return next(d.value for d in at.dataframe if set(columns) <= set(d.value.columns))


def _plain(frame: pd.DataFrame, tz: str) -> pd.DataFrame:
    """Comparable values: text as objects (missing or empty: None), times in the city's zone, no index;
    infinite numbers as missing (a page shows them as missing, :func:`app.tables.displayable`)."""
    out = pd.DataFrame(frame).reset_index(drop=True).copy()
    for column in out.columns:
        values = out[column]
        if pd.api.types.is_float_dtype(values.dtype):
            out[column] = values.where(~values.isin([np.inf, -np.inf]))
        elif isinstance(values.dtype, pd.DatetimeTZDtype):
            out[column] = values.dt.tz_convert(tz)
        elif values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
            kept = values.notna().to_numpy() & (values.astype(object) != "").to_numpy()
            out[column] = values.astype(object).where(kept, None)  # CSV reads "" as missing
    return out


def _same(tz: str, service: pd.DataFrame, *others: pd.DataFrame) -> None:
    expected = _plain(service, tz)
    for other in others:
        got = _plain(other, tz)[list(expected.columns)]
        assert_frame_equal(got, expected, check_dtype=False, check_exact=False, rtol=1e-12)


def _span(ctx: ServiceContext) -> tuple[dt.date, dt.date]:
    """The Coverage page's default range: the last 7 days with tracks."""
    first, last = track_span(ctx)
    return max(first, last - dt.timedelta(days=6)), last


def test_coverage_and_effectiveness_parity(ctx60: ServiceContext, users: dict, tmp_path: Path) -> None:
    start, end = _span(ctx60)
    at = _page(users["manager"], "coverage")
    assert not at.warning, at.warning[0].value
    report = coverage_report(ctx60, CoverageRequest(start, end))
    kpis = tmp_path / "kpis.parquet"
    _cli("coverage", "--from", f"{start}", "--to", f"{end}", "--by", "inspector", "--out", str(kpis))
    _same(ctx60.timezone, report.kpis, pd.read_parquet(kpis), _table(at, "coverage_share", "visited_cells"))
    neglected = tmp_path / "neglect.parquet"
    _cli("coverage", "--from", f"{start}", "--to", f"{end}", "--by", "neglect", "--out", str(neglected))
    cli = pd.DataFrame(gpd.read_parquet(neglected).drop(columns="geometry"))
    _same(ctx60.timezone, report.neglect, cli)
    shown = report.neglect.sort_values("days_since_visit", ascending=False)
    _same(ctx60.timezone, shown[shown["neglected"]], _table(at, "days_since_visit", "neglected"))

    result = effectiveness(ctx60, EffectivenessRequest(start, end))
    assert result.tracks_found
    eff = tmp_path / "eff.parquet"
    _cli("effectiveness", "--from", f"{start}", "--to", f"{end}", "--out", str(eff))
    _same(ctx60.timezone, result.to_frame(), pd.read_parquet(eff), _table(at, "discovery_rate", "inspector"))
    gap = result.gap.drop(columns="geometry").sort_values("gap", ascending=False)
    _same(ctx60.timezone, gap, _table(at, "expected_share", "patrol_share", "status"))


def test_beats_and_staffing_parity(ctx60: ServiceContext, users: dict, tmp_path: Path) -> None:
    at = _page(users["manager"], "deployment")
    plan = beats_plan(ctx60, BeatsRequest())
    assert plan.n_beats == 12  # one beat per inspector holding cells
    out = tmp_path / "beats.csv"
    _cli("beats", "--out", str(out))
    cli = pd.read_csv(out, dtype={"h3": str, "district": str})
    _same(ctx60.timezone, plan.to_frame(), cli, _table(at, "beat", "h3", "workload_min"))
    _same(ctx60.timezone, plan.beats, _table(at, "n_cells", "contiguous"))

    result = staffing(ctx60, StaffingRequest(n_inspectors=12))
    out = tmp_path / "staffing.csv"
    _cli("staffing", "--out", str(out))
    side = pd.read_csv(tmp_path / "staffing-what-if.csv")
    _same(ctx60.timezone, result.what_if, side, _table(at, "weekly_share", "inspectors"))
    table = pd.read_csv(out, dtype={"district": str})
    _same(ctx60.timezone, result.to_frame(), table)


def test_route_parity(ctx60: ServiceContext, users: dict, tmp_path: Path) -> None:
    day = track_span(ctx60)[1]  # My grid's default day: the last day with tracks
    at = _page(users["inspector"], "my_grid")
    at.button(key="suggest_route").click().run()
    assert not at.exception
    assert not at.warning
    result = route(ctx60, RouteRequest(date=day, inspector_id=INSPECTOR))
    out = tmp_path / "route.csv"
    _cli("route", "--inspector", INSPECTOR, "--date", f"{day}", "--budget", "4h", "--out", str(out))
    cli = pd.read_csv(out, dtype={"h3": str, "case_ids": str})
    cli["arrival"] = pd.to_datetime(cli["arrival"], utc=True)
    stops = result.to_frame()
    assert len(stops) > 5
    assert stops["cell"].isin(_cells_of(ctx60, day)).all()
    page = _table(at, "why", "case_ids")
    assert page["why"].str.len().gt(0).all()  # the page says why in the page's language (Chinese here)
    _same(ctx60.timezone, stops, cli, page.assign(why=stops["why"]))  # the stops themselves are the same


def _cells_of(ctx: ServiceContext, day: dt.date) -> np.ndarray:
    from services.field import my_cells

    return my_cells(ctx, INSPECTOR, day)
