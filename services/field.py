"""The grid inspector's field services ("My grid"): my cells and open tasks, one case, on-site actions.

Every call is scoped to the cells assigned to the inspector on the day (:func:`cases.repository.
inspector_cells`), on the server: an inspector acts only for themselves and only in their cells
(:mod:`cases.field_actions` checks the case's cell again when writing); an administrator may look at any
inspector's grid but not act (the lifecycle lets only the inspector act on site). Phone numbers are masked
unless the caller's role may see them (:func:`cases.users.mask_phone`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re

import numpy as np
import pandas as pd

from cases import field_actions, repository, repository_patrol
from cases.lifecycle import LifecycleError
from services.context import ServiceContext
from services.coverage import NeglectRequest, neglect, track_span
from services.deployment import own_inspector
from services.errors import ServiceError
from services.patrol_inputs import local_day_bounds

#: Statuses that wait for an inspector on site: 核实 (verify) and 核查 (check).
TASK_STATUSES = ("reported", "resolved")
PHOTO_TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/heic": ".heic"}
_SAFE_ID = re.compile(r"[^A-Za-z0-9_.:-]")
inspector_actions = field_actions.inspector_actions


def safe_id(text: str) -> str:
    """An id from outside (a URL), reduced to harmless characters, for messages and file names."""
    return _SAFE_ID.sub("?", text)[:64]


def last_track_day(ctx: ServiceContext) -> dt.date | None:
    """The last day with stored tracks (None without a track store)."""
    span = track_span(ctx)
    return None if span is None else span[1]


def inspector_choices(ctx: ServiceContext) -> pd.DataFrame:
    """The inspectors (``inspector_id``, ``name``) whose grid the caller may open."""
    actor = ctx.require("open an inspector's grid", "inspector", "admin")
    people = repository.inspectors(ctx.engine).sort_values("inspector_id")[["inspector_id", "name"]]
    if actor.role == "inspector":
        people = people[people["inspector_id"] == actor.inspector_id]
    return people.reset_index(drop=True)


@dataclasses.dataclass(frozen=True)
class FieldRequest:
    """The grid of ``inspector_id`` (None: the caller) on the local ``day`` (None: today)."""

    inspector_id: str | None = None
    day: dt.date | None = None
    never_days: int | None = None
    with_neglect: bool = True  #: False: leave the track reduction to a separate (cached) :func:`neglect`


@dataclasses.dataclass(frozen=True)
class FieldView:
    """An inspector's day (:func:`field_view`): their cells (int64), their open tasks there (``to_frame()``,
    local times, phones masked) and the neglect table of those cells (None without tracks)."""

    inspector_id: str
    day: dt.date
    cells: np.ndarray  #: int64, sorted
    tasks: pd.DataFrame  #: open tasks in my cells (times in the city's zone, phone masked)
    neglect: pd.DataFrame | None  #: per cell (None without tracks)
    never_days: int
    can_act: bool  #: the caller may act on site (an inspector on their own grid)

    def to_frame(self) -> pd.DataFrame:
        return self.tasks.copy()


def _day(ctx: ServiceContext, day: dt.date | None) -> dt.date:
    return day if day is not None else pd.Timestamp.now(tz=ctx.timezone).date()


def my_cells(ctx: ServiceContext, inspector_id: str, day: dt.date) -> np.ndarray:
    """The cells (int64, sorted) assigned to ``inspector_id`` at any time of the local ``day``."""
    start, end = local_day_bounds(day, day, ctx.timezone)
    return repository.inspector_cells(ctx.engine, inspector_id, start, end)


def field_view(ctx: ServiceContext, request: FieldRequest = FieldRequest()) -> FieldView:
    """My cells on the day, my open tasks there and how long each cell has gone unpatrolled."""
    from cases.users import mask_phone

    inspector_id = own_inspector(ctx, request.inspector_id, "open an inspector's grid")
    day, tz = _day(ctx, request.day), ctx.timezone
    cells = my_cells(ctx, inspector_id, day)
    tasks = repository_patrol.open_cases_in_cells(ctx.engine, cells, TASK_STATUSES)
    for column in ("reported_at", "resolved_at", "deadline_at"):
        tasks[column] = tasks[column].dt.tz_convert(tz)
    tasks["task"] = tasks["status"].map({"reported": "verify", "resolved": "check"})
    tasks["waiting_since"] = tasks["resolved_at"].where(tasks["status"] == "resolved", tasks["reported_at"])
    tasks["reporter_phone"] = tasks["reporter_phone"].map(lambda p: mask_phone(p, ctx.actor.role))
    tasks = tasks.sort_values(["deadline_at", "waiting_since", "case_id"], na_position="last")
    table, never = None, request.never_days or ctx.config.patrol.never_visited_days
    if request.with_neglect and cells.size and last_track_day(ctx) is not None:
        found = neglect(ctx, NeglectRequest(as_of=day, never_days=never, inspector_id=inspector_id))
        table = found.table
    return FieldView(
        inspector_id, day, cells, tasks.reset_index(drop=True), table, never,
        can_act=ctx.actor.role == "inspector",
    )  # fmt: skip


def case_access(
    ctx: ServiceContext, case_id: str, *, inspector_id: str | None = None, day: dt.date | None = None
) -> str | None:
    """The status of ``case_id`` when it lies in the inspector's cells on ``day``; ``None`` otherwise (an
    unknown case gets the same answer: no hint whether it exists)."""
    inspector_id = own_inspector(ctx, inspector_id, "open a case")
    found = repository_patrol.case_cell_status(ctx.engine, case_id)
    if found is None or found[0] is None:
        return None
    cells = my_cells(ctx, inspector_id, _day(ctx, day))
    return found[1] if np.isin(np.int64(found[0]), cells) else None


@dataclasses.dataclass(frozen=True)
class FieldActionRequest:
    """Verify (核实) or check (核查) ``case_id`` on site, with a note and an optional photo."""

    case_id: str
    action: str
    note: str = ""
    photo: bytes | None = None
    photo_type: str | None = None
    day: dt.date | None = None
    inspector_id: str | None = None  #: the system only (an inspector acts as themselves)


def _save_photo(ctx: ServiceContext, case_id: str, content: bytes, kind: str | None) -> str:
    """Store a photo under ``<data dir>/photos/<case>/``; its path relative to the data folder."""
    suffix = PHOTO_TYPES.get(kind or "", ".jpg")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    relative = f"photos/{safe_id(case_id)}/{stamp}-{hashlib.sha256(content).hexdigest()[:10]}{suffix}"
    path = ctx.data_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return relative


def record_action(ctx: ServiceContext, request: FieldActionRequest) -> str:
    """Apply the inspector's lifecycle action to a case in their cells; returns the new status."""
    ctx.require("act on site", "inspector")
    inspector_id = own_inspector(ctx, request.inspector_id, "act on site")
    cells = my_cells(ctx, inspector_id, _day(ctx, request.day))
    if not field_actions.case_in_cells(ctx.engine, request.case_id, cells):
        case = safe_id(request.case_id)
        where = f"the cells assigned to {inspector_id}"
        raise ServiceError("case_refused", f"case {case!r} is not in {where}", case=f"`{case}`")
    note = request.note.strip()
    if request.photo is not None:
        note = (
            f"{note} [photo: {_save_photo(ctx, request.case_id, request.photo, request.photo_type)}]".strip()
        )
    try:
        result = field_actions.record_action(
            ctx.engine, request.case_id, request.action, actor=inspector_id, cells=cells, note=note
        )
    except (field_actions.FieldActionError, LifecycleError) as exc:
        raise ServiceError("action_failed", str(exc), error=str(exc)) from exc
    return result.to_status


@dataclasses.dataclass(frozen=True)
class ReportRequest:
    """A problem found on the street: WGS-84 ``lat``/``lon`` and a standard category."""

    lat: float
    lon: float
    category_code: str
    category_standard: str | None = None
    kind: str | None = None
    description: str = ""
    day: dt.date | None = None
    inspector_id: str | None = None  #: the system only (an inspector acts as themselves)


def report_problem(ctx: ServiceContext, request: ReportRequest) -> str:
    """File the caller's patrol find as a new (verified) case inside their cells; returns the case id."""
    ctx.require("report a problem", "inspector")
    inspector_id = own_inspector(ctx, request.inspector_id, "report a problem")
    cells = my_cells(ctx, inspector_id, _day(ctx, request.day))
    problem = field_actions.NewProblem(
        float(request.lat), float(request.lon), request.category_code, request.category_standard,
        request.kind, request.description.strip(),
    )  # fmt: skip
    try:
        return field_actions.report_problem(
            ctx.engine, problem, inspector_id=inspector_id, allowed_cells=cells
        )
    except (field_actions.FieldActionError, LifecycleError) as exc:
        raise ServiceError("action_failed", str(exc), error=str(exc)) from exc
