"""Response times: report → on-site verification (核实) and handling → on-site re-check (核查).

:func:`response_times` from the case events, in working hours, against the time limits of the KPI scoring
file; :func:`response_summary` per inspector or group.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from patrol.effectiveness.visits import _ns

#: Time limits of the on-site steps in working hours (核实 of a public report; 核查 after handling) when the
#: KPI scoring file (``analytics/data/kpi_scoring.toml``, :func:`analytics.kpi.load_scoring`) is unavailable.
DEFAULT_VERIFY_LIMIT_H = 1.0
DEFAULT_CHECK_LIMIT_H = 4.0


# ------------------------------------------------------------------------------------------- response
RESPONSE_COLUMNS = ("case_id", "step", "inspector_id", "start", "at", "working_hours", "limit_h", "on_time")


def response_times(
    cases: pd.DataFrame,
    events: pd.DataFrame,
    *,
    verify_limit_h: float | None = None,
    check_limit_h: float | None = None,
    calendar: Any = None,
) -> pd.DataFrame:
    """Time of each on-site step: report → verification (核实), handling → re-check (核查).

    Parameters
    ----------
    cases
        ``case_id``, ``source``, ``reported_at``.
    events
        The case events (``case_id``, ``at``, ``from_status``, ``to_status``, ``actor``).
    verify_limit_h, check_limit_h
        Time limits in working hours of the working ``calendar`` (default :func:`cases.calendar.
        default_calendar`); default: the KPI scoring's ``verify_limit_hours`` and ``check_limit_hours``
        (:func:`analytics.kpi.load_scoring`, 1 and 4 working hours as shipped), the same limits as the
        inspectors' 按时核实率 and 按时核查率.

    Returns
    -------
    pandas.DataFrame
        One row per on-site step (``RESPONSE_COLUMNS``): ``step`` = ``verify`` (public reports only;
        patrol finds are verified by their reporter when filed) or ``check`` (every re-check after a
        ``resolved`` event, passed or sent back as rework), ``inspector_id`` (the event's actor),
        ``start`` and ``at`` (UTC), ``working_hours`` between them, ``limit_h`` and ``on_time``.
    """
    from cases.calendar import default_calendar

    cal = calendar or default_calendar()
    if verify_limit_h is None or check_limit_h is None:
        kpi_verify, kpi_check = _kpi_limits()
        verify_limit_h = kpi_verify if verify_limit_h is None else verify_limit_h
        check_limit_h = kpi_check if check_limit_h is None else check_limit_h
    # sort by (case, time, original order) on integer codes: string sorts of a year's events are slow
    case_code, case_names = pd.factorize(events["case_id"])
    at = _ns(events["at"])
    order = np.lexsort((np.arange(len(events)), at, case_code))
    case_code, at = case_code[order], at[order]
    to = events["to_status"].to_numpy(dtype=object)[order]
    frm = events["from_status"].to_numpy(dtype=object)[order]
    actor = events["actor"].to_numpy(dtype=object)[order]
    same_next = np.r_[case_code[1:] == case_code[:-1], False]
    # 核实: reported -> verified of a public report, timed from its reported_at
    public = cases["source"].to_numpy(dtype=object) != "patrol"
    reported = pd.Series(_ns(cases["reported_at"])[public], index=cases["case_id"].to_numpy()[public])
    v = np.flatnonzero((to == "verified") & (frm == "reported"))
    v_start = reported.reindex(np.asarray(case_names)[case_code[v]]).to_numpy()
    v = v[~np.isnan(v_start)]
    v_start = v_start[~np.isnan(v_start)].astype(np.int64)
    # 核查: the event right after each "resolved" (checked, or resolved -> dispatched = rework)
    r = np.flatnonzero((to == "resolved") & same_next)
    nxt = r + 1
    checked = (to[nxt] == "checked") | ((frm[nxt] == "resolved") & (to[nxt] == "dispatched"))
    r, nxt = r[checked], nxt[checked]
    step = np.r_[np.full(len(v), "verify", dtype=object), np.full(len(nxt), "check", dtype=object)]
    rows = np.r_[v, nxt]
    begin = np.r_[v_start, at[r]]
    out = pd.DataFrame(
        {
            "case_id": np.asarray(case_names, dtype=object)[case_code[rows]],
            "step": step,
            "inspector_id": actor[rows],
            "start": pd.to_datetime(begin, utc=True),
            "at": pd.to_datetime(at[rows], utc=True),
            "limit_h": np.r_[np.full(len(v), verify_limit_h), np.full(len(nxt), check_limit_h)],
        }
    )
    out["working_hours"] = cal.working_time_between(out["start"], out["at"]) if len(out) else []
    out["on_time"] = out["working_hours"].to_numpy(dtype=np.float64) <= out["limit_h"].to_numpy()
    return out[list(RESPONSE_COLUMNS)]


def _kpi_limits() -> tuple[float, float]:
    """(核实, 核查) limits in working hours from the KPI scoring file, else the module defaults."""
    try:
        from analytics.kpi import load_scoring

        scoring = load_scoring()
        return float(scoring.verify_limit_hours), float(scoring.check_limit_hours)
    except (ImportError, AttributeError, OSError, ValueError):  # the KPI module is optional here
        return DEFAULT_VERIFY_LIMIT_H, DEFAULT_CHECK_LIMIT_H


def response_summary(responses: pd.DataFrame, by: str = "inspector_id") -> pd.DataFrame:
    """Per ``by`` value (default inspector) and step: ``n``, ``on_time_rate`` (0–1), ``median_h`` and
    ``p90_h`` (working hours). Columns ``by``, ``step``, ``n``, ``on_time``, ``on_time_rate``, ``median_h``,
    ``p90_h``."""
    grouped = responses.groupby([by, "step"], sort=True)
    out = grouped.agg(
        n=("on_time", "size"),
        on_time=("on_time", "sum"),
        median_h=("working_hours", "median"),
        p90_h=("working_hours", lambda s: float(np.quantile(s, 0.9))),
    )
    out["on_time"] = out["on_time"].astype(np.int64)
    out.insert(2, "on_time_rate", out["on_time"] / out["n"])
    return out.reset_index()
