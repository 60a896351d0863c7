"""Callbacks (回访) after closure and mediation (和谐调解): the command centre's last steps of a case.

**Callbacks.** :func:`callback_list` lists the closed cases whose reporter left a phone and that have no
satisfaction and no callback since they were closed; :func:`record_callback` records one call (reached or
not, satisfied or not, a note). A reached reporter's answer is written to the case's ``satisfaction``
(1 satisfied, 0 not), which is what the satisfaction KPI (满意率, :mod:`analytics.kpi`) reads: the KPI of
the store comes from these records. When the reporter is not satisfied and the city's rule says so
(``callback_reopen`` in the city configuration, default true) the case is reopened for rework (transition
``reopen``: closed → dispatched, a fresh time limit) and its satisfaction cleared, so that the reworked
case is called back again once closed. Operators and supervisors only; a district-scoped user sees and
calls back only their district's cases.

**Mediation.** :func:`mediate` closes a minor dispute (from verified, registered or dispatched) as
mediated (transition ``mediate``) with the parties and their agreement; it counts as closed in the KPIs
and is counted separately as ``mediated`` (:func:`services.kpi.kpi_table`). Operators and supervisors.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd

from cases import repository, repository_callbacks, repository_people
from cases.lifecycle import LifecycleError
from cases.users import mask_phone
from services.case_view import PHONE_VIEW_ROLES, visible_case
from services.cases import _calendar, _deadline_table, _event_actor, _translate
from services.context import ServiceContext
from services.errors import ServiceError

__all__ = [
    "CALLBACK_ROLES",
    "CallbackListRequest",
    "CallbackListResult",
    "CallbackRecord",
    "CallbackResult",
    "MediationRequest",
    "MediationResult",
    "callback_list",
    "mediate",
    "record_callback",
]

#: Roles that call reporters back and close cases by mediation.
CALLBACK_ROLES = ("operator", "supervisor")


@dataclasses.dataclass(frozen=True)
class CallbackListRequest:
    """Cases to call back: closed on or after ``closed_since`` (a local date; None: any), at most
    ``limit``, newest closure first."""

    closed_since: dt.date | None = None
    limit: int = 200


@dataclasses.dataclass(frozen=True)
class CallbackListResult:
    """The cases to call back (:data:`cases.repository_callbacks.CALLBACK_CASE_COLUMNS` plus
    ``district``)."""

    cases: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.cases.copy()


@dataclasses.dataclass(frozen=True)
class CallbackRecord:
    """One callback: the reporter was ``reached`` or not; ``satisfied`` (None when not reached); a note.
    ``at``: when (tz-aware; default now)."""

    case_id: str
    reached: bool
    satisfied: bool | None = None
    note: str | None = None
    at: dt.datetime | None = None


@dataclasses.dataclass(frozen=True)
class CallbackResult:
    """The callback written and the case after it (``reopened``: the case went back for rework)."""

    callback_id: int
    reopened: bool
    case: pd.DataFrame

    @property
    def status(self) -> str:
        return str(self.case["status"].iloc[0])

    def to_frame(self) -> pd.DataFrame:
        return self.case.copy()


@dataclasses.dataclass(frozen=True)
class MediationRequest:
    """Close ``case_id`` by mediation: the ``parties`` and their ``agreement`` (both required), a note."""

    case_id: str
    parties: str
    agreement: str
    note: str | None = None
    at: dt.datetime | None = None
    expected_version: int | None = None


@dataclasses.dataclass(frozen=True)
class MediationResult:
    """The case after the mediation and its events."""

    case: pd.DataFrame
    events: pd.DataFrame

    @property
    def status(self) -> str:
        return str(self.case["status"].iloc[0])

    def to_frame(self) -> pd.DataFrame:
        return self.case.copy()


def _local_midnight(ctx: ServiceContext, day: dt.date) -> dt.datetime:
    return pd.Timestamp(day).tz_localize(ctx.timezone).tz_convert("UTC").to_pydatetime()


def _with_district(ctx: ServiceContext, cases: pd.DataFrame) -> pd.DataFrame:
    from analytics.kpi import attach_areas_from_polygons

    if cases.empty:
        return cases.assign(district=pd.Series(dtype=object))
    located = attach_areas_from_polygons(cases, repository.load_areas(ctx.engine))
    if "district" not in located:
        located["district"] = None
    return located.drop(columns=[c for c in ("subdistrict",) if c in located])


def callback_list(ctx: ServiceContext, request: CallbackListRequest) -> CallbackListResult:
    """The closed cases waiting for a callback (operators, supervisors; a district-scoped user: their
    district). The phone is shown in full to the roles that call (:data:`PHONE_VIEW_ROLES`)."""
    actor = ctx.require("list the cases to call back", *CALLBACK_ROLES)
    since = _local_midnight(ctx, request.closed_since) if request.closed_since else None
    limit = max(1, min(int(request.limit), 5000))
    scoped = bool(actor.district)
    cases = repository_callbacks.callback_cases(
        ctx.engine, closed_since=since, limit=limit * (5 if scoped else 1)
    )
    cases = _with_district(ctx, cases)
    if scoped:
        cases = cases[cases["district"] == actor.district].head(limit)
    if actor.role not in (*PHONE_VIEW_ROLES, "system"):
        cases["reporter_phone"] = cases["reporter_phone"].map(lambda p: mask_phone(p, None))
    return CallbackListResult(cases.reset_index(drop=True))


def _reopen_rule(ctx: ServiceContext) -> bool:
    """The city's rule: reopen a case whose reporter is not satisfied (``callback_reopen``, default true)."""
    return ctx.config.callback_reopen


