"""One answer per question: the CLI's file, the page's table and the service's result are the same table.

On the 60-day demo city (``demo60``: areas stored, so the universe is the areas' cells at the requested
resolution), for hot spots, recurring, emerging, forecast and backtest; and a changed ``timezone`` in
``gridpatrol.toml`` moves the CLI's and the page's periods alike.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from pandas.testing import assert_frame_equal
from streamlit.testing.v1 import AppTest

from app.cli import main
from cases.db import make_engine
from cases.users import create_user
from grid.config import load_city_config, write_default_config
from services.analysis import EmergingRequest, HotspotRequest, RecurringRequest, emerging, hotspots, recurring
from services.context import Actor, ServiceContext
from services.errors import NotAllowedError
from services.forecasting import BacktestRequest, ForecastRequest, backtest, forecast
from services.study import AnalysisFilters

APP = str(Path(__file__).resolve().parents[2] / "app" / "streamlit_app.py")
PASSWORD = "parity-password-1"
START, END = dt.date(2025, 1, 6), dt.date(2025, 2, 2)  # four ISO weeks
DAYS = (dt.date(2025, 1, 6), dt.date(2025, 1, 19))  # 14 days: enough periods for emerging hot spots


@pytest.fixture
def planner(demo60: Path) -> str:
    """A planner account on the 60-day city; its username."""
    engine = make_engine(f"sqlite:///{(demo60 / 'gridpatrol.db').as_posix()}")
    create_user(engine, "planner60", "planner", password=PASSWORD)
    engine.dispose()
    return "planner60"


def _page(username: str, page: str, *, res: int, period: str, span: tuple[dt.date, dt.date]) -> AppTest:
    """Log in, open ``page`` and set the filter bar (resolution, period, date range)."""
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.text_input[0].input(username)
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    at.run()
    at.switch_page(f"views/{page}.py").run()
    at.selectbox[0].select(res)
    at.selectbox[1].select(period)
    at.date_input[0].set_value(span)
    at.run()
    assert not at.exception, at.exception
    assert not at.warning, at.warning[0].value
    return at


def _cli(out: Path, command: str, *args: str) -> pd.DataFrame:
    result = CliRunner().invoke(main, [command, *args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "universe: " in result.output
    return pd.read_csv(out, dtype={"h3": str})


def _filters(res: int, period: str, span: tuple[dt.date, dt.date]) -> list[str]:
    return ["--res", str(res), "--period", period, "--from", f"{span[0]}", "--to", f"{span[1]}"]


def _same(cli: pd.DataFrame, page: pd.DataFrame, service: pd.DataFrame) -> None:
    """The CLI's file (no ``cell``), the page's table (its first rows) and the service's table agree."""
    assert service["cell"].dtype == "int64"
    assert (service["h3"] == service["cell"].map(lambda c: f"{c:x}")).all()
    assert_frame_equal(cli, service.drop(columns="cell"), check_dtype=False, check_exact=True)
    expected = service.head(len(page)).reset_index(drop=True)
    assert len(page) == min(len(service), 200)
    assert_frame_equal(
        page.reset_index(drop=True)[list(expected.columns)], expected, check_dtype=False, check_exact=True
    )


def test_hotspots_parity(ctx60: ServiceContext, planner: str, tmp_path: Path) -> None:
    span = (START, END)
    result = hotspots(ctx60, HotspotRequest(AnalysisFilters(9, "week", start=START, end=END), k=1))
    assert result.study.kind == "areas"
    assert result.study.n_cells == len(result.to_frame())
    cli = _cli(tmp_path / "hot.csv", "hotspots", *_filters(9, "week", span), "--k", "1")
    page = _page(planner, "hotspots", res=9, period="week", span=span)
    _same(cli, page.dataframe[1].value, result.to_frame())
    said = f"{result.study.n_cells} 个网格（分辨率 9）"  # the universe, said
    assert any(said in c.value for c in page.caption)


