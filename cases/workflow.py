"""The case workflow as pure data: statuses, roles, the transition table and checks on histories — no SQL.

:data:`TRANSITIONS` says which roles may move a case by which action from which statuses to which status
(the diagram is in :mod:`cases.lifecycle`); :func:`allowed_actions` lists what a role may do from a status;
:func:`history_problems` checks an event history against the table. The errors of the lifecycle live here
too so that front-ends can catch them without importing the store. :mod:`cases.lifecycle` writes the
transitions to the store and re-exports everything below.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

STATUSES = (
    "reported",
    "verified",
    "cancelled",
    "registered",
    "dispatched",
    "resolved",
    "checked",
    "closed",
    "extension_requested",
    "suspension_requested",
    "suspended",
)
TERMINAL = ("cancelled", "closed")
#: Workflow roles (a subset of :data:`cases.models.ROLES`; planner/manager/admin never move cases).
ROLES = ("inspector", "operator", "dispatcher", "department", "supervisor")


@dataclass(frozen=True)
class Transition:
    """One action: the statuses it starts from, the status it leads to, the roles allowed, its name."""

    action: str
    sources: tuple[str, ...]
    target: str
    roles: tuple[str, ...]
    label: str


def _t(action: str, sources: tuple[str, ...], target: str, roles: tuple[str, ...], label: str) -> Transition:
    return Transition(action, sources, target, roles, label)


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        _t("verify", ("reported",), "verified", ("inspector",), "现场核实"),
        _t("cancel", ("reported", "verified"), "cancelled", ("operator",), "核实不属实，作废"),
        _t("register", ("verified",), "registered", ("supervisor",), "立案"),
        _t("dispatch", ("registered",), "dispatched", ("dispatcher",), "派遣"),
        _t("return", ("dispatched",), "registered", ("department",), "退回（非本部门职责）"),
        _t("handle", ("dispatched",), "resolved", ("department",), "处置反馈"),
        _t("check_pass", ("resolved",), "checked", ("inspector",), "现场核查通过"),
        _t("check_fail", ("resolved",), "dispatched", ("inspector",), "核查未通过，返工"),
        _t("close", ("checked",), "closed", ("supervisor",), "结案"),
        _t("request_extension", ("dispatched",), "extension_requested", ("department",), "延期申请"),
        _t("approve_extension", ("extension_requested",), "dispatched", ("supervisor",), "延期批准"),
        _t("reject_extension", ("extension_requested",), "dispatched", ("supervisor",), "延期驳回"),
        _t("request_suspension", ("dispatched",), "suspension_requested", ("department",), "挂账申请"),
        _t("approve_suspension", ("suspension_requested",), "suspended", ("supervisor",), "挂账批准"),
        _t("reject_suspension", ("suspension_requested",), "dispatched", ("supervisor",), "挂账驳回"),
        _t("resume", ("suspended",), "dispatched", ("supervisor",), "解除挂账"),
        _t("reopen", ("closed",), "dispatched", ("operator", "supervisor"), "回访不满意，返工"),
        _t(
            "mediate",
            ("verified", "registered", "dispatched"),
            "closed",
            ("operator", "supervisor"),
            "和谐调解结案",
        ),
    )
}
ACTIONS = tuple(TRANSITIONS)
#: Status changes a history may contain besides :data:`TRANSITIONS`: the first event and a patrol find's
#: immediate verification (``report_case``, the simulator).
_OPENING = {(None, "reported"), ("reported", "verified")}
#: Columns of :func:`load_lifecycle_frame`.
LIFECYCLE_COLUMNS = (
    "case_id",
    "source",
    "category_code",
    "kind",
    "cell",
    "lat",
    "lon",
    "reported_at",
    "registered_at",
    "dispatched_at",
    "department",
    "deadline_at",
    "resolved_at",
    "verified_at",
    "closed_at",
    "suspended_at",
    "status",
    "urgency",
    "reported_by",
    "satisfaction",
    "location_flag",
)
_TIME_COLUMNS = (
    "reported_at",
    "registered_at",
    "dispatched_at",
    "deadline_at",
    "resolved_at",
    "verified_at",
    "closed_at",
    "suspended_at",
)


class LifecycleError(ValueError):
    """Base class of the lifecycle errors (a ``ValueError``: the request, not the system, is wrong)."""


class CaseNotFoundError(LifecycleError, LookupError):
    """No case with that id."""


class InvalidTransitionError(LifecycleError):
    """The case's status does not allow the action (or the action's arguments are inconsistent)."""


class RoleNotAllowedError(LifecycleError, PermissionError):
    """The role may not perform the action."""


class StaleCaseError(LifecycleError):
    """The case changed since it was read (another writer, or ``expected_version`` is not current)."""


@dataclass(frozen=True)
class TransitionResult:
    """What :func:`transition` did: the case's new status and version, and the event id written."""

    case_id: str
    action: str
    from_status: str
    to_status: str
    version: int
    event_id: int
    at: dt.datetime
    deadline_at: dt.datetime | None


