"""Deadline alerts on the working calendar (known answers), their scope and the daily digest command."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from click.testing import CliRunner

from cases import repository
from cases.users import ROLES
from grid.cells import cell_centers
from grid.config import load_city_config
from services import cases as case_service
from services.alerts import ALERT_ROLES, AlertsRequest, alerts
from services.cases import CaseAction, CaseReport
from services.context import Actor, ServiceContext
from services.errors import NotAllowedError, ServiceError
from services.queues import QueueRequest, department_queue

LOCAL = ZoneInfo("Asia/Shanghai")
HOLIDAY = dt.date(2025, 2, 17)  # a Monday the city closes (extra_holidays)


def _local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LOCAL)


@pytest.fixture
def holiday_ctx(ctx60: ServiceContext) -> ServiceContext:
    """The 60-day city with Monday 2025-02-17 as an extra holiday and one case dispatched on Friday
    2025-02-14 09:00 due on Wednesday 2025-02-19 17:30: 7 h on Friday, the weekend and the holiday off,
    8 h on Tuesday, 8 h on Wednesday = 23 working hours."""
    calendar = dataclasses.replace(ctx60.config.calendar, country="CN", extra_holidays=(HOLIDAY,))
    ctx = dataclasses.replace(ctx60, config=ctx60.config.replace(calendar=calendar))
    live = repository.assignments_valid_at(ctx.engine, _local(2025, 2, 14, 8)).sort_values("cell")
    lat, lon = cell_centers([int(live["cell"].iloc[0])])
    report = CaseReport(
        "AL-1", "hotline", "06010", _local(2025, 2, 14, 8), lat=float(lat[0]), lon=float(lon[0])
    )
    case_service.report(ctx, report)
    for minute, action in ((10, "verify"), (20, "register")):
        case_service.act(ctx, CaseAction("AL-1", at=_local(2025, 2, 14, 8, minute), action=action))
    dispatch = CaseAction(
        "AL-1",
        at=_local(2025, 2, 14, 9),
        action="dispatch",
        department="320613-HW",
        deadline=_local(2025, 2, 19, 17, 30),
    )
    case_service.act(ctx, dispatch)
    return ctx


def _row(ctx: ServiceContext, as_of: dt.datetime, near_share: float | None = None) -> pd.Series:
    request = QueueRequest(as_of=as_of, department="320613-HW", near_share=near_share)
    table = department_queue(ctx, request).table
    return table[table["case_id"] == "AL-1"].iloc[0]


@pytest.mark.parametrize(
    ("as_of", "hours_left", "alert"),
    [
        (_local(2025, 2, 17, 15), 16.0, "ok"),  # the holiday counts nothing: 7 of 23 h used
        (_local(2025, 2, 18, 12), 12.0, "ok"),  # 11 of 23 h
        (_local(2025, 2, 19, 11, 23), 4.62, "ok"),  # 18.38 h used: just under 80 %
        (_local(2025, 2, 19, 11, 25), 4.58, "near"),  # 18.42 h: past 80 % of 23 h (18.4 h)
        (_local(2025, 2, 19, 17, 31), 0.0, "overdue"),  # after the deadline (no working time since)
        (_local(2025, 2, 20, 9), -1.0, "overdue"),  # Thursday: one working hour late
    ],
)
def test_alert_levels_on_the_working_calendar(
    holiday_ctx: ServiceContext, as_of: dt.datetime, hours_left: float, alert: str
) -> None:
    row = _row(holiday_ctx, as_of)
    assert row["hours_left"] == pytest.approx(hours_left, abs=0.01)
    assert row["alert"] == alert
    flagged = alerts(holiday_ctx, AlertsRequest(as_of=as_of)).table
    assert ("AL-1" in set(flagged["case_id"])) == (alert != "ok")
    if alert != "ok":
        assert flagged.set_index("case_id").loc["AL-1", "alert"] == alert


def test_the_threshold_is_configurable(holiday_ctx: ServiceContext) -> None:
    # Tuesday 12:00: 11 of 23 h used (0.478); 14:00: 11.5 h (0.5)
    assert _row(holiday_ctx, _local(2025, 2, 18, 12), near_share=0.5)["alert"] == "ok"
    assert _row(holiday_ctx, _local(2025, 2, 18, 14), near_share=0.5)["alert"] == "near"
    half = holiday_ctx.config.replace(alerts=dataclasses.replace(holiday_ctx.config.alerts, near_share=0.5))
    result = alerts(
        dataclasses.replace(holiday_ctx, config=half), AlertsRequest(as_of=_local(2025, 2, 18, 14))
    )
    assert result.near_share == 0.5
    assert result.table.set_index("case_id").loc["AL-1", "alert"] == "near"
    with pytest.raises(ServiceError) as info:
        alerts(holiday_ctx, AlertsRequest(near_share=1.5))
    assert info.value.code == "alert_bad_near_share"


def test_near_share_comes_from_the_config_and_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_city_config(Path("/nonexistent/gridpatrol.toml")).alerts.near_share == 0.8
    monkeypatch.setenv("GRIDPATROL_ALERTS_NEAR_SHARE", "0.7")
    assert load_city_config(Path("/nonexistent/gridpatrol.toml")).alerts.near_share == 0.7


def test_alerts_refuse_the_other_roles(ctx60: ServiceContext) -> None:
    for role in ROLES:
        ctx = ctx60.as_actor(
            Actor(f"{role}-user", role, department="320613-CG" if role == "department" else None)
        )
        if role in ALERT_ROLES:
            alerts(ctx, AlertsRequest(as_of=dt.date(2025, 2, 28)))
        else:
            with pytest.raises(NotAllowedError):
                alerts(ctx, AlertsRequest(as_of=dt.date(2025, 2, 28)))
    with pytest.raises(NotAllowedError):
        alerts(ctx60.as_actor(Actor("d", "department")), AlertsRequest())
    with pytest.raises(NotAllowedError):
        alerts(ctx60.as_actor(Actor("d", "department", department="A")), AlertsRequest(department="B"))


def test_escalation_lists_and_scope(ctx60: ServiceContext) -> None:
    result = alerts(ctx60, AlertsRequest(as_of=dt.date(2025, 2, 28)))
    table = result.to_frame()
    assert not table.empty
    assert set(table["alert"]) <= {"near", "overdue"}
    assert table["alert"].iloc[0] == "overdue"
    by_department = result.summary("department")
    assert by_department["overdue"].sum() == int((table["alert"] == "overdue").sum())
    assert by_department["near"].sum() == int((table["alert"] == "near").sum())
    top = by_department.iloc[0]
    late = table[(table["department"] == top["department"]) & (table["alert"] == "overdue")]
    assert top["oldest_overdue_deadline"] == late["deadline_at"].min()
    assert result.summary("district")["overdue"].sum() == by_department["overdue"].sum()
    with pytest.raises(ServiceError):
        result.summary("inspector")
    department = str(top["department"])
    own = alerts(
        ctx60.as_actor(Actor("d", "department", department=department)),
        AlertsRequest(as_of=dt.date(2025, 2, 28)),
    )
    assert set(own.table["department"]) == {department}
    district = str(result.by_district["district"].iloc[-1])
    scoped = alerts(
        ctx60.as_actor(Actor("s", "supervisor", district=district)), AlertsRequest(as_of=dt.date(2025, 2, 28))
    )
    assert set(scoped.table["district"]) == {district}
    assert scoped.by_district["district"].tolist() == [district]


def test_the_daily_digest_command(ctx60: ServiceContext, tmp_path: Path) -> None:
    from app.cli import main

    out = tmp_path / "digest.csv"
    done = CliRunner().invoke(
        main, ["alerts", "--as-of", "2025-02-28", "--by", "district", "--out", str(out)]
    )
    assert done.exit_code == 0, done.output
    digest = pd.read_csv(out, dtype={"district": str})
    expected = alerts(ctx60, AlertsRequest(as_of=dt.date(2025, 2, 28))).by_district
    assert digest["district"].tolist() == expected["district"].tolist()
    assert digest["overdue"].tolist() == expected["overdue"].tolist()
    cases = CliRunner().invoke(
        main, ["alerts", "--as-of", "2025-02-28T10:00", "--out", str(tmp_path / "c.csv")]
    )
    assert cases.exit_code == 0, cases.output
    assert "overdue" in set(pd.read_csv(tmp_path / "c.csv")["alert"])
    bad = CliRunner().invoke(main, ["alerts", "--as-of", "28/02/2025"])
    assert bad.exit_code == 2
