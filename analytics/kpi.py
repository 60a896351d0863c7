"""Case KPIs of the command centre (DOMAIN.md §3.3–3.4), vectorised over the case frame and its history.

Inputs are the ``cases`` contract columns (``case_id``, ``source``, ``category_code``, ``reported_at``,
``registered_at``, ``dispatched_at``, ``department``, ``deadline_at``, ``resolved_at``, ``verified_at``,
``closed_at``, ``status``, ``satisfaction``; optional ``suspended_at``, ``cell``, ``reported_by``) and,
for rework and extension counts, the case-event history (``case_id``, ``at``, ``from_status``,
``to_status``, optional ``action`` / ``actor``).

**Cohort and time.** A selection ``start`` … ``end`` (local dates, inclusive, in ``timezone``) takes the
cases *filed* (立案, ``registered_at``) in it; a case without ``registered_at`` whose status is past the
filing steps (e.g. Boston's ``Open`` / ``Closed``) counts as filed when reported, and its clock starts
at the report when it has no ``dispatched_at``. Everything is evaluated **as of** ``as_of`` (default: the
end of the selection, local midnight after ``end``): later steps are not seen yet. Cancelled (作废)
cases never count; suspended (挂账) cases at ``as_of`` leave every "should" set.

========================= ======================================================= ======================
KPI (column)              numerator                                               denominator
========================= ======================================================= ======================
``closure_rate`` 结案率   ``closed``: should-close cases closed by ``as_of``       ``should_close`` 应结案
``on_time_closure_rate``  ``closed_on_time``: closed at or before ``deadline_at``  ``should_close``
按期结案率                (no deadline = on time)
``handling_rate`` 处置率  ``handled``: should-handle cases handled (``resolved_at``, ``should_handle`` 应处置
                          else ``closed_at``) by ``as_of``
``on_time_handling_rate`` ``handled_on_time``: handled by ``deadline_at``         ``should_handle``
按时处置率
``rework_rate`` 返工率    ``reworked``: cohort cases sent back at least once       ``handled`` 处置数
                          (返工, ``check_fail`` / resolved → dispatched)
``extension_rate`` 延期率 ``extended``: cohort cases with an approved extension    ``should_close``
``satisfaction_rate``     ``satisfied``: callbacks with ``satisfaction`` ≥ 0.5     ``callbacks`` 回访数
满意率                                                                             (closed, with a callback)
(``mediated`` 调解结案)   closed cases closed by mediation (counted in ``closed``) —
``handling_hours_mean``,  wall-clock hours dispatch → handled, handled cases       —
``handling_hours_p90``
========================= ======================================================= ======================

``should_close`` = filed, not cancelled, not suspended, and closed by ``as_of`` or past its deadline at
``as_of`` (a case still within its time limit is not yet due: Tianmen's 996 filed vs 972 应结案).
``should_handle`` = the same with "handled" for "closed", among dispatched cases. ``overdue`` =
``should_handle − handled_on_time`` (超期处置数) feeds the deduction rules.

**Department 综合评价** (:func:`department_scores`): base = 100 × Σ weight × rate, minus deductions
(扣分: points × count, capped per rule), clipped to 0–100, graded A ≥ 90, B ≥ 75, C ≥ 60, D ≥ 40, else E;
weights, points and bounds come from ``analytics/data/kpi_scoring.toml`` (:func:`load_scoring`).
The columns and the scoring configuration are :mod:`analytics.kpi_scoring`, the grouping columns
(areas, inspectors) :mod:`analytics.kpi_groups`; both are re-exported here.

**Inspector KPIs** (:func:`inspector_kpis`): ``reports`` 上报数 (patrol reports by the inspector),
``valid_reports`` 有效上报数 (of those, filed by ``as_of``), ``valid_report_rate`` = valid / reports,
``on_time_verify_rate`` 按时核实率 = public reports verified on site within ``verify_limit_hours`` working
hours / public reports due for verification (verified, or past the limit) in the inspector's cells,
``on_time_check_rate`` 按时核查率 = department feedbacks checked on site (pass or rework) within
``check_limit_hours`` working hours / feedbacks due for a check; ``score`` = 有效上报数分值 × 25 % +
按时核实率 × 40 % + 按时核查率 × 35 % (the count scaled to 0–100 by the best inspector), graded A–E.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analytics.kpi_groups import _text, _utc, attach_areas, attach_areas_from_polygons, attach_inspectors
from analytics.kpi_scoring import (
    COUNT_COLUMNS,
    GROUPINGS,
    RATE_COLUMNS,
    SCORING_FILE,
    Deduction,
    Scoring,
    grades,
    load_scoring,
)
from cases.calendar import WorkingCalendar, default_calendar
from grid.config import DEFAULT_TIMEZONE

__all__ = [
    "COUNT_COLUMNS",
    "GROUPINGS",
    "RATE_COLUMNS",
    "SCORING_FILE",
    "Deduction",
    "Scoring",
    "attach_areas",
    "attach_areas_from_polygons",
    "attach_inspectors",
    "case_flags",
    "department_scores",
    "grades",
    "inspector_kpis",
    "kpi_table",
    "load_scoring",
]

_RATES = {
    "closure_rate": ("closed", "should_close"),
    "on_time_closure_rate": ("closed_on_time", "should_close"),
    "handling_rate": ("handled", "should_handle"),
    "on_time_handling_rate": ("handled_on_time", "should_handle"),
    "rework_rate": ("reworked", "handled"),
    "extension_rate": ("extended", "should_close"),
    "satisfaction_rate": ("satisfied", "callbacks"),
}
#: Statuses before filing (立案) and the cancelled ones (作废; as written by several systems).
PRE_FILING = frozenset({"reported", "verified", "cancelled"})
CANCELLED = frozenset({"cancelled", "canceled", "void", "invalid", "作废"})
#: Group label of cases without a value of the grouping column.
NO_GROUP = "(none)"
#: Columns :func:`case_flags` keeps from the case frame (inputs and grouping columns).
_FLAG_INPUTS = frozenset(
    {"case_id", "source", "category_code", "kind", "cell", "reported_at", "registered_at", "dispatched_at",
     "department", "deadline_at", "resolved_at", "verified_at", "closed_at", "suspended_at", "status",
     "urgency", "reported_by", "satisfaction", "district", "subdistrict", "inspector"}
)  # fmt: skip
_H = np.timedelta64(3600, "s")


# ---- the selection ---------------------------------------------------------------------------------------
def _window(
    start: Any, end: Any, as_of: Any, timezone: str, cases: pd.DataFrame
) -> tuple[pd.Timestamp | None, pd.Timestamp | None, pd.Timestamp]:
    """UTC bounds ``[lo, hi)`` of the local dates ``start`` … ``end`` and the as-of instant."""

    def local_midnight(day: Any, plus: int) -> pd.Timestamp:
        d = pd.Timestamp(day).normalize() + pd.Timedelta(days=plus)
        return d.tz_localize(timezone).tz_convert("UTC") if d.tzinfo is None else d.tz_convert("UTC")

    lo = local_midnight(start, 0) if start is not None else None
    hi = local_midnight(end, 1) if end is not None else None
    if as_of is not None:
        at = pd.Timestamp(as_of)
        at = at.tz_localize(timezone).tz_convert("UTC") if at.tzinfo is None else at.tz_convert("UTC")
    elif hi is not None:
        at = hi
    else:  # the latest step anyone took: a snapshot of the data as it stands
        times = [cases[c].max() for c in ("reported_at", "registered_at", "dispatched_at", "resolved_at",
                                           "verified_at", "closed_at") if c in cases]  # fmt: skip
        at = max((t for t in times if pd.notna(t)), default=pd.Timestamp.now(tz="UTC"))
    return lo, hi, at


def _is(values: pd.Series, text: str) -> np.ndarray:
    """``values == text`` as a numpy bool array, missing values False (Arrow compute on string columns)."""
    return (values == text).to_numpy(dtype=bool, na_value=False)


class _History:
    """The event columns the KPIs look at, compared once (1.5M events a year: no string copies)."""

    def __init__(self, events: pd.DataFrame | None, as_of: pd.Timestamp) -> None:
        self.empty = events is None or events.empty
        if self.empty:
            return
        assert events is not None
        self.case_id = events["case_id"]
        self.frm, self.to = events["from_status"], events["to_status"]
        self.action = events.get("action")
        self.seen = (pd.to_datetime(events["at"], utc=True) <= as_of).to_numpy(dtype=bool, na_value=False)

    def cases_with(self, action: str, pair: tuple[str, str]) -> pd.Series:
        """Case ids with an event of ``action`` (where no action is recorded: the status ``pair``)."""
        if self.empty:
            return pd.Series([], dtype="string")
        hit = _is(self.frm, pair[0]) & _is(self.to, pair[1])
        if self.action is not None:
            hit = _is(self.action, action) | (self.action.isna().to_numpy() & hit)
        return self.case_id[hit & self.seen]

    def parked(self) -> pd.Series | None:
        """Case ids parked (挂账) at ``as_of`` by their history; None when no event touches a suspension."""
        if self.empty:
            return None
        moves = (_is(self.to, "suspended") | _is(self.frm, "suspended")) & self.seen
        if not moves.any():
            return None
        last = pd.DataFrame({"case_id": self.case_id[moves], "to": self.to[moves]})
        last = last.groupby("case_id", sort=False).tail(1)  # events are in writing order
        return last["case_id"][_is(last["to"], "suspended")]


def _mark(ids: pd.Index, hits: pd.Series | None) -> np.ndarray:
    """Boolean array over ``ids``: True where the id is among ``hits``."""
    out = np.zeros(len(ids), dtype=bool)
    if hits is not None and len(hits):
        pos = ids.get_indexer(pd.unique(hits.to_numpy()))
        out[pos[pos >= 0]] = True
    return out


def case_flags(
    cases: pd.DataFrame,
    events: pd.DataFrame | None = None,
    *,
    start: Any = None,
    end: Any = None,
    as_of: Any = None,
    timezone: str = DEFAULT_TIMEZONE,
) -> pd.DataFrame:
    """One row per case of the cohort (filed in ``start`` … ``end``) with the KPI flags as of ``as_of``.

    Returns the cohort's rows of ``cases`` (index kept) plus boolean columns ``should_close``, ``closed``,
    ``closed_on_time``, ``should_handle``, ``handled``, ``handled_on_time``, ``overdue``, ``reworked``,
    ``extended``, ``suspended``, ``callbacks``, ``satisfied``, ``mediated`` and float ``handling_hours``
    (NaN unless handled). See the module docstring for the definitions. Vectorised; O(cases + events).
    """
    lo, hi, at = _window(start, end, as_of, timezone, cases)
    cases = cases[[c for c in cases.columns if c in _FLAG_INPUTS]]  # long text columns are not carried
    status = _text(cases, "status").str.strip().str.lower()
    reported = _utc(cases, "reported_at")
    registered = _utc(cases, "registered_at")
    implicit = registered.isna() & ~status.isin(PRE_FILING).fillna(False)  # systems without a 立案 step
    filed_at = registered.where(~implicit, reported)
    keep = (filed_at <= at).fillna(False)
    if lo is not None:
        keep &= (filed_at >= lo).fillna(False)
    if hi is not None:
        keep &= (filed_at < hi).fillna(False)
    keep = keep.to_numpy()
    c = cases[keep]
    implicit, reported, status = implicit[keep], reported[keep], status[keep]
    dispatched = _utc(c, "dispatched_at")
    dispatched = dispatched.where(~(implicit & dispatched.isna()), reported)
    closed_at = _utc(c, "closed_at")
    handled_at = _utc(c, "resolved_at").fillna(closed_at)
    deadline = _utc(c, "deadline_at")
    cancelled = status.isin(CANCELLED).fillna(False).to_numpy()
    history = _History(events, at)
    ids = pd.Index(c["case_id"])
    parked_ids = history.parked()
    if parked_ids is None:
        parked = (_utc(c, "suspended_at") <= at).fillna(False).to_numpy()
    else:
        parked = _mark(ids, parked_ids)
    suspended = parked & ~cancelled
    live = ~cancelled & ~suspended
    closed = (closed_at <= at).fillna(False).to_numpy()
    due = (deadline <= at).fillna(False).to_numpy()
    no_deadline = deadline.isna().to_numpy()
    should_close = live & (closed | due)
    is_closed = should_close & closed
    was_dispatched = (dispatched <= at).fillna(False).to_numpy()
    handled = (handled_at <= at).fillna(False).to_numpy()
    should_handle = live & was_dispatched & (handled | due)
    is_handled = should_handle & handled
    on_time_close = is_closed & (no_deadline | (closed_at <= deadline).fillna(False).to_numpy())
    on_time_handle = is_handled & (no_deadline | (handled_at <= deadline).fillna(False).to_numpy())
    reworked = _mark(ids, history.cases_with("check_fail", ("resolved", "dispatched")))
    extended = _mark(ids, history.cases_with("approve_extension", ("extension_requested", "dispatched")))
    mediated = _mark(ids, history.cases_with("mediate", ("", "")))  # 和谐调解: recorded by action only
    sat = (
        pd.to_numeric(c["satisfaction"], errors="coerce")
        if "satisfaction" in c
        else pd.Series(np.nan, index=c.index)
    )
    callbacks = is_closed & sat.notna().to_numpy()
    hours = ((handled_at - dispatched) / pd.Timedelta(hours=1)).to_numpy(dtype=float, na_value=np.nan)
    return c.assign(
        should_close=should_close,
        closed=is_closed,
        closed_on_time=on_time_close,
        should_handle=should_handle,
        handled=is_handled,
        handled_on_time=on_time_handle,
        overdue=should_handle & ~on_time_handle,
        reworked=reworked & was_dispatched,
        extended=extended & was_dispatched,
        suspended=suspended,
        callbacks=callbacks,
        satisfied=callbacks & (sat.to_numpy(dtype=float, na_value=np.nan) >= 0.5),
        mediated=is_closed & mediated,
        handling_hours=np.where(is_handled, hours, np.nan),
    )


# ---- the table ---------------------------------------------------------------------------------------------
def _group_key(flags: pd.DataFrame, by: str | None) -> pd.Series:
    if by is None:
        return pd.Series("all", index=flags.index, dtype="string")
    column = "category_code" if by == "category" else by
    if column not in flags:
        msg = f"grouping by {by!r} needs a {column!r} column (see attach_areas / attach_inspectors)"
        raise ValueError(msg)
    return flags[column].astype("string").fillna(NO_GROUP)


def summarise(flags: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Counts, rates, mean and p90 handling hours per group of :func:`case_flags` rows (one row a group).

    Groups are factorised once and every count is one ``np.bincount`` (no per-group Python work).
    """
    name = by or "group"
    codes, labels = pd.factorize(_group_key(flags, by), sort=True)
    k = len(labels)
    table = pd.DataFrame({name: pd.array(labels, dtype="string")})
    table["cases"] = np.bincount(codes, minlength=k)
    for column in COUNT_COLUMNS[1:]:
        table[column] = np.bincount(codes, weights=flags[column].to_numpy(dtype=float), minlength=k).astype(
            "int64"
        )
    for rate, (num, den) in _RATES.items():
        d = table[den].to_numpy()
        table[rate] = np.where(d > 0, table[num].to_numpy() / np.maximum(d, 1), np.nan)
    hours = flags["handling_hours"].to_numpy(dtype=float)
    done = ~np.isnan(hours)
    n_done = np.bincount(codes[done], minlength=k)
    total = np.bincount(codes[done], weights=hours[done], minlength=k)
    table["handling_hours_mean"] = np.where(n_done > 0, total / np.maximum(n_done, 1), np.nan)
    p90 = pd.Series(hours[done]).groupby(codes[done]).quantile(0.9)
    table["handling_hours_p90"] = p90.reindex(range(k)).to_numpy()
    return table[[name, *RATE_COLUMNS, *COUNT_COLUMNS, "handling_hours_mean", "handling_hours_p90"]]


