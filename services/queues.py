"""The command centre's work queues, with the role and district scope checked here, on the server.

- :func:`dispatch_queue` (dispatcher, supervisor): cases waiting to be verified (``reported``), registered
  (``verified``) or dispatched (``registered``; ``stage = returned`` when a department sent it back), and
  dispatched cases past their deadline — with the suggested department (the routing rules), the inspector
  whose cell it is (assignment valid at ``as_of``), the working hours left and the alert level.
- :func:`department_queue` (department users: their own department's cases only): dispatched cases and
  their pending extension / suspension requests, with the working hours left.
- :func:`approvals_queue` (supervisor): extension and suspension requests with the requested deadline, the
  reason and the history of each case.
- :func:`bulk_act`: one lifecycle action (:func:`services.cases.act`) on many cases; one failing case does
  not stop the others.

A district-scoped user (``actor.district``) sees only the cases of their district in every queue. Only
open statuses are read (:mod:`cases.repository_queues`), so a queue is fast on a year of cases.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from typing import Any

import numpy as np
import pandas as pd

from cases import repository, repository_people, repository_queues
from cases.lifecycle import TRANSITIONS
from services.cases import CaseAction, act
from services.context import ServiceContext
from services.errors import NotAllowedError, ServiceError
from services.queue_common import as_of_time, calendar_of, category_names, deadline_alerts, in_scope, locate

__all__ = [
    "APPROVAL_ROLES",
    "DEPARTMENT_ROLES",
    "DISPATCH_ROLES",
    "BulkRequest",
    "BulkResult",
    "QueueRequest",
    "QueueResult",
    "approvals_queue",
    "bulk_act",
    "department_queue",
    "dispatch_queue",
    "districts",
]

DISPATCH_ROLES = ("dispatcher", "supervisor", "admin")
DEPARTMENT_ROLES = ("department", "admin")
APPROVAL_ROLES = ("supervisor", "admin")
QUEUE_ROLES = ("operator", "dispatcher", "supervisor", "department", "manager", "admin")
#: Dispatch-queue stage of each waiting status.
STAGES = {"reported": "to_verify", "verified": "to_register", "registered": "to_dispatch"}
#: Statuses whose deadline runs (a case past it is overdue).
RUNNING = ("dispatched", "extension_requested", "suspension_requested")
REQUESTS = ("extension_requested", "suspension_requested")
SORTS = ("deadline", "reported")
#: Columns of the queues' tables, in order (a queue adds its own).
BASE_COLUMNS = (
    "case_id",
    "status",
    "category_code",
    "category",
    "district",
    "subdistrict",
    "reported_at",
    "dispatched_at",
    "department",
    "deadline_at",
    "hours_left",
    "alert",
)


@dataclasses.dataclass(frozen=True)
class QueueRequest:
    """What a queue shows.

    ``as_of``: the time the hours left and alerts are computed at (None: now; a date: the end of that local
    day). ``district``: one district (area id); ``categories`` / ``statuses``: only these (empty: all);
    ``department``: the department queue of this department (administrator only; a department user always
    sees their own). ``sort``: ``deadline`` (soonest first, cases without one after) or ``reported``
    (oldest first). ``near_share``: the alert threshold (None: ``alerts.near_share`` of the city config).
    """

    as_of: dt.datetime | dt.date | None = None
    district: str | None = None
    categories: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    department: str | None = None
    sort: str = "deadline"
    near_share: float | None = None


@dataclasses.dataclass(frozen=True)
class QueueResult:
    """A queue: ``table`` (one row per case), the instant it was computed for (``as_of``, UTC) and, for the
    approvals queue, ``history`` (the events of the listed cases, oldest first)."""

    table: pd.DataFrame
    as_of: pd.Timestamp
    history: pd.DataFrame | None = None

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def history_of(self, case_id: str) -> pd.DataFrame:
        """The events of one listed case (empty when none)."""
        if self.history is None:
            return pd.DataFrame()
        return self.history[self.history["case_id"] == case_id].reset_index(drop=True)


@dataclasses.dataclass(frozen=True)
class BulkRequest:
    """One lifecycle ``action`` on ``case_ids``; ``department`` for a dispatch (None: each case's suggested
    department), ``note`` for every event, ``at`` (None: now)."""

    case_ids: tuple[str, ...]
    action: str
    department: str | None = None
    note: str | None = None
    at: dt.datetime | None = None


@dataclasses.dataclass(frozen=True)
class BulkResult:
    """Per case: ``ok``, the error ``code`` and ``message`` when it failed, the ``status`` after."""

    table: pd.DataFrame

    @property
    def done(self) -> int:
        return int(self.table["ok"].sum())

    @property
    def failed(self) -> int:
        return int((~self.table["ok"]).sum())

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()


@functools.lru_cache(maxsize=8)
def _routing_table(path: str) -> Any:
    from cases.routing_rules import load_routing_table

    return load_routing_table(path or None)


def _near_share(ctx: ServiceContext, request: QueueRequest) -> float:
    return float(request.near_share if request.near_share is not None else ctx.config.alerts.near_share)


def _prepare(
    ctx: ServiceContext, request: QueueRequest, cases: pd.DataFrame, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Located, scoped, filtered cases with their category name, hours left and alert level."""
    if request.sort not in SORTS:
        raise ServiceError(
            "queue_bad_sort", f"sort must be one of {SORTS}, got {request.sort!r}", sort=request.sort
        )
    frame = in_scope(ctx, locate(ctx, cases), request.district)
    if request.statuses:
        frame = frame[frame["status"].isin(request.statuses).to_numpy()].reset_index(drop=True)
    names = category_names()
    frame["category"] = [names.get(str(c), str(c)) for c in frame["category_code"]]
    alerts = deadline_alerts(calendar_of(ctx.config), frame, as_of, _near_share(ctx, request))
    return pd.concat([frame, alerts], axis=1)


