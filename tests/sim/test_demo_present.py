"""A demo with a present (sim.present): open work in every queue on the 60-day city's last day.

Runs on the loaded 60-day template (``tests/conftest.py::demo60_template``, read only): the demo inspector
has cases to verify and to re-check in their own cells, the dispatcher a queue (some returned), every
department open cases (some past and some near their deadline), the supervisor extension and suspension
requests, the operator closed cases to call back; every history is sound. ``--end-date`` defaults to today.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cases.db import make_engine
from cases.lifecycle import history_problems, load_events, load_lifecycle_frame
from cases.models import Department
from grid.config import load_city_config
from services.context import Actor, ServiceContext
from services.field import FieldRequest, field_view
from sim.config import DemoConfig, first_day
from tests.conftest import DEMO60_CONFIG

LAST_DAY = DemoConfig(**DEMO60_CONFIG).end  # Sat 2025-03-01
TZ = "Asia/Shanghai"


@pytest.fixture(scope="module")
def engine(demo60_template: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{(demo60_template / 'gridpatrol.db').as_posix()}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def frame(engine: Engine) -> pd.DataFrame:
    return load_lifecycle_frame(engine)


@pytest.fixture(scope="module")
def events(engine: Engine) -> pd.DataFrame:
    return load_events(engine)


def _end() -> pd.Timestamp:
    return (pd.Timestamp(LAST_DAY) + pd.Timedelta(days=1)).tz_localize(TZ).tz_convert("UTC")


def test_demo_inspector_has_work_in_own_cells(engine: Engine, demo60_template: Path) -> None:
    # the demo inspector's account is bound to the first inspector (sim.load._demo_users)
    people = demo60_template / "geo" / "demo" / "people" / "inspectors.csv"
    inspector = pd.read_csv(people, dtype=str, nrows=1)["inspector_id"].iloc[0]
    ctx = ServiceContext(engine=engine, config=load_city_config(), data_dir=demo60_template)
    me = ctx.as_actor(Actor("demo-inspector", "inspector", inspector_id=inspector))
    view = field_view(me, FieldRequest(day=LAST_DAY, with_neglect=False))
    tasks = view.to_frame()["task"].value_counts()
    assert tasks.get("verify", 0) >= 3, tasks
    assert tasks.get("check", 0) >= 3, tasks


def test_every_queue_has_open_work(engine: Engine, frame: pd.DataFrame, events: pd.DataFrame) -> None:
    status = frame["status"].value_counts()
    for wanted in ("registered", "dispatched", "extension_requested", "suspension_requested", "resolved"):
        assert status.get(wanted, 0) >= 2, (wanted, status)
    # the dispatcher: some waiting cases were returned by a department (a `return` event by a department)
    returns = events[events["action"] == "return"]
    assert len(returns) >= 2
    assert set(returns["role"]) == {"department"}
    waiting = set(frame.loc[frame["status"] == "registered", "case_id"])
    assert set(returns["case_id"]) <= waiting
    # every department: open dispatched cases, one past its deadline and one not yet due
    end = _end()
    with engine.connect() as conn:
        departments = set(conn.execute(sa.select(Department.department_id)).scalars())
    open_ = frame[frame["status"] == "dispatched"]
    late = set(open_.loc[open_["deadline_at"] < end - pd.Timedelta(days=1), "department"])
    near = set(open_.loc[open_["deadline_at"] >= end - pd.Timedelta(days=1), "department"])
    assert departments <= late, departments - late
    assert departments <= near, departments - near
    # the supervisor: requests as cases.lifecycle writes them (requested deadline; reason in the note)
    asks = events[events["action"].isin(["request_extension", "request_suspension"])]
    last = asks.groupby("case_id").tail(1).set_index("case_id")
    pending = frame[frame["status"].isin(["extension_requested", "suspension_requested"])]
    assert set(pending["case_id"]) <= set(last.index)
    ext = last.loc[sorted(pending.loc[pending["status"] == "extension_requested", "case_id"])]
    assert (ext["role"] == "department").all()
    assert ext["deadline_at"].notna().all()
    due = frame.set_index("case_id").loc[ext.index, "deadline_at"]
    assert (ext["deadline_at"] > due).all()
    # the operator: closed in the last days, reporter's phone, no callback (satisfaction) yet
    with engine.connect() as conn:
        n = conn.execute(
            sa.text(
                "SELECT count(*) FROM cases WHERE status = 'closed' AND reporter_phone IS NOT NULL "
                "AND satisfaction IS NULL AND closed_at >= :since"
            ),
            {"since": (end - pd.Timedelta(days=3)).to_pydatetime()},
        ).scalar_one()
    assert n >= 3


def test_histories_are_sound(frame: pd.DataFrame, events: pd.DataFrame) -> None:
    problems = history_problems(events, frame)
    assert problems.empty, problems.head(10)
    assert events["action"].notna().all()
    assert events["role"].notna().all()
    assert not (frame["reported_at"] >= _end()).any()  # nothing reported after the last day


def test_end_date_defaults_to_today() -> None:
    today = dt.datetime.now(ZoneInfo(TZ)).date()
    assert first_day(30) == today - dt.timedelta(days=29)
    assert DemoConfig(days=30, start=first_day(30)).end == today
    assert first_day(7, dt.date(2026, 3, 31)) == dt.date(2026, 3, 25)


def test_same_seed_and_dates_give_the_same_present() -> None:
    from sim.run import simulate

    cfg = DemoConfig(
        days=10, start=first_day(10, dt.date(2026, 3, 31)), n_inspectors=4, cases_per_day=60.0, area_km2=4.0,
        n_subdistricts=2, n_communities=4,
    )  # fmt: skip
    one, two = simulate(cfg), simulate(cfg)
    pd.testing.assert_frame_equal(one.events, two.events)
    pd.testing.assert_frame_equal(one.cases, two.cases)
    assert history_problems(one.events, one.cases).empty
    assert one.cases["reported_at"].max() < _end_of(cfg)


def _end_of(cfg: DemoConfig) -> pd.Timestamp:
    return (pd.Timestamp(cfg.end) + pd.Timedelta(days=1)).tz_localize(TZ).tz_convert("UTC")
