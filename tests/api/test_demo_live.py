"""``gridpatrol demo-live`` replays an hour of the 60-day demo city through the API at a very high speed:
citizens' reports become Open311 cases in the queue, inspectors' fixes land in today's track partition."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from app.cli import main
from cases.db import make_engine
from cases.repository_people import case_events
from patrol.store import read_days
from services.context import ServiceContext
from services.demo_live import LiveRequest, replay_day
from services.errors import ServiceError
from tests.conftest import use_data_copy


@pytest.fixture
def demo_data(demo60_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    return use_data_copy(demo60_template, tmp_path / "data", monkeypatch)


def test_demo_live_replays_an_hour_through_the_api(demo_data: Path) -> None:
    result = CliRunner().invoke(
        main, ["demo-live", "--speed", "100000", "--from-hour", "9", "--hours", "0.5", "--day", "2025-02-20"]
    )
    assert result.exit_code == 0, result.output
    assert "day 2025-02-20 replayed" in result.output
    table = {line.split()[0]: line.split()[1:] for line in result.output.splitlines()[-3:]}
    assert table["open311"][0] == table["open311"][1] != "0"  # every citizen's report accepted
    assert table["track"][0] == table["track"][1] != "0"  # every upload accepted
    engine = make_engine(f"sqlite:///{demo_data / 'gridpatrol.db'}")
    import sqlalchemy as sa

    with engine.connect() as conn:
        posted = (
            conn.execute(sa.text("SELECT case_id FROM cases WHERE case_id LIKE 'O311-%'")).scalars().all()
        )
        keys = conn.execute(sa.text("SELECT name, revoked_at FROM api_keys")).all()
    assert posted, result.output
    assert case_events(engine, posted[0])["actor"].iloc[0].startswith("key:demo-live-")
    assert all(revoked is not None for _, revoked in keys)  # the run's key is revoked after it
    engine.dispose()
    tracks = read_days(demo_data / "tracks")
    zone = ZoneInfo("Asia/Shanghai")
    today = dt.datetime.now(zone).date()
    moved = tracks[tracks["ts"].dt.tz_convert(zone).dt.date == today]
    assert moved["inspector_id"].nunique() >= 5


def test_demo_live_refuses_a_day_not_simulated(demo_data: Path) -> None:
    from services.context import open_context

    ctx: ServiceContext = open_context(None)
    with pytest.raises(ServiceError) as err:
        replay_day(ctx, LiveRequest("http://127.0.0.1:9", day=dt.date(2031, 1, 1)))
    assert err.value.code == "day_not_simulated"
