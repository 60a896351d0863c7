"""The ``target`` switch of hot spots, forecasts and backtests (issue #24) on the 60-day demo city."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from services.analysis import HotspotRequest, hotspots
from services.context import ServiceContext
from services.errors import ServiceError
from services.forecasting import BacktestRequest, ForecastRequest, backtest, forecast
from services.study import AnalysisFilters

WEEKS = AnalysisFilters(start=dt.date(2025, 1, 6), end=dt.date(2025, 2, 23))
DAYS = AnalysisFilters(period="day", start=dt.date(2025, 1, 1), end=dt.date(2025, 2, 23))


def test_targets_count_what_they_say(ctx60: ServiceContext, tmp_path: Path) -> None:
    reported = hotspots(ctx60, HotspotRequest(WEEKS))
    citizen = hotspots(ctx60, HotspotRequest(WEEKS, target="citizen"))
    estimated = hotspots(ctx60, HotspotRequest(WEEKS, target="estimated"))
    assert (reported.target, citizen.target, estimated.target) == ("reported", "citizen", "estimated")
    assert 0 < citizen.cube.n_cases < reported.cube.n_cases
    # the estimate is in citizen reports per period: near the citizen total, not the reported one
    total = estimated.to_frame()["count"].sum()
    assert citizen.cube.n_cases * 0.8 < total < reported.cube.n_cases
    fc = forecast(ctx60, ForecastRequest(WEEKS, model="baseline_mean", target="estimated"))
    assert fc.target == "estimated"
    assert fc.to_frame()["expected"].ge(0).all()
    assert fc.to_frame()["risk"].max() == pytest.approx(1.0)
    bt = backtest(ctx60, BacktestRequest(DAYS, models=("baseline_mean",), n_origins=3, target="citizen"))
    assert bt.target == "citizen"
    assert len(bt.to_frame()) == 3
    with pytest.raises(ServiceError) as info:
        forecast(ctx60, ForecastRequest(WEEKS, target="nope"))
    assert info.value.code == "unknown_target"
    no_tracks = ServiceContext(ctx60.engine, ctx60.config, tmp_path)
    with pytest.raises(ServiceError) as info:
        hotspots(no_tracks, HotspotRequest(WEEKS, target="estimated"))
    assert info.value.code == "no_patrol_presence"


def test_cli_target_option(ctx60: ServiceContext, tmp_path: Path) -> None:
    """``gridpatrol forecast|hotspots --target``: the same services, the target echoed; a bad one refused."""
    from click.testing import CliRunner

    from analytics.exposure import TARGETS
    from app.cli import main
    from app.commands.analytics_cmds import TARGET_CHOICES

    assert TARGET_CHOICES == TARGETS
    span = ["--from", "2025-01-06", "--to", "2025-02-23"]
    out = tmp_path / "fc.csv"
    run = CliRunner().invoke(
        main, ["forecast", *span, "--model", "baseline_mean", "--target", "citizen", "--out", str(out)]
    )
    assert run.exit_code == 0, run.output
    assert "target citizen" in run.output
    assert out.exists()
    hot = CliRunner().invoke(
        main, ["hotspots", *span, "--target", "estimated", "--out", str(tmp_path / "h.csv")]
    )
    assert hot.exit_code == 0, hot.output
    bad = CliRunner().invoke(main, ["hotspots", *span, "--target", "nope"])
    assert bad.exit_code != 0


def test_exposure_rates_service_and_command(ctx60: ServiceContext, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from app.cli import main
    from services.exposure import ExposureRequest, exposure_rates

    result = exposure_rates(ctx60, ExposureRequest(WEEKS))
    frame = result.to_frame()
    assert result.kappa > 0
    assert frame["exposure_rate"].is_monotonic_decreasing
    assert (frame["exposure_rate_lower"] <= frame["exposure_rate"]).all()
    assert (frame["exposure_rate"] <= frame["exposure_rate_upper"]).all()
    assert frame["exposure_shrinkage"].between(0, 1).all()
    assert (frame["exposure_citizen"] + frame["exposure_finds"] == frame["cases"]).all()
    with pytest.raises(ServiceError) as info:
        exposure_rates(ctx60, ExposureRequest(WEEKS, level=2.0))
    assert info.value.code == "bad_request"
    out = tmp_path / "exposure.csv"
    run = CliRunner().invoke(
        main, ["exposure", "--from", "2025-01-06", "--to", "2025-02-23", "--out", str(out)]
    )
    assert run.exit_code == 0, run.output
    assert "kappa" in run.output
    assert out.exists()
