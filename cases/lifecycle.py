"""The case lifecycle state machine: who may move a case from which status to which, written atomically.

Lifecycle (DOMAIN.md §3.1; status names as in the demo city, ``sim.lifecycle.STATUSES``)::

    reported ─verify (inspector 核实)─▶ verified ─register (supervisor 立案)─▶ registered
    reported / verified ─cancel (operator 作废)─▶ cancelled
    registered ─dispatch (dispatcher 派遣; the deadline clock starts)─▶ dispatched
    dispatched ─return (department 退回, wrong department)─▶ registered
    dispatched ─handle (department 处置)─▶ resolved
    resolved ─check_pass (inspector 核查)─▶ checked ─close (supervisor 结案)─▶ closed
    resolved ─check_fail (inspector 返工)─▶ dispatched
    dispatched ─request_extension (department 延期申请)─▶ extension_requested
    extension_requested ─approve_extension / reject_extension (supervisor)─▶ dispatched
    dispatched ─request_suspension (department 挂账申请)─▶ suspension_requested
    suspension_requested ─approve_suspension (supervisor)─▶ suspended
    suspension_requested ─reject_suspension (supervisor)─▶ dispatched
    suspended ─resume (supervisor 解除挂账)─▶ dispatched
    closed ─reopen (operator / supervisor 回访不满意，返工; a new time limit from now)─▶ dispatched
    verified / registered / dispatched ─mediate (operator / supervisor 和谐调解结案)─▶ closed

Each action is allowed to exactly the roles in :data:`TRANSITIONS` (inspector 监督员, operator 受理员,
dispatcher 派遣员, department 专业部门, supervisor 值班长 / 指挥中心 who files, closes and approves).
The deadline clock starts at dispatch (``deadline_at`` from :mod:`cases.deadlines` on the working calendar);
an approved extension (延期) moves ``deadline_at`` to the requested later time; an approved suspension
(挂账) sets ``suspended_at`` (the case leaves the should-be-closed set of the KPIs) and resuming it moves
the deadline by the working time the case was parked. Rework (返工) sends a checked-and-failed case back
to ``dispatched`` keeping its deadline; a return (退回, wrong department) sends it back to the dispatcher.

:func:`transition` reads the case, checks the role and the status, then in one transaction updates the
case with ``WHERE version = <read version>`` (the ``version`` column SQLAlchemy uses as
``version_id_col``) and appends one :class:`~cases.models.CaseEvent` (action, role, actor, time, note and
the deadline the event set). If another writer changed the case in between, no row matches and
:class:`StaleCaseError` is raised: nothing is lost and nothing is half-written. :func:`retry_stale`
re-runs a read-decide-write step on conflict. Errors: :class:`InvalidTransitionError` (the status does not
allow the action), :class:`RoleNotAllowedError` (the role may not do the action), :class:`StaleCaseError`
(concurrent update or ``expected_version`` mismatch), :class:`CaseNotFoundError`.

This module holds the store operations; the pure state machine (statuses, roles, :data:`TRANSITIONS`,
the errors, :func:`allowed_actions`, :func:`history_problems`) is :mod:`cases.workflow` and the loaders
(:func:`load_lifecycle_frame`, :func:`load_events`) are :mod:`cases.lifecycle_frames`; all are re-exported
here.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from cases.calendar import WorkingCalendar, default_calendar
from cases.deadlines import DeadlineTable
from cases.lifecycle_frames import load_events, load_lifecycle_frame
from cases.models import Case, CaseEvent
from cases.workflow import (
    _TIME_COLUMNS,
    ACTIONS,
    LIFECYCLE_COLUMNS,
    ROLES,
    STATUSES,
    TERMINAL,
    TRANSITIONS,
    CaseNotFoundError,
    InvalidTransitionError,
    LifecycleError,
    RoleNotAllowedError,
    StaleCaseError,
    Transition,
    TransitionResult,
    _aware,
    _check_request,
    allowed_actions,
    history_problems,
)

__all__ = [
    "ACTIONS",
    "LIFECYCLE_COLUMNS",
    "ROLES",
    "STATUSES",
    "TERMINAL",
    "TRANSITIONS",
    "CaseNotFoundError",
    "InvalidTransitionError",
    "LifecycleError",
    "RoleNotAllowedError",
    "StaleCaseError",
    "Transition",
    "TransitionResult",
    "allowed_actions",
    "history_problems",
    "load_events",
    "load_lifecycle_frame",
    "report_case",
    "retry_stale",
    "transition",
]

#: Times after which an action may not be dated (its ``at`` must not precede any of them).
_ORDER_COLUMNS = tuple(c for c in _TIME_COLUMNS if c != "deadline_at")
# The working calendar caches its interval table in place; one lock keeps concurrent writers from
# reading a half-rebuilt table.
_CALENDAR_LOCK = threading.Lock()


def _deadline(
    case: Any, start: dt.datetime, table: DeadlineTable, calendar: WorkingCalendar | None
) -> dt.datetime:
    """Dispatch time plus the case's time limit (working time, or clock hours for ``hours`` rules)."""
    rule = table.rule_for(str(case.category_code), str(case.urgency or "normal"))
    cal = calendar or default_calendar()
    hours = rule.limit * cal.hours_per_day if rule.unit == "working_days" else rule.limit
    with _CALENDAR_LOCK:
        out = cal.add_working_time(pd.Timestamp(start), hours, wall_clock=rule.unit == "hours")
    return out.to_pydatetime()


