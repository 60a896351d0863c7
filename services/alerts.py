"""Deadline alerts and escalation (督办预警): cases near or past their deadline, by department and district.

A case whose deadline runs (dispatched, or with an extension / suspension request pending; a suspended case's
clock is stopped) is ``near`` once the elapsed share of the working time between its dispatch and its
deadline reaches ``near_share`` (``[alerts] near_share`` of ``gridpatrol.toml``, default 0.8) and
``overdue`` once the deadline is past, on the city's working calendar (urgent cases, whose limits run round
the clock, on the clock). :func:`alerts` lists them with an escalation summary per department and per
district: the daily digest of the Alerts page and of ``gridpatrol alerts``.

Operators, dispatchers, supervisors, managers and administrators see every department; a department user
only their own department's cases; a district-scoped user only their district's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd

from cases import repository_queues
from services.context import ServiceContext
from services.errors import NotAllowedError, ServiceError
from services.queue_common import as_of_time, calendar_of, category_names, deadline_alerts, in_scope, locate

__all__ = ["ALERT_COLUMNS", "ALERT_ROLES", "SUMMARY_COLUMNS", "AlertsRequest", "AlertsResult", "alerts"]

ALERT_ROLES = ("operator", "dispatcher", "supervisor", "department", "manager", "admin")
#: Statuses whose deadline clock runs.
RUNNING = ("dispatched", "extension_requested", "suspension_requested")
ALERT_COLUMNS = (
    "case_id",
    "status",
    "alert",
    "category_code",
    "category",
    "department",
    "district",
    "subdistrict",
    "dispatched_at",
    "deadline_at",
    "hours_left",
    "elapsed_share",
)
SUMMARY_COLUMNS = ("near", "overdue", "oldest_overdue_case", "oldest_overdue_deadline", "max_hours_overdue")
GROUPS = ("department", "district")


@dataclasses.dataclass(frozen=True)
class AlertsRequest:
    """``as_of``: when (None: now; a date: the end of that local day; a naive time: local).
    ``near_share``: the threshold (None: the city configuration's). ``department``: only this department
    (a department user always gets their own)."""

    as_of: dt.datetime | dt.date | None = None
    near_share: float | None = None
    department: str | None = None


@dataclasses.dataclass(frozen=True)
class AlertsResult:
    """``table``: the flagged cases (:data:`ALERT_COLUMNS`; overdue first, longest overdue first);
    ``by_department`` / ``by_district``: the escalation summary (:data:`SUMMARY_COLUMNS`, worst first)."""

    table: pd.DataFrame
    by_department: pd.DataFrame
    by_district: pd.DataFrame
    as_of: pd.Timestamp
    near_share: float

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self, by: str) -> pd.DataFrame:
        """The summary ``by`` ``department`` or ``district``."""
        if by not in GROUPS:
            raise ServiceError("alerts_bad_group", f"by must be one of {GROUPS}, got {by!r}", by=by)
        return (self.by_department if by == "department" else self.by_district).copy()


def _summary(table: pd.DataFrame, by: str) -> pd.DataFrame:
    columns = [by, *SUMMARY_COLUMNS]
    if table.empty:
        return pd.DataFrame(columns=columns)
    key = table[by].fillna("").astype(str)
    counts = pd.crosstab(key, table["alert"]).reindex(columns=["near", "overdue"], fill_value=0)
    late = table[table["alert"] == "overdue"].assign(_key=key).sort_values(["deadline_at", "case_id"])
    oldest = late.drop_duplicates("_key").set_index("_key")
    out = counts.reset_index()
    out.columns = [by, "near", "overdue"]
    out["oldest_overdue_case"] = out[by].map(oldest["case_id"])
    out["oldest_overdue_deadline"] = out[by].map(oldest["deadline_at"])
    out["max_hours_overdue"] = out[by].map(-late.groupby("_key")["hours_left"].min()).fillna(0.0).round(2)
    out[by] = out[by].replace("", None)
    out = out.sort_values(["overdue", "near", "max_hours_overdue"], ascending=False, kind="stable")
    return out.reset_index(drop=True)[columns]


def alerts(ctx: ServiceContext, request: AlertsRequest) -> AlertsResult:
    """The open cases near or past their deadline at ``as_of`` and the escalation lists.

    Raises
    ------
    NotAllowedError
        An inspector or planner; a department user without a department or asking for another one.
    ServiceError
        ``bad_near_share``: a threshold outside (0, 1].
    """
    actor = ctx.require("see the deadline alerts", *ALERT_ROLES)
    department = request.department
    if actor.role == "department":
        if not actor.department or (department and department != actor.department):
            raise NotAllowedError("see another department's alerts", actor.role)
        department = actor.department
    near_share = float(request.near_share if request.near_share is not None else ctx.config.alerts.near_share)
    as_of = as_of_time(request.as_of, ctx.timezone)
    cases = repository_queues.queue_cases(ctx.engine, RUNNING, department=department)
    cases = cases[cases["deadline_at"].notna().to_numpy()].reset_index(drop=True)
    frame = in_scope(ctx, locate(ctx, cases))
    names = category_names()
    frame["category"] = [names.get(str(c), str(c)) for c in frame["category_code"]]
    frame = pd.concat([frame, deadline_alerts(calendar_of(ctx.config), frame, as_of, near_share)], axis=1)
    flagged = frame[(frame["alert"] != "ok").to_numpy()]
    order = flagged.assign(_rank=(flagged["alert"] != "overdue").astype(int))
    table = order.sort_values(["_rank", "hours_left", "case_id"], kind="stable")[list(ALERT_COLUMNS)]
    table = table.reset_index(drop=True)
    return AlertsResult(table, _summary(table, "department"), _summary(table, "district"), as_of, near_share)
