"""Staffing: how many inspectors each district needs per shift, and what N ± k inspectors would cover.

:func:`staffing_plan` and :func:`staffing_what_if`: forecast cases per cell and week are spread
over the hours of the week by the city's own reporting profile (:func:`hour_profile`); work of an hour
outside every shift waits for the next shift. Each shift's work = its cases × minutes per case + its share
of the patrol target (hotspot cells walked every working day, every other cell once a week). Inspectors
needed = ⌈work / (shift minutes × utilisation)⌉. The what-if gives the coverage and the expected cases within
reach of a patrol for N ± k inspectors.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from grid.config import DEFAULT_TIMEZONE
from patrol.deployment import DEFAULT_STREET_DENSITY
from patrol.network import DEFAULT_WALK_SPEED_MPS

__all__ = ["DEFAULT_SHIFTS", "StaffingPlan", "hour_profile", "staffing_plan", "staffing_what_if"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: The demo city's two daily shifts (local time).
DEFAULT_SHIFTS: tuple[tuple[str, str], ...] = (("08:00", "12:00"), ("13:30", "17:30"))
#: Monday … Friday.
WORKING_DAYS = (0, 1, 2, 3, 4)


def hour_profile(cases: pd.DataFrame, *, timezone: str = DEFAULT_TIMEZONE) -> pd.DataFrame:
    """Share of the week's cases reported in each local hour: a (7 × 24) table summing to 1.

    Index ``day_of_week`` (0 = Monday), columns ``hour`` 0 … 23, from ``cases.reported_at`` (tz-aware).
    Uniform (1/168) without cases.
    """
    ts = pd.to_datetime(cases["reported_at"], utc=True).dt.tz_convert(timezone)
    counts = np.zeros((7, 24))
    np.add.at(counts, (ts.dt.day_of_week.to_numpy(), ts.dt.hour.to_numpy()), 1.0)
    share = counts / counts.sum() if counts.sum() > 0 else np.full((7, 24), 1.0 / 168)
    return pd.DataFrame(
        share, index=pd.RangeIndex(7, name="day_of_week"), columns=pd.RangeIndex(24, name="hour")
    )


def _minutes(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 60 + int(m)


def _shift_of_hour(shifts: Sequence[tuple[str, str]], days: Sequence[int]) -> IntArray:
    """For each of the 168 hours of the week, the (day × n_shifts + shift) slot that handles its cases.

    An hour whose start lies in a shift of a working day belongs to it; any other hour waits for the next
    shift that starts after it (wrapping over the week).
    """
    starts = [_minutes(a) for a, _ in shifts]
    ends = [_minutes(b) for _, b in shifts]
    slots = [
        (d * 1440 + s, d * 1440 + e, d * len(shifts) + q)
        for d in days
        for q, (s, e) in enumerate(zip(starts, ends, strict=True))
    ]
    slot_start = np.array([s for s, _, _ in slots])
    slot_end = np.array([e for _, e, _ in slots])
    slot_id = np.array([q for _, _, q in slots])
    hour_start = np.arange(168) * 60
    inside = (hour_start[:, None] >= slot_start[None, :]) & (hour_start[:, None] < slot_end[None, :])
    wait = (slot_start[None, :] - hour_start[:, None]) % (7 * 1440)
    nxt = np.argmin(np.where(wait == 0, 7 * 1440, wait), axis=1)
    own = np.where(inside.any(axis=1), np.argmax(inside, axis=1), nxt)
    return slot_id[own]


@dataclasses.dataclass(frozen=True)
class StaffingPlan:
    """Work and inspectors per district, working day and shift (:func:`staffing_plan`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per district × working day × shift: ``district``, ``day_of_week`` (0 = Monday), ``shift``
        (``"08:00-12:00"``), ``expected_cases``, ``case_min``, ``patrol_min``, ``workload_min`` and
        ``inspectors`` (int64, ⌈workload / (shift minutes × utilisation)⌉).
    per_shift : pandas.DataFrame
        ``district``, ``shift``, ``inspectors`` = the most any working day needs (the roster to staff).
    hot_cells : ndarray of int64
        Cells held to the daily patrol target.
    """

    table: pd.DataFrame
    per_shift: pd.DataFrame
    hot_cells: IntArray


def _visit_minutes(demand: pd.DataFrame, walk_speed_mps: float, dwell_min: float) -> FloatArray:
    street = (
        demand["street_m"].to_numpy(dtype=np.float64)
        if "street_m" in demand.columns
        else (demand["area_m2"].to_numpy(dtype=np.float64) * DEFAULT_STREET_DENSITY)
    )
    return np.nan_to_num(street) / walk_speed_mps / 60.0 + dwell_min


def _hot(demand: pd.DataFrame, hot_share: float) -> npt.NDArray[np.bool_]:
    """The top ``hot_share`` of each district's cells by expected cases (at least one with cases)."""
    rank = demand.groupby("district")["expected"].rank(ascending=False, method="first")
    size = demand.groupby("district")["cell"].transform("size")
    return ((rank <= np.ceil(hot_share * size)) & (demand["expected"] > 0)).to_numpy()


def staffing_plan(
    demand: pd.DataFrame,
    profile: pd.DataFrame,
    *,
    shifts: Sequence[tuple[str, str]] = DEFAULT_SHIFTS,
    working_days: Sequence[int] = WORKING_DAYS,
    hot_share: float = 0.10,
    minutes_per_case: float = 15.0,
    dwell_min: float = 2.0,
    utilisation: float = 0.85,
    walk_speed_mps: float = DEFAULT_WALK_SPEED_MPS,
) -> StaffingPlan:
    """Inspectors needed per district, working day and shift for forecast demand and a coverage target.

    Parameters
    ----------
    demand
        One row per cell: ``cell``, ``district``, ``expected`` (forecast cases per week, e.g.
        ``analytics.forecast.forecast_cells(..., period="week")``) and ``street_m`` (or ``area_m2``).
    profile
        :func:`hour_profile` (7 × 24 shares summing to 1).
    shifts
        Local ``("HH:MM", "HH:MM")`` shifts of a working day.
    working_days
        Days of the week with shifts (0 = Monday).
    hot_share
        Share of each district's cells (top by ``expected``) walked every working day; the rest weekly.
    minutes_per_case
        On-site minutes per case (verification and re-check).
    dwell_min
        Minutes spent in a cell on top of walking its streets.
    utilisation
        Share of a shift that is productive (the rest: breaks, reporting, getting there).
    walk_speed_mps
        Walking speed (m/s).

    Returns
    -------
    StaffingPlan
    """
    if not 0 < utilisation <= 1 or not 0 <= hot_share <= 1 or not working_days or not shifts:
        msg = "need 0 < utilisation <= 1, 0 <= hot_share <= 1 and at least one working day and shift"
        raise ValueError(msg)
    n_s, n_d = len(shifts), len(working_days)
    slot = _shift_of_hour(shifts, working_days)
    share = np.bincount(slot, weights=profile.to_numpy(dtype=np.float64).reshape(-1), minlength=7 * n_s)
    shift_len = np.array([_minutes(b) - _minutes(a) for a, b in shifts], dtype=np.float64)
    hot = _hot(demand, hot_share)
    visit = _visit_minutes(demand, walk_speed_mps, dwell_min)
    # the daily patrol target: hot cells every working day, the others spread evenly over the week
    daily = np.where(hot, visit, visit / n_d)
    frame = pd.DataFrame(
        {
            "district": demand["district"].astype(str).to_numpy(),
            "expected": demand["expected"].to_numpy(dtype=np.float64),
            "daily": daily,
        }
    )
    per = frame.groupby("district", sort=True)[["expected", "daily"]].sum()
    rows = []
    for d in working_days:  # a handful of days × shifts: the table itself
        for q, (a, b) in enumerate(shifts):
            cases = per["expected"].to_numpy() * share[d * n_s + q]
            patrol = per["daily"].to_numpy() * shift_len[q] / shift_len.sum()
            work = cases * minutes_per_case + patrol
            rows.append(
                pd.DataFrame(
                    {
                        "district": per.index.to_numpy(),
                        "day_of_week": d,
                        "shift": f"{a}-{b}",
                        "expected_cases": cases,
                        "case_min": cases * minutes_per_case,
                        "patrol_min": patrol,
                        "workload_min": work,
                        "inspectors": np.ceil(work / (shift_len[q] * utilisation) - 1e-9).astype(np.int64),
                    }
                )
            )
    table = pd.concat(rows, ignore_index=True).sort_values(
        ["district", "day_of_week", "shift"], ignore_index=True
    )
    per_shift = table.groupby(["district", "shift"], as_index=False, sort=True)["inspectors"].max()
    return StaffingPlan(table, per_shift, demand["cell"].to_numpy(dtype=np.int64)[hot])


def staffing_what_if(
    demand: pd.DataFrame,
    plan: StaffingPlan,
    n_inspectors: int,
    *,
    k: int = 2,
    shifts: Sequence[tuple[str, str]] = DEFAULT_SHIFTS,
    working_days: Sequence[int] = WORKING_DAYS,
    minutes_per_case: float = 15.0,
    dwell_min: float = 2.0,
    utilisation: float = 0.85,
    walk_speed_mps: float = DEFAULT_WALK_SPEED_MPS,
) -> pd.DataFrame:
    """Coverage and value for ``n_inspectors - k`` … ``n_inspectors + k`` inspectors (each works every shift).

    Inspectors go to districts one at a time, each to the district with the most planned weekly work still
    uncovered (so adding one never takes one away from a district). In each district a week's capacity
    (inspectors × working days × shift minutes × utilisation) is spent on the cases first, then on the
    hotspot cells' daily walks (highest expected first), then on one weekly walk of the other cells (highest
    expected first). Work may move between the shifts of the week here, unlike in :func:`staffing_plan`,
    which staffs each shift for the work that lands in it; so full coverage can need fewer inspectors here
    than the plan's busiest shift. The **value** of a walk is the expected cases it finds: a daily walk of a
    hotspot finds a day's cases (expected / working days), a weekly walk a week's.

    Returns
    -------
    pandas.DataFrame
        One row per inspector count: ``inspectors``, ``case_share`` (share of case work done),
        ``hot_daily_share`` (share of the hotspot daily walks done), ``weekly_share`` (share of cells
        walked at least once a week), ``value`` (expected cases within reach of a walk, per week),
        ``value_share`` (of the total expected), ``value_change`` (vs ``n_inspectors``).
    """
    n_d = len(working_days)
    week_min = n_d * float(sum(_minutes(b) - _minutes(a) for a, b in shifts)) * utilisation
    need = plan.table.groupby("district")["workload_min"].sum()
    hot = np.isin(demand["cell"].to_numpy(dtype=np.int64), plan.hot_cells)
    visit = _visit_minutes(demand, walk_speed_mps, dwell_min)
    expected = demand["expected"].to_numpy(dtype=np.float64)
    district = demand["district"].astype(str).to_numpy()
    rows = []
    for n in range(max(n_inspectors - k, 0), n_inspectors + k + 1):
        alloc = _allocate(need.to_numpy(dtype=np.float64), n, week_min)
        done = {"case": 0.0, "case_all": 0.0, "hot": 0.0, "hot_all": 0.0, "weekly": 0, "value": 0.0}
        for name, staff in zip(need.index, alloc, strict=True):  # a few districts
            here = district == name
            _fill(done, staff * week_min, expected[here], visit[here], hot[here], n_d, minutes_per_case)
        rows.append(
            {
                "inspectors": n,
                "case_share": done["case"] / done["case_all"] if done["case_all"] else 1.0,
                "hot_daily_share": done["hot"] / done["hot_all"] if done["hot_all"] else 1.0,
                "weekly_share": done["weekly"] / max(len(demand), 1),
                "value": done["value"],
                "value_share": done["value"] / expected.sum() if expected.sum() else 0.0,
            }
        )
    out = pd.DataFrame(rows)
    base = out.loc[out["inspectors"] == n_inspectors, "value"].iloc[0]
    out["value_change"] = out["value"] - base
    return out


def _allocate(work: FloatArray, n: int, capacity: float) -> IntArray:
    """Share ``n`` inspectors one at a time, each to the district with the most work still uncovered
    (``work - inspectors × capacity``, minutes a week): sequential, so N + 1 inspectors never take one away
    from a district, and no inspector goes where the work is already covered while it is not elsewhere."""
    alloc = np.zeros(work.size, dtype=np.int64)
    for _ in range(n):  # n inspectors: tens
        alloc[int(np.argmax(work - alloc * capacity))] += 1
    return alloc


def _fill(
    done: dict,
    capacity: float,
    expected: FloatArray,
    visit: FloatArray,
    hot: npt.NDArray[np.bool_],
    n_days: int,
    minutes_per_case: float,
) -> None:
    """Spend one district's weekly capacity: cases, then hot daily walks, then weekly walks (greedy)."""
    case_min = float(expected.sum()) * minutes_per_case
    used = min(capacity, case_min)
    done["case"] += used / minutes_per_case
    done["case_all"] += case_min / minutes_per_case
    left = capacity - used
    # hot cells: n_days walks each, highest expected first; a walk is done only if it fits whole
    h = np.flatnonzero(hot)[np.argsort(-expected[hot], kind="stable")]
    tasks_cost = np.repeat(visit[h], n_days)
    tasks_value = np.repeat(expected[h] / n_days, n_days)
    fits = np.cumsum(tasks_cost) <= left
    done["hot"] += int(fits.sum())
    done["hot_all"] += tasks_cost.size
    done["value"] += float(tasks_value[fits].sum())
    left -= float(tasks_cost[fits].sum())
    walked_hot = np.repeat(h, n_days)[fits]
    done["weekly"] += np.unique(walked_hot).size
    o = np.flatnonzero(~hot)[np.argsort(-expected[~hot], kind="stable")]
    fits = np.cumsum(visit[o]) <= left
    done["weekly"] += int(fits.sum())
    done["value"] += float(expected[o][fits].sum())