def _resume_deadline(case: Any, at: dt.datetime, calendar: WorkingCalendar | None) -> dt.datetime | None:
    """The deadline moved by the time the case was parked: the remaining working time restarts at ``at``."""
    if case.deadline_at is None or case.suspended_at is None:
        return case.deadline_at
    cal = calendar or default_calendar()
    if case.urgency == "urgent":  # round-the-clock limits stop the clock round the clock too
        return case.deadline_at + (at - case.suspended_at)
    with _CALENDAR_LOCK:
        left = cal.working_time_between(pd.Timestamp(case.suspended_at), pd.Timestamp(case.deadline_at))[0]
        out = cal.add_working_time(pd.Timestamp(at), max(float(left), 0.0))
    return out.to_pydatetime()


def _requested_deadline(conn: Connection, case_id: str) -> dt.datetime | None:
    e = CaseEvent.__table__.c
    query = (
        sa.select(e.deadline_at)
        .where(e.case_id == case_id, e.action == "request_extension")
        .order_by(e.event_id.desc())
        .limit(1)
    )
    return conn.execute(query).scalar_one_or_none()


_AT = object()  # stands for the action's time in _SIMPLE_EFFECTS
#: Column updates of the actions that only stamp or clear times.
_SIMPLE_EFFECTS: dict[str, dict[str, Any]] = {
    "register": {"registered_at": _AT},
    "return": {"department": None, "dispatched_at": None, "deadline_at": None},
    "handle": {"resolved_at": _AT},
    "check_pass": {"verified_at": _AT},
    "check_fail": {"resolved_at": None},
    "close": {"closed_at": _AT},
    "approve_suspension": {"suspended_at": _AT},
    "mediate": {"closed_at": _AT},
}


def _dispatch(
    case: Any,
    at: dt.datetime,
    department: str | None,
    deadline: dt.datetime | None,
    table: DeadlineTable,
    calendar: WorkingCalendar | None,
) -> tuple[dict[str, Any], dt.datetime | None, str | None]:
    if not department:
        msg = f"dispatch of {case.case_id} needs the `department` it goes to (see cases.routing_rules)"
        raise InvalidTransitionError(msg)
    due = deadline or _deadline(case, at, table, calendar)
    if due <= at:
        msg = f"deadline {due.isoformat()} of {case.case_id} is not after the dispatch {at.isoformat()}"
        raise InvalidTransitionError(msg)
    return {"dispatched_at": at, "department": department, "deadline_at": due}, due, department


def _extension(
    conn: Connection, action: str, case: Any, deadline: dt.datetime | None
) -> tuple[dict[str, Any], dt.datetime | None, str | None]:
    due = deadline
    if due is None and action == "approve_extension":
        due = _requested_deadline(conn, case.case_id)
    if due is None:
        msg = f"{action} of {case.case_id} needs the new `deadline`"
        raise InvalidTransitionError(msg)
    if case.deadline_at is not None and due <= case.deadline_at:
        msg = (
            f"extension of {case.case_id} must move the deadline later than "
            f"{case.deadline_at.isoformat()}, got {due.isoformat()}"
        )
        raise InvalidTransitionError(msg)
    return ({} if action == "request_extension" else {"deadline_at": due}), due, None


def _effects(
    conn: Connection,
    spec: Transition,
    case: Any,
    at: dt.datetime,
    *,
    department: str | None,
    deadline: dt.datetime | None,
    table: DeadlineTable,
    calendar: WorkingCalendar | None,
) -> tuple[dict[str, Any], dt.datetime | None, str | None]:
    """Column updates of the case, the deadline recorded on the event, and a default note."""
    action = spec.action
    simple = _SIMPLE_EFFECTS.get(action)
    if simple is not None:
        return {column: (at if value is _AT else value) for column, value in simple.items()}, None, None
    if action == "dispatch":
        return _dispatch(case, at, department, deadline, table, calendar)
    if action in ("request_extension", "approve_extension"):
        return _extension(conn, action, case, deadline)
    if action == "reopen":  # rework after an unsatisfied callback: a fresh time limit from the reopening
        due = deadline or _deadline(case, at, table, calendar)
        return {"closed_at": None, "resolved_at": None, "verified_at": None, "deadline_at": due}, due, None
    if action == "resume":
        due = deadline or _resume_deadline(case, at, calendar)
        return {"suspended_at": None, "deadline_at": due}, due, None
    return {}, None, None  # reject_*, request_suspension, verify, cancel: status only


