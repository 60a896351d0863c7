"""Every case action of the lifecycle, with the role check done here, on the server.

:func:`act` applies one action of :data:`cases.lifecycle.TRANSITIONS` (verify, cancel, register, dispatch,
return, handle, check_pass, check_fail, close, request/approve/reject extension and suspension, resume)
for the caller, and :func:`report` files a new case (an inspector's find or an operator's call). Each
action has its wrapper (:func:`verify`, :func:`dispatch`, :func:`return_case` …) taking a
:class:`CaseRequest`. The caller's role must be one the lifecycle's own table allows for the action
(the system, i.e. a command run by the administrator, acts in the first allowed role); a department user
acts only on cases dispatched to their department, an inspector only on cases in the cells assigned to
them. Dispatch deadlines follow the city's deadline table (``deadline_table`` in ``gridpatrol.toml``) on
the city's working calendar.

The result carries the case as stored after the action (``to_frame()``: one row) and the event written.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

import pandas as pd

from cases import repository, repository_people
from cases.calendar import working_calendar
from cases.lifecycle import (
    TRANSITIONS,
    CaseNotFoundError,
    LifecycleError,
    RoleNotAllowedError,
    StaleCaseError,
    TransitionResult,
    allowed_actions,
    report_case,
    transition,
)
from services.context import Actor, ServiceContext
from services.errors import NotAllowedError, ServiceError

__all__ = [
    "ACTIONS",
    "CaseAction",
    "CaseActionResult",
    "CaseReport",
    "CaseRequest",
    "act",
    "approve_extension",
    "approve_suspension",
    "cancel",
    "check_fail",
    "check_pass",
    "close",
    "dispatch",
    "handle",
    "possible_actions",
    "register",
    "reject_extension",
    "reject_suspension",
    "reopen",
    "report",
    "request_extension",
    "request_suspension",
    "resume",
    "return_case",
    "suggest_department",
    "verify",
]

ACTIONS = tuple(TRANSITIONS)
#: Roles that may file a new case.
REPORT_ROLES = ("inspector", "operator")


@dataclasses.dataclass(frozen=True)
class CaseRequest:
    """The case and the details of one action.

    ``at``: when the event is recorded (tz-aware; default now); authorization never uses it (always the
    server's now). ``expected_version``: the version the caller saw (a concurrent
    change is refused instead of overwritten). ``department``: dispatch only. ``deadline``: the requested
    deadline of an extension request; overrides of dispatch / approval / resume deadlines.
    """

    case_id: str
    at: dt.datetime | None = None
    note: str | None = None
    expected_version: int | None = None
    department: str | None = None
    deadline: dt.datetime | None = None


@dataclasses.dataclass(frozen=True)
class CaseAction(CaseRequest):
    """A :class:`CaseRequest` with the action (one of :data:`ACTIONS`)."""

    action: str = ""


@dataclasses.dataclass(frozen=True)
class CaseReport:
    """A new case: WGS-84 ``lat``/``lon`` (the cell is computed), ``fields``: other case columns
    (``description``, ``urgency``, ``reporter_phone`` …)."""

    case_id: str
    source: str
    category_code: str
    reported_at: dt.datetime
    lat: float | None = None
    lon: float | None = None
    fields: dict[str, Any] = dataclasses.field(default_factory=dict, hash=False)


@dataclasses.dataclass(frozen=True)
class CaseActionResult:
    """The case after the action (``case``: one row with its status, deadline and version), the events
    the action wrote (``events``) and, for a lifecycle action, the lifecycle's :class:`TransitionResult`."""

    case: pd.DataFrame
    events: pd.DataFrame
    transition: TransitionResult | None = None

    @property
    def status(self) -> str:
        return str(self.case["status"].iloc[0])

    def to_frame(self) -> pd.DataFrame:
        return self.case.copy()


def _event_actor(actor: Actor) -> str:
    """Who the event names: the inspector id for an inspector (patrol KPIs count by it), else the user."""
    return actor.inspector_id if actor.role == "inspector" and actor.inspector_id else actor.username


@functools.lru_cache(maxsize=8)
def _deadline_table(path: str) -> Any:
    from cases.deadlines import load_deadline_table

    return load_deadline_table(path)


