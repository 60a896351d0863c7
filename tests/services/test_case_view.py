"""The case page's service: who may see a case (by role, cells, department, district), masked phones,
the timeline, the time left and the actions offered."""

from __future__ import annotations

import datetime as dt

import pytest

from services.case_view import case_detail, case_district
from services.context import ServiceContext
from services.errors import NotAllowedError, ServiceError
from tests.services.casework_util import DEPT, PHONE, T0, as_role, walk


def test_every_centre_role_sees_the_case_with_its_timeline(ctx60: ServiceContext) -> None:
    walk(ctx60, "CV-1", "dispatched")
    for role in ("operator", "dispatcher", "supervisor", "manager", "admin"):
        detail = case_detail(as_role(ctx60, role), "CV-1", as_of=T0 + dt.timedelta(hours=1))
        assert detail.status == "dispatched"
        timeline = detail.to_frame()
        assert timeline["action"].tolist() == ["report", "verify", "register", "dispatch"]
        assert {"at", "actor", "role", "note", "deadline_at"} <= set(timeline.columns)
        assert detail.deadline_at is not None
        assert detail.hours_left is not None
        assert detail.working_hours_left is not None
    # only the roles that call reporters see the phone in full
    assert case_detail(as_role(ctx60, "operator"), "CV-1").case["reporter_phone"].iloc[0] == PHONE
    assert case_detail(as_role(ctx60, "supervisor"), "CV-1").case["reporter_phone"].iloc[0] == PHONE
    for role in ("dispatcher", "manager"):
        assert case_detail(as_role(ctx60, role), "CV-1").case["reporter_phone"].iloc[0] == "138****5678"
    assert case_detail(as_role(ctx60, "dispatcher"), "CV-1").actions == []
    assert case_detail(as_role(ctx60, "manager"), "CV-1").actions == []


def test_department_and_inspector_see_their_own_cases_only(ctx60: ServiceContext) -> None:
    inspector = walk(ctx60, "CV-2", "dispatched")
    own = case_detail(as_role(ctx60, "department", department=DEPT), "CV-2")
    assert own.actions == ["return", "handle", "request_extension", "request_suspension"]
    assert own.case["reporter_phone"].iloc[0] == "138****5678"
    with pytest.raises(NotAllowedError):
        case_detail(as_role(ctx60, "department", department="D-OTHER"), "CV-2")
    assert case_detail(as_role(ctx60, "inspector", inspector_id=inspector), "CV-2").status == "dispatched"
    with pytest.raises(NotAllowedError):
        case_detail(as_role(ctx60, "inspector", inspector_id="NOBODY"), "CV-2")
    with pytest.raises(NotAllowedError):
        case_detail(as_role(ctx60, "planner"), "CV-2")
    with pytest.raises(ServiceError, match="does not exist"):
        case_detail(as_role(ctx60, "operator"), "NO-SUCH-CASE")


def test_a_district_scoped_user_is_refused_another_districts_case_by_id(ctx60: ServiceContext) -> None:
    walk(ctx60, "CV-3", "registered")
    district = case_district(ctx60, case_detail(ctx60, "CV-3").case)
    assert district is not None
    mine = case_detail(as_role(ctx60, "supervisor", district=district), "CV-3")
    assert mine.case["district"].iloc[0] == district
    for role in ("supervisor", "operator", "dispatcher"):
        with pytest.raises(NotAllowedError):
            case_detail(as_role(ctx60, role, district=f"{district}-elsewhere"), "CV-3")
