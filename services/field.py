"""The grid inspector's field services ("My grid"): my cells and open tasks, one case, on-site actions.

Every call is scoped to the cells assigned to the inspector on the day (:func:`cases.repository.
inspector_cells`), on the server: an inspector acts only for themselves and only in their cells
(:mod:`cases.field_actions` checks the case's cell again when writing); an administrator may look at any
inspector's grid but not act (the lifecycle lets only the inspector act on site). Phone numbers are masked
unless the caller's role may see them (:func:`cases.users.mask_phone`).

The phone page's extras: each task carries the time left to its deadline (``due_in_s``, as of now, or of
the end of a past day); :func:`preview_report` tells before a report is filed whether the point is in my
cells, the nearest address of the city's address table and the same-category cases nearby (the intake's
duplicate rule, :func:`services.intake_rules.duplicates`); photos of a report or an on-site action go
through :mod:`services.photos` (validated, stripped of metadata, tied to the action's event). A report
without a description, or one repeating a nearby report of the same category word for word, is refused.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re

import numpy as np
import pandas as pd

from cases import field_actions, repository, repository_field, repository_patrol
from cases.lifecycle import LifecycleError
from services import intake_rules
from services.cases import CaseAction
from services.context import ServiceContext
from services.coverage import NeglectRequest, neglect, track_span
from services.deployment import own_inspector
from services.errors import ServiceError
from services.patrol_inputs import local_day_bounds
from services.photos import PhotoUpload, act_with_photos, add_photo

#: Statuses that wait for an inspector on site: 核实 (verify) and 核查 (check).
TASK_STATUSES = ("reported", "resolved")
#: How far (m) the nearest stored address may be from a position to name it.
ADDRESS_RADIUS_M = 150.0
#: Columns of the same-category cases near a report (:attr:`ReportPreview.duplicates`).
NEARBY_COLUMNS = intake_rules.DUPLICATE_COLUMNS
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
    as_of: pd.Timestamp | None = None  #: the moment ``tasks.due_in_s`` counts from (now, or the day's end)

    def to_frame(self) -> pd.DataFrame:
        return self.tasks.copy()


def _day(ctx: ServiceContext, day: dt.date | None) -> dt.date:
    return day if day is not None else pd.Timestamp.now(tz=ctx.timezone).date()


def my_cells(ctx: ServiceContext, inspector_id: str, day: dt.date) -> np.ndarray:
    """The cells (int64, sorted) assigned to ``inspector_id`` at any time of the local ``day``."""
    start, end = local_day_bounds(day, day, ctx.timezone)
    return repository.inspector_cells(ctx.engine, inspector_id, start, end)


def _as_of(day: dt.date, tz: str) -> pd.Timestamp:
    """Now, or the end of ``day`` when it is over (the moment a countdown counts from)."""
    now = pd.Timestamp.now(tz=tz)
    end = pd.Timestamp(day + dt.timedelta(days=1), tz=tz)
    return min(now, end).floor("s")


def field_view(ctx: ServiceContext, request: FieldRequest = FieldRequest()) -> FieldView:
    """My cells on the day, my open tasks there (``due_in_s``: seconds left to the deadline as of
    :attr:`FieldView.as_of`, negative when overdue, NaN without a deadline) and how long each cell has gone
    unpatrolled."""
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
    as_of = _as_of(day, tz)
    tasks["due_in_s"] = (tasks["deadline_at"] - as_of).dt.total_seconds()
    tasks = tasks.sort_values(["deadline_at", "waiting_since", "case_id"], na_position="last")
    table, never = None, request.never_days or ctx.config.patrol.never_visited_days
    if request.with_neglect and cells.size and last_track_day(ctx) is not None:
        found = neglect(ctx, NeglectRequest(as_of=day, never_days=never, inspector_id=inspector_id))
        table = found.table
    return FieldView(
        inspector_id, day, cells, tasks.reset_index(drop=True), table, never,
        can_act=ctx.actor.role == "inspector", as_of=as_of,
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
    """Verify (核实) or check (核查) ``case_id`` on site, with a note and an optional photo (the file's bytes
    and name; JPEG, PNG or WebP, see :mod:`services.photos`)."""

    case_id: str
    action: str
    note: str = ""
    photo: bytes | None = dataclasses.field(default=None, repr=False)
    photo_type: str | None = None
    day: dt.date | None = None
    inspector_id: str | None = None  #: the system only (an inspector acts as themselves)
    photo_name: str = ""


def _uploads(case_id: str, photo: bytes | None, name: str) -> tuple[PhotoUpload, ...]:
    return () if photo is None else (PhotoUpload(case_id, photo, name or "photo"),)


def record_action(ctx: ServiceContext, request: FieldActionRequest) -> str:
    """Apply the inspector's lifecycle action to a case in their cells, with its photo; returns the new
    status.

    Raises
    ------
    NotAllowedError
        The caller is not an inspector.
    ServiceError
        ``case_refused`` (not in my cells on the day), ``not_an_image`` / ``photo_too_large`` (nothing is
        recorded), ``invalid_transition`` / ``stale_case`` (the lifecycle refuses, e.g. a repeat).
    """
    ctx.require("act on site", "inspector")
    inspector_id = own_inspector(ctx, request.inspector_id, "act on site")
    cells = my_cells(ctx, inspector_id, _day(ctx, request.day))
    if not field_actions.case_in_cells(ctx.engine, request.case_id, cells):
        case = safe_id(request.case_id)
        where = f"the cells assigned to {inspector_id}"
        raise ServiceError("case_refused", f"case {case!r} is not in {where}", case=f"`{case}`")
    action = CaseAction(request.case_id, note=request.note.strip() or None, action=request.action)
    done = act_with_photos(ctx, action, _uploads(request.case_id, request.photo, request.photo_name))
    return str(done.case["status"].iloc[0])


@dataclasses.dataclass(frozen=True)
class ReportRequest:
    """A problem found on the street: WGS-84 ``lat``/``lon``, a standard category, a description and an
    optional photo (bytes and file name)."""

    lat: float
    lon: float
    category_code: str
    category_standard: str | None = None
    kind: str | None = None
    description: str = ""
    day: dt.date | None = None
    inspector_id: str | None = None  #: the system only (an inspector acts as themselves)
    photo: bytes | None = dataclasses.field(default=None, repr=False)
    photo_name: str = ""


@dataclasses.dataclass(frozen=True)
class ReportPreview:
    """What a report at (``lat``, ``lon``) would be: its ``cell``, whether it is ``inside`` my cells, the
    nearest stored ``address`` (with ``address_name`` and ``address_distance_m``; None beyond
    :data:`ADDRESS_RADIUS_M` or without an address table), its district and subdistrict names, and the
    ``duplicates``: same-category cases nearby (:data:`NEARBY_COLUMNS`, nearest first, local times)."""

    lat: float
    lon: float
    cell: int
    inside: bool
    address: str | None
    address_name: str | None
    address_distance_m: float | None
    district_name: str | None
    subdistrict_name: str | None
    duplicates: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.duplicates.copy()


def _cell(lat: float, lon: float) -> int:
    from grid.cells import latlng_to_cells

    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        msg = f"({lat}, {lon}) is not a WGS-84 latitude/longitude"
        raise ServiceError("action_failed", msg, error=msg)
    return int(latlng_to_cells(np.array([lat]), np.array([lon]), field_actions.CASE_CELL_RES)[0])


def nearest_address(ctx: ServiceContext, lat: float, lon: float) -> pd.Series | None:
    """The stored address nearest to a WGS-84 point within :data:`ADDRESS_RADIUS_M` (its row with
    ``distance_m``), or None."""
    from grid.cells import grid_disk

    cell = _cell(lat, lon)
    k = math.ceil((ADDRESS_RADIUS_M + 160.0) / 82.0)  # res-10 cells: edge 55–80 m (as the intake ring)
    ring = grid_disk(np.array([cell], dtype=np.int64), k)["neighbour"].to_numpy()
    found = repository_field.addresses_in_cells(ctx.engine, ring.tolist())
    if found.empty:
        return None
    found["distance_m"] = intake_rules._haversine(
        lat, lon, found["lat"].to_numpy(float), found["lon"].to_numpy(float)
    ).round(1)
    best = found.sort_values(["distance_m", "address_id"]).iloc[0]
    return best if best["distance_m"] <= ADDRESS_RADIUS_M else None


def _nearby(ctx: ServiceContext, code: str, lat: float, lon: float, cell: int) -> pd.DataFrame:
    found = intake_rules.duplicates(ctx, code, lat, lon, cell, dt.datetime.now(dt.UTC))
    for column in ("reported_at", "deadline_at"):
        found[column] = pd.to_datetime(found[column], utc=True).dt.tz_convert(ctx.timezone)
    return found


def preview_report(ctx: ServiceContext, request: ReportRequest) -> ReportPreview:
    """Where a report would go and what is already reported there, before it is filed (see the module
    docstring). Inspector (their own cells) or administrator (any inspector's).

    Raises
    ------
    NotAllowedError
        Another role.
    ServiceError
        ``action_failed`` (not a WGS-84 point); another inspector's grid for an inspector.
    """
    from services.addresses import place_names

    ctx.require("preview a report", "inspector", "admin")
    inspector_id = own_inspector(ctx, request.inspector_id, "preview a report")
    lat, lon = float(request.lat), float(request.lon)
    cell = _cell(lat, lon)
    inside = bool(np.isin(cell, my_cells(ctx, inspector_id, _day(ctx, request.day))))
    place = place_names(ctx, pd.DataFrame({"lat": [lat], "lon": [lon], "cell": [cell]})).iloc[0]
    near = nearest_address(ctx, lat, lon)
    duplicates = _nearby(ctx, request.category_code, lat, lon, cell) if request.category_code else None
    return ReportPreview(
        lat, lon, cell, inside,
        address=None if near is None else str(near["address"]),
        address_name=None if near is None or pd.isna(near["name"]) else str(near["name"]),
        address_distance_m=None if near is None else float(near["distance_m"]),
        district_name=place["district_name"], subdistrict_name=place["subdistrict_name"],
        duplicates=duplicates if duplicates is not None else pd.DataFrame(columns=list(NEARBY_COLUMNS)),
    )  # fmt: skip


def _same_text(a: object, b: str) -> bool:
    return isinstance(a, str) and " ".join(a.split()) == " ".join(b.split())


def report_problem(ctx: ServiceContext, request: ReportRequest) -> str:
    """File the caller's patrol find as a new (verified) case inside their cells, with its photo and the
    nearest stored address; returns the case id.

    Raises
    ------
    NotAllowedError
        The caller is not an inspector.
    ServiceError
        ``description_required`` (an empty description), ``action_failed`` (outside my cells),
        ``repeat_report`` (a same-category case nearby has the same description: ``case`` names it),
        ``not_an_image`` / ``photo_too_large`` (nothing is filed).
    """
    from services.photos import _open as check_photo  # validate before anything is written

    ctx.require("report a problem", "inspector")
    inspector_id = own_inspector(ctx, request.inspector_id, "report a problem")
    description = request.description.strip()
    if not description:
        raise ServiceError("description_required", "describe the problem")
    cells = my_cells(ctx, inspector_id, _day(ctx, request.day))
    lat, lon = float(request.lat), float(request.lon)
    cell = _cell(lat, lon)
    if not np.isin(cell, cells):
        msg = f"({lat:.6f}, {lon:.6f}) is outside the cells assigned to {inspector_id}"
        raise ServiceError("action_failed", msg, error=msg)
    nearby = _nearby(ctx, request.category_code, lat, lon, cell)
    same = nearby[[_same_text(d, description) for d in nearby["description"]]]
    if not same.empty:
        case = str(same["case_id"].iloc[0])
        msg = f"case {case} already reports this problem here with the same description"
        raise ServiceError("repeat_report", msg, case=case)
    if request.photo is not None:
        check_photo(request.photo, request.photo_name)
    problem = field_actions.NewProblem(
        lat, lon, request.category_code, request.category_standard, request.kind, description
    )
    try:
        case_id = field_actions.report_problem(
            ctx.engine, problem, inspector_id=inspector_id, allowed_cells=cells
        )
    except (field_actions.FieldActionError, LifecycleError) as exc:
        raise ServiceError("action_failed", str(exc), error=str(exc)) from exc
    if request.photo is not None:
        add_photo(ctx, PhotoUpload(case_id, request.photo, request.photo_name or "photo"))
    return case_id
