"""Orienteering: ``patrol.routing.solve_orienteering`` against OR-Tools at the same time limit.

Random team-orienteering instances: n points uniform in a 100 × 100 square, the depot (start = end) at the
centre, integer prizes 1–10, two routes, each with a budget of a quarter of the expected length of a TSP
tour through all points (0.7124 sqrt(n A)), so roughly half of the prize is reachable. Three instances
per size (n = 50, 100, 200; quick: n = 50 only), seeds fixed.

OR-Tools (``pywrapcp`` routing): the usual prize-collecting model, one disjunction per stop with penalty
= prize × 10^6 (so prize dominates the distance term), arc costs and a per-route distance dimension with
capacity = budget on distances scaled by 10^4 and rounded *up* (its routes are then feasible with real
distances too), first solution PATH_CHEAPEST_ARC, then GUIDED_LOCAL_SEARCH, ``time_limit`` as ours.
Both sides' routes are re-verified (lengths recomputed from real distances, each stop once) and their
prizes re-summed. ``ratio`` = our prize / OR-Tools' prize (>= 1 means equal or better).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import numpy.typing as npt

from patrol.routing import BUDGET_TOL, solve_orienteering, warm_up

BENCHMARK = "orienteering_vs_ortools"
N_ROUTES = 2
SCALE = 10_000


def random_instance(n: int, seed: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], float]:
    """(dist (n, n), prizes (n,), budget) with node 0 the depot at the centre."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0.0, 100.0, (n, 2))
    xy[0] = (50.0, 50.0)
    dist = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))
    prizes = rng.integers(1, 11, n).astype(np.float64)
    prizes[0] = 0.0
    budget = 0.25 * 0.7124 * math.sqrt(n * 100.0 * 100.0)
    return dist, prizes, budget


def verified_prize(dist: npt.NDArray[np.float64], prizes: npt.NDArray[np.float64], budget: float,
                   routes: list[list[int]]) -> float:  # fmt: skip
    """Prize of ``routes`` after checking depots, each stop at most once and every length <= budget."""
    stops = [v for r in routes for v in r[1:-1]]
    if len(stops) != len(set(stops)) or 0 in stops or any(r[0] != 0 or r[-1] != 0 for r in routes):
        msg = f"invalid routes: {routes}"
        raise AssertionError(msg)
    for r in routes:
        length = float(dist[r[:-1], r[1:]].sum())
        if length > budget + BUDGET_TOL:
            msg = f"route length {length} > budget {budget}"
            raise AssertionError(msg)
    return float(prizes[stops].sum())


def ortools_solve(dist: npt.NDArray[np.float64], prizes: npt.NDArray[np.float64], budget: float,
                  time_limit_s: float) -> list[list[int]]:  # fmt: skip
    """OR-Tools prize-collecting routing with guided local search; routes as node lists."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    n = dist.shape[0]
    arc = np.ceil(dist * SCALE).astype(np.int64)
    manager = pywrapcp.RoutingIndexManager(n, N_ROUTES, 0)
    model = pywrapcp.RoutingModel(manager)
    arc_list = arc.tolist()

    def cost(i: int, j: int) -> int:
        return arc_list[manager.IndexToNode(i)][manager.IndexToNode(j)]

    cb = model.RegisterTransitCallback(cost)
    model.SetArcCostEvaluatorOfAllVehicles(cb)
    model.AddDimension(cb, 0, math.floor(budget * SCALE), True, "distance")
    for v in range(1, n):
        model.AddDisjunction([manager.NodeToIndex(v)], int(prizes[v] * 1_000_000))
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(int(time_limit_s * 1000))
    solution = model.SolveWithParameters(params)
    if solution is None:
        return [[0, 0] for _ in range(N_ROUTES)]
    routes = []
    for k in range(N_ROUTES):
        idx = model.Start(k)
        route = []
        while not model.IsEnd(idx):
            route.append(manager.IndexToNode(idx))
            idx = solution.Value(model.NextVar(idx))
        route.append(manager.IndexToNode(idx))
        routes.append(route)
    return routes


def run(quick: bool) -> list[dict[str, Any]]:
    """One row per (size, solver): summed verified prize over three instances, wall seconds per instance."""
    sizes = [50] if quick else [50, 100, 200]
    time_limit_s = 0.3 if quick else 1.0
    warm_up()  # load the numba kernels before any clock starts
    rows: list[dict[str, Any]] = []
    for n in sizes:
        ours = theirs = 0.0
        t_ours = t_theirs = 0.0
        worst = float("inf")  # smallest per-instance ratio ours / OR-Tools
        for seed in range(3):
            dist, prizes, budget = random_instance(n, 1000 * n + seed)
            t0 = time.perf_counter()
            res = solve_orienteering(dist, prizes, budget, 0, 0, n_routes=N_ROUTES, time_limit_s=time_limit_s,
                                     seed=seed)  # fmt: skip
            t_ours += time.perf_counter() - t0
            mine = verified_prize(dist, prizes, budget, res.routes)
            t0 = time.perf_counter()
            routes = ortools_solve(dist, prizes, budget, time_limit_s)
            t_theirs += time.perf_counter() - t0
            other = verified_prize(dist, prizes, budget, routes)
            ours += mine
            theirs += other
            worst = min(worst, mine / other if other else float("inf"))
        common = {"benchmark": BENCHMARK, "n": n, "peak_mib": float("nan"), "time_limit_s": time_limit_s,
                  "instances": 3}  # fmt: skip
        rows.append(
            {
                **common,
                "subject": "gridpatrol.solve_orienteering",
                "seconds": t_ours / 3,
                "per_s": 3 / t_ours,
                "ratio": ours / theirs if theirs else float("inf"),
                "prize": ours,
                "worst_instance_ratio": worst,
            }
        )
        rows.append({**common, "subject": "ortools routing + GLS", "seconds": t_theirs / 3,
                     "per_s": 3 / t_theirs, "ratio": 1.0, "prize": theirs})  # fmt: skip
    return rows
