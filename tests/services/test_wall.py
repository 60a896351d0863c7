"""The wall display's service (services.wall) on the 60-day demo city: figures, roles, the display token."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from app.cli import main
from cases.lifecycle import load_lifecycle_frame
from services.context import Actor, ServiceContext
from services.errors import NotAllowedError
from services.wall import (
    TOKEN_FILE,
    WALL_ACTOR,
    WallRequest,
    display_actor,
    new_display_token,
    wall_summary,
)

FRIDAY = dt.datetime(2025, 2, 28, 15, 0)  # a working day with tracks, local time
TZ = "Asia/Shanghai"


def test_wall_figures_match_the_store(ctx60: ServiceContext) -> None:
    summary = wall_summary(ctx60, WallRequest(as_of=FRIDAY))
    now = pd.Timestamp(FRIDAY).tz_localize(TZ)
    frame = load_lifecycle_frame(ctx60.engine)
    reported = frame["reported_at"].dt.tz_convert(TZ)
    today = frame[(reported >= now.normalize()) & (reported <= now)]
    assert summary.as_of == now
    assert summary.intake_total == len(today) > 0
    assert dict(zip(summary.intake["source"], summary.intake["cases"], strict=True)) == (
        today["source"].value_counts().to_dict()
    )
    assert set(summary.cases["case_id"]) == set(today["case_id"])
    assert summary.cases["reported_at"].dt.tz is not None
    is_open = ~frame["status"].isin(["closed", "cancelled"]) & (frame["reported_at"] <= now)
    assert summary.open_total == int(is_open.sum()) == int(summary.by_department["open"].sum())
    assert 0 < summary.overdue_total <= summary.open_total
    assert summary.overdue_total == int(summary.by_department["overdue"].sum())
    # names, not codes
    named = summary.by_department.dropna(subset=["department"])
    assert (named["name"] != named["department"]).all()
    assert summary.by_district["name"].str.contains("区").any()
    table = summary.to_frame()
    assert list(table.columns) == ["level", "code", "name", "open", "overdue"]
    assert set(table["level"]) == {"district", "department"}


def test_wall_positions_come_from_todays_tracks(ctx60: ServiceContext) -> None:
    summary = wall_summary(ctx60, WallRequest(as_of=FRIDAY))
    assert summary.tracks_found
    positions = summary.positions
    assert len(positions) > 0
    assert positions["inspector_id"].is_unique
    assert (positions["at"] <= pd.Timestamp(FRIDAY).tz_localize(TZ)).all()
    assert positions["lat"].between(31.5, 32.5).all()
    # a Saturday has no patrol tracks: no positions, no error
    weekend = wall_summary(ctx60, WallRequest(as_of=dt.date(2025, 3, 1)))
    assert not weekend.tracks_found
    assert weekend.positions.empty


def test_wall_roles(ctx60: ServiceContext) -> None:
    for role in ("inspector", "planner", "department"):
        with pytest.raises(NotAllowedError):
            wall_summary(ctx60.as_actor(Actor("x", role)), WallRequest(as_of=FRIDAY))
    assert wall_summary(ctx60.as_actor(WALL_ACTOR), WallRequest(as_of=FRIDAY)).intake_total > 0
    with pytest.raises(NotAllowedError):
        new_display_token(ctx60.as_actor(Actor("m", "manager")))
    with pytest.raises(NotAllowedError):
        new_display_token(ctx60.as_actor(WALL_ACTOR))


def test_display_token(ctx60: ServiceContext) -> None:
    assert display_actor(ctx60, "anything") is None  # no token set
    token = new_display_token(ctx60)
    stored = (ctx60.data_dir / TOKEN_FILE).read_text(encoding="utf-8")
    assert token not in stored  # only the digest is kept
    assert display_actor(ctx60, token) == WALL_ACTOR
    assert display_actor(ctx60, token + "x") is None
    assert display_actor(ctx60, "") is None
    assert display_actor(ctx60, None) is None
    newer = new_display_token(ctx60)
    assert display_actor(ctx60, token) is None  # replaced
    assert display_actor(ctx60, newer) == WALL_ACTOR


def test_wall_token_command(demo60: Path, ctx60: ServiceContext) -> None:
    result = CliRunner().invoke(main, ["wall-token"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert (demo60 / TOKEN_FILE).is_file()
    assert display_actor(ctx60, token) == WALL_ACTOR