def _sorted(frame: pd.DataFrame, sort: str) -> pd.DataFrame:
    keys = ["deadline_at", "reported_at", "case_id"] if sort == "deadline" else ["reported_at", "case_id"]
    return frame.sort_values(keys, na_position="last", kind="stable").reset_index(drop=True)


def dispatch_queue(ctx: ServiceContext, request: QueueRequest) -> QueueResult:
    """The dispatcher's queue: cases to verify, register or dispatch (returned ones marked) and dispatched
    cases past their deadline.

    Returns
    -------
    QueueResult
        ``table``: :data:`BASE_COLUMNS` plus ``stage`` (``to_verify``, ``to_register``, ``to_dispatch``,
        ``returned``, ``overdue``), ``suggested_department`` (NA when no rule applies), ``inspector`` (whose
        cell it is at ``as_of``), ``cell``, ``lat``, ``lon``, ``version``.

    Raises
    ------
    NotAllowedError
        The role is not a dispatcher's, supervisor's or administrator's, or a district-scoped user asks for
        another district.
    """
    ctx.require("see the dispatch queue", *DISPATCH_ROLES)
    as_of = as_of_time(request.as_of, ctx.timezone)
    cases = repository_queues.queue_cases(
        ctx.engine,
        tuple(STAGES),
        overdue_statuses=RUNNING,
        as_of=as_of.to_pydatetime(),
        category_codes=request.categories or None,
    )
    frame = _prepare(ctx, request, cases, as_of)
    returned = repository_queues.returned_case_ids(ctx.engine)
    stage = frame["status"].map(STAGES).fillna("overdue")
    stage[frame["case_id"].isin(returned).to_numpy() & (frame["status"] == "registered").to_numpy()] = (
        "returned"
    )
    frame["stage"] = stage.astype(str)
    frame["suggested_department"] = _suggest(ctx, frame)
    frame["inspector"] = _inspectors(ctx, frame, as_of)
    columns = [*BASE_COLUMNS, "stage", "suggested_department", "inspector", "cell", "lat", "lon", "version"]
    return QueueResult(_sorted(frame, request.sort)[columns], as_of)


def _suggest(ctx: ServiceContext, frame: pd.DataFrame) -> list[Any]:
    from cases.routing_rules import route_cases

    if frame.empty:
        return []
    known = repository_people.departments(ctx.engine)["department_id"]
    routed = route_cases(
        frame["category_code"],
        frame["kind"],
        frame["district"],
        known,
        table=_routing_table(ctx.config.routing_table),
    )
    return [None if pd.isna(d) else str(d) for d in routed["department"]]


def _inspectors(ctx: ServiceContext, frame: pd.DataFrame, as_of: pd.Timestamp) -> list[Any]:
    if frame.empty:
        return []
    live = repository.assignments_valid_at(ctx.engine, as_of).sort_values(["cell", "inspector_id"])
    first = live.drop_duplicates("cell")  # a cell shared by two inspectors: the smaller id
    owner = dict(zip(first["cell"].to_numpy(dtype=np.int64).tolist(), first["inspector_id"], strict=True))
    return [None if pd.isna(c) else owner.get(int(c)) for c in frame["cell"]]


