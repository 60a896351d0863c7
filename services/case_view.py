"""One case as a user may see it: the case, its timeline, photos, deadline and what the user may do now.

**Who may see a case** (checked here, on the server, for every read of a case, its photos and its
callbacks): an inspector the cases in the cells assigned to them now, or that they acted on; a department
user its own department's cases, or those it acted on (e.g. returned); a district-scoped user (二级平台)
only cases in their district, whatever their role; the command centre (operator, dispatcher, supervisor),
managers and administrators every case. Planners (analysis only) see none. Anyone else is refused with
:class:`~services.errors.NotAllowedError`, also when asking for a case by its id (a URL).

The reporter's phone is shown in full only to the roles that need it (:data:`PHONE_VIEW_ROLES`: operator
and supervisor, who call reporters back, and the administrator); everyone else sees ``138****5678``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd

from cases import (
    repository,
    repository_addresses,
    repository_callbacks,
    repository_people,
    repository_photos,
)
from cases.calendar import working_calendar
from cases.users import mask_phone
from services.cases import _scope, possible_actions
from services.context import ServiceContext
from services.errors import NotAllowedError, ServiceError

__all__ = [
    "PHONE_VIEW_ROLES",
    "TIMELINE_COLUMNS",
    "VIEW_ROLES",
    "CaseDetail",
    "case_detail",
    "case_district",
    "visible_case",
]

#: Roles that may open a case page (subject to their scope).
VIEW_ROLES = ("inspector", "department", "operator", "dispatcher", "supervisor", "manager", "admin")
#: Roles that see the reporter's phone in full.
PHONE_VIEW_ROLES = ("operator", "supervisor", "admin")
#: Columns of :attr:`CaseDetail.timeline`.
TIMELINE_COLUMNS = ("at", "actor", "role", "action", "from_status", "to_status", "note", "deadline_at")


def case_district(ctx: ServiceContext, case: pd.DataFrame) -> str | None:
    """The district (area id) the first case of ``case`` lies in; None without areas."""
    from analytics.kpi import attach_areas_from_polygons

    located = attach_areas_from_polygons(case.head(1), repository.load_areas(ctx.engine))
    value = located["district"].iloc[0] if "district" in located else None
    return None if value is None or pd.isna(value) else str(value)


def _acted_on(ctx: ServiceContext, events: pd.DataFrame) -> bool:
    actor = ctx.actor
    names = {actor.username, actor.inspector_id} - {None, ""}
    return bool(events["actor"].isin(names).any())


def _in_own_cells(ctx: ServiceContext, case: pd.DataFrame) -> bool:
    cell = case["cell"].iloc[0]
    if pd.isna(cell) or not ctx.actor.inspector_id:
        return False
    now = pd.Timestamp.now(tz="UTC")
    cells = repository.inspector_cells(ctx.engine, ctx.actor.inspector_id, now, now + pd.Timedelta("1us"))
    return int(cell) in set(cells.tolist())


def visible_case(ctx: ServiceContext, case_id: str, operation: str = "see this case") -> pd.DataFrame:
    """The case record (one row of :data:`cases.repository_people.CASE_RECORD_COLUMNS`) if the caller may
    see it (module docstring).

    Raises
    ------
    NotAllowedError
        The role may not see cases, or the case is outside the caller's cells, department or district.
    ServiceError
        ``case_not_found``.
    """
    actor = ctx.require(operation, *VIEW_ROLES)
    case = repository_people.case_record(ctx.engine, case_id)
    if case.empty:
        raise ServiceError("case_not_found", f"case {case_id!r} does not exist", case_id=case_id)
    if actor.role == "system":
        return case
    if actor.district and case_district(ctx, case) != actor.district:
        raise NotAllowedError(f"{operation}: it lies in another district", actor.role)
    if actor.role in ("inspector", "department"):
        own = (
            _in_own_cells(ctx, case)
            if actor.role == "inspector"
            else bool(actor.department) and case["department"].iloc[0] == actor.department
        )
        if not own and not _acted_on(ctx, repository_people.case_events(ctx.engine, case_id)):
            raise NotAllowedError(f"{operation}: it is not in your cells or department", actor.role)
    return case


@dataclasses.dataclass(frozen=True)
class CaseDetail:
    """What the case page shows.

    ``case``: one row (lifecycle columns, ``description``, ``address``, ``reporter_phone`` masked unless
    the role may see it, ``district``); ``timeline``: every event (:data:`TIMELINE_COLUMNS`); ``photos``:
    :data:`cases.repository_photos.PHOTO_COLUMNS` (the bytes: :func:`services.photos.photo_bytes`);
    ``callbacks`` and ``mediation``: their records; ``merges``: the later calls merged into the case at
    intake (:data:`cases.repository_addresses.MERGE_COLUMNS`, oldest first; the callers' names left out and
    phones masked for the roles that may not see the reporter's phone); ``deadline_at`` and the time left
    until it as of ``as_of`` (wall-clock hours and working hours on the city's calendar; negative when
    overdue; None without a deadline or once closed); ``actions``: what the caller may do now (the server
    checks again).
    """

    case: pd.DataFrame
    timeline: pd.DataFrame
    photos: pd.DataFrame
    callbacks: pd.DataFrame
    mediation: pd.DataFrame
    deadline_at: pd.Timestamp | None
    hours_left: float | None
    working_hours_left: float | None
    actions: list[str]
    as_of: pd.Timestamp
    merges: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)

    @property
    def status(self) -> str:
        return str(self.case["status"].iloc[0])

    @property
    def overdue(self) -> bool:
        return self.hours_left is not None and self.hours_left < 0

    def to_frame(self) -> pd.DataFrame:
        """The timeline."""
        return self.timeline.copy()


def _actions(ctx: ServiceContext, case: pd.DataFrame) -> list[str]:
    """:func:`services.cases.possible_actions`, less those the caller's scope refuses (another department
    or cell: the role allows the action but not on this case)."""
    actions = possible_actions(ctx, str(case["case_id"].iloc[0]))
    try:
        _scope(ctx, ctx.actor, case, None)
    except NotAllowedError:
        return []
    return actions


def _time_left(
    ctx: ServiceContext, case: pd.DataFrame, as_of: pd.Timestamp
) -> tuple[float | None, float | None]:
    due = case["deadline_at"].iloc[0]
    if pd.isna(due) or str(case["status"].iloc[0]) in ("closed", "cancelled"):
        return None, None
    hours = float((due - as_of) / pd.Timedelta(hours=1))
    working = working_calendar(ctx.config).working_time_between(as_of, due)
    value = float(np.asarray(working).reshape(-1)[0])
    return hours, (None if np.isnan(value) else value)


def case_detail(ctx: ServiceContext, case_id: str, *, as_of: dt.datetime | None = None) -> CaseDetail:
    """Everything the case page shows, for a caller who may see the case (:func:`visible_case`).

    Parameters
    ----------
    ctx
        The caller and the store.
    case_id
        The case.
    as_of
        The instant the time left is counted from (default now).

    Raises
    ------
    NotAllowedError, ServiceError
        As :func:`visible_case`.
    """
    case = visible_case(ctx, case_id)
    text = repository_callbacks.case_text(ctx.engine, case_id)
    row = case.assign(
        description=text["description"].iloc[0],
        address=text["address"].iloc[0],
        reporter_phone=text["reporter_phone"].iloc[0],
        district=case_district(ctx, case),
    )
    role = ctx.actor.role
    merges = repository_addresses.case_merges(ctx.engine, case_id)
    if role not in (*PHONE_VIEW_ROLES, "system"):
        row["reporter_phone"] = row["reporter_phone"].map(lambda p: mask_phone(p, None))
        merges["reporter_phone"] = merges["reporter_phone"].map(lambda p: mask_phone(p, None))
        merges["reporter_name"] = None
    events = repository_people.case_events(ctx.engine, case_id)
    at = pd.Timestamp(as_of).tz_convert("UTC") if as_of is not None else pd.Timestamp.now(tz="UTC")
    hours, working = _time_left(ctx, case, at)
    due = case["deadline_at"].iloc[0]
    return CaseDetail(
        case=row,
        timeline=events[list(TIMELINE_COLUMNS)].reset_index(drop=True),
        photos=repository_photos.case_photo_rows(ctx.engine, case_id),
        callbacks=repository_callbacks.callbacks_of(ctx.engine, case_id),
        mediation=repository_callbacks.mediation_of(ctx.engine, case_id),
        deadline_at=None if pd.isna(due) else pd.Timestamp(due),
        hours_left=hours,
        working_hours_left=working,
        actions=_actions(ctx, case),
        as_of=at,
        merges=merges,
    )
