"""Issue #25: an action is authorized against the assignment valid now (server time), never a client date."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from cases import repository
from cases.models import Assignment
from grid.cells import cell_centers
from services import cases as case_service
from services.cases import CaseReport, CaseRequest
from services.context import Actor, ServiceContext
from services.errors import NotAllowedError

PAST = dt.datetime(2025, 1, 15, 2, 0, tzinfo=dt.UTC)


def test_a_past_assignment_does_not_authorize_an_action_today(ctx60: ServiceContext) -> None:
    now = repository.assignments_valid_at(ctx60.engine, dt.datetime.now(dt.UTC))
    assert not now.empty
    owner = str(now["inspector_id"].iloc[0])
    other = sorted(set(now["inspector_id"]) - {owner})[0]
    cell = int(now.loc[now["inspector_id"] == owner, "cell"].iloc[0])
    with ctx60.engine.begin() as conn:  # ``other`` covered the cell last January, no longer
        conn.execute(
            sa.insert(Assignment.__table__).values(
                inspector_id=other, cell=cell, valid_from=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
                valid_to=dt.datetime(2025, 2, 1, tzinfo=dt.UTC),
            )
        )  # fmt: skip
    lat, lon = cell_centers([cell])
    case_service.report(
        ctx60, CaseReport("SCOPE-1", "hotline", "0101", PAST - dt.timedelta(hours=1), lat=float(lat[0]),
                          lon=float(lon[0]))
    )  # fmt: skip
    former = ctx60.as_actor(Actor(username="former", role="inspector", inspector_id=other))
    with pytest.raises(NotAllowedError):  # the client's old date does not bring the old beat back
        case_service.verify(former, CaseRequest("SCOPE-1", at=PAST))
    with pytest.raises(NotAllowedError):
        case_service.verify(former, CaseRequest("SCOPE-1"))
    present = ctx60.as_actor(Actor(username="present", role="inspector", inspector_id=owner))
    done = case_service.verify(present, CaseRequest("SCOPE-1", at=PAST))
    assert len(done.events) >= 1
