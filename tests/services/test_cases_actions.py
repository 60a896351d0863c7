"""Case actions through the service layer: the loop walked by the right roles, refused to the wrong ones."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import pytest

from cases import repository, repository_people
from cases.lifecycle import ACTIONS as LIFECYCLE_ACTIONS
from grid.cells import cell_centers
from services import cases as case_service
from services.callbacks import mediate
from services.cases import CaseAction, CaseReport, CaseRequest
from services.context import Actor, ServiceContext
from services.errors import NotAllowedError, ServiceError

T0 = dt.datetime(2025, 3, 3, 1, 0, tzinfo=dt.UTC)  # Monday after the 60-day city's last day


def _as(ctx: ServiceContext, role: str, **extra: str) -> ServiceContext:
    return ctx.as_actor(Actor(username=f"{role}-user", role=role, **extra))


def _beat(ctx: ServiceContext) -> tuple[str, float, float]:
    """An inspector and the centre of one of the cells assigned to them at T0."""
    live = repository.assignments_valid_at(ctx.engine, T0).sort_values(["inspector_id", "cell"])
    row = live.iloc[0]
    lat, lon = cell_centers([int(row["cell"])])
    return str(row["inspector_id"]), float(lat[0]), float(lon[0])


def _at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def test_every_lifecycle_action_has_a_wrapper() -> None:
    names = {a if a != "return" else "return_case" for a in LIFECYCLE_ACTIONS} - {"mediate"}
    assert all(callable(getattr(case_service, name)) for name in names)
    assert callable(mediate)  # with the parties and the agreement: services.callbacks
    assert set(case_service.ACTIONS) == set(LIFECYCLE_ACTIONS)


def test_a_hotline_case_walks_the_loop_by_the_right_roles(ctx60: ServiceContext) -> None:
    inspector, lat, lon = _beat(ctx60)
    operator = _as(ctx60, "operator")
    filed = case_service.report(
        operator,
        CaseReport("SVC-1", "hotline", "0101", _at(0), lat=lat, lon=lon, fields={"urgency": "normal"}),
    )
    assert filed.status == "reported"
    ins = _as(ctx60, "inspector", inspector_id=inspector)
    department = _as(ctx60, "department", department="D-HW")
    steps = [
        (ins, case_service.verify, {}, "verified"),
        (_as(ctx60, "supervisor"), case_service.register, {}, "registered"),
        (_as(ctx60, "dispatcher"), case_service.dispatch, {"department": "D-HW"}, "dispatched"),
        (department, case_service.request_extension, {"deadline": _at(60 * 24 * 30)}, "extension_requested"),
        (_as(ctx60, "supervisor"), case_service.approve_extension, {}, "dispatched"),
        (department, case_service.handle, {}, "resolved"),
        (ins, case_service.check_fail, {}, "dispatched"),
        (department, case_service.handle, {}, "resolved"),
        (ins, case_service.check_pass, {}, "checked"),
        (_as(ctx60, "supervisor"), case_service.close, {}, "closed"),
    ]
    for k, (ctx, action, extra, status) in enumerate(steps, start=1):
        result = action(ctx, CaseRequest("SVC-1", at=_at(10 * k), **extra))
        assert result.status == status
        frame = result.to_frame()
        assert list(frame["case_id"]) == ["SVC-1"]
        assert len(frame) == 1
        assert result.events["to_status"].iloc[-1] == status
    events = result.events
    assert events["actor"].iloc[0] == "supervisor-user"
    closed = result.to_frame().iloc[0]
    assert pd.notna(closed["closed_at"])
    assert closed["deadline_at"] == pd.Timestamp(_at(60 * 24 * 30))
    assert closed["version"] == 1 + len(steps)


def test_wrong_roles_and_scopes_are_refused(ctx60: ServiceContext) -> None:
    inspector, lat, lon = _beat(ctx60)
    case_service.report(
        _as(ctx60, "operator"), CaseReport("SVC-2", "hotline", "0101", _at(0), lat=lat, lon=lon)
    )
    request = CaseRequest("SVC-2", at=_at(5))
    for role in ("operator", "dispatcher", "department", "supervisor", "planner", "manager", "admin"):
        with pytest.raises(NotAllowedError):
            case_service.verify(_as(ctx60, role), request)
    with pytest.raises(NotAllowedError):  # an inspector of other cells
        case_service.verify(_as(ctx60, "inspector", inspector_id="nobody"), request)
    with pytest.raises(NotAllowedError):  # a planner may not file cases
        case_service.report(_as(ctx60, "planner"), CaseReport("SVC-3", "hotline", "0101", _at(0)))
    case_service.verify(_as(ctx60, "inspector", inspector_id=inspector), request)
    case_service.register(ctx60, CaseRequest("SVC-2", at=_at(6)))  # the system acts in the allowed role
    case_service.dispatch(ctx60, CaseRequest("SVC-2", at=_at(7), department="D-SZ"))
    with pytest.raises(NotAllowedError):  # another department's case
        case_service.handle(_as(ctx60, "department", department="D-HW"), CaseRequest("SVC-2", at=_at(8)))
    with pytest.raises(ServiceError) as wrong_status:
        case_service.close(_as(ctx60, "supervisor"), CaseRequest("SVC-2", at=_at(9)))
    assert wrong_status.value.code == "invalid_transition"
    with pytest.raises(ServiceError) as stale:
        case_service.act(
            _as(ctx60, "department", department="D-SZ"),
            CaseAction("SVC-2", at=_at(9), expected_version=1, action="handle"),
        )
    assert stale.value.code == "stale_case"
    with pytest.raises(ServiceError) as missing:
        case_service.act(ctx60, CaseAction("NOPE", action="verify"))
    assert missing.value.code == "case_not_found"
    assert case_service.possible_actions(_as(ctx60, "department"), "SVC-2") == [
        "return",
        "handle",
        "request_extension",
        "request_suspension",
    ]
    assert dataclasses.asdict(CaseRequest("x"))["department"] is None


def test_dispatch_without_a_department_follows_the_routing_table(ctx60: ServiceContext) -> None:
    inspector, lat, lon = _beat(ctx60)
    stored = repository.cases_frame(ctx60.engine, ("case_id", "category_code"))
    code = str(stored["category_code"].mode().iloc[0])  # a category the demo city routes
    case_service.report(
        _as(ctx60, "inspector", inspector_id=inspector),
        CaseReport("SVC-4", "patrol", code, _at(0), lat=lat, lon=lon),
    )  # an inspector's find is verified at once
    case_service.register(ctx60, CaseRequest("SVC-4", at=_at(1)))
    suggested = case_service.suggest_department(ctx60, "SVC-4")
    assert suggested is not None
    sent = case_service.dispatch(_as(ctx60, "dispatcher"), CaseRequest("SVC-4", at=_at(2)))
    assert sent.to_frame()["department"].iloc[0] == suggested
    assert sent.to_frame()["deadline_at"].iloc[0] > pd.Timestamp(_at(2))


def test_a_district_scoped_supervisor_acts_in_their_district_only(ctx60: ServiceContext) -> None:
    inspector, lat, lon = _beat(ctx60)
    case_service.report(
        _as(ctx60, "inspector", inspector_id=inspector),
        CaseReport("SVC-5", "patrol", "0101", _at(0), lat=lat, lon=lon),
    )
    district = repository.load_areas(ctx60.engine, "district")["area_id"].tolist()
    own = case_service._district(ctx60, repository_people.case_record(ctx60.engine, "SVC-5"))
    assert own in district
    other = next(d for d in [*district, "elsewhere"] if d != own)
    with pytest.raises(NotAllowedError):
        case_service.register(_as(ctx60, "supervisor", district=other), CaseRequest("SVC-5", at=_at(1)))
    scoped = _as(ctx60, "supervisor", district=own)
    registered = case_service.register(scoped, CaseRequest("SVC-5", at=_at(1)))
    assert registered.status == "registered"
