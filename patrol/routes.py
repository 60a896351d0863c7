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

import datetime as dt

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from grid.cells import cell_centers, cells_to_strings
from patrol.network import (
    StreetGraph,
    TravelMatrix,
    street_path,
    walking_times,
)
from patrol.route_export import route_to_geojson, write_gpx, write_route
from patrol.route_model import STOP_COLUMNS, TASK_STATUSES, RouteOptions, SuggestedRoute
from patrol.route_scoring import _inspector_cells, _shift_start, open_tasks, stop_values
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
    options: RouteOptions = RouteOptions(),  # noqa: B008 (a frozen dataclass)
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
            calendar=options.calendar,
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
