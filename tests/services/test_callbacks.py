"""Callbacks (回访), reopening on dissatisfaction, mediation (和谐调解) and the citizen reporters' list."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import pytest

from cases.repository_people import case_events
from services.callbacks import (
    CallbackListRequest,
    CallbackRecord,
    MediationRequest,
    callback_list,
    mediate,
    record_callback,
)
from services.case_view import case_detail
from services.context import ServiceContext
from services.errors import NotAllowedError, ServiceError
from services.kpi import KpiRequest, kpi_table
from services.reporters import ReportersRequest, active_reporters
from tests.services.casework_util import PHONE, T0, as_role, walk

LATER = T0 + dt.timedelta(days=2)


def _listed(ctx: ServiceContext) -> set[str]:
    frame = callback_list(as_role(ctx, "operator"), CallbackListRequest(limit=5000)).to_frame()
    return set(frame["case_id"])


def test_closed_cases_with_a_phone_wait_for_a_callback_that_sets_satisfaction(ctx60: ServiceContext) -> None:
    walk(ctx60, "CB-1", "closed")
    walk(ctx60, "CB-2", "closed", phone=None)
    walk(ctx60, "CB-3", "dispatched")
    listed = _listed(ctx60)
    assert "CB-1" in listed
    assert not {"CB-2", "CB-3"} & listed
    frame = callback_list(as_role(ctx60, "operator"), CallbackListRequest(limit=5000)).to_frame()
    assert frame.loc[frame["case_id"] == "CB-1", "reporter_phone"].iloc[0] == PHONE
    kpi = KpiRequest(by=None, as_of=LATER + dt.timedelta(hours=1))
    before = kpi_table(as_role(ctx60, "manager"), kpi).to_frame().iloc[0]
    done = record_callback(as_role(ctx60, "operator"), CallbackRecord("CB-1", True, True, "很满意", at=LATER))
    assert not done.reopened
    assert done.status == "closed"
    assert "CB-1" not in _listed(ctx60)
    assert case_detail(ctx60, "CB-1").callbacks["satisfied"].tolist() == [True]
    after = kpi_table(as_role(ctx60, "manager"), kpi).to_frame().iloc[0]  # 满意率 reads the callbacks
    assert (after["callbacks"], after["satisfied"]) == (before["callbacks"] + 1, before["satisfied"] + 1)
    with pytest.raises(ServiceError, match="not closed"):
        record_callback(as_role(ctx60, "operator"), CallbackRecord("CB-3", True, True))
    for role in ("dispatcher", "department", "inspector", "manager", "planner"):
        with pytest.raises(NotAllowedError):
            record_callback(as_role(ctx60, role), CallbackRecord("CB-1", True, True))
        with pytest.raises(NotAllowedError):
            callback_list(as_role(ctx60, role), CallbackListRequest())


def test_an_unsatisfied_reporter_reopens_the_case_unless_the_city_says_no(ctx60: ServiceContext) -> None:
    walk(ctx60, "CB-4", "closed")
    done = record_callback(
        as_role(ctx60, "supervisor"), CallbackRecord("CB-4", True, False, "没处理", at=LATER)
    )
    assert done.reopened
    assert done.status == "dispatched"
    row = done.to_frame().iloc[0]
    assert pd.isna(row["closed_at"])
    assert row["deadline_at"] > pd.Timestamp(LATER)
    events = case_events(ctx60.engine, "CB-4")
    assert events["action"].iloc[-1] == "reopen"
    assert events["role"].iloc[-1] == "supervisor"
    walk(ctx60, "CB-5", "closed")
    kept = record_callback(
        as_role(ctx60, "operator"), CallbackRecord("CB-5", False, None, "无人接听", at=LATER)
    )
    assert not kept.reopened
    assert kept.status == "closed"
    walk(ctx60, "CB-6", "closed")
    config = dataclasses.replace(ctx60.config)
    object.__setattr__(config, "callback_reopen", False)  # the city's rule (not a CityConfig field yet)
    strict = as_role(dataclasses.replace(ctx60, config=config), "operator")
    unhappy = record_callback(strict, CallbackRecord("CB-6", True, False, "不满意", at=LATER))
    assert not unhappy.reopened
    assert unhappy.status == "closed"


def test_mediation_closes_and_counts_separately(ctx60: ServiceContext) -> None:
    walk(ctx60, "MD-1", "registered")
    with pytest.raises(ServiceError) as missing:
        mediate(as_role(ctx60, "operator"), MediationRequest("MD-1", "", "握手言和"))
    assert missing.value.code == "mediation_incomplete"
    for role in ("dispatcher", "department", "inspector", "manager"):
        with pytest.raises(NotAllowedError):
            mediate(as_role(ctx60, role), MediationRequest("MD-1", "张三；李四", "噪音时段约定"))
    done = mediate(
        as_role(ctx60, "operator"), MediationRequest("MD-1", "张三；李四", "晚十点后不再施工", at=LATER)
    )
    assert done.status == "closed"
    assert done.events["action"].tolist() == ["mediate"]
    detail = case_detail(ctx60, "MD-1")
    assert detail.mediation["agreement"].tolist() == ["晚十点后不再施工"]
    result = kpi_table(as_role(ctx60, "manager"), KpiRequest(by=None, as_of=LATER + dt.timedelta(hours=1)))
    assert result.mediated == 1
    assert int(result.to_frame()["closed"].iloc[0]) >= 1
    walk(ctx60, "MD-2", "reported")
    with pytest.raises(ServiceError) as wrong:
        mediate(as_role(ctx60, "supervisor"), MediationRequest("MD-2", "a", "b"))
    assert wrong.value.code == "invalid_transition"


def test_active_reporters_are_counted_masked_and_exported(ctx60: ServiceContext) -> None:
    for k in range(3):
        walk(ctx60, f"RP-{k}", "registered", phone="13900001111")
    walk(ctx60, "RP-X", "reported", phone="13900001111")  # not accepted yet
    result = active_reporters(as_role(ctx60, "supervisor"), ReportersRequest(quarter="2025Q1", top=500))
    frame = result.to_frame()
    mine = frame[frame["case_ids"].str.contains("RP-0")]
    assert len(mine) == 1
    assert mine["reporter_phone"].iloc[0] == "139****1111"
    assert int(mine["accepted"].iloc[0]) == 3
    assert "RP-X" not in mine["case_ids"].iloc[0]
    assert frame["accepted"].is_monotonic_decreasing
    assert result.to_csv().decode("utf-8-sig").startswith("rank,reporter_phone")
    with pytest.raises(ServiceError) as bad:
        active_reporters(as_role(ctx60, "manager"), ReportersRequest(quarter="2025-Q9"))
    assert bad.value.code == "bad_quarter"
    for role in ("operator", "dispatcher", "department", "inspector", "planner"):
        with pytest.raises(NotAllowedError):
            active_reporters(as_role(ctx60, role), ReportersRequest())


def test_the_reporters_command_writes_the_same_table(ctx60: ServiceContext, tmp_path) -> None:
    from click.testing import CliRunner

    from app.cli import main

    walk(ctx60, "RP-CLI", "registered", phone="13700002222")
    out = tmp_path / "reporters.csv"
    url = ctx60.engine.url.render_as_string(hide_password=False)
    done = CliRunner().invoke(
        main, ["--db-url", url, "reporters", "--quarter", "2025Q1", "--top", "500", "--out", str(out)]
    )
    assert done.exit_code == 0, done.output
    text = out.read_text(encoding="utf-8-sig")
    assert "137****2222" in text
    assert "13700002222" not in text
    bad = CliRunner().invoke(main, ["--db-url", url, "reporters", "--quarter", "soon"])
    assert bad.exit_code == 1
    assert "2025Q4" in bad.output
