"""Suggested patrol route for one inspector's shift: which of their cells to walk, in which order, and why.

Candidate stops are the cells assigned to the inspector at the start of the shift (the assignments
contract). Each cell's **value** adds three parts:

- ``value_risk``: the forecast's ``risk`` (0–1, :func:`analytics.forecast.forecast_cells`, next week) ×
  ``weight_risk``;
- ``value_neglect``: days since the cell's last patrol / ``neglect_days`` (capped at 1; 1 when never
  patrolled) × ``weight_neglect``, from the coverage cube's ``last_visit``
  (:func:`patrol.coverage.cell_summary`);
- ``value_cases``: open cases in the cell waiting for an inspector on site — public reports to verify
  (核实, status ``reported``) and fixes to re-check (核查, status ``resolved``) — × ``weight_case`` each.

A cell with a task whose deadline falls before the end of the shift (or has passed) is **must-visit**. The
deadline of a re-check is the case's ``deadline_at``; a verification has none stored, so it is due
``verify_within_h`` hours after the report. Tasks due after the shift add value but are not forced.

Walking times come from :func:`patrol.network.walking_times` (street graph, else great-circle × circuity);
each stop costs its walk plus a dwell time (``dwell_s`` + ``task_s`` per task). The orienteering solver
(:func:`patrol.routing.solve_orienteering`) picks and orders the stops within the shift budget. When the
solver's order reaches a must-visit stop after its deadline, the route is rebuilt with the must-visit stops
first in deadline order and the rest of the budget solved again from the last of them; the better of the
two (deadlines met, then value) is kept, and every must-visit stop that is still missed or late says why.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from grid.cells import cell_centers, cells_to_strings
from patrol.network import (
    DEFAULT_CIRCUITY,
    DEFAULT_MAX_SNAP_M,
    DEFAULT_WALK_SPEED_MPS,
    StreetGraph,
    TravelMatrix,
    street_path,
    walking_times,
)
from patrol.routing import RouteResult, solve_orienteering

__all__ = [
    "STOP_COLUMNS",
    "TASK_STATUSES",
    "RouteOptions",
    "SuggestedRoute",
    "open_tasks",
    "route_to_geojson",
    "stop_values",
    "suggest_route",
    "write_gpx",
    "write_route",
]

#: Case status → the on-site task it waits for.
TASK_STATUSES = {"reported": "verify", "resolved": "check"}
#: Columns of :attr:`SuggestedRoute.stops` (plus ``geometry``).
STOP_COLUMNS = (
    "order",
    "kind",
    "cell",
    "h3",
    "lat",
    "lon",
    "arrival",
    "departure",
    "walk_s",
    "walk_m",
    "dwell_s",
    "value",
    "value_risk",
    "value_neglect",
    "value_cases",
    "risk",
    "days_since_visit",
    "n_verify",
    "n_check",
    "case_ids",
    "must_visit",
    "deadline",
    "on_time",
    "why",
)
GPX_NS = "http://www.topografix.com/GPX/1/1"


@dataclasses.dataclass(frozen=True)
class RouteOptions:
    """Knobs of :func:`suggest_route` (all keyword defaults; times in seconds unless the name says).

    Attributes
    ----------
    shift_start : str
        Local start of the shift, ``"HH:MM"`` in ``timezone``.
    dwell_s : float
        Time spent in every stop (looking around the cell).
    task_s : float
        Extra time per open case in the cell (verifying or re-checking it).
    weight_risk, weight_neglect, weight_case : float
        Weights of the three value parts (each part is 0–1 per cell, or per case).
    neglect_days : float
        Days without a patrol that earn the full neglect value.
    verify_within_h : float
        Hours after the report by which a public report must be verified (核实).
    speed_mps, circuity, max_snap_m : float
        Walking speed (m/s), fallback detour factor, snapping radius (m) — see :mod:`patrol.network`.
    time_limit_s : float
        Solver time limit per call.
    seed : int
        Solver seed.
    timezone : str
        The city's zone.
    forecast_model : str
        Model of :func:`analytics.forecast.forecast_cells` for the risk part (the long-run mean: the strongest
        baseline in the backtests and instant; ``"auto"`` backtests every model first).
    """

    shift_start: str = "08:00"
    dwell_s: float = 180.0
    task_s: float = 600.0
    weight_risk: float = 1.0
    weight_neglect: float = 1.0
    weight_case: float = 2.0
    neglect_days: float = 7.0
    verify_within_h: float = 2.0
    speed_mps: float = DEFAULT_WALK_SPEED_MPS
    circuity: float = DEFAULT_CIRCUITY
    max_snap_m: float = DEFAULT_MAX_SNAP_M
    time_limit_s: float = 1.0
    seed: int = 0
    timezone: str = "Asia/Shanghai"
    forecast_model: str = "baseline_mean"


@dataclasses.dataclass(frozen=True)
class SuggestedRoute:
    """A suggested route (:func:`suggest_route`).

    Attributes
    ----------
    stops : geopandas.GeoDataFrame
        EPSG:4326, columns :data:`STOP_COLUMNS` + ``geometry`` (the cell centre, or the start/end point),
        one row per node in walking order: ``kind`` = ``start``, ``stop`` or ``end``; ``arrival`` /
        ``departure`` (UTC); ``walk_s``, ``walk_m`` (the walk from the previous node); ``dwell_s``; the
        value parts; ``case_ids`` (comma-separated); ``deadline`` (UTC, NaT without a task due);
        ``on_time`` (arrival <= deadline, NA without one); ``why`` (plain text).
    path : shapely.LineString
        The walk along the streets (x = lon, y = lat).
    totals : dict
        ``value`` (collected), ``value_available`` (sum over all candidates), ``distance_m``, ``walk_s``,
        ``dwell_s``, ``duration_s``, ``budget_s``, ``n_stops``, ``n_candidates``, ``must_visit``,
        ``must_visited_on_time``, ``network`` (what the walking times came from), ``solver_s``, ``strategy``.
    missed : pandas.DataFrame
        Must-visit cells not visited on time: ``cell``, ``h3``, ``case_ids``, ``deadline``, ``reason``.
    candidates : pandas.DataFrame
        :func:`stop_values` of every candidate cell.
    inspector_id : str
    shift_start : pandas.Timestamp
        UTC.
    """

    stops: gpd.GeoDataFrame
    path: shapely.LineString
    totals: dict[str, Any]
    missed: pd.DataFrame
    candidates: pd.DataFrame
    inspector_id: str
    shift_start: pd.Timestamp


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
    options: RouteOptions = RouteOptions(),
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


# --- solving ----------------------------------------------------------------------------------------------


def _arrivals(order: list[int], cost: npt.NDArray[np.float64], dwell: npt.NDArray[np.float64]) -> np.ndarray:
    """Seconds after the shift start of the arrival at each node of ``order``."""
    legs = cost[order[:-1], order[1:]] - dwell[order[1:]]  # cost folds the destination's dwell in
    arrive = np.zeros(len(order))
    if len(order) > 1:
        arrive[1:] = np.cumsum(legs + dwell[order[:-1]])
    return arrive


def _late(order: list[int], arrive: np.ndarray, due_s: np.ndarray) -> int:
    return int(sum(1 for k, v in enumerate(order) if arrive[k] > due_s[v] + 1e-6))


def _solve(cost, value, budget_s, must, due_s, dwell, options) -> tuple[list[int], RouteResult, str]:
    n = cost.shape[0]
    first = solve_orienteering(
        cost, value, budget_s, 0, n - 1, time_limit_s=options.time_limit_s, seed=options.seed, must_visit=must
    )
    order = first.routes[0]
    reachable_due = np.where(due_s < 0, np.inf, due_s)  # already overdue at the start: cannot be on time
    late = _late(order, _arrivals(order, cost, dwell), reachable_due)
    if late == 0 or must.size == 0:
        return order, first, "orienteering"
    # deadlines first: must-visit stops in deadline order, then the rest of the budget from the last one
    prefix = [0]
    used = 0.0
    for v in must[np.argsort(due_s[must], kind="stable")]:
        if used + cost[prefix[-1], v] + cost[v, n - 1] <= budget_s:
            used += cost[prefix[-1], v]
            prefix.append(int(v))
    rest = value.copy()
    rest[prefix] = 0.0
    sub = solve_orienteering(
        cost, rest, budget_s - used, prefix[-1], n - 1, time_limit_s=options.time_limit_s, seed=options.seed
    )
    second = prefix + sub.routes[0][1:]
    late2 = _late(second, _arrivals(second, cost, dwell), reachable_due)
    visited = lambda o: float(value[o[1:-1]].sum())  # noqa: E731
    missing = lambda o: int(np.isin(must, o, invert=True).sum())  # noqa: E731
    if (missing(second) + late2, -visited(second)) < (missing(order) + late, -visited(order)):
        return second, first, "deadlines_first"
    return order, first, "orienteering"


def suggest_route(
    inspector_id: str,
    date: str | dt.date,
    *,
    assignments: pd.DataFrame,
    cases: pd.DataFrame,
    budget_s: float,
    start: tuple[float, float] | None = None,
    graph: StreetGraph | None = None,
    forecast: pd.DataFrame | None = None,
    last_visit: pd.DataFrame | None = None,
    universe: npt.ArrayLike | None = None,
    options: RouteOptions = RouteOptions(),
) -> SuggestedRoute:
    """Suggest a route through ``inspector_id``'s cells for the shift on ``date``.

    Parameters
    ----------
    inspector_id
        The inspector.
    date
        Local date of the shift (the shift starts at ``options.shift_start`` in ``options.timezone``).
    assignments
        The assignments contract (``inspector_id``, ``cell``, ``valid_from``, ``valid_to``).
    cases
        The cases contract (history for the forecast; ``status``, ``deadline_at`` for open tasks).
    budget_s
        Length of the shift (s): walking plus dwell; the route starts and ends at ``start``.
    start
        ``(lat, lon)`` WGS-84 of the start and end (default: the centre of the assigned cell nearest
        the middle of the beat).
    graph
        Street graph (:mod:`patrol.network`); ``None`` → great-circle × circuity.
    forecast
        ``cell``, ``risk`` — default :func:`analytics.forecast.forecast_cells` on ``cases`` reported
        before the shift, over ``universe`` (default the inspector's cells), next ISO week.
    last_visit
        ``cell``, ``last_visit`` (from :func:`patrol.coverage.cell_summary`); ``None`` = no track data.
    universe
        Cell universe of the forecast (e.g. the city's cells).
    options
        :class:`RouteOptions`.

    Returns
    -------
    SuggestedRoute

    Raises
    ------
    ValueError
        No cell is assigned to the inspector at the shift start, or ``budget_s`` <= 0.
    """
    if not budget_s > 0:
        msg = f"`budget_s` must be > 0 seconds; got {budget_s!r}"
        raise ValueError(msg)
    at = _shift_start(date, options)
    end_at = at + pd.Timedelta(seconds=float(budget_s))
    cells = _inspector_cells(assignments, inspector_id, at)
    if cells.size == 0:
        msg = f"inspector {inspector_id!r} has no cell assigned at {at.tz_convert(options.timezone)}"
        raise ValueError(msg)
    if forecast is None:
        from analytics.forecast import forecast_cells

        history = cases[pd.to_datetime(cases["reported_at"], utc=True) < at]
        forecast = forecast_cells(
            history,
            cells if universe is None else universe,
            period="week",
            timezone=options.timezone,
            as_of=at.tz_convert(options.timezone),
            model=options.forecast_model,
        )
    tasks = open_tasks(cases, cells, at, verify_within_h=options.verify_within_h)
    values = stop_values(
        cells, risk=forecast, last_visit=last_visit, tasks=tasks, at=at, shift_end=end_at, options=options
    )
    values.insert(1, "h3", cells_to_strings(cells))
    lat, lon = cell_centers(cells)
    if start is None:
        mid = int(
            np.argmin((lat - lat.mean()) ** 2 + ((lon - lon.mean()) * np.cos(np.radians(lat.mean()))) ** 2)
        )
        start = (float(lat[mid]), float(lon[mid]))
    all_lat = np.concatenate([[start[0]], lat, [start[0]]])
    all_lon = np.concatenate([[start[1]], lon, [start[1]]])
    travel = walking_times(
        all_lat,
        all_lon,
        graph=graph,
        speed_mps=options.speed_mps,
        circuity=options.circuity,
        max_snap_m=options.max_snap_m,
    )
    n_tasks = (values["n_verify"] + values["n_check"]).to_numpy(dtype=np.float64)
    dwell = np.concatenate([[0.0], options.dwell_s + options.task_s * n_tasks, [0.0]])
    cost = travel.seconds + dwell[None, :]
    np.fill_diagonal(cost, 0.0)
    value = np.concatenate([[0.0], values["value"].to_numpy(dtype=np.float64), [0.0]])
    must = np.flatnonzero(values["must_visit"].to_numpy()) + 1
    due = values["deadline"].where(values["must_visit"])
    due_s = np.concatenate([[np.inf], ((due - at).dt.total_seconds()).fillna(np.inf).to_numpy(), [np.inf]])
    order, result, strategy = _solve(cost, value, float(budget_s), must, due_s, dwell, options)
    return _assemble(
        inspector_id,
        at,
        order,
        values,
        travel,
        cost,
        dwell,
        due_s,
        (all_lat, all_lon),
        graph,
        float(budget_s),
        result,
        strategy,
        options,
    )


def _why(row: pd.Series, tz: str) -> str:
    parts = []
    if row["n_verify"]:
        parts.append(f"{int(row['n_verify'])} report(s) to verify (核实)")
    if row["n_check"]:
        parts.append(f"{int(row['n_check'])} fix(es) to re-check (核查)")
    if row["must_visit"]:
        parts.append(
            f"due by {row['deadline'].tz_convert(tz):%H:%M}"
            if row["deadline"] >= row["arrival"]
            else f"overdue since {row['deadline'].tz_convert(tz):%m-%d %H:%M}"
        )
    if row["risk"] > 0:
        parts.append(f"forecast risk {row['risk']:.2f}")
    days = row["days_since_visit"]
    if np.isinf(days):
        parts.append("never patrolled in the track data")
    elif days >= 1:
        parts.append(f"not patrolled for {days:.0f} days")
    return "; ".join(parts) or "on the way"


def _assemble(
    inspector_id,
    at,
    order,
    values,
    travel: TravelMatrix,
    cost,
    dwell,
    due_s,
    coords,
    graph,
    budget_s,
    result: RouteResult,
    strategy,
    options,
) -> SuggestedRoute:
    all_lat, all_lon = coords
    n = cost.shape[0]
    arrive = _arrivals(order, cost, dwell)
    idx = np.asarray(order)
    path, legs = street_path(graph, all_lat[idx], all_lon[idx], max_snap_m=options.max_snap_m)
    cand = values.set_index(np.arange(1, n - 1))
    frame = cand.reindex(idx).reset_index(drop=True)
    # the cell ids straight from the int64 array (a reindex with NaN rows would round them through float)
    is_stop = (idx > 0) & (idx < n - 1)
    ids = values["cell"].to_numpy(dtype=np.int64)[np.clip(idx - 1, 0, n - 3)]
    frame["cell"] = pd.Series(ids, dtype="Int64").where(is_stop)
    frame.insert(0, "order", np.arange(len(idx)))
    frame.insert(1, "kind", np.where(idx == 0, "start", np.where(idx == n - 1, "end", "stop")))
    frame["lat"], frame["lon"] = all_lat[idx], all_lon[idx]
    frame["arrival"] = at + pd.to_timedelta(arrive, unit="s")
    frame["dwell_s"] = dwell[idx]
    frame["departure"] = frame["arrival"] + pd.to_timedelta(frame["dwell_s"], unit="s")
    frame["walk_s"] = np.concatenate([[0.0], travel.seconds[idx[:-1], idx[1:]]])
    frame["walk_m"] = np.concatenate([[0.0], legs])
    on_time = frame["arrival"] <= frame["deadline"]
    frame["on_time"] = on_time.astype("boolean").where(frame["must_visit"].fillna(False).astype(bool))
    for c in ("value", "value_risk", "value_neglect", "value_cases", "risk"):
        frame[c] = frame[c].fillna(0.0)
    for c in ("n_verify", "n_check"):
        frame[c] = frame[c].fillna(0).astype(np.int64)
    frame["must_visit"] = frame["must_visit"].fillna(False).astype(bool)
    frame["case_ids"] = frame["case_ids"].fillna("")
    frame["h3"] = frame["h3"].fillna("")
    # one line of text per stop (tens of rows)
    frame["why"] = [
        _why(r, options.timezone) if r["kind"] == "stop" else r["kind"] for _, r in frame.iterrows()
    ]
    stops = gpd.GeoDataFrame(
        frame[list(STOP_COLUMNS)], geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs="EPSG:4326"
    )
    missed = _missed(values, frame, result, at, options.timezone)
    visited = frame["kind"] == "stop"
    totals = {
        "value": float(frame.loc[visited, "value"].sum()),
        "value_available": float(values["value"].sum()),
        "distance_m": float(legs.sum()),
        "walk_s": float(frame["walk_s"].sum()),
        "dwell_s": float(frame["dwell_s"].sum()),
        "duration_s": float(arrive[-1]),
        "budget_s": budget_s,
        "n_stops": int(visited.sum()),
        "n_candidates": len(values),
        "must_visit": int(values["must_visit"].sum()),
        "must_visited_on_time": int((frame["on_time"].fillna(False) & visited).sum()),
        "network": _network_label(graph, travel, idx, options),
        "on_street_share": float(travel.on_street[idx[:-1], idx[1:]].mean()) if idx.size > 1 else 1.0,
        "solver_s": float(result.seconds),
        "strategy": strategy,
    }
    return SuggestedRoute(stops, path, totals, missed, values, str(inspector_id), at)


def _network_label(
    graph: StreetGraph | None, travel: TravelMatrix, idx: np.ndarray, options: RouteOptions
) -> str:
    crow = f"great-circle × {options.circuity}"
    if graph is None:
        return crow
    share = float(travel.on_street[idx[:-1], idx[1:]].mean()) if idx.size > 1 else 1.0
    if share == 0:
        return f"{crow} (no street of {graph.source} within {options.max_snap_m:.0f} m)"
    return f"{graph.source} ({share:.0%} of legs on streets)"


def _missed(
    values: pd.DataFrame, frame: pd.DataFrame, result: RouteResult, at: pd.Timestamp, tz: str
) -> pd.DataFrame:
    """Must-visit cells not visited before their deadline, each with the reason."""
    stops = frame[frame["kind"] == "stop"]
    on_route = stops.set_index(stops["cell"].astype(np.int64).to_numpy())
    rows = []
    for pos, row in values[values["must_visit"]].iterrows():  # must-visit cells: a handful per shift
        cell, due = int(row["cell"]), row["deadline"]
        if cell in on_route.index:
            stop = on_route.loc[cell]
            if bool(stop["on_time"]):
                continue
            arrival = f"visited as stop {int(stop['order'])} at {stop['arrival'].tz_convert(tz):%H:%M}"
            if due < at:
                reason = (
                    f"already overdue at the shift start (due {due.tz_convert(tz):%m-%d %H:%M}); {arrival}"
                )
            else:
                reason = f"{arrival}, after the deadline {due.tz_convert(tz):%H:%M} (no earlier order fits)"
        else:
            reason = result.unvisited_must.get(
                int(pos) + 1,
                "not visited: the budget does not hold it together with the other must-visit stops",
            )
        rows.append(
            {"cell": cell, "h3": row["h3"], "case_ids": row["case_ids"], "deadline": due, "reason": reason}
        )
    return pd.DataFrame(rows, columns=["cell", "h3", "case_ids", "deadline", "reason"])


# --- writers ----------------------------------------------------------------------------------------------


def _iso(ts: pd.Timestamp) -> str:
    return ts.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def write_gpx(route: SuggestedRoute, path: str | Path) -> Path:
    """Write the route as GPX 1.1: a waypoint per stop, a ``<rte>`` through start, stops and end, and a
    ``<trk>`` with the walk along the streets (opens in phone navigation apps)."""
    ET.register_namespace("", GPX_NS)
    q = lambda tag: f"{{{GPX_NS}}}{tag}"  # noqa: E731
    root = ET.Element(q("gpx"), {"version": "1.1", "creator": "GridPatrol"})
    meta = ET.SubElement(root, q("metadata"))
    ET.SubElement(meta, q("name")).text = f"{route.inspector_id} {route.shift_start:%Y-%m-%d}"
    ET.SubElement(meta, q("time")).text = _iso(route.shift_start)
    stops = route.stops
    label = [
        f"{o:02d} {h}" if k == "stop" else k
        for o, k, h in zip(stops["order"], stops["kind"], stops["h3"], strict=True)
    ]
    for r, name in zip(stops.itertuples(), label, strict=True):
        if r.kind == "stop":
            _point(root, q("wpt"), r, name, q)
    rte = ET.SubElement(root, q("rte"))
    ET.SubElement(rte, q("name")).text = f"patrol route {route.inspector_id}"
    for r, name in zip(stops.itertuples(), label, strict=True):
        _point(rte, q("rtept"), r, name, q)
    trk = ET.SubElement(root, q("trk"))
    ET.SubElement(trk, q("name")).text = f"walk {route.inspector_id}"
    seg = ET.SubElement(trk, q("trkseg"))
    for x, y in shapely.get_coordinates(route.path):
        ET.SubElement(seg, q("trkpt"), {"lat": f"{y:.7f}", "lon": f"{x:.7f}"})
    out = Path(path)
    ET.ElementTree(root).write(out, encoding="utf-8", xml_declaration=True)
    return out


def _point(parent: ET.Element, tag: str, r: Any, name: str, q: Any) -> None:
    pt = ET.SubElement(parent, tag, {"lat": f"{r.lat:.7f}", "lon": f"{r.lon:.7f}"})
    ET.SubElement(pt, q("time")).text = _iso(r.arrival)  # GPX 1.1 order: time before name and desc
    ET.SubElement(pt, q("name")).text = name
    ET.SubElement(pt, q("desc")).text = r.why


def route_to_geojson(route: SuggestedRoute) -> dict[str, Any]:
    """The route as a GeoJSON FeatureCollection (RFC 7946): one Point per node, then the path LineString
    with the totals as its properties."""
    stops = route.stops.copy()
    for c in ("arrival", "departure", "deadline"):
        stops[c] = [None if pd.isna(t) else _iso(t) for t in stops[c]]
    stops["cell"] = stops["cell"].astype(object).where(stops["cell"].notna(), None)
    stops["on_time"] = stops["on_time"].astype(object).where(stops["on_time"].notna(), None)
    stops["days_since_visit"] = [None if not np.isfinite(v) else float(v) for v in stops["days_since_visit"]]
    features = json.loads(stops.drop(columns="cell").to_json(drop_id=True))["features"]
    props = {k: v for k, v in route.totals.items()}
    props.update(kind="path", inspector_id=route.inspector_id, shift_start=_iso(route.shift_start))
    features.append(
        {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(route.path)}
    )
    return {"type": "FeatureCollection", "features": features}


def write_route(route: SuggestedRoute, path: str | Path) -> Path:
    """Write ``route`` by suffix: ``.gpx`` (:func:`write_gpx`) or ``.geojson`` (:func:`route_to_geojson`)."""
    out = Path(path)
    suffix = out.suffix.lower()
    if suffix == ".gpx":
        return write_gpx(route, out)
    if suffix == ".geojson":
        out.write_text(json.dumps(route_to_geojson(route), ensure_ascii=False), encoding="utf-8")
        return out
    msg = f"route output must end in .gpx or .geojson; got {out.name}"
    raise ValueError(msg)
