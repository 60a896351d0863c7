"""A demo with a present: open work in every queue on the simulated period's last day.

The lifecycle (:mod:`sim.lifecycle`) closes almost every case long before the end, so on the last day the
queues of the command centre would be nearly empty. :func:`plant_present` picks a few cases near the end
and moves their last-day state back, as if the day were still under way (no random numbers: the picks are
the latest or nearest candidates, so the rest of the simulation and its bytes stay as they were):

- the demo inspector (the first inspector, whose cells are ``own_cells``): public reports to verify (核实,
  status ``reported``) and fixed cases to re-check (核查, status ``resolved``) in their own cells;
- the dispatcher: registered cases waiting for dispatch, some of them returned by a department (退回,
  a ``dispatch`` then a ``return`` event; department, dispatch time and deadline cleared as
  :func:`cases.lifecycle.transition` clears them);
- every department: open dispatched cases, one past its deadline and one due within the next days (where
  none is, the latest dispatched case got an approved extension to tomorrow: 延期申请 and 延期批准 events);
- the supervisor, in every district: extension requests (延期申请, with the requested deadline on the
  event) and suspension requests (挂账申请, with the reason in the note);
- the operator: hotline cases closed in the last days whose reporter left a phone and was not called back
  yet (no satisfaction).

The extra helper columns (``_return_*``, ``_request*``) become events in :func:`sim.lifecycle.case_events`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.config import DemoConfig
from sim.lifecycle import period_end

#: How many cases each queue gets (at most: fewer when the city has fewer candidates).
#: Extension and suspension requests are per district.
N_VERIFY, N_CHECK, N_WAITING, N_RETURNED, N_EXTENSION, N_SUSPENSION, N_CALLBACK = 4, 4, 3, 3, 1, 1, 6
#: Columns after dispatch, cleared when a case is moved back to ``dispatched``.
_AFTER_DISPATCH = ("_first_resolved_at", "_rework_at", "resolved_at", "verified_at", "closed_at")
_TIMES = ("_verify_at", "registered_at", "dispatched_at", "deadline_at", *_AFTER_DISPATCH)
EXTENSION_NOTE = "需协调产权单位后施工，申请延期"
SUSPENSION_NOTE = "涉及产权争议，待相关部门认定后处置，申请挂账"
RETURN_NOTE = "退回（非本部门职责）"
_D, _H, _M = pd.Timedelta(days=1), pd.Timedelta(hours=1), pd.Timedelta(minutes=1)


def plant_present(cases: pd.DataFrame, cfg: DemoConfig, own_cells: np.ndarray) -> pd.DataFrame:
    """A copy of the lifecycle frame (:func:`sim.lifecycle.simulate_lifecycle`) with last-day work planted.

    Parameters
    ----------
    cases
        Cases with the lifecycle columns (times UTC, floored to seconds) and ``status``.
    cfg
        The configuration (its last day is ``cfg.end``).
    own_cells
        The demo inspector's cells (int64 H3, resolution ``cfg.h3_res``).

    Returns
    -------
    pandas.DataFrame
        The cases with some statuses and times changed and the helper columns ``_return_at``,
        ``_return_dispatch_at``, ``_return_deadline``, ``_return_department``, ``_request``, ``_request_at``,
        ``_approve_at``, ``_requested_deadline`` and ``_request_note`` (:func:`sim.lifecycle.case_events`).
    """
    out = cases.copy().reset_index(drop=True)
    end = period_end(cfg)
    day0 = end - _D
    nat = pd.Series(pd.NaT, index=out.index, dtype=out["reported_at"].dtype)
    for col in ("_return_at", "_return_dispatch_at", "_return_deadline", "_request_at", "_approve_at"):
        out[col] = nat
    out["_requested_deadline"] = nat
    for col in ("_return_department", "_request", "_request_note"):
        out[col] = pd.Series(None, index=out.index, dtype=object)
    used = np.zeros(len(out), dtype=bool)

    def pick(mask: np.ndarray, key: str, n: int, *, latest: bool = True) -> np.ndarray:
        rows = np.flatnonzero(mask & ~used)
        order = out.iloc[rows].sort_values([key, "case_id"], ascending=[not latest, True], kind="stable")
        chosen = order.index.to_numpy()[:n]
        used[chosen] = True
        return chosen

    t = {c: out[c] for c in ("reported_at", "registered_at", "dispatched_at", "deadline_at", "resolved_at")}
    mine = np.isin(out["cell"].to_numpy(), np.asarray(own_cells, dtype=np.int64))
    public = (out["source"] != "patrol").to_numpy()
    hotline = (out["source"] == "hotline").to_numpy() & out["reporter_phone"].notna().to_numpy()
    dispatched_before = (t["dispatched_at"] < day0).to_numpy() & t["deadline_at"].notna().to_numpy()
    due_later = t["deadline_at"].between(day0, end + 10 * _D, inclusive="left").to_numpy()

    # the demo inspector: reports to verify, fixes to re-check (latest first)
    rows = pick(mine & public & (t["reported_at"] >= day0 - 6 * _D).to_numpy(), "reported_at", N_VERIFY)
    out.loc[rows, list(_TIMES)] = pd.NaT
    out.loc[rows, "_cancelled"] = False
    _set(out, rows, "reported")
    rows = pick(mine & (t["resolved_at"] >= day0 - 3 * _D).to_numpy(), "resolved_at", N_CHECK)
    out.loc[rows, ["verified_at", "closed_at"]] = pd.NaT
    _set(out, rows, "resolved")

    # the dispatcher: registered in the last days and not dispatched; some returned by their department
    fresh = t["registered_at"].between(day0 - 3 * _D, end - 3 * _H, inclusive="left").to_numpy()
    rows = pick(fresh, "registered_at", N_WAITING + N_RETURNED)
    back = rows[:N_RETURNED]
    out.loc[back, "_return_dispatch_at"] = t["registered_at"][back] + 5 * _M
    out.loc[back, "_return_at"] = t["registered_at"][back] + 65 * _M
    out.loc[back, "_return_deadline"] = t["deadline_at"][back]
    out.loc[back, "_return_department"] = out.loc[back, "department"]
    out.loc[rows, ["dispatched_at", "deadline_at", *_AFTER_DISPATCH]] = pd.NaT
    out.loc[rows, "department"] = None
    _set(out, rows, "registered")

    # every department: one case past its deadline, one due soon, both still open
    for dept in sorted(out["department"].dropna().unique().tolist()):
        ours = (out["department"] == dept).to_numpy() & dispatched_before
        late = pick(ours & t["deadline_at"].between(day0 - 10 * _D, day0, inclusive="left").to_numpy(),
                    "deadline_at", 1)  # fmt: skip
        soon = pick(ours & due_later, "deadline_at", 1, latest=False)
        if not len(soon):  # none due soon: the latest dispatched one got an extension to tomorrow
            soon = pick(ours, "dispatched_at", 1)
            out.loc[soon, "_request"] = "extension_approved"
            out.loc[soon, "_request_at"] = t["dispatched_at"][soon] + _H
            out.loc[soon, "_approve_at"] = t["dispatched_at"][soon] + 2 * _H
            due = np.maximum(t["deadline_at"][soon] + _H, end + pd.Timedelta(hours=17, minutes=30))
            out.loc[soon, ["_requested_deadline", "deadline_at"]] = due
            out.loc[soon, "_request_note"] = EXTENSION_NOTE
        _reopen(out, np.concatenate([late, soon]))

    # the supervisor: extension and suspension requests made this morning, in every district
    district = out["department"].astype(object).fillna("").str.split("-").str[0].to_numpy()
    for d in sorted(set(district.tolist()) - {""}):
        for kind, n in (("extension", N_EXTENSION), ("suspension", N_SUSPENSION)):
            rows = pick((district == d) & dispatched_before & due_later, "deadline_at", n, latest=False)
            _request(out, rows, kind, day0 + pd.Timedelta(hours=9, minutes=30))

    # the operator: closed in the last days, reporter's phone known, not called back yet
    rows = pick(hotline & (out["closed_at"] >= day0 - 2 * _D).to_numpy(), "closed_at", N_CALLBACK)
    out.loc[rows, "satisfaction"] = np.nan
    return out


def _request(out: pd.DataFrame, rows: np.ndarray, kind: str, at: pd.Timestamp) -> None:
    """An extension (延期, 3 days more) or suspension (挂账) request by the department at ``at``."""
    _reopen(out, rows)
    out.loc[rows, "_request"] = kind
    out.loc[rows, "_request_at"] = at
    if kind == "extension":
        out.loc[rows, "_requested_deadline"] = out.loc[rows, "deadline_at"] + 3 * _D
    out.loc[rows, "_request_note"] = EXTENSION_NOTE if kind == "extension" else SUSPENSION_NOTE
    out.loc[rows, "status"] = f"{kind}_requested"


def _reopen(out: pd.DataFrame, rows: np.ndarray) -> None:
    """Move dispatched cases back to ``dispatched``: nothing after the dispatch happened (yet)."""
    out.loc[rows, list(_AFTER_DISPATCH)] = pd.NaT
    _set(out, rows, "dispatched")


def _set(out: pd.DataFrame, rows: np.ndarray, status: str) -> None:
    out.loc[rows, "status"] = status
    out.loc[rows, "satisfaction"] = np.nan