# Statements are built once: SQLAlchemy memoises a statement object's cache key, which is most of the
# per-call cost of building a new one (a transition is ~1 ms instead of ~5 ms on SQLite).
_C = Case.__table__.c
_READ = sa.select(
    *(_C[n] for n in ("case_id", "status", "version", "category_code", "urgency", *_TIME_COLUMNS))
).where(_C.case_id == sa.bindparam("_id"))
_INSERT_EVENT = sa.insert(CaseEvent.__table__)


@functools.lru_cache(maxsize=32)
def _update_statement(columns: tuple[str, ...]) -> sa.Update:
    """``UPDATE cases SET status, version, <columns> WHERE case_id = :_id AND version = :_v``."""
    return (
        sa.update(Case.__table__)
        .where(_C.case_id == sa.bindparam("_id"), _C.version == sa.bindparam("_v"))
        .values({n: sa.bindparam(n) for n in ("status", "version", *columns)})
    )


@functools.lru_cache(maxsize=1)
def _default_table() -> DeadlineTable:
    return DeadlineTable()


def transition(
    bind: Engine | Session | Connection,
    case_id: str,
    action: str,
    actor: str,
    role: str,
    at: dt.datetime | None = None,
    note: str | None = None,
    expected_version: int | None = None,
    *,
    department: str | None = None,
    deadline: dt.datetime | None = None,
    deadline_table: DeadlineTable | None = None,
    calendar: WorkingCalendar | None = None,
) -> TransitionResult:
    """Apply ``action`` to case ``case_id`` as ``actor`` in ``role``; update the case and append its event.

    Parameters
    ----------
    bind
        An Engine (the change is its own transaction), or a Session / Connection whose open transaction
        the change joins (the caller commits; a Session's cached ``Case`` is expired).
    case_id, action, actor, role
        The case, one of :data:`ACTIONS`, who acts (user or inspector id) and the role they act in.
    at
        When (tz-aware; default now). Must not precede any lifecycle time of the case.
    note
        Free text for the event (default: the action's Chinese label; the department for a dispatch).
    expected_version
        The ``version`` the caller saw; :class:`StaleCaseError` if the case is at another version already.
    department
        ``dispatch`` only: the responsible department.
    deadline
        ``dispatch``: overrides the time-limit table; ``request_extension``: the requested deadline
        (required); ``approve_extension``: overrides the requested one; ``resume``: overrides the
        deadline moved by the parked time.
    deadline_table, calendar
        Time limits and working calendar for the dispatch deadline (defaults of :mod:`cases.deadlines`).

    Returns
    -------
    TransitionResult

    Raises
    ------
    RoleNotAllowedError, InvalidTransitionError, StaleCaseError, CaseNotFoundError
    """
    spec = _check_request(action, role)
    if isinstance(bind, Engine):
        with bind.begin() as conn:
            return _apply(conn, spec, case_id, actor, role, at, note, expected_version,
                          department, deadline, deadline_table, calendar)  # fmt: skip
    conn = bind.connection() if isinstance(bind, Session) else bind
    result = _apply(conn, spec, case_id, actor, role, at, note, expected_version,
                    department, deadline, deadline_table, calendar)  # fmt: skip
    if isinstance(bind, Session):
        cached = bind.identity_map.get(bind.identity_key(Case, (case_id,)))  # type: ignore[arg-type]
        if cached is not None:
            bind.expire(cached)
    return result