@functools.lru_cache(maxsize=8)
def _routing_table(path: str) -> Any:
    from cases.routing_rules import load_routing_table

    return load_routing_table(path or None)


@functools.lru_cache(maxsize=8)
def _calendar(config: Any) -> Any:
    return working_calendar(config)


def _district(ctx: ServiceContext, case: pd.DataFrame) -> str | None:
    """The district (area id) the case lies in, from the stored areas; None when unknown."""
    from analytics.kpi import attach_areas_from_polygons

    located = attach_areas_from_polygons(case, repository.load_areas(ctx.engine))
    value = located["district"].iloc[0] if "district" in located else None
    return None if value is None or pd.isna(value) else str(value)


def _scope(ctx: ServiceContext, actor: Actor, case: pd.DataFrame, at: dt.datetime | None = None) -> None:
    """A department acts on its own cases only; an inspector on cases in the cells assigned to them; a
    district-scoped user (二级平台) on cases in their district.

    The scope is the one valid at the moment of the action, server time (issue #25): an inspector's cells
    are those assigned to them now, never at a time the caller names. ``CaseRequest.at`` is only the time
    the event records (history replayed by the system, tests); it never widens what a user may do, and the
    ``at`` argument (kept for old callers) is ignored."""
    if actor.district and _district(ctx, case) != actor.district:
        raise NotAllowedError("act on a case of another district", actor.role)
    own = str(case["department"].iloc[0])
    if actor.role == "department" and actor.department and own != actor.department:
        raise NotAllowedError("act on another department's case", actor.role)
    if actor.role == "inspector" and actor.inspector_id:
        when = pd.Timestamp(dt.datetime.now(dt.UTC))  # server time, never the client's ``at``
        cells = repository.inspector_cells(ctx.engine, actor.inspector_id, when, when + pd.Timedelta("1us"))
        cell = case["cell"].iloc[0]
        if pd.isna(cell) or int(cell) not in set(cells.tolist()):
            raise NotAllowedError("act on a case outside the assigned cells", actor.role)


def _translate(exc: LifecycleError) -> ServiceError:
    if isinstance(exc, CaseNotFoundError):
        return ServiceError("case_not_found", str(exc))
    if isinstance(exc, StaleCaseError):
        return ServiceError("stale_case", str(exc))
    if isinstance(exc, RoleNotAllowedError):
        return ServiceError("not_allowed", str(exc))
    return ServiceError("invalid_transition", str(exc))


def _record(ctx: ServiceContext, case_id: str, since_event: int | None = None) -> tuple[pd.DataFrame, Any]:
    case = repository_people.case_record(ctx.engine, case_id)
    events = repository_people.case_events(ctx.engine, case_id)
    if since_event is not None:
        events = events[events["event_id"] >= since_event].reset_index(drop=True)
    return case, events


def act(ctx: ServiceContext, request: CaseAction) -> CaseActionResult:
    """Apply ``request.action`` to the case for the caller.

    Raises
    ------
    NotAllowedError
        The caller's role may not take the action, or the case is outside their department / cells.
    ServiceError
        ``unknown_action``, ``case_not_found``, ``invalid_transition`` (the status does not allow it, a
        dispatch without department …), ``stale_case`` (changed since ``expected_version``).
    """
    spec = TRANSITIONS.get(request.action)
    if spec is None:
        raise ServiceError(
            "unknown_action", f"unknown action {request.action!r}; actions are {list(ACTIONS)}"
        )
    actor = ctx.require(f"{request.action} a case ({spec.label})", *spec.roles)
    if request.action == "mediate":  # the parties and the agreement are recorded with it
        raise ServiceError("use_mediation", "close a case by mediation with services.callbacks.mediate")
    role = actor.role if actor.role in spec.roles else spec.roles[0]  # the system acts in the first role
    case = repository_people.case_record(ctx.engine, request.case_id)
    if case.empty:
        raise ServiceError("case_not_found", f"case {request.case_id!r} does not exist")
    _scope(ctx, actor, case)
    if request.action == "dispatch" and not request.department:
        department = suggest_department(ctx, request.case_id)
        if department is None:
            msg = f"no routing rule sends {request.case_id} to a department: name the department"
            raise ServiceError("no_route", msg, case_id=request.case_id)
        request = dataclasses.replace(request, department=department)
    table = ctx.config.deadline_table
    try:
        done = transition(
            ctx.engine,
            request.case_id,
            request.action,
            _event_actor(actor),
            role,
            at=request.at,
            note=request.note,
            expected_version=request.expected_version,
            department=request.department,
            deadline=request.deadline,
            deadline_table=_deadline_table(table) if table else None,
            calendar=_calendar(ctx.config),
        )
    except LifecycleError as exc:
        raise _translate(exc) from exc
    case, events = _record(ctx, request.case_id, done.event_id)
    return CaseActionResult(case, events, done)


