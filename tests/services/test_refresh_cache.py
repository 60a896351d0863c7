"""``gridpatrol refresh`` and the result cache (issue 19): answers read back equal the computed ones, and
an import makes them stale."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from services import cache
from services.context import ServiceContext
from services.coverage import CoverageRequest, EffectivenessRequest, coverage_report, effectiveness
from services.forecasting import ForecastRequest, forecast
from services.imports import ImportRequest, import_file
from services.refresh import RefreshRequest, default_coverage_range, default_forecast_filters, refresh

FAST = "baseline_ma4"


def _same(left: pd.DataFrame, right: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(
        left.reset_index(drop=True), right.reset_index(drop=True), check_dtype=False, check_categorical=False
    )


def test_refresh_answers_from_the_cache_and_an_import_invalidates(
    ctx60: ServiceContext, tmp_path: Path
) -> None:
    result = refresh(ctx60, RefreshRequest(models=(FAST,)))
    assert result.to_frame()["status"].tolist() == ["stored"] * 3, result.to_frame()
    assert (ctx60.data_dir / "cache" / result.version).is_dir()
    assert refresh(ctx60, RefreshRequest(models=(FAST,))).to_frame()["status"].tolist() == ["cached"] * 3

    start, end = default_coverage_range(ctx60)
    cover = CoverageRequest(start, end, never_days=ctx60.config.patrol.never_visited_days)
    ask = ForecastRequest(default_forecast_filters(ctx60), model=FAST)
    steps: list[str] = []
    seen = lambda step, fraction: steps.append(step)  # noqa: E731
    cached = coverage_report(ctx60, cover, progress=seen)
    eff_cached = effectiveness(ctx60, EffectivenessRequest(start, end), progress=seen)
    fc_cached = forecast(ctx60, ask, progress=seen)
    assert steps == []  # all three read, none computed

    cache.drop(ctx60, result.version)
    computed = coverage_report(ctx60, cover, progress=seen)
    assert steps[0] == "read_tracks"
    assert steps[-1] == "done"
    for part in ("kpis", "neglect", "cells"):
        _same(cached.to_frame(part), computed.to_frame(part))
    assert (cached.never_days, cached.tracks_found) == (computed.never_days, computed.tracks_found)
    eff_computed = effectiveness(ctx60, EffectivenessRequest(start, end))
    _same(eff_cached.to_frame(), eff_computed.to_frame())
    _same(
        pd.DataFrame(eff_cached.gap.drop(columns="geometry")),
        pd.DataFrame(eff_computed.gap.drop(columns="geometry")),
    )
    assert eff_cached.gap.geometry.equals(eff_computed.gap.geometry)
    assert (eff_cached.n_cases, eff_cached.missed, eff_cached.expected_source) == (
        eff_computed.n_cases, eff_computed.missed, eff_computed.expected_source,
    )  # fmt: skip
    fc_computed = forecast(ctx60, ask)
    _same(fc_cached.to_frame(), fc_computed.to_frame())
    assert (fc_cached.study, fc_cached.model, fc_cached.period) == (
        fc_computed.study, fc_computed.model, fc_computed.period,
    )  # fmt: skip

    # an import changes the data version: the stored answers are not read any more
    refresh(ctx60, RefreshRequest(models=(), coverage=True))
    before = cache.data_version(ctx60)
    assert cache.load(ctx60, "coverage", cover) is not None
    body = "case_id,source,category,lat,lon,reported_at\nNEW-1,hotline,06010,32.01,120.86,2025-01-05 08:00\n"
    path = tmp_path / "more.csv"
    path.write_text(body, encoding="utf-8")
    import_file(ctx60, ImportRequest(kind="cases", path=path))
    assert cache.data_version(ctx60) != before
    assert cache.load(ctx60, "coverage", cover) is None
    again = refresh(ctx60, RefreshRequest(models=(), coverage=False))
    assert again.pruned == 1
    assert not (ctx60.data_dir / "cache" / before).exists()


def test_refresh_command_says_what_it_stored(ctx60: ServiceContext) -> None:
    from app.cli import main

    out = CliRunner().invoke(main, ["refresh", "--model", FAST, "--no-coverage"])
    assert out.exit_code == 0, out.output
    assert "stored 1 of 1" in out.output