def test_recurring_parity(ctx60: ServiceContext, planner: str, tmp_path: Path) -> None:
    span = (START, END)
    result = recurring(ctx60, RecurringRequest(AnalysisFilters(9, "week", start=START, end=END)))
    cli = _cli(tmp_path / "rec.csv", "recurring", *_filters(9, "week", span))
    page = _page(planner, "recurring", res=9, period="week", span=span)
    _same(cli, page.dataframe[0].value, result.to_frame())
    assert (result.to_frame()["n_periods"] == 4).all()


def test_emerging_parity(ctx60: ServiceContext, planner: str, tmp_path: Path) -> None:
    result = emerging(ctx60, EmergingRequest(AnalysisFilters(9, "day", start=DAYS[0], end=DAYS[1]), k=1))
    cli = _cli(tmp_path / "em.csv", "emerging", *_filters(9, "day", DAYS), "--k", "1")
    page = _page(planner, "emerging", res=9, period="day", span=DAYS)
    _same(cli, page.dataframe[0].value, result.to_frame())


def test_forecast_parity(ctx60: ServiceContext, planner: str, tmp_path: Path) -> None:
    span = (START, END)
    result = forecast(ctx60, ForecastRequest(AnalysisFilters(9, "week", start=START, end=END)))
    assert result.model == ctx60.config.patrol.forecast_model  # the configured model, everywhere
    assert result.period == "2025-W06"
    cli = _cli(tmp_path / "fc.csv", "forecast", *_filters(9, "week", span))
    page = _page(planner, "forecast", res=9, period="week", span=span)
    _same(cli, page.dataframe[0].value, result.to_frame())


def test_backtest_parity(ctx60: ServiceContext, tmp_path: Path) -> None:
    models = ("baseline_ma4", "baseline_mean")
    request = BacktestRequest(
        AnalysisFilters(9, "day", start=DAYS[0], end=DAYS[1]), models=models, n_origins=2
    )
    result = backtest(ctx60, request).to_frame().drop(columns="seconds")
    out = tmp_path / "bt.csv"
    args = [*_filters(9, "day", DAYS), "--models", ",".join(models), "--weeks", "2", "--out", str(out)]
    run = CliRunner().invoke(main, ["backtest", *args])
    assert run.exit_code == 0, run.output
    cli = pd.read_csv(out).drop(columns="seconds")
    assert_frame_equal(cli, result, check_dtype=False, check_exact=True)


def test_inspectors_may_not_run_the_analyses(ctx60: ServiceContext) -> None:
    inspector = ctx60.as_actor(Actor("i1", "inspector", inspector_id="I001"))
    with pytest.raises(NotAllowedError):
        hotspots(inspector, HotspotRequest())
    planner = ctx60.as_actor(Actor("p1", "planner"))
    assert len(recurring(planner, RecurringRequest(AnalysisFilters(8, "week", start=START, end=END))).table)


def test_the_configured_timezone_moves_the_periods_of_cli_and_page_alike(
    demo60: Path, planner: str, tmp_path: Path
) -> None:
    """Daily counts of three days at res 8 (every active cell on one page) in Shanghai, then New York."""
    span = (dt.date(2025, 1, 6), dt.date(2025, 1, 8))
    config = write_default_config(demo60 / "gridpatrol.toml")
    assert config is not None
    tables = {}
    for zone in ("Asia/Shanghai", "America/New_York"):
        text = config.read_text(encoding="utf-8")
        config.write_text(
            "\n".join(
                f'timezone = "{zone}"' if ln.startswith("timezone =") else ln for ln in text.splitlines()
            ),
            encoding="utf-8",
        )
        assert load_city_config().timezone == zone
        cli = _cli(tmp_path / f"rec-{zone.replace('/', '-')}.csv", "recurring", *_filters(8, "day", span))
        page = _page(planner, "recurring", res=8, period="day", span=span).dataframe[0].value
        assert len(page) == len(cli) < 200
        assert_frame_equal(cli, page.drop(columns="cell"), check_dtype=False, check_exact=True)
        tables[zone] = cli.set_index("h3")["cases"]
    shanghai, new_york = tables["Asia/Shanghai"], tables["America/New_York"]
    # New York's 6–8 January are 13 hours later: other cases fall in them
    assert not shanghai.equals(new_york)
    assert shanghai.sum() != new_york.sum() or not shanghai.sort_index().equals(new_york.sort_index())
