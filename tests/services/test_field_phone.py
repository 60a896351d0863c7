"""The inspector's phone page services (:mod:`services.field`): countdowns, the report preview (address of
the position, same-category cases nearby), photos at report and check, refused empty and repeated reports."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from cases.models import Address
from grid.cells import latlng_to_cells
from services.context import Actor, ServiceContext
from services.coverage import track_span
from services.errors import NotAllowedError, ServiceError
from services.field import (
    FieldActionRequest,
    FieldRequest,
    ReportRequest,
    field_view,
    preview_report,
    record_action,
    report_problem,
)
from services.photos import case_photos

INSPECTOR = "NT0001"


def _as(ctx: ServiceContext, role: str, inspector_id: str | None = None) -> ServiceContext:
    return ctx.as_actor(Actor(username=f"{role}-user", role=role, inspector_id=inspector_id))


def _png(colour: str = "red") -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (16, 12), colour).save(out, "PNG")
    return out.getvalue()


def _mine(ctx60: ServiceContext):
    day = track_span(ctx60)[1]
    mine = _as(ctx60, "inspector", INSPECTOR)
    return mine, day, field_view(mine, FieldRequest(day=day))


def test_tasks_carry_a_countdown_to_their_deadline(ctx60: ServiceContext) -> None:
    _, day, view = _mine(ctx60)
    assert view.as_of is not None
    assert view.as_of.date() <= day + pd.Timedelta(days=1)
    with_deadline = view.tasks.dropna(subset=["deadline_at"])
    expected = (with_deadline["deadline_at"] - view.as_of).dt.total_seconds()
    assert np.allclose(with_deadline["due_in_s"], expected)
    assert view.tasks.loc[view.tasks["deadline_at"].isna(), "due_in_s"].isna().all()


def test_report_preview_names_the_address_and_warns_of_a_same_category_case(ctx60: ServiceContext) -> None:
    mine, day, view = _mine(ctx60)
    task = view.tasks.iloc[0]
    lat, lon = float(task["lat"]), float(task["lon"])
    cell = int(latlng_to_cells(np.array([lat + 0.0002]), np.array([lon]), 10)[0])
    with ctx60.engine.begin() as conn:
        conn.execute(
            sa.insert(Address),
            [{"name": "南通中学", "address": "人民路12号", "normalized": "人民路12号", "kind": "poi",
              "lat": lat + 0.0002, "lon": lon, "cell": cell, "source_crs": "wgs84"}],
        )  # fmt: skip
    first = preview_report(mine, ReportRequest(lat, lon, "0101", day=day))
    assert first.inside
    assert first.address == "人民路12号"
    assert first.address_name == "南通中学"
    assert 0 < first.address_distance_m < 40
    assert first.duplicates.empty  # nothing of this category reported here in the window
    png = _png()
    new_id = report_problem(
        mine, ReportRequest(lat, lon, "0101", description="井盖缺失", day=day, photo=png, photo_name="a.png")
    )
    photos = case_photos(mine, new_id).to_frame()
    assert len(photos) == 1
    assert photos["content_type"].iloc[0] == "image/jpeg"
    again = preview_report(mine, ReportRequest(lat + 0.0001, lon, "0101", day=day))
    assert list(again.duplicates["case_id"]) == [new_id]
    assert again.duplicates["reported_at"].dt.tz is not None
    # the same words again at the same place: refused, naming the first report
    with pytest.raises(ServiceError) as repeat:
        report_problem(mine, ReportRequest(lat, lon, "0101", description=" 井盖缺失 ", day=day))
    assert repeat.value.code == "repeat_report"
    assert repeat.value.params["case"] == new_id
    # another description of the same category is a new report (the warning is only a warning)
    assert report_problem(mine, ReportRequest(lat, lon, "0101", description="井盖破损", day=day)) != new_id
    with pytest.raises(NotAllowedError):
        preview_report(_as(ctx60, "manager"), ReportRequest(lat, lon, "0101", day=day))


def test_empty_descriptions_and_bad_photos_file_nothing(ctx60: ServiceContext) -> None:
    mine, day, view = _mine(ctx60)
    lat, lon = float(view.tasks["lat"].iloc[0]), float(view.tasks["lon"].iloc[0])
    with ctx60.engine.connect() as conn:
        before = conn.execute(sa.text("select count(*) from cases")).scalar_one()
    for blank in ("", "   \n "):
        with pytest.raises(ServiceError) as refused:
            report_problem(mine, ReportRequest(lat, lon, "0101", description=blank, day=day))
        assert refused.value.code == "description_required"
    with pytest.raises(ServiceError) as bad:
        report_problem(mine, ReportRequest(lat, lon, "0101", description="x", day=day, photo=b"not a photo"))
    assert bad.value.code == "not_an_image"
    with ctx60.engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from cases")).scalar_one() == before


def test_a_check_photo_is_tied_to_the_event_and_a_repeat_is_refused(ctx60: ServiceContext) -> None:
    mine, day, view = _mine(ctx60)
    job = view.tasks[view.tasks["status"] == "reported"].iloc[0]
    with pytest.raises(ServiceError) as bad:
        record_action(mine, FieldActionRequest(job["case_id"], "verify", photo=b"GIF89a", day=day))
    assert bad.value.code == "not_an_image"
    assert field_view(mine, FieldRequest(day=day)).tasks["case_id"].eq(job["case_id"]).any()  # unchanged
    done = record_action(
        mine, FieldActionRequest(job["case_id"], "verify", photo=_png("blue"), photo_name="b.png", day=day)
    )
    assert done == "verified"
    photos = case_photos(mine, job["case_id"]).to_frame()
    assert len(photos) == 1
    assert pd.notna(photos["event_id"].iloc[0])
    with pytest.raises(ServiceError) as twice:
        record_action(mine, FieldActionRequest(job["case_id"], "verify", day=day))
    assert twice.value.code == "invalid_transition"
