"""Case lifecycle: report → verify (核实) → register (立案) → dispatch → handle → check (核查) → close.

Vectorised over all cases. Times after dispatch are drawn as fractions of the case's time limit (working
hours on the :mod:`cases.calendar` working calendar, round the clock for urgent cases) so the rates hit the
configured targets: a share ``closure_rate − on_time_rate`` of registered cases closes late, ``1 −
closure_rate`` stays stuck open, the rest closes on time; departments differ in speed and lateness.
``verified_at`` is the on-site check (核查) of the fix; the earlier verification (核实) of a public report is
an event only. Everything after the end of the simulated period is cut off (still-open cases).

Rates follow DOMAIN.md §3.3: should-close (应结案) = registered, not cancelled, and closed or past its
deadline at the end; 结案率 = closed / should-close; 按期结案率 = closed by ``deadline_at`` / should-close;
满意率 = satisfied callbacks / callbacks.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from cases.calendar import WorkingCalendar
from cases.deadlines import DeadlineTable, deadlines_for
from sim.config import DemoConfig

STATUSES = ("reported", "verified", "cancelled", "registered", "dispatched", "resolved", "checked", "closed")
#: Department speed (Beta a, b of the share of the limit used) and relative lateness.
_DEPT = {
    "HW": (2.0, 5.0, 0.7),
    "CG": (2.0, 3.0, 1.0),
    "JJ": (2.0, 4.0, 0.8),
    "SZ": (3.0, 3.0, 1.3),
    "ZJ": (3.0, 2.0, 1.6),
    "YL": (2.5, 3.0, 1.1),
    "SW": (3.0, 3.0, 1.2),
}
_URGENT_CAPABLE = ("01", "10001", "06013")
_H = pd.Timedelta(hours=1)


def _add(cal: WorkingCalendar, start: pd.Series, hours: np.ndarray, wall: np.ndarray) -> pd.Series:
    return cal.add_working_time(start, np.maximum(hours, 0.0), wall_clock=wall)


def simulate_lifecycle(
    cases: pd.DataFrame,
    dept_key: np.ndarray,
    cfg: DemoConfig,
    rng: np.random.Generator,
    *,
    calendar: WorkingCalendar | None = None,
) -> pd.DataFrame:
    """Fill the lifecycle columns of ``cases`` (case_id, source, category_code, reported_at, beat_owner).

    Returns a copy with urgency, registered_at, dispatched_at, deadline_at, resolved_at, verified_at,
    closed_at, status, satisfaction and the helper columns ``_verify_at``, ``_rework_at``,
    ``_first_resolved_at``, ``_cancelled`` used by :func:`case_events`.
    """
    cal = calendar or WorkingCalendar(timezone=cfg.timezone, periods=cfg.shift_hours)
    out = cases.copy()
    n = len(out)
    code = out["category_code"].to_numpy().astype(str)
    codes, code_of = np.unique(code, return_inverse=True)
    capable = np.array([c.startswith(_URGENT_CAPABLE) for c in codes.tolist()], dtype=bool)[code_of]
    p_urgent = min(1.0, cfg.urgent_share / max(capable.mean(), 1e-9)) if n else 0.0
    u = rng.random(n)
    urgency = np.where(capable & (u < p_urgent), "urgent", np.where(rng.random(n) < 0.08, "high", "normal"))
    out["urgency"] = urgency
    wall = urgency == "urgent"
    public = out["source"].to_numpy() != "patrol"
    rep = out["reported_at"]
    verify = _add(cal, rep, np.where(public, rng.exponential(0.6, n), 0.0), wall)
    cancelled = public & (rng.random(n) < cfg.cancel_rate / max(public.mean(), 1e-9))
    registered = _add(cal, verify, rng.exponential(0.15, n), wall)
    dispatched = _add(cal, registered, rng.exponential(0.15, n), wall)
    deadline = deadlines_for(code, urgency, dispatched, table=DeadlineTable(), calendar=cal)
    limit_h = np.where(wall, (deadline - dispatched) / _H, cal.working_time_between(dispatched, deadline))
    # outcome classes, lateness varied by department but with the configured mean
    keys, key_of = np.unique(np.asarray(dept_key, dtype=str), return_inverse=True)
    a, b, late_w = np.array([_DEPT.get(k, (2.0, 3.0, 1.0)) for k in keys.tolist()]).reshape(-1, 3)[key_of].T
    p_stuck = 1.0 - cfg.closure_rate
    p_late = (cfg.closure_rate - cfg.on_time_rate) * late_w / max(late_w.mean(), 1e-9) if n else late_w
    r = rng.random(n)
    stuck = r < p_stuck
    late = ~stuck & (r < p_stuck + p_late)
    frac = np.where(late, 1.0 + np.minimum(rng.exponential(0.4, n), 4.0), rng.beta(a, b) * 0.97 + 0.02)
    total = frac * limit_h
    rework = ~stuck & (rng.random(n) < cfg.rework_rate)
    resolved = _add(cal, dispatched, 0.75 * total, wall)
    checked = _add(cal, dispatched, 0.9 * total, wall)
    closed = _add(cal, dispatched, total, wall)
    out["_first_resolved_at"] = _add(cal, dispatched, 0.45 * total, wall).where(rework & ~cancelled)
    out["_rework_at"] = _add(cal, dispatched, 0.55 * total, wall).where(rework & ~cancelled)
    out["_verify_at"] = verify.where(public)
    out["_cancelled"] = cancelled
    keep = ~cancelled
    out["registered_at"] = registered.where(keep)
    out["dispatched_at"] = dispatched.where(keep)
    out["deadline_at"] = deadline.where(keep)
    for col, val in (("resolved_at", resolved), ("verified_at", checked), ("closed_at", closed)):
        out[col] = val.where(keep & ~stuck)
    callback = np.isin(out["source"].to_numpy(), ["hotline", "wechat"]) & (rng.random(n) < cfg.callback_share)
    sat = np.where(rng.random(n) < cfg.satisfaction_rate, 1.0, 0.0)
    out["satisfaction"] = np.where(callback & keep & ~stuck, sat, np.nan)
    return _cut_at_end(out, cfg)


def _cut_at_end(out: pd.DataFrame, cfg: DemoConfig) -> pd.DataFrame:
    end = period_end(cfg)
    cols = [
        "_verify_at",
        "registered_at",
        "dispatched_at",
        "_first_resolved_at",
        "_rework_at",
        "resolved_at",
        "verified_at",
        "closed_at",
    ]
    for c in cols:
        out[c] = out[c].where(out[c] <= end)
    out["satisfaction"] = out["satisfaction"].where(out["closed_at"].notna())
    status = np.full(len(out), "reported", dtype=object)
    status[out["_verify_at"].notna().to_numpy() | (out["source"] == "patrol").to_numpy()] = "verified"
    status[(out["_cancelled"] & out["_verify_at"].notna()).to_numpy()] = "cancelled"
    for c, s in (
        ("registered_at", "registered"),
        ("dispatched_at", "dispatched"),
        ("resolved_at", "resolved"),
        ("verified_at", "checked"),
        ("closed_at", "closed"),
    ):
        status[out[c].notna().to_numpy()] = s
    first_fix = out["_first_resolved_at"].notna() & out["resolved_at"].isna()
    status[first_fix.to_numpy()] = "resolved"  # fixed once, not re-checked yet
    rework_open = out["_rework_at"].notna() & out["resolved_at"].isna()
    status[rework_open.to_numpy()] = "dispatched"
    out["status"] = status
    # a deadline is known once dispatched; keep it even for still-open cases
    out["deadline_at"] = out["deadline_at"].where(out["dispatched_at"].notna())
    return out


def period_end(cfg: DemoConfig) -> pd.Timestamp:
    """End of the simulated period (local midnight after the last day) in UTC."""
    return (pd.Timestamp(cfg.end) + pd.Timedelta(days=1)).tz_localize(cfg.timezone).tz_convert("UTC")


def case_events(cases: pd.DataFrame) -> pd.DataFrame:
    """The append-only status history implied by the timestamps (one row per transition).

    Columns ``case_id``, ``at`` (UTC), ``from_status``, ``to_status``, ``actor``, ``note``, ``action`` and
    ``role`` (strings, as :func:`cases.lifecycle.transition` and :func:`~cases.lifecycle.report_case` write
    them) and ``deadline_at`` (the deadline a dispatch set or an extension request asks for); sorted by case,
    time and the order of the transitions below. The helper columns of :func:`sim.present.plant_present`
    (a return to the dispatcher, extension and suspension requests) are used when present. Built
    column-wise in Arrow.
    """
    n = len(cases)
    rank = _case_rank(cases["case_id"].to_numpy())
    patrol = (cases["source"] == "patrol").to_numpy()
    reporter = cases["reported_by"].where(patrol, cases["source"])
    reporter_role = pd.Series(np.where(patrol, "inspector", "operator"), index=cases.index)
    checker = cases["beat_owner"].fillna("supervisor")
    dept = cases["department"]
    every = np.ones(n, dtype=bool)
    cancelled = cases["_cancelled"].to_numpy(dtype=bool)
    request = cases["_request"] if "_request" in cases else pd.Series(None, index=cases.index, dtype=object)
    extension = request.isin(["extension", "extension_approved"]).to_numpy()
    suspension, approved = (request == "suspension").to_numpy(), (request == "extension_approved").to_numpy()
    returned_to = cases.get("_return_department")
    ins, dep, sup = "inspector", "department", "supervisor"  # the roles, short
    note_of_request = cases.get("_request_note")
    spec = (
        (every, "reported_at", None, "reported", reporter, "上报", "report", reporter_role, None),
        (patrol, "reported_at", "reported", "verified", reporter, "监督员上报即核实", "report", ins, None),
        (~patrol, "_verify_at", "reported", "verified", checker, "现场核实", "verify", ins, None),
        (cancelled, "_verify_at", "verified", "cancelled", "operator", "核实不属实，作废", "cancel",
         "operator", None),
        (every, "registered_at", "verified", "registered", "shift_leader", "立案", "register", sup, None),
        (every, "_return_dispatch_at", "registered", "dispatched", "dispatcher", returned_to, "dispatch",
         "dispatcher", "_return_deadline"),
        (every, "_return_at", "dispatched", "registered", returned_to, "退回（非本部门职责）", "return", dep,
         None),
        (every, "dispatched_at", "registered", "dispatched", "dispatcher", dept, "dispatch", "dispatcher",
         "deadline_at"),
        (every, "_first_resolved_at", "dispatched", "resolved", dept, "处置反馈", "handle", dep, None),
        (every, "_rework_at", "resolved", "dispatched", checker, "核查未通过，返工", "check_fail", ins, None),
        (every, "resolved_at", "dispatched", "resolved", dept, "处置反馈", "handle", dep, None),
        (every, "verified_at", "resolved", "checked", checker, "现场核查通过", "check_pass", ins, None),
        (every, "closed_at", "checked", "closed", "shift_leader", "结案", "close", sup, None),
        (extension, "_request_at", "dispatched", "extension_requested", dept, note_of_request,
         "request_extension", dep, "_requested_deadline"),
        (approved, "_approve_at", "extension_requested", "dispatched", "shift_leader", "延期批准",
         "approve_extension", sup, "_requested_deadline"),
        (suspension, "_request_at", "dispatched", "suspension_requested", dept, note_of_request,
         "request_suspension", dep, None),
    )  # fmt: skip
    rows, at, kind, deadline = [], [], [], []
    names = ("from_status", "to_status", "actor", "note", "action", "role")
    cols: dict[str, list[pa.Array]] = {name: [] for name in names}
    for k, (mask, col, f, t, who, what, action, role, due) in enumerate(spec):
        if col not in cases:
            continue
        times = _ns(cases[col])
        m = np.flatnonzero(mask & (times != np.iinfo(np.int64).min))
        rows.append(m)
        at.append(times[m])
        kind.append(np.full(len(m), k, dtype=np.int8))
        deadline.append(_ns(cases[due])[m] if due in cases else np.full(len(m), np.iinfo(np.int64).min))
        for name, value in zip(names, (f, t, who, what, action, role), strict=True):
            cols[name].append(_take_or_repeat(value, m))
    row, at_ns, k_all = np.concatenate(rows), np.concatenate(at), np.concatenate(kind)
    due_ns = np.concatenate(deadline)
    order = pa.array(np.lexsort((k_all, at_ns, rank[row])))
    table = pa.table(
        {
            "case_id": pa.array(cases["case_id"], pa.string()).take(pa.array(row)).take(order),
            "at": pa.array(at_ns, pa.timestamp("ns", tz="UTC")).take(order),
            **{name: pa.concat_arrays(parts).take(order) for name, parts in cols.items()},
            "deadline_at": pa.array(
                due_ns, pa.timestamp("ns", tz="UTC"), mask=due_ns == np.iinfo(np.int64).min
            ).take(order),
        }
    )
    return table.to_pandas()


def _ns(values: pd.Series) -> npt.NDArray[np.int64]:
    """UTC nanoseconds of a datetime column (NaT: the int64 minimum)."""
    return pd.DatetimeIndex(values).as_unit("ns").asi8


def _take_or_repeat(value: pd.Series | str | None, rows: npt.NDArray[np.int64]) -> pa.Array:
    """``value[rows]`` of a string Series, or a constant string (or null) repeated ``len(rows)`` times."""
    if isinstance(value, pd.Series):
        return pa.array(value, pa.string()).take(pa.array(rows))
    return pa.nulls(len(rows), pa.string()) if value is None else pa.repeat(pa.scalar(value), len(rows))


def _case_rank(case_id: np.ndarray) -> npt.NDArray[np.int64]:
    """Rank of each case id in sorted order (the identity when the ids are sorted already, as made here)."""
    ids = pd.Index(case_id)
    if ids.is_monotonic_increasing:
        return np.arange(len(ids), dtype=np.int64)
    rank = np.empty(len(ids), dtype=np.int64)
    rank[np.argsort(case_id, kind="stable")] = np.arange(len(ids))
    return rank


def rates(cases: pd.DataFrame, end: pd.Timestamp) -> dict[str, float]:
    """结案率, 按期结案率, 满意率, 返工率 and counts, with the DOMAIN §3.3 definitions."""
    registered = cases["registered_at"].notna()
    closed = cases["closed_at"].notna()
    should = registered & (closed | (cases["deadline_at"] <= end))
    on_time = closed & (cases["closed_at"] <= cases["deadline_at"])
    sat = cases["satisfaction"].dropna()
    n_should = int(should.sum())
    return {
        "cases": len(cases),
        "registered": int(registered.sum()),
        "should_close": n_should,
        "closed": int((closed & should).sum()),
        "closed_on_time": int((on_time & should).sum()),
        "closure_rate": float((closed & should).sum() / max(n_should, 1)),
        "on_time_rate": float((on_time & should).sum() / max(n_should, 1)),
        "satisfaction_rate": float(sat.mean()) if len(sat) else float("nan"),
        "callbacks": len(sat),
        "cancelled": int((cases["status"] == "cancelled").sum()),
        "rework_rate": float(
            cases["_rework_at"].notna().sum() / max(int(cases["resolved_at"].notna().sum()), 1)
        )
        if "_rework_at" in cases
        else float("nan"),
    }
