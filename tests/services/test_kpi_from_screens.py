"""KPIs of lifecycle events written through the screens' services equal ``gridpatrol kpi`` (issue 20).

On the 60-day demo city, a hotline call goes the whole loop through the service functions the pages call
(intake, the case page's actions, the dispatch page's bulk action, the department's handling with a photo,
the supervisor's approval, the callback page) and a demo case still with its department is closed by
mediation, all on the demo's last day. The KPI table ``gridpatrol kpi`` writes for the demo's filing range
is then the service's table, and it differs from the table before by exactly those steps: one more case
filed, closed on time, extended and called back satisfied in the call's department; one more mediated
closure in the other case's department.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import numpy as np
import pandas as pd
from click.testing import CliRunner

from app.cli import main
from services.context import Actor, ServiceContext
from services.kpi import KpiRequest, filed_range, kpi_table

INSPECTOR = "NT0003"
CATEGORY = "07001"
DAY = dt.date(2025, 3, 1)  # the demo city's last day (a Sunday)
COUNTS = ["cases", "closed", "closed_on_time", "extended", "callbacks", "satisfied", "mediated"]


def _cli_table(start: dt.date, end: dt.date, out: Path) -> pd.DataFrame:
    args = ["kpi", "--by", "department", "--from", f"{start}", "--to", f"{end}", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return pd.read_parquet(out)


def _at(ctx: ServiceContext, hour: int, minute: int = 0) -> dt.datetime:
    """``hour:minute`` local time on :data:`DAY`, as an aware UTC instant."""
    local = pd.Timestamp(dt.datetime.combine(DAY, dt.time(hour, minute))).tz_localize(ctx.timezone)
    return local.tz_convert("UTC").to_pydatetime()


def _point(ctx: ServiceContext) -> tuple[float, float]:
    from cases import repository
    from grid.cells import cell_centers

    on = pd.Timestamp(_at(ctx, 9))
    live = repository.assignments_overlapping(ctx.engine, on, on + pd.Timedelta("1us"))
    cells = np.sort(live.loc[live["inspector_id"] == INSPECTOR, "cell"].to_numpy(dtype=np.int64))
    lat, lon = cell_centers(cells[cells.size // 2 : cells.size // 2 + 1])
    return float(lat[0]), float(lon[0])


def _photo() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (90, 140, 60)).save(buffer, "JPEG")
    return buffer.getvalue()


def _mediable(ctx: ServiceContext, other_than: str) -> tuple[str, str]:
    """A dispatched demo case of a department other than ``other_than`` whose last event is before noon
    of :data:`DAY`; returns (case id, department)."""
    from cases.lifecycle import load_events, load_lifecycle_frame

    cases = load_lifecycle_frame(ctx.engine)
    last = load_events(ctx.engine).groupby("case_id")["at"].max()
    mine = (
        (cases["status"] == "dispatched") & cases["department"].notna() & (cases["department"] != other_than)
    )
    open_ = cases[mine].set_index("case_id")
    fits = open_[last.reindex(open_.index) < pd.Timestamp(_at(ctx, 12))]
    assert not fits.empty
    return str(fits.index[0]), str(fits["department"].iloc[0])


def _the_loop(ctx: ServiceContext) -> tuple[str, str]:
    """A hotline call through the whole loop by the screens' services; returns (case id, department)."""
    from cases import repository_people
    from services.callbacks import CallbackRecord, record_callback
    from services.cases import CaseAction, act
    from services.intake import IntakeDraft, preview_intake, register_intake
    from services.photos import PhotoUpload, act_with_photos
    from services.queues import BulkRequest, bulk_act

    operator = ctx.as_actor(Actor("screen-operator", "operator"))
    inspector = ctx.as_actor(Actor("screen-inspector", "inspector", inspector_id=INSPECTOR))
    supervisor = ctx.as_actor(Actor("screen-supervisor", "supervisor"))
    dispatcher = ctx.as_actor(Actor("screen-dispatcher", "dispatcher"))
    lat, lon = _point(ctx)
    draft = IntakeDraft(
        CATEGORY, "垃圾桶满溢", lat=lat, lon=lon, reporter_phone="13812345678", reported_at=_at(ctx, 9)
    )
    department = preview_intake(operator, draft).department
    assert department is not None
    case_id = register_intake(operator, draft).case_id
    department_user = ctx.as_actor(Actor("screen-department", "department", department=department))

    def version() -> int:
        return int(repository_people.case_record(ctx.engine, case_id)["version"].iloc[0])

    def step(who: ServiceContext, action: str, hour: int, **extra: object) -> None:
        request = CaseAction(
            case_id, note=action, expected_version=version(), action=action, at=_at(ctx, hour), **extra
        )
        photo = (PhotoUpload(case_id, _photo(), f"{action}.jpg"),) if action in ("verify", "handle") else ()
        act_with_photos(who, request, photo) if photo else act(who, request)

    step(inspector, "verify", 10)
    step(supervisor, "register", 11)
    done = bulk_act(dispatcher, BulkRequest((case_id,), "dispatch", at=_at(ctx, 12)))
    assert done.done == 1, done.to_frame()
    due = repository_people.case_record(ctx.engine, case_id)["deadline_at"].iloc[0]
    step(department_user, "request_extension", 13, deadline=(due + pd.Timedelta(days=2)).to_pydatetime())
    step(supervisor, "approve_extension", 14)
    step(department_user, "handle", 15)
    step(inspector, "check_pass", 16)
    step(supervisor, "close", 17)
    record_callback(operator, CallbackRecord(case_id, True, True, "满意", at=_at(ctx, 18)))
    assert repository_people.case_record(ctx.engine, case_id)["status"].iloc[0] == "closed"
    return case_id, department


def test_kpis_of_the_screens_events_equal_the_kpi_command(ctx60: ServiceContext, tmp_path: Path) -> None:
    from services.callbacks import MediationRequest, mediate

    span = filed_range(ctx60)
    assert span is not None
    start, end = span
    assert end == DAY
    before = _cli_table(start, end, tmp_path / "before.parquet").set_index("department")

    _, department = _the_loop(ctx60)
    mediated, mediated_department = _mediable(ctx60, department)
    supervisor = ctx60.as_actor(Actor("screen-supervisor", "supervisor"))
    mediate(supervisor, MediationRequest(mediated, "甲、乙两户", "乙户移走杂物", at=_at(ctx60, 19)))

    after = _cli_table(start, end, tmp_path / "after.parquet")
    service = kpi_table(ctx60, KpiRequest(by="department", start=start, end=end)).to_frame()
    pd.testing.assert_frame_equal(after, service)

    after = after.set_index("department")
    change = after[COUNTS].sub(before[COUNTS], fill_value=0)
    expected = pd.DataFrame(0, index=change.index, columns=COUNTS)
    expected.loc[department, ["cases", "closed", "closed_on_time", "extended", "callbacks", "satisfied"]] = 1
    expected.loc[mediated_department, ["closed", "mediated"]] = 1
    # on time or late, as its deadline says
    expected.loc[mediated_department, "closed_on_time"] = change.loc[mediated_department, "closed_on_time"]
    pd.testing.assert_frame_equal(change.astype(int), expected.astype(int), check_names=False)
