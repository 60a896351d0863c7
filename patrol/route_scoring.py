"""Inputs of a route suggestion: the inspector's open on-site tasks (:func:`open_tasks`) and the value of
each candidate cell (:func:`stop_values`: forecast risk, neglect, open cases).

See :mod:`patrol.routes` for how the parts of the value are weighted and which stops are must-visit.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import numpy.typing as npt
import pandas as pd

from patrol.route_model import TASK_STATUSES, RouteOptions

# --- inputs -----------------------------------------------------------------------------------------------


def _shift_start(date: str | dt.date, options: RouteOptions) -> pd.Timestamp:
    day = pd.Timestamp(date)
    if day.tzinfo is not None:
        day = day.tz_convert(options.timezone).tz_localize(None)
    hh, mm = (int(v) for v in options.shift_start.split(":"))
    local = day.normalize() + pd.Timedelta(hours=hh, minutes=mm)
    return local.tz_localize(options.timezone).tz_convert("UTC")


def _inspector_cells(assignments: pd.DataFrame, inspector_id: str, at: pd.Timestamp) -> npt.NDArray[np.int64]:
    a = assignments[assignments["inspector_id"].astype(str) == str(inspector_id)]
    start = pd.to_datetime(a["valid_from"], utc=True)
    end = pd.to_datetime(a["valid_to"], utc=True)
    valid = (start <= at) & (end.isna() | (end > at))
    return np.unique(a.loc[valid.to_numpy(), "cell"].to_numpy(dtype=np.int64))


def open_tasks(
    cases: pd.DataFrame, cells: npt.ArrayLike, at: pd.Timestamp, *, verify_within_h: float = 2.0
) -> pd.DataFrame:
    """Open on-site tasks in ``cells`` at time ``at``: one row per case waiting for 核实 or 核查.

    Parameters
    ----------
    cases
        The cases contract with ``case_id``, ``cell``, ``status``, ``reported_at`` and ``deadline_at``.
    cells
        The cells to look in (int64).
    at
        The moment (tz-aware); cases reported later are ignored.
    verify_within_h
        Verification deadline after the report (h).

    Returns
    -------
    pandas.DataFrame
        ``case_id``, ``cell``, ``task`` (``verify`` / ``check``), ``deadline`` (UTC), sorted by deadline.
    """
    missing = [c for c in ("case_id", "cell", "status", "reported_at") if c not in cases.columns]
    if missing:
        msg = f"`cases` lacks column(s) {missing} needed to find open tasks"
        raise ValueError(msg)
    status = cases["status"].astype("string").fillna("")
    reported = pd.to_datetime(cases["reported_at"], utc=True)
    keep = (
        status.isin(list(TASK_STATUSES))
        & cases["cell"].isin(np.asarray(cells, dtype=np.int64))
        & (reported <= at)
    ).to_numpy()
    frame = cases.loc[keep]
    task = frame["status"].astype(str).map(TASK_STATUSES)
    stored = (
        pd.to_datetime(frame["deadline_at"], utc=True)
        if "deadline_at" in frame.columns
        else pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
    )
    verify_due = pd.to_datetime(frame["reported_at"], utc=True) + pd.Timedelta(hours=verify_within_h)
    deadline = verify_due.where(task == "verify", stored)
    out = pd.DataFrame(
        {
            "case_id": frame["case_id"].astype(str).to_numpy(),
            "cell": frame["cell"].to_numpy(dtype=np.int64),
            "task": task.to_numpy(dtype=object),
            "deadline": deadline.to_numpy(),
        }
    )
    out["deadline"] = pd.to_datetime(out["deadline"], utc=True)
    return out.sort_values(["deadline", "case_id"], ignore_index=True, na_position="last")


def stop_values(
    cells: npt.ArrayLike,
    *,
    risk: pd.DataFrame,
    last_visit: pd.DataFrame | None,
    tasks: pd.DataFrame,
    at: pd.Timestamp,
    shift_end: pd.Timestamp,
    options: RouteOptions = RouteOptions(),  # noqa: B008 (a frozen dataclass)
) -> pd.DataFrame:
    """Value of each candidate cell and whether it is must-visit (see the module docstring).

    Parameters
    ----------
    cells
        Candidate cells (int64), shape (n,).
    risk
        ``cell``, ``risk`` (0–1) — the forecast; cells not listed get 0.
    last_visit
        ``cell``, ``last_visit`` (UTC, NaT = never) — the coverage summary; ``None`` leaves the neglect
        part out (no track data).
    tasks
        :func:`open_tasks`.
    at, shift_end
        Start and end of the shift (UTC).
    options
        Weights and limits.

    Returns
    -------
    pandas.DataFrame
        ``cell``, ``risk``, ``days_since_visit`` (NaN without coverage data, inf when never visited),
        ``n_verify``, ``n_check``, ``case_ids``, ``deadline`` (earliest task deadline), ``must_visit``,
        ``value_risk``, ``value_neglect``, ``value_cases``, ``value``; one row per cell, in input order.
    """
    cells = np.asarray(cells, dtype=np.int64)
    out = pd.DataFrame({"cell": cells})
    out["risk"] = risk.set_index("cell")["risk"].reindex(cells).fillna(0.0).to_numpy(dtype=np.float64)
    if last_visit is None:
        out["days_since_visit"] = np.nan
        neglect = np.zeros(cells.size)
    else:
        last = pd.to_datetime(last_visit.set_index("cell")["last_visit"], utc=True).reindex(cells)
        days = ((at - last).dt.total_seconds() / 86_400.0).to_numpy(dtype=np.float64)
        days = np.where(np.isnan(days), np.inf, np.maximum(days, 0.0))
        out["days_since_visit"] = days
        neglect = np.minimum(days / options.neglect_days, 1.0)
    grouped = tasks.groupby("cell")
    counts = tasks.pivot_table(index="cell", columns="task", values="case_id", aggfunc="count")
    out["n_verify"] = _col(counts, "verify", cells)
    out["n_check"] = _col(counts, "check", cells)
    ids = grouped["case_id"].agg(lambda s: ",".join(s)) if len(tasks) else pd.Series(dtype=object)
    out["case_ids"] = ids.reindex(cells).fillna("").to_numpy(dtype=object)
    deadline = grouped["deadline"].min() if len(tasks) else pd.Series(dtype="datetime64[ns, UTC]")
    out["deadline"] = pd.to_datetime(deadline.reindex(cells).to_numpy(), utc=True)
    out["must_visit"] = (out["deadline"] <= shift_end).fillna(False).to_numpy(dtype=bool)
    out["value_risk"] = options.weight_risk * out["risk"]
    out["value_neglect"] = options.weight_neglect * neglect
    out["value_cases"] = options.weight_case * (out["n_verify"] + out["n_check"])
    out["value"] = out["value_risk"] + out["value_neglect"] + out["value_cases"]
    return out


def _col(counts: pd.DataFrame, name: str, cells: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    if name not in counts.columns:
        return np.zeros(cells.size, dtype=np.int64)
    return counts[name].reindex(cells).fillna(0).to_numpy(dtype=np.int64)
