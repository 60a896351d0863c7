"""Helpers of the case-page, callback and photo tests: a hotline case walked to a status (60-day city)."""

from __future__ import annotations

import datetime as dt

from cases import repository
from grid.cells import cell_centers
from services import cases as case_service
from services.cases import CaseReport, CaseRequest
from services.context import Actor, ServiceContext

T0 = dt.datetime(2025, 3, 3, 1, 0, tzinfo=dt.UTC)  # Monday after the 60-day city's last day
DEPT = "D-HW"
PHONE = "13812345678"
#: The steps from a public report to each status (actor role, action, extra request fields).
_PATH = [
    ("inspector", "verify", {}),
    ("supervisor", "register", {}),
    ("dispatcher", "dispatch", {"department": DEPT}),
    ("department", "handle", {}),
    ("inspector", "check_pass", {}),
    ("supervisor", "close", {}),
]
_STOP = {
    "reported": 0,
    "verified": 1,
    "registered": 2,
    "dispatched": 3,
    "resolved": 4,
    "checked": 5,
    "closed": 6,
}


def as_role(ctx: ServiceContext, role: str, **extra: str | None) -> ServiceContext:
    return ctx.as_actor(Actor(username=f"{role}-user", role=role, **extra))


def beat(ctx: ServiceContext) -> tuple[str, float, float]:
    """An inspector and the centre of one of the cells assigned to them now (and at T0)."""
    live = repository.assignments_valid_at(ctx.engine, dt.datetime.now(dt.UTC))
    live = live[live["cell"].isin(repository.assignments_valid_at(ctx.engine, T0)["cell"])]
    row = live.sort_values(["inspector_id", "cell"]).iloc[0]
    lat, lon = cell_centers([int(row["cell"])])
    return str(row["inspector_id"]), float(lat[0]), float(lon[0])


def walk(ctx: ServiceContext, case_id: str, status: str, *, phone: str | None = PHONE) -> str:
    """File a hotline case in an inspector's cell and move it to ``status``; returns the inspector id."""
    inspector, lat, lon = beat(ctx)
    fields = {"urgency": "normal", "description": "占道经营 <b>x</b>", "reporter_phone": phone}
    case_service.report(
        as_role(ctx, "operator"), CaseReport(case_id, "hotline", "0101", T0, lat=lat, lon=lon, fields=fields)
    )
    roles = {
        "inspector": as_role(ctx, "inspector", inspector_id=inspector),
        "department": as_role(ctx, "department", department=DEPT),
    }
    for k, (role, action, extra) in enumerate(_PATH[: _STOP[status]], start=1):
        actor = roles.get(role) or as_role(ctx, role)
        case_service.act(
            actor,
            case_service.CaseAction(case_id, at=T0 + dt.timedelta(minutes=10 * k), action=action, **extra),
        )
    return inspector


__all__ = ["DEPT", "PHONE", "T0", "CaseRequest", "as_role", "beat", "walk"]