def districts(ctx: ServiceContext) -> dict[str, str]:
    """The districts the caller may filter a queue by (area id → name): their own when district-scoped.

    Raises NotAllowedError for a role without a queue (inspector, planner)."""
    ctx.require("list the districts of the queues", *QUEUE_ROLES)
    names = repository_queues.district_names(ctx.engine)
    own = ctx.actor.district
    return {own: names.get(own, own)} if own else names


def department_queue(ctx: ServiceContext, request: QueueRequest) -> QueueResult:
    """A department's open cases: dispatched, and those with an extension or suspension request pending,
    with the working hours left (a department user: their own department only; the administrator: the
    ``request.department`` or every department).

    Returns
    -------
    QueueResult
        ``table``: :data:`BASE_COLUMNS` plus ``description``, ``version``.

    Raises
    ------
    NotAllowedError
        Not a department user or administrator; a department user without a department, or asking for
        another department's queue.
    """
    actor = ctx.require("see a department queue", *DEPARTMENT_ROLES)
    department = request.department
    if actor.role == "department":
        if not actor.department or (department and department != actor.department):
            raise NotAllowedError("see another department's queue", actor.role)
        department = actor.department
    as_of = as_of_time(request.as_of, ctx.timezone)
    cases = repository_queues.queue_cases(
        ctx.engine, RUNNING, department=department, category_codes=request.categories or None
    )
    frame = _prepare(ctx, request, cases, as_of)
    descriptions = repository.case_rows(ctx.engine, frame["case_id"].tolist()).set_index("case_id")[
        "description"
    ]
    frame["description"] = frame["case_id"].map(descriptions)
    columns = [*BASE_COLUMNS, "description", "version"]
    return QueueResult(_sorted(frame, request.sort)[columns], as_of)


def approvals_queue(ctx: ServiceContext, request: QueueRequest) -> QueueResult:
    """Extension (延期) and suspension (挂账) requests waiting for a supervisor.

    Returns
    -------
    QueueResult
        ``table``: :data:`BASE_COLUMNS` plus ``request`` (``extension_requested`` /
        ``suspension_requested``), ``requested_at``, ``requested_by``, ``reason`` (the request's note),
        ``requested_deadline``, ``version``; ``history``: the events of these cases.

    Raises
    ------
    NotAllowedError
        Not a supervisor or administrator, or a district-scoped supervisor asking for another district.
    """
    ctx.require("see the approvals queue", *APPROVAL_ROLES)
    as_of = as_of_time(request.as_of, ctx.timezone)
    cases = repository_queues.queue_cases(ctx.engine, REQUESTS, category_codes=request.categories or None)
    frame = _prepare(ctx, request, cases, as_of)
    asks = repository_queues.latest_requests(ctx.engine, REQUESTS)
    frame = frame.merge(asks, on="case_id", how="left")
    frame["request"] = frame["request"].fillna(frame["status"])
    columns = [
        *BASE_COLUMNS,
        "request",
        "requested_at",
        "requested_by",
        "reason",
        "requested_deadline",
        "version",
    ]
    table = _sorted(frame, request.sort)[columns]
    events = [repository_people.case_events(ctx.engine, case_id) for case_id in table["case_id"]]
    history = (
        pd.concat(events, ignore_index=True)
        if events
        else pd.DataFrame(columns=list(repository_people.EVENT_COLUMNS))
    )
    return QueueResult(table, as_of, history)


def bulk_act(ctx: ServiceContext, request: BulkRequest) -> BulkResult:
    """Apply ``request.action`` to each case (:func:`services.cases.act`, with its role, department, cell
    and district checks per case); a case that fails is reported, the others go on.

    Returns
    -------
    BulkResult
        ``table``: ``case_id``, ``ok``, ``code`` and ``message`` (None when done), ``status`` after.

    Raises
    ------
    ServiceError
        ``unknown_action``; ``NotAllowedError`` when the caller's role may not take the action at all.
    """
    spec = TRANSITIONS.get(request.action)
    if spec is None:
        raise ServiceError("unknown_action", f"unknown action {request.action!r}", action=request.action)
    ctx.require(f"{request.action} cases ({spec.label})", *spec.roles)
    rows = []
    for case_id in dict.fromkeys(request.case_ids):
        action = CaseAction(
            case_id=case_id,
            at=request.at,
            note=request.note,
            department=request.department,
            action=request.action,
        )
        try:
            done = act(ctx, action)
        except ServiceError as exc:
            rows.append((case_id, False, exc.code, str(exc), None))
        else:
            rows.append((case_id, True, None, None, done.status))
    table = pd.DataFrame(rows, columns=["case_id", "ok", "code", "message", "status"])
    table["ok"] = table["ok"].astype(bool)
    return BulkResult(table)