def kpi_table(
    cases: pd.DataFrame,
    events: pd.DataFrame | None = None,
    *,
    by: str | None = None,
    start: Any = None,
    end: Any = None,
    as_of: Any = None,
    timezone: str = DEFAULT_TIMEZONE,
) -> pd.DataFrame:
    """KPIs of the cases filed in ``start`` … ``end``, one row per value of ``by`` (or one row ``all``).

    Parameters
    ----------
    cases
        Case frame (module docstring); for ``by`` = district / subdistrict / inspector it needs those
        columns (:func:`attach_areas`, :func:`attach_inspectors`); ``category`` groups by ``category_code``.
    events
        Case-event history (rework and extension counts, suspension state); None counts neither.
    by
        One of :data:`GROUPINGS`, or None.
    start, end, as_of, timezone
        Local dates of the selection (inclusive), the evaluation instant (default the end of the
        selection) and the city's zone.

    Returns
    -------
    pandas.DataFrame
        The group column, :data:`RATE_COLUMNS` (fractions 0–1, NaN without a denominator),
        :data:`COUNT_COLUMNS`, ``handling_hours_mean``, ``handling_hours_p90``; sorted by group.
    """
    if by is not None and by not in GROUPINGS:
        msg = f"`by` was {by!r} but is expected to be None or in {list(GROUPINGS)}"
        raise ValueError(msg)
    return summarise(case_flags(cases, events, start=start, end=end, as_of=as_of, timezone=timezone), by)


