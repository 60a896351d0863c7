"""The case page lists the calls merged into the case at intake (:func:`services.case_view.case_detail`):
who called, when and what they said; the caller's name and full phone only for the roles that call
reporters back."""

from __future__ import annotations

import numpy as np

from services.case_view import case_detail
from services.context import Actor, ServiceContext
from services.intake import IntakeDraft, MergeRequest, merge_intake, register_intake


def test_the_case_page_lists_the_merged_calls_masked_for_other_roles(ctx60: ServiceContext) -> None:
    from cases import repository
    from grid.cells import cell_centers

    cells = np.sort(repository.assignments(ctx60.engine)["cell"].to_numpy(dtype=np.int64))
    lat, lon = cell_centers(cells[:1])
    operator = ctx60.as_actor(Actor("merge-operator", "operator"))
    draft = IntakeDraft(
        "07001", "第一次来电", lat=float(lat[0]), lon=float(lon[0]), reporter_phone="13812345678"
    )
    case_id = register_intake(operator, draft).case_id
    second = IntakeDraft("07001", "又有人打电话", reporter_name="李女士", reporter_phone="13987654321")
    merge_intake(operator, MergeRequest(case_id, second))

    seen = case_detail(operator, case_id).merges
    assert seen[["actor", "reporter_name", "reporter_phone", "description"]].values.tolist() == [
        ["merge-operator", "李女士", "13987654321", "又有人打电话"]
    ]
    dispatcher = ctx60.as_actor(Actor("merge-dispatcher", "dispatcher"))
    masked = case_detail(dispatcher, case_id).merges
    assert masked["reporter_phone"].tolist() == ["139****4321"]
    assert masked["reporter_name"].isna().all()
