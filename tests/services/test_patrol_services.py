"""The patrol services on the 60-day city: one definition of beats from the city configuration, explicit
"no tracks", and the roles and cell scope of the inspector's field operations."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cases import repository
from services.context import Actor, ServiceContext
from services.coverage import (
    CoverageRequest,
    EffectivenessRequest,
    NeglectRequest,
    coverage_report,
    effectiveness,
    neglect,
    track_span,
)
from services.deployment import BeatsRequest, RouteRequest, beats_plan, route
from services.errors import NotAllowedError, ServiceError
from services.field import (
    FieldActionRequest,
    FieldRequest,
    ReportRequest,
    case_access,
    field_view,
    record_action,
    report_problem,
)

INSPECTOR = "NT0001"


def _as(ctx: ServiceContext, role: str, inspector_id: str | None = None) -> ServiceContext:
    return ctx.as_actor(Actor(username=f"{role}-user", role=role, inspector_id=inspector_id))


def _last_day(ctx: ServiceContext) -> dt.date:
    return track_span(ctx)[1]


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, "PNG")
    return out.getvalue()


def test_beats_follow_the_configured_visit_targets(ctx60: ServiceContext) -> None:
    plan = beats_plan(ctx60, BeatsRequest(n_beats=4))
    patrol = ctx60.config.patrol
    assert plan.model == patrol.forecast_model
    work = plan.cells
    hot = work["patrol_min"] > work["patrol_min"].min() * 2  # walked more often than weekly
    assert 0 < hot.mean() <= patrol.hot_share + 0.01
    doubled = dataclasses.replace(patrol, base_visits_per_week=2 * patrol.base_visits_per_week)
    heavier = beats_plan(
        dataclasses.replace(ctx60, config=ctx60.config.replace(patrol=doubled)), BeatsRequest(n_beats=4)
    )
    cold = ~hot.to_numpy()
    np.testing.assert_allclose(heavier.cells["patrol_min"].to_numpy()[cold], 2 * work["patrol_min"][cold])


def test_beats_take_the_assignments_valid_at_the_as_of_instant(ctx60: ServiceContext) -> None:
    live = repository.assignments_valid_at(ctx60.engine, pd.Timestamp("2025-02-01", tz="UTC"))
    plan = beats_plan(ctx60, BeatsRequest(as_of=dt.date(2025, 2, 1)))
    assert set(plan.cells["cell"]) == set(live["cell"])
    assert plan.n_beats == live["inspector_id"].nunique()
    with pytest.raises(ServiceError) as before:
        beats_plan(ctx60, BeatsRequest(as_of=dt.date(2024, 6, 1)))  # before any assignment
    assert before.value.code == "no_assignments"
    district = str(plan.cells["district"].iloc[0])
    one = beats_plan(ctx60, BeatsRequest(n_beats=2, district=district))
    assert set(one.cells["district"]) == {district}


def test_effectiveness_without_tracks_says_so(ctx60: ServiceContext, tmp_path: Path) -> None:
    day = _last_day(ctx60)
    request = EffectivenessRequest(day - dt.timedelta(days=2), day, tracks=tmp_path / "no-tracks")
    result = effectiveness(ctx60, request)
    assert not result.tracks_found
    assert "no patrol tracks found" in result.tracks_message
    assert result.table["patrol_hours"].isna().all()  # unknown, not 0
    assert result.table["cases"].sum() == result.n_cases > 0
    found = effectiveness(ctx60, dataclasses.replace(request, tracks=None))
    assert found.tracks_found
    assert (found.table["patrol_hours"] > 0).all()


def test_managers_report_coverage_inspectors_do_not(ctx60: ServiceContext) -> None:
    day = _last_day(ctx60)
    request = CoverageRequest(day - dt.timedelta(days=1), day, never_days=3)
    report = coverage_report(_as(ctx60, "manager"), request)
    assert report.tracks_found
    assert report.never_days == 3
    assert set(report.kpis["inspector_id"]) == set(repository.assignments(ctx60.engine)["inspector_id"])
    for role in ("inspector", "planner"):
        with pytest.raises(NotAllowedError):
            coverage_report(_as(ctx60, role, INSPECTOR), request)
        with pytest.raises(NotAllowedError):
            beats_plan(_as(ctx60, role, INSPECTOR), BeatsRequest())
    with pytest.raises(ServiceError):
        coverage_report(ctx60, CoverageRequest(day, day - dt.timedelta(days=1)))


def test_an_inspector_sees_and_routes_only_their_own_grid(ctx60: ServiceContext) -> None:
    day = _last_day(ctx60)
    mine = _as(ctx60, "inspector", INSPECTOR)
    view = field_view(mine, FieldRequest(day=day))
    assert view.inspector_id == INSPECTOR
    assert view.can_act
    assert view.cells.size > 0
    assert view.tasks["cell"].isin(view.cells).all()
    assert set(view.tasks["status"]) <= {"reported", "resolved"}
    assert view.neglect is not None
    assert set(view.neglect["cell"]) == set(view.cells.tolist())
    with pytest.raises(ServiceError):
        field_view(mine, FieldRequest(inspector_id="NT0002", day=day))
    with pytest.raises(ServiceError):
        route(mine, RouteRequest(date=day, inspector_id="NT0002"))
    with pytest.raises(ServiceError):
        neglect(mine, NeglectRequest(as_of=day, inspector_id="NT0002"))
    with pytest.raises(NotAllowedError):
        field_view(_as(ctx60, "manager"), FieldRequest(inspector_id=INSPECTOR, day=day))
    admin = field_view(_as(ctx60, "admin"), FieldRequest(inspector_id="NT0002", day=day))
    assert not admin.can_act
    assert not set(admin.cells.tolist()) & set(view.cells.tolist())


def test_field_actions_stay_inside_the_inspectors_cells(ctx60: ServiceContext) -> None:
    day = _last_day(ctx60)
    mine = _as(ctx60, "inspector", INSPECTOR)
    other = field_view(_as(ctx60, "admin"), FieldRequest(inspector_id="NT0002", day=day))
    task = next(iter(other.tasks.itertuples()))
    with pytest.raises(ServiceError) as refused:
        record_action(mine, FieldActionRequest(task.case_id, "verify", day=day))
    assert refused.value.code == "case_refused"
    assert case_access(mine, task.case_id, day=day) is None
    assert case_access(mine, "NO-SUCH-CASE", day=day) is None
    own = field_view(mine, FieldRequest(day=day)).tasks
    job = own[own["status"] == "reported"].iloc[0]
    with pytest.raises(NotAllowedError):  # the administrator looks, the inspector acts
        record_action(_as(ctx60, "admin"), FieldActionRequest(job["case_id"], "verify", day=day))
    png = _png()
    status = record_action(mine, FieldActionRequest(job["case_id"], "verify", note="ok", photo=png, day=day))
    assert status == "verified"
    assert list((ctx60.data_dir / "photos").rglob("*.jpg"))
    assert case_access(mine, job["case_id"], day=day) == "verified"
    lat, lon = float(job["lat"]), float(job["lon"])
    new_id = report_problem(mine, ReportRequest(lat, lon, "0101", description="found", day=day))
    assert new_id.startswith("P")
    far = float(other.tasks["lat"].iloc[0]), float(other.tasks["lon"].iloc[0])
    with pytest.raises(ServiceError) as outside:
        report_problem(mine, ReportRequest(*far, "0101", description="far", day=day))
    assert "outside the cells assigned to NT0001" in str(outside.value)
