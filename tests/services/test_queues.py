"""The command centre's queues: contents, role refusals, district scope and bulk actions (60-day city)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa

from cases import repository
from cases.models import Case
from cases.users import ROLES
from grid.cells import cell_centers
from services import cases as case_service
from services.cases import CaseAction, CaseReport
from services.context import Actor, ServiceContext
from services.errors import NotAllowedError, ServiceError
from services.queues import (
    APPROVAL_ROLES,
    DEPARTMENT_ROLES,
    DISPATCH_ROLES,
    BulkRequest,
    QueueRequest,
    approvals_queue,
    bulk_act,
    department_queue,
    dispatch_queue,
)
from services.queues import districts as districts_of

T0 = dt.datetime(2025, 3, 3, 1, 0, tzinfo=dt.UTC)  # Monday after the 60-day city's last day


def _as(ctx: ServiceContext, role: str, **extra: str | None) -> ServiceContext:
    return ctx.as_actor(Actor(username=f"{role}-user", role=role, **extra))


def _at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def _new_case(ctx: ServiceContext, case_id: str, upto: str, department: str | None = None) -> str:
    """A hotline case in an assigned cell, walked by the system up to ``upto`` (a status)."""
    live = repository.assignments_valid_at(ctx.engine, T0).sort_values(["inspector_id", "cell"])
    lat, lon = cell_centers([int(live["cell"].iloc[0])])
    report = CaseReport(case_id, "hotline", "06010", _at(0), lat=float(lat[0]), lon=float(lon[0]))
    case_service.report(ctx, report)
    steps = {"verified": ["verify"], "registered": ["verify", "register"]}
    steps["dispatched"] = [*steps["registered"], "dispatch"]
    for k, action in enumerate(steps.get(upto, [])):
        extra = {"department": department} if action == "dispatch" else {}
        case_service.act(ctx, CaseAction(case_id, at=_at(k + 1), action=action, **extra))
    return case_id


def _count(ctx: ServiceContext, *statuses: str) -> int:
    with ctx.engine.connect() as conn:
        query = sa.select(sa.func.count()).select_from(Case).where(Case.status.in_(statuses))
        return int(conn.execute(query).scalar_one())


def test_dispatch_queue_lists_the_waiting_and_the_overdue(ctx60: ServiceContext) -> None:
    result = dispatch_queue(_as(ctx60, "dispatcher"), QueueRequest(as_of=T0))
    table = result.to_frame()
    waiting = table[table["stage"] != "overdue"]
    assert len(waiting) == _count(ctx60, "reported", "verified", "registered")
    assert set(table["stage"]) <= {"to_verify", "to_register", "to_dispatch", "returned", "overdue"}
    late = table[table["stage"] == "overdue"]
    assert not late.empty
    assert (late["deadline_at"] < pd.Timestamp(T0)).all()
    assert (late["alert"] == "overdue").all()
    assert (late["hours_left"] <= 0).all()
    assert table["district"].notna().all()
    assert table["category"].notna().all()
    assert table["inspector"].notna().mean() > 0.9  # every demo cell has its inspector
    assert table["suggested_department"].notna().mean() > 0.9
    # sorted by deadline, the cases without one (not yet dispatched) after
    assert table["deadline_at"].dropna().is_monotonic_increasing
    assert table["deadline_at"].isna().to_numpy()[len(late) :].all()
    by_reported = dispatch_queue(ctx60, QueueRequest(as_of=T0, sort="reported")).table
    assert by_reported["reported_at"].is_monotonic_increasing
    with pytest.raises(ServiceError) as info:
        dispatch_queue(ctx60, QueueRequest(sort="nonsense"))
    assert info.value.code == "queue_bad_sort"


def test_dispatch_queue_filters_and_marks_returned_cases(ctx60: ServiceContext) -> None:
    case_id = _new_case(ctx60, "Q-RET", "dispatched", department="320613-HW")
    department = _as(ctx60, "department", department="320613-HW")
    case_service.return_case(department, case_service.CaseRequest(case_id, at=_at(10), note="not ours"))
    table = dispatch_queue(ctx60, QueueRequest(as_of=T0, statuses=("registered",))).table
    assert set(table["status"]) == {"registered"}
    row = table[table["case_id"] == case_id].iloc[0]
    assert row["stage"] == "returned"
    assert row["suggested_department"]
    only = dispatch_queue(ctx60, QueueRequest(as_of=T0, categories=("06010",))).table
    assert set(only["category_code"]) == {"06010"}


@pytest.mark.parametrize(
    ("queue", "allowed"),
    [
        (dispatch_queue, DISPATCH_ROLES),
        (department_queue, DEPARTMENT_ROLES),
        (approvals_queue, APPROVAL_ROLES),
    ],
)
def test_each_queue_refuses_the_other_roles(ctx60: ServiceContext, queue, allowed) -> None:
    for role in ROLES:
        ctx = _as(ctx60, role, department="320613-CG" if role == "department" else None)
        if role in allowed:
            queue(ctx, QueueRequest(as_of=T0))
        else:
            with pytest.raises(NotAllowedError):
                queue(ctx, QueueRequest(as_of=T0))


def test_bulk_act_refuses_roles_that_may_not_take_the_action(ctx60: ServiceContext) -> None:
    for role in ROLES:
        if role == "dispatcher":
            continue
        with pytest.raises(NotAllowedError):
            bulk_act(_as(ctx60, role), BulkRequest(("Q-X",), "dispatch"))
    with pytest.raises(ServiceError) as info:
        bulk_act(ctx60, BulkRequest(("Q-X",), "teleport"))
    assert info.value.code == "unknown_action"


def test_a_district_scoped_user_never_sees_another_district(ctx60: ServiceContext) -> None:
    everything = dispatch_queue(ctx60, QueueRequest(as_of=T0)).table
    districts = everything["district"].value_counts()
    assert len(districts) > 1
    own, other = str(districts.index[0]), str(districts.index[1])
    for role, queue in (("dispatcher", dispatch_queue), ("supervisor", approvals_queue)):
        scoped = _as(ctx60, role, district=own)
        table = queue(scoped, QueueRequest(as_of=T0)).table
        assert (table["district"] == own).all()
        with pytest.raises(NotAllowedError):
            queue(scoped, QueueRequest(as_of=T0, district=other))
    scoped = _as(ctx60, "dispatcher", district=own)
    assert list(districts_of(scoped)) == [own]
    assert len(districts_of(ctx60)) == 4
    with pytest.raises(NotAllowedError):
        districts_of(_as(ctx60, "inspector"))
    assert len(dispatch_queue(scoped, QueueRequest(as_of=T0)).table) == int(districts[own])
    dept = everything.loc[everything["stage"] == "overdue", ["department", "district"]].dropna()
    department, its_district = dept.iloc[0]
    elsewhere = next(d for d in districts.index if d != its_district)
    scoped_department = _as(ctx60, "department", department=department, district=elsewhere)
    seen = department_queue(scoped_department, QueueRequest(as_of=T0)).table
    assert (seen["district"] == elsewhere).all()
    assert len(seen) < int((everything["department"] == department).sum())
    # and acting on another district's case is refused per case
    foreign = everything[(everything["district"] == other) & (everything["status"] == "reported")]
    done = bulk_act(
        _as(ctx60, "operator", district=own), BulkRequest(tuple(foreign["case_id"][:2]), "cancel")
    )
    assert done.failed == len(done.table) > 0
    assert set(done.table["code"]) == {"not_allowed"}


def test_department_queue_shows_only_the_own_department(ctx60: ServiceContext) -> None:
    all_running = department_queue(ctx60, QueueRequest(as_of=T0)).table
    department = str(all_running["department"].value_counts().index[0])
    own = department_queue(_as(ctx60, "department", department=department), QueueRequest(as_of=T0)).table
    assert len(own) > 0
    assert (own["department"] == department).all()
    assert len(own) == int((all_running["department"] == department).sum())
    assert own["hours_left"].notna().all()
    assert set(own["alert"]) <= {"ok", "near", "overdue"}
    with pytest.raises(NotAllowedError):
        department_queue(_as(ctx60, "department", department=department), QueueRequest(department="other"))
    with pytest.raises(NotAllowedError):
        department_queue(_as(ctx60, "department"), QueueRequest())
    picked = department_queue(_as(ctx60, "admin"), QueueRequest(as_of=T0, department=department)).table
    assert picked["case_id"].tolist() == own["case_id"].tolist()


def test_approvals_queue_shows_the_request_its_reason_and_history(ctx60: ServiceContext) -> None:
    case_id = _new_case(ctx60, "Q-EXT", "dispatched", department="320613-HW")
    department = _as(ctx60, "department", department="320613-HW")
    wanted = _at(60 * 24 * 20)
    request = case_service.CaseRequest(case_id, at=_at(10), note="需要更换设备", deadline=wanted)
    case_service.request_extension(department, request)
    result = approvals_queue(_as(ctx60, "supervisor"), QueueRequest(as_of=T0))
    row = result.table[result.table["case_id"] == case_id].iloc[0]
    assert row["request"] == "extension_requested"
    assert row["reason"] == "需要更换设备"
    assert row["requested_deadline"] == pd.Timestamp(wanted)
    assert row["requested_by"] == "department-user"
    history = result.history_of(case_id)
    assert history["to_status"].tolist()[-1] == "extension_requested"
    assert len(history) == 5


def test_bulk_act_goes_on_after_a_failing_case(ctx60: ServiceContext) -> None:
    first = _new_case(ctx60, "Q-B1", "registered")
    second = _new_case(ctx60, "Q-B2", "reported")
    third = _new_case(ctx60, "Q-B3", "registered")
    request = BulkRequest((first, second, "Q-NONE", third), "dispatch", department="320613-HW", at=_at(20))
    done = bulk_act(_as(ctx60, "dispatcher"), request)
    table = done.to_frame().set_index("case_id")
    assert table["ok"].tolist() == [True, False, False, True]
    assert table.loc[second, "code"] == "invalid_transition"
    assert table.loc["Q-NONE", "code"] == "case_not_found"
    assert table.loc[third, "status"] == "dispatched"
    assert done.done == 2
    assert done.failed == 2


def test_the_queue_reads_work_on_sqlite_and_postgresql(store_engine) -> None:
    from cases import repository_queues
    from cases.lifecycle import report_case, transition

    at = T0
    for k, case_id in enumerate(("S-1", "S-2", "S-3")):
        report_case(store_engine, case_id=case_id, source="hotline", category_code="06010", reported_at=at,
                    actor="op", role="operator", lat=32.0, lon=120.86)  # fmt: skip
        for m, action in enumerate(("verify", "register", "dispatch")[: k + 1]):
            transition(store_engine, case_id, action, "x", TRANSITIONS_ROLE[action], at=_at(m + 1),
                       department="D-1", deadline=_at(60) if action == "dispatch" else None)  # fmt: skip
    transition(store_engine, "S-3", "return", "d", "department", at=_at(10))
    transition(
        store_engine, "S-3", "dispatch", "x", "dispatcher", at=_at(11), department="D-1", deadline=_at(30)
    )
    transition(
        store_engine, "S-3", "request_extension", "d", "department", at=_at(12), note="why", deadline=_at(90)
    )
    waiting = repository_queues.queue_cases(store_engine, ("verified", "registered"))
    assert waiting["case_id"].tolist() == ["S-1", "S-2"]
    late = repository_queues.queue_cases(
        store_engine, (), overdue_statuses=("extension_requested",), as_of=_at(31), department="D-1"
    )
    assert late["case_id"].tolist() == ["S-3"]
    assert late["deadline_at"].iloc[0] == pd.Timestamp(_at(30))
    assert repository_queues.queue_cases(
        store_engine, (), overdue_statuses=("extension_requested",), as_of=_at(29)
    ).empty
    assert repository_queues.returned_case_ids(store_engine, "extension_requested") == {"S-3"}
    asks = repository_queues.latest_requests(store_engine)
    assert asks[["case_id", "reason"]].values.tolist() == [["S-3", "why"]]
    assert asks["requested_deadline"].iloc[0] == pd.Timestamp(_at(90))
    assert repository_queues.district_names(store_engine) == {}
    assert repository_queues.areas_signature(store_engine) == (0, 0, None)


TRANSITIONS_ROLE = {"verify": "inspector", "register": "supervisor", "dispatch": "dispatcher"}


def test_a_case_without_a_place_does_not_break_the_queue(ctx60: ServiceContext) -> None:
    """A no-location case (a hotline call without a point) sits in the queue with no district, and the
    other cases keep their exact cell ids (a NULL cell must not turn the column into rounded floats)."""
    case_service.report(ctx60, CaseReport("NOPLACE-1", "hotline", "06010", _at(0)))
    _new_case(ctx60, "PLACED-1", "reported")
    queue = dispatch_queue(ctx60, QueueRequest(as_of=_at(30))).to_frame()
    rows = queue.set_index("case_id")
    assert {"NOPLACE-1", "PLACED-1"} <= set(rows.index)
    assert pd.isna(rows.loc["NOPLACE-1", "district"])
    stored = repository_cell(ctx60, "PLACED-1")
    assert int(rows.loc["PLACED-1", "cell"]) == stored


def repository_cell(ctx: ServiceContext, case_id: str) -> int:
    with ctx.engine.connect() as conn:
        return int(conn.execute(sa.select(Case.cell).where(Case.case_id == case_id)).scalar_one())