def record_callback(ctx: ServiceContext, request: CallbackRecord) -> CallbackResult:
    """Record a callback to the reporter of a closed case (module docstring).

    Raises
    ------
    NotAllowedError
        Not an operator or supervisor, or the case is outside the caller's district.
    ServiceError
        ``case_not_found``; ``not_closed`` (only closed cases are called back); ``invalid_transition`` /
        ``stale_case`` from the reopening.
    """
    actor = ctx.require("record a callback", *CALLBACK_ROLES)
    case = visible_case(ctx, request.case_id, "record a callback")
    if str(case["status"].iloc[0]) != "closed":
        raise ServiceError(
            "not_closed", f"case {request.case_id} is not closed: only closed cases are called back",
            case_id=request.case_id,
        )  # fmt: skip
    satisfied = request.satisfied if request.reached else None
    reopen = request.reached and satisfied is False and _reopen_rule(ctx)
    role = actor.role if actor.role in CALLBACK_ROLES else "operator"
    at = request.at or dt.datetime.now(dt.UTC)
    options = {}
    if reopen:
        table = ctx.config.deadline_table
        options = {
            "deadline_table": _deadline_table(table) if table else None,
            "calendar": _calendar(ctx.config),
        }
    try:
        callback_id, _ = repository_callbacks.record_callback_row(
            ctx.engine,
            case_id=request.case_id,
            at=at,
            operator=_event_actor(actor),
            reached=bool(request.reached),
            satisfied=satisfied,
            note=request.note,
            reopen_as=role if reopen else None,
            reopen_note=request.note or None,
            **options,
        )
    except LifecycleError as exc:
        raise _translate(exc) from exc
    return CallbackResult(callback_id, reopen, repository_people.case_record(ctx.engine, request.case_id))


def mediate(ctx: ServiceContext, request: MediationRequest) -> MediationResult:
    """Close a case by mediation (和谐调解结案) with the parties and the agreement.

    Raises
    ------
    NotAllowedError
        Not an operator or supervisor, or the case is outside the caller's district.
    ServiceError
        ``case_not_found``; ``bad_request`` (parties or agreement missing); ``invalid_transition`` (the
        status does not allow it), ``stale_case``.
    """
    actor = ctx.require("close a case by mediation", *CALLBACK_ROLES)
    visible_case(ctx, request.case_id, "close this case by mediation")
    parties, agreement = (request.parties or "").strip(), (request.agreement or "").strip()
    if not parties or not agreement:
        raise ServiceError("mediation_incomplete", "a mediation needs the parties and their agreement")
    role = actor.role if actor.role in CALLBACK_ROLES else "operator"
    try:
        repository_callbacks.mediate_case(
            ctx.engine,
            case_id=request.case_id,
            at=request.at or dt.datetime.now(dt.UTC),
            actor=_event_actor(actor),
            role=role,
            parties=parties,
            agreement=agreement,
            note=request.note or None,
            expected_version=request.expected_version,
        )
    except LifecycleError as exc:
        raise _translate(exc) from exc
    case = repository_people.case_record(ctx.engine, request.case_id)
    events = repository_people.case_events(ctx.engine, request.case_id)
    return MediationResult(case, events.tail(1).reset_index(drop=True))