def _apply(
    conn: Connection,
    spec: Transition,
    case_id: str,
    actor: str,
    role: str,
    at: dt.datetime | None,
    note: str | None,
    expected_version: int | None,
    department: str | None,
    deadline: dt.datetime | None,
    deadline_table: DeadlineTable | None,
    calendar: WorkingCalendar | None,
) -> TransitionResult:
    case = conn.execute(_READ, {"_id": case_id}).one_or_none()
    if case is None:
        msg = f"case {case_id!r} does not exist"
        raise CaseNotFoundError(msg)
    if expected_version is not None and case.version != expected_version:
        msg = f"case {case_id} is at version {case.version}, not {expected_version}: re-read it and retry"
        raise StaleCaseError(msg)
    if case.status not in spec.sources:
        msg = (
            f"case {case_id} is {case.status!r}: cannot {spec.action} ({spec.label}), which needs "
            f"{' or '.join(spec.sources)}; possible now: {', '.join(allowed_actions(case.status)) or 'none'}"
        )
        raise InvalidTransitionError(msg)
    at = _aware(at, "at") if at is not None else dt.datetime.now(dt.UTC)
    latest = max((getattr(case, n) for n in _ORDER_COLUMNS if getattr(case, n) is not None), default=None)
    if latest is not None and at < latest:
        msg = f"{spec.action} of {case_id} at {at.isoformat()} precedes its last step at {latest.isoformat()}"
        raise InvalidTransitionError(msg)
    updates, event_deadline, default_note = _effects(
        conn,
        spec,
        case,
        at,
        department=department,
        deadline=_aware(deadline, "deadline") if deadline is not None else None,
        table=deadline_table or _default_table(),
        calendar=calendar,
    )
    params = {"_id": case_id, "_v": case.version, "status": spec.target, "version": case.version + 1}
    done = conn.execute(_update_statement(tuple(sorted(updates))), {**params, **updates})
    if done.rowcount != 1:
        msg = f"case {case_id} was changed by someone else since version {case.version}: re-read it and retry"
        raise StaleCaseError(msg)
    event = {
        "case_id": case_id,
        "at": at,
        "from_status": case.status,
        "to_status": spec.target,
        "actor": actor,
        "note": note if note is not None else (default_note or spec.label),
        "action": spec.action,
        "role": role,
        "deadline_at": event_deadline,
    }
    event_id = conn.execute(_INSERT_EVENT, event).inserted_primary_key[0]
    return TransitionResult(
        case_id, spec.action, case.status, spec.target, case.version + 1, int(event_id), at,
        updates.get("deadline_at", case.deadline_at),
    )  # fmt: skip


T = TypeVar("T")


def retry_stale(step: Callable[[], T], *, attempts: int = 20, backoff_s: float = 0.002) -> T:
    """Run ``step`` (which must re-read the case each time) until it does not raise :class:`StaleCaseError`.

    Sleeps a random ``0 … backoff_s × 2^k`` seconds (capped at 0.1 s) between tries so colliding writers
    spread out; the last :class:`StaleCaseError` is raised after ``attempts`` tries.
    """
    for k in range(attempts):
        try:
            return step()
        except StaleCaseError:
            if k == attempts - 1:
                raise
            time.sleep(random.uniform(0.0, min(backoff_s * 2**k, 0.1)))
    raise AssertionError("unreachable")  # pragma: no cover


def report_case(
    bind: Engine,
    *,
    case_id: str,
    source: str,
    category_code: str,
    reported_at: dt.datetime,
    actor: str,
    role: str,
    **fields: Any,
) -> int:
    """Create a case with its first event(s); return its version (1).

    A report by an ``inspector`` (a patrol find, 监督员上报) is verified at once (events ``None → reported``
    and ``reported → verified``, as the simulator writes them); an ``operator`` enters a public report
    (``reported``), which an inspector must verify on site. ``fields`` are other :class:`Case` columns;
    ``cell`` (res 10) is computed from WGS-84 ``lat``/``lon`` when not given.
    """
    if role not in ("inspector", "operator"):
        msg = f"role {role!r} may not report a case; allowed: inspector, operator"
        raise RoleNotAllowedError(msg)
    at = _aware(reported_at, "reported_at")
    if fields.get("cell") is None and fields.get("lat") is not None and fields.get("lon") is not None:
        from grid.cells import latlng_to_cells

        cell = latlng_to_cells(np.array([fields["lat"]], float), np.array([fields["lon"]], float), 10)
        fields["cell"] = int(cell[0])
    status = "verified" if role == "inspector" else "reported"
    if role == "inspector":
        fields.setdefault("reported_by", actor)  # the inspector's own find: 有效上报 counts by reporter
    events = [(None, "reported", "上报")]
    if role == "inspector":
        events.append(("reported", "verified", "监督员上报即核实"))
    with bind.begin() as conn:
        conn.execute(
            sa.insert(Case.__table__).values(
                case_id=case_id, source=source, category_code=category_code, reported_at=at, status=status,
                version=1, **fields,
            )
        )  # fmt: skip
        for before, after, label in events:
            conn.execute(
                sa.insert(CaseEvent.__table__).values(
                    case_id=case_id, at=at, from_status=before, to_status=after, actor=actor, note=label,
                    action="report", role=role,
                )
            )  # fmt: skip
    return 1