def allowed_actions(status: str | None, role: str | None = None) -> list[str]:
    """Actions possible from ``status`` (for ``role`` only, when given), in :data:`ACTIONS` order."""
    return [a for a, t in TRANSITIONS.items() if status in t.sources and (role is None or role in t.roles)]


def _aware(value: Any, name: str) -> dt.datetime:
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        msg = f"`{name}` must be a tz-aware datetime, got {value!r}"
        raise InvalidTransitionError(msg)
    return value.astimezone(dt.UTC)


def _check_request(action: str, role: str) -> Transition:
    spec = TRANSITIONS.get(action)
    if spec is None:
        msg = f"unknown action {action!r}; actions are {list(ACTIONS)}"
        raise InvalidTransitionError(msg)
    if role not in spec.roles:
        msg = f"role {role!r} may not {action} ({spec.label}); allowed: {', '.join(spec.roles)}"
        raise RoleNotAllowedError(msg)
    return spec


def history_problems(events: pd.DataFrame, cases: pd.DataFrame) -> pd.DataFrame:
    """Inconsistencies between case histories and the cases: an empty frame means every history is sound.

    Checks, vectorised over all events (``events`` in writing order per case, as :func:`load_events`):
    every event's ``from_status`` is the previous event's ``to_status`` (``broken_chain``); every status
    change is a transition of :data:`TRANSITIONS` or an opening step (``not_a_transition``); the last
    event's ``to_status`` is the case's ``status`` (``status_mismatch``); every status is in
    :data:`STATUSES` (``unknown_status``). Returns ``case_id``, ``problem``, ``detail``.
    """
    ev = events.reset_index(drop=True)
    prev_to = ev["to_status"].shift(1).where(ev["case_id"].eq(ev["case_id"].shift(1)))
    frm, to = ev["from_status"].astype(object), ev["to_status"].astype(object)
    prev = prev_to.astype(object)
    first = prev.isna().to_numpy()
    chain_ok = np.where(first, True, (frm.fillna("∅") == prev.fillna("∅")).to_numpy())
    pairs = {f"{s or '∅'}→{t}" for s, t in {(s, t.target) for t in TRANSITIONS.values() for s in t.sources}
             | _OPENING}  # fmt: skip
    pair_ok = (frm.fillna("∅").astype(str) + "→" + to.astype(str)).isin(pairs).to_numpy()
    known = to.isin(STATUSES).to_numpy()
    last = ev.groupby("case_id", sort=False).tail(1)[["case_id", "to_status"]]
    merged = cases[["case_id", "status"]].merge(last, on="case_id", how="left")
    differs = merged["to_status"].astype(object).fillna("∅") != merged["status"].astype(object).fillna("∅")
    mismatch = merged[differs]
    parts = [
        pd.DataFrame({"case_id": ev["case_id"][~chain_ok], "problem": "broken_chain",
                      "detail": frm[~chain_ok].astype(str) + " after " + prev[~chain_ok].astype(str)}),
        pd.DataFrame({"case_id": ev["case_id"][~pair_ok], "problem": "not_a_transition",
                      "detail": frm[~pair_ok].astype(str) + " → " + to[~pair_ok].astype(str)}),
        pd.DataFrame({"case_id": ev["case_id"][~known], "problem": "unknown_status",
                      "detail": to[~known].astype(str)}),
        pd.DataFrame({"case_id": mismatch["case_id"], "problem": "status_mismatch",
                      "detail": "case " + mismatch["status"].astype(str) + ", last event "
                      + mismatch["to_status"].astype(str)}),
    ]  # fmt: skip
    return pd.concat(parts, ignore_index=True).astype(object)