def department_scores(table: pd.DataFrame, scoring: Scoring | None = None) -> pd.DataFrame:
    """Add ``base_score``, one ``deduct_<name>`` column per rule, ``score`` (0–100) and ``grade`` (A–E).

    ``table`` is a :func:`kpi_table` (any grouping; usually by department).
    """
    scoring = scoring or load_scoring()
    out = table.copy()
    weights = scoring.department_weights
    total = sum(weights.values())
    base = sum(out[rate].to_numpy(dtype=float) * (w / total) for rate, w in weights.items())
    out["base_score"] = 100.0 * np.asarray(base, dtype=float)
    deducted = np.zeros(len(out))
    for rule in scoring.deductions:
        points = np.minimum(rule.points * out[rule.count].to_numpy(dtype=float), rule.cap)
        out[f"deduct_{rule.name}"] = points
        deducted += points
    out["score"] = np.clip(out["base_score"].to_numpy() - deducted, 0.0, 100.0)
    out["grade"] = grades(out["score"].to_numpy(), scoring.grade_bounds)
    return out


# ---- inspectors -----------------------------------------------------------------------------------------
def inspector_kpis(
    cases: pd.DataFrame,
    events: pd.DataFrame,
    *,
    start: Any = None,
    end: Any = None,
    as_of: Any = None,
    timezone: str = DEFAULT_TIMEZONE,
    scoring: Scoring | None = None,
    calendar: WorkingCalendar | None = None,
) -> pd.DataFrame:
    """Per inspector: reports, valid reports, on-time 核实 and 核查 rates, weighted score and grade.

    ``cases`` needs ``inspector`` (:func:`attach_inspectors`: whose beat the case is in) besides the case
    columns; reports are counted by ``reported_by`` (patrol finds, reported in the selection), verifications
    of public reports reported in the selection and checks of feedbacks given in it by ``inspector``.
    Working hours are measured on ``calendar`` (default: :func:`cases.calendar.default_calendar`).

    Returns ``inspector``, ``reports``, ``valid_reports``, ``valid_report_rate``, ``should_verify``,
    ``verified_on_time``, ``on_time_verify_rate``, ``should_check``, ``checked_on_time``,
    ``on_time_check_rate``, ``valid_reports_points`` (0–100), ``score`` and ``grade``.
    """
    scoring = scoring or load_scoring()
    cal = calendar or default_calendar(timezone)
    lo, hi, at = _window(start, end, as_of, timezone, cases)

    def in_window(t: pd.Series) -> np.ndarray:
        ok = (t <= at).fillna(False)
        if lo is not None:
            ok &= (t >= lo).fillna(False)
        if hi is not None:
            ok &= (t < hi).fillna(False)
        return ok.to_numpy()

    reported = _utc(cases, "reported_at")
    source = _text(cases, "source")
    status = _text(cases, "status").str.lower()
    patrol = (source == "patrol").fillna(False).to_numpy() & in_window(reported)
    filed = (~status.isin(CANCELLED) & (_utc(cases, "registered_at") <= at)).fillna(False).to_numpy()
    reports = pd.DataFrame({"inspector": _text(cases, "reported_by")[patrol], "valid": filed[patrol]})
    rep = reports.groupby("inspector")["valid"].agg(reports="size", valid_reports="sum")

    ev = events.assign(case_id=events["case_id"].astype("string"), at=pd.to_datetime(events["at"], utc=True))
    frm = ev["from_status"].astype("string")
    owner = cases.set_index(cases["case_id"].astype("string"))["inspector"].astype("string")
    # 核实: the first step out of "reported" (verified, or cancelled without an intermediate step)
    public = ~patrol & (source != "patrol").fillna(False).to_numpy() & in_window(reported)
    first_out = ev[(frm == "reported").fillna(False).to_numpy()].drop_duplicates("case_id")
    v = pd.DataFrame(
        {
            "case_id": cases["case_id"].astype("string")[public].reset_index(drop=True),
            "t0": reported[public].reset_index(drop=True),
        }
    )
    v = v.merge(first_out[["case_id", "at"]], on="case_id", how="left")
    v_hours = cal.working_time_between(v["t0"], v["at"].where(v["at"] <= at))
    limit_end = cal.add_working_time(v["t0"], scoring.verify_limit_hours)
    v["due"] = ((v["at"] <= at) | (limit_end <= at)).fillna(False).to_numpy()
    v["on_time"] = v["due"] & (v_hours <= scoring.verify_limit_hours + 1e-9)
    v["inspector"] = owner.reindex(v["case_id"]).to_numpy()
    ver = v[v["due"]].groupby("inspector")["on_time"].agg(should_verify="size", verified_on_time="sum")
    # 核查: each feedback (→ resolved) is followed in the history by its check (resolved → checked/dispatched)
    ordered = ev.reset_index(drop=True)
    nxt_case = ordered["case_id"].shift(-1)
    nxt_at = ordered["at"].shift(-1)
    nxt_from = ordered["from_status"].astype("string").shift(-1)
    is_fb = (ordered["to_status"].astype("string") == "resolved").fillna(False).to_numpy() & in_window(
        ordered["at"]
    )
    checked = (nxt_case == ordered["case_id"]) & (nxt_from == "resolved") & (nxt_at <= at)
    fb = pd.DataFrame({"case_id": ordered["case_id"][is_fb], "t0": ordered["at"][is_fb],
                       "t1": nxt_at[is_fb].where(checked[is_fb].fillna(False))})  # fmt: skip
    c_hours = cal.working_time_between(fb["t0"], fb["t1"])
    limit_end = cal.add_working_time(fb["t0"], scoring.check_limit_hours)
    fb["due"] = (fb["t1"].notna() | (limit_end <= at)).to_numpy()
    fb["on_time"] = fb["due"] & (c_hours <= scoring.check_limit_hours + 1e-9)
    fb["inspector"] = owner.reindex(fb["case_id"]).to_numpy()
    chk = fb[fb["due"]].groupby("inspector")["on_time"].agg(should_check="size", checked_on_time="sum")

    out = rep.join(ver, how="outer").join(chk, how="outer").fillna(0).astype("int64")
    out["valid_report_rate"] = out["valid_reports"] / out["reports"].where(out["reports"] > 0)
    out["on_time_verify_rate"] = out["verified_on_time"] / out["should_verify"].where(
        out["should_verify"] > 0
    )
    out["on_time_check_rate"] = out["checked_on_time"] / out["should_check"].where(out["should_check"] > 0)
    best = out["valid_reports"].max() if len(out) else 0
    out["valid_reports_points"] = 100.0 * out["valid_reports"] / best if best > 0 else np.nan
    parts = {
        "valid_reports": out["valid_reports_points"] / 100.0,
        "on_time_verify_rate": out["on_time_verify_rate"],
        "on_time_check_rate": out["on_time_check_rate"],
    }
    num = sum(parts[k].fillna(0.0) * w for k, w in scoring.inspector_weights.items())
    den = sum(parts[k].notna() * w for k, w in scoring.inspector_weights.items())
    out["score"] = 100.0 * num / den.where(den > 0)
    out["grade"] = grades(out["score"].to_numpy(dtype=float), scoring.grade_bounds)
    out.index.name = "inspector"
    columns = ["reports", "valid_reports", "valid_report_rate", "should_verify", "verified_on_time",
               "on_time_verify_rate", "should_check", "checked_on_time", "on_time_check_rate",
               "valid_reports_points", "score", "grade"]  # fmt: skip
    return out.reset_index()[["inspector", *columns]]