def report(ctx: ServiceContext, request: CaseReport) -> CaseActionResult:
    """File a new case: an inspector's find (verified at once) or an operator's call (to be verified)."""
    actor = ctx.require("report a case", *REPORT_ROLES)
    role = actor.role if actor.role in REPORT_ROLES else "operator"
    if not repository_people.case_record(ctx.engine, request.case_id).empty:
        raise ServiceError("case_exists", f"case {request.case_id!r} exists already")
    try:
        report_case(
            ctx.engine,
            case_id=request.case_id,
            source=request.source,
            category_code=request.category_code,
            reported_at=request.reported_at,
            actor=_event_actor(actor),
            role=role,
            lat=request.lat,
            lon=request.lon,
            **request.fields,
        )
    except LifecycleError as exc:
        raise _translate(exc) from exc
    case, events = _record(ctx, request.case_id)
    return CaseActionResult(case, events)


def suggest_department(ctx: ServiceContext, case_id: str) -> str | None:
    """The department the city's routing table (``routing_table`` in ``gridpatrol.toml``; empty: the
    shipped table) sends the case to, from its category, kind and district; None when no rule or no
    department applies (the dispatcher names one)."""
    from cases.routing_rules import route_cases

    case = repository_people.case_record(ctx.engine, case_id)
    if case.empty:
        raise ServiceError("case_not_found", f"case {case_id!r} does not exist")
    district = [_district(ctx, case)]
    known = repository_people.departments(ctx.engine)["department_id"]
    routed = route_cases(
        case["category_code"], case["kind"], district, known, table=_routing_table(ctx.config.routing_table)
    )
    department = routed["department"].iloc[0]
    return None if pd.isna(department) else str(department)


def possible_actions(ctx: ServiceContext, case_id: str) -> list[str]:
    """The actions the caller may take on the case now (its status and the caller's role)."""
    case = repository_people.case_record(ctx.engine, case_id)
    if case.empty:
        raise ServiceError("case_not_found", f"case {case_id!r} does not exist")
    role = None if ctx.actor.role == "system" else ctx.actor.role
    return allowed_actions(str(case["status"].iloc[0]), role)


def _wrapper(action: str, name: str) -> Callable[[ServiceContext, CaseRequest], CaseActionResult]:
    spec = TRANSITIONS[action]

    def run(ctx: ServiceContext, request: CaseRequest) -> CaseActionResult:
        fields = {f.name: getattr(request, f.name) for f in dataclasses.fields(CaseRequest)}
        return act(ctx, CaseAction(**fields, action=action))

    run.__name__ = run.__qualname__ = name
    run.__doc__ = (
        f"``{action}`` ({spec.label}): {' / '.join(spec.sources)} → {spec.target}; "
        f"roles: {', '.join(spec.roles)}. See :func:`act`."
    )
    return run


verify = _wrapper("verify", "verify")
cancel = _wrapper("cancel", "cancel")
register = _wrapper("register", "register")
dispatch = _wrapper("dispatch", "dispatch")
return_case = _wrapper("return", "return_case")
handle = _wrapper("handle", "handle")
check_pass = _wrapper("check_pass", "check_pass")
check_fail = _wrapper("check_fail", "check_fail")
close = _wrapper("close", "close")
request_extension = _wrapper("request_extension", "request_extension")
approve_extension = _wrapper("approve_extension", "approve_extension")
reject_extension = _wrapper("reject_extension", "reject_extension")
request_suspension = _wrapper("request_suspension", "request_suspension")
approve_suspension = _wrapper("approve_suspension", "approve_suspension")
reject_suspension = _wrapper("reject_suspension", "reject_suspension")
resume = _wrapper("resume", "resume")
reopen = _wrapper("reopen", "reopen")  # after an unsatisfied callback: services.callbacks.record_callback
