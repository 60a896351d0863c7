"""Orienteering and team-orienteering solver: pick and order the stops worth most within a travel budget.

:func:`solve_orienteering` takes a travel-cost matrix, a prize per node, a budget per route and the start
and end nodes, and returns up to ``n_routes`` routes that together collect as much prize as possible, each
route no longer than the budget. It is the routing core of the suggested patrol routes
(:mod:`patrol.routes`) and is tested against exhaustive search and the published Chao, Golden & Wasil
(1996) Team Orienteering benchmark (``make bench-top``).

Algorithm (numba kernels in :mod:`patrol._routing_kernel`): greedy insertion by prize / added cost, then a
local search to a local optimum of (prize, -total cost) with 2-opt and or-opt inside routes, relocate,
swap and tail exchange (2-opt*) between routes, insertion of unvisited stops and replacement of a visited
stop by a better unvisited one; then iterated local search: remove a few stops (random ones, a segment,
a spatial cluster or a whole route), forbid them for one randomised greedy repair, search again, keep the
best, accept the new solution if its prize is within 1 % of the best, restart from the best after long
stagnation. It stops at the time limit, at ``max_iterations``, or as soon as every reachable stop with a
prize is visited (no better solution can exist).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from patrol import _routing_kernel as _k

__all__ = ["RouteResult", "solve_orienteering", "warm_up"]

#: Slack allowed on a route length over the budget (floating rounding of sums).
BUDGET_TOL = 1e-9
# ILS settings (tuned on 16 hard Chao instances at 1000 iterations, two seeds): accept a new solution
# whose prize is within 1 % of the best; perturb 1-12 stops (+0-2), one step stronger every 20
# stagnating iterations; restart from the best after 200; repair noise: scores x U(1, 1.3)
_PARAMS = np.array([0.01, 12.0, 20.0, 200.0, 0.3])
_CHUNK_TARGET_S = 0.01  # wall time of one kernel call between clock checks

REASON_UNREACHABLE = "unreachable within budget: even the shortest way start -> node -> end exceeds it"
REASON_NOT_FITTED = "not fitted: no route found that includes it together with the other must-visit stops"


@dataclass(frozen=True)
class RouteResult:
    """Routes chosen by :func:`solve_orienteering`.

    Attributes
    ----------
    routes : list of list of int
        One list per route (``n_routes`` of them): node indices in visiting order, starting at ``start``
        and ending at ``end``. A route with no stop is ``[start, end]``.
    total_prize : float
        Sum of ``prizes`` over the visited stops (in the caller's prize unit).
    lengths : ndarray of shape (n_routes,)
        Travel cost of each route, summed from ``dist`` along it (each ``<= budget + 1e-9``).
    visited : ndarray of int64
        Sorted indices of the visited stops (depots excluded).
    unvisited_must : dict of int to str
        Must-visit nodes that are not on any route, with the reason.
    iterations : int
        Iterated-local-search iterations run after the construction.
    seconds : float
        Wall time of the call.
    stopped : str
        Why the search stopped: ``"time_limit"``, ``"max_iterations"`` or ``"all_visited"`` (every
        reachable node with a prize is on a route, so the result is optimal).
    """

    routes: list[list[int]]
    total_prize: float
    lengths: npt.NDArray[np.float64]
    visited: npt.NDArray[np.int64]
    unvisited_must: dict[int, str] = field(default_factory=dict)
    iterations: int = 0
    seconds: float = 0.0
    stopped: str = "time_limit"


def _check_inputs(
    dist: npt.ArrayLike,
    prizes: npt.ArrayLike,
    budget: float,
    start: int,
    end: int,
    n_routes: int,
    time_limit_s: float,
    must_visit: npt.ArrayLike | None,
    max_iterations: int | None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], float, npt.NDArray[np.int64]]:
    d = np.asarray(dist, dtype=np.float64)
    if d.ndim != 2 or d.shape[0] != d.shape[1] or d.shape[0] < 1:
        msg = f"`dist` must be a square (n, n) matrix of travel costs; got shape {d.shape}"
        raise ValueError(msg)
    n = d.shape[0]
    if not np.isfinite(d).all():
        msg = "`dist` must be finite; it contains NaN or infinite values"
        raise ValueError(msg)
    if (d < 0).any():
        msg = f"`dist` must be >= 0; its minimum is {d.min()}"
        raise ValueError(msg)
    p = np.asarray(prizes, dtype=np.float64)
    if p.shape != (n,):
        msg = f"`prizes` must have shape ({n},) to match `dist`; got {p.shape}"
        raise ValueError(msg)
    if not np.isfinite(p).all():
        msg = "`prizes` must be finite; it contains NaN or infinite values"
        raise ValueError(msg)
    if (p < 0).any():
        msg = f"`prizes` must be >= 0; node {int(np.argmin(p))} has {p.min()}"
        raise ValueError(msg)
    b = _check_scalars(n, budget, start, end, n_routes, time_limit_s, max_iterations)
    if d[start, end] > b + BUDGET_TOL:
        msg = f"no route is feasible: the direct cost start -> end is {d[start, end]} > budget {b}"
        raise ValueError(msg)
    return d, p, b, _check_must(must_visit, n)


def _check_scalars(
    n: int,
    budget: float,
    start: int,
    end: int,
    n_routes: int,
    time_limit_s: float,
    max_iterations: int | None,
) -> float:
    b = float(budget)
    if not np.isfinite(b) or b < 0:
        msg = f"`budget` must be a finite number >= 0; got {budget!r}"
        raise ValueError(msg)
    for name, v in (("start", start), ("end", end)):
        if not isinstance(v, int | np.integer) or isinstance(v, bool):
            msg = f"`{name}` must be an integer node index; got {v!r}"
            raise TypeError(msg)
        if not 0 <= v < n:
            msg = f"`{name}` must be a node index in [0, {n}); got {v}"
            raise ValueError(msg)
    if not isinstance(n_routes, int | np.integer) or isinstance(n_routes, bool) or n_routes < 1:
        msg = f"`n_routes` must be an integer >= 1; got {n_routes!r}"
        raise ValueError(msg)
    if not (time_limit_s > 0):
        msg = f"`time_limit_s` must be > 0 seconds; got {time_limit_s!r}"
        raise ValueError(msg)
    if max_iterations is not None and max_iterations < 0:
        msg = f"`max_iterations` must be >= 0 or None; got {max_iterations!r}"
        raise ValueError(msg)
    return b


def _check_must(must_visit: npt.ArrayLike | None, n: int) -> npt.NDArray[np.int64]:
    must = np.zeros(0, dtype=np.int64)
    if must_visit is not None:
        raw = np.asarray(must_visit)
        if raw.size and not np.issubdtype(raw.dtype, np.integer):
            msg = f"`must_visit` must hold integer node indices; got dtype {raw.dtype}"
            raise TypeError(msg)
        must = np.unique(raw.astype(np.int64).ravel())
        if must.size and (must.min() < 0 or must.max() >= n):
            msg = f"`must_visit` indices must be in [0, {n}); got {must.min()} .. {must.max()}"
            raise ValueError(msg)
    return must


def solve_orienteering(
    dist: npt.ArrayLike,
    prizes: npt.ArrayLike,
    budget: float,
    start: int,
    end: int,
    n_routes: int = 1,
    time_limit_s: float = 1.0,
    seed: int = 0,
    must_visit: npt.ArrayLike | None = None,
    *,
    max_iterations: int | None = None,
) -> RouteResult:
    """Choose and order stops for ``n_routes`` routes from ``start`` to ``end`` maximising the prize.

    Parameters
    ----------
    dist : array-like of shape (n, n)
        Travel cost from node i to node j (any unit, e.g. seconds; >= 0, finite, may be asymmetric; a
        stop's service time can be folded in by the caller, e.g. added to its incoming arcs). Routes go
        straight from stop to stop, so pass shortest-path costs (as a street-network matrix is): a node
        with prize 0 is never used as a waypoint.
    prizes : array-like of shape (n,)
        Value of visiting each node (>= 0). Prizes of ``start`` and ``end`` are ignored; nodes with prize
        0 are never visited unless they are in ``must_visit``.
    budget : float
        Maximum travel cost of each route, in the unit of ``dist``.
    start, end : int
        Node indices of the start and end depot of every route (may be equal).
    n_routes : int, default=1
        Number of routes (inspectors); each node is visited at most once overall.
    time_limit_s : float, default=1.0
        Wall-clock limit in seconds for the whole call (numba compilation excluded; it is cached on disk).
    seed : int, default=0
        Seed of the search's random generator.
    must_visit : array-like of int, optional
        Nodes to visit if at all feasible: they are worth more than all other prizes together. Those left
        out are listed in ``RouteResult.unvisited_must`` with the reason.
    max_iterations : int, optional
        Stop after this many iterated-local-search iterations. With a generous ``time_limit_s`` this makes
        the result reproducible exactly (the search is deterministic for a seed and an iteration count;
        under a time limit alone the count depends on the machine's speed).

    Returns
    -------
    RouteResult

    Raises
    ------
    ValueError
        On a non-square, non-finite or negative ``dist``, on ``prizes`` of the wrong shape or negative, on
        a negative ``budget``, on out-of-range indices, or when even ``start -> end`` exceeds the budget.
    TypeError
        On non-integer node indices.

    Notes
    -----
    A heuristic: it returns the best solution found, not a proof of optimality (except when
    ``stopped == "all_visited"``). Each iteration costs about O(n^2) for n candidate stops.
    """
    warm_up()
    t0 = time.perf_counter()
    d, p, b, must = _check_inputs(
        dist, prizes, budget, start, end, n_routes, time_limit_s, must_visit, max_iterations
    )
    n = d.shape[0]
    m = int(n_routes)
    depots = {int(start), int(end)}
    must = np.array([v for v in must if int(v) not in depots], dtype=np.int64)
    # a route through a node costs at least the shortest paths start -> node -> end (which may be cheaper
    # than the direct arcs when dist breaks the triangle inequality, e.g. asymmetric street times)
    reach = _shortest_from(d, start) + _shortest_from(d.T, end) <= b + BUDGET_TOL
    unvisited_must: dict[int, str] = {int(v): REASON_UNREACHABLE for v in must if not reach[v]}
    # must-visit nodes outrank everything else: their bonus exceeds the sum of all ordinary prizes
    internal = p.copy()
    internal[list(depots)] = 0.0
    is_must = np.zeros(n, dtype=bool)
    is_must[must] = True
    bonus = float(internal.sum()) + 1.0
    internal[is_must] += bonus
    is_cand = reach & (internal > 0)
    is_cand[list(depots)] = False
    cand = np.flatnonzero(is_cand).astype(np.int64)
    upper = float(internal[cand].sum())

    state = _new_state(n, m, cand, int(start), int(end), d)
    cur, saved, best = state["cur"], state["saved"], state["best"]
    tabu = np.zeros(n, dtype=np.bool_)
    work_f = np.zeros((6, cand.size + 8), dtype=np.float64)
    work_i = np.zeros((3, cand.size + 8), dtype=np.int64)
    _k.construct(d, internal, b, *cur, cand, tabu, work_f, work_i)
    for dst in (saved, best):
        _k._copy(*cur, *dst)

    rng_state = np.array([_seed_state(seed)], dtype=np.uint64)
    ctr = np.zeros(2, dtype=np.int64)
    stopped = _run_ils(
        d, internal, b, cand, upper, rng_state, cur, saved, best, ctr, tabu, work_f, work_i,
        t0, float(time_limit_s), max_iterations,
    )  # fmt: skip
    routes, lengths = _extract(d, best, b)
    visited = np.sort(np.array([v for r in routes for v in r[1:-1]], dtype=np.int64))
    on_route = np.zeros(n, dtype=bool)
    on_route[visited] = True
    for v in must:
        if not on_route[v] and int(v) not in unvisited_must:
            unvisited_must[int(v)] = REASON_NOT_FITTED
    return RouteResult(
        routes=routes,
        total_prize=float(p[visited].sum()),
        lengths=lengths,
        visited=visited,
        unvisited_must=dict(sorted(unvisited_must.items())),
        iterations=int(ctr[0]),
        seconds=time.perf_counter() - t0,
        stopped=stopped,
    )


def _shortest_from(d: npt.NDArray[np.float64], source: int) -> npt.NDArray[np.float64]:
    """Shortest-path costs (n,) from ``source`` over the dense cost matrix ``d`` (Dijkstra, O(n^2))."""
    n = d.shape[0]
    best = d[source].copy()
    best[source] = 0.0
    done = np.zeros(n, dtype=bool)
    for _ in range(n):
        u = int(np.argmin(np.where(done, np.inf, best)))
        done[u] = True
        best = np.minimum(best, best[u] + d[u])
    return best


_WARM = [False]


def warm_up() -> None:
    """Load the numba kernels from their on-disk cache (or compile them, ~1 min) once per process.

    :func:`solve_orienteering` calls it before starting its clock; call it early to keep that one-off
    cost (seconds on a busy machine) out of the first request or measurement.
    """
    if _WARM[0]:
        return
    _WARM[0] = True
    d = np.array([[0.0, 1.0, 1.0, 1.0], [1.0, 0.0, 1.0, 1.0], [1.0, 1.0, 0.0, 1.0], [1.0, 1.0, 1.0, 0.0]])
    # one route fits one of the two stops only, so the iterated local search runs too
    solve_orienteering(d, np.array([0.0, 1.0, 2.0, 0.0]), 2.5, 0, 3, n_routes=1, max_iterations=2)


def _seed_state(seed: int) -> int:
    """A non-zero 64-bit xorshift state from any integer seed (splitmix64 finaliser)."""
    z = (int(seed) + 0x9E3779B97F4A7C15) % 2**64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) % 2**64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) % 2**64
    z ^= z >> 31
    return z or 0x2545F4914F6CDD1D


def _new_state(
    n: int, m: int, cand: npt.NDArray[np.int64], start: int, end: int, d: npt.NDArray[np.float64]
) -> dict[str, tuple[np.ndarray, ...]]:
    """Three (R, L, C, W) solution states (current, last accepted, best), all with empty routes."""
    cap = cand.size + 2
    out = {}
    for key in ("cur", "saved", "best"):
        routes = np.zeros((m, cap), dtype=np.int64)
        routes[:, 0] = start
        routes[:, 1] = end
        n_nodes = np.full(m, 2, dtype=np.int64)
        cost = np.full(m, d[start, end], dtype=np.float64)
        where = np.full(n, -2, dtype=np.int64)  # -2: not a candidate, -1: unvisited candidate
        where[cand] = -1
        out[key] = (routes, n_nodes, cost, where)
    return out


def _run_ils(
    d, internal, b, cand, upper, rng_state, cur, saved, best, ctr, tabu, work_f, work_i,
    t0: float, time_limit_s: float, max_iterations: int | None,
) -> str:  # fmt: skip
    """Call the ILS kernel in chunks sized to ~10 ms, checking the clock between chunks."""
    chunk = 1
    per_iter = None
    while True:
        if _k._totals(internal, *best[:3])[0] >= upper - 1e-9:
            return "all_visited"
        if max_iterations is not None and ctr[0] >= max_iterations:
            return "max_iterations"
        # a small margin keeps the call's wall time (result assembly included) within the limit
        remaining = time_limit_s - min(0.01, 0.02 * time_limit_s) - (time.perf_counter() - t0)
        if per_iter is not None:
            if per_iter > remaining:  # the next iteration would likely end past the limit
                return "time_limit"
            chunk = max(1, int(min(remaining, _CHUNK_TARGET_S) / per_iter))
        if remaining <= 0:
            return "time_limit"
        if max_iterations is not None:
            chunk = min(chunk, max_iterations - int(ctr[0]))
        t1 = time.perf_counter()
        done = _k.ils(d, internal, b, cand, upper, chunk, rng_state, cur, saved, best, ctr, tabu,
                      work_f, work_i, _PARAMS)  # fmt: skip
        dt = time.perf_counter() - t1
        per_iter = max(dt / chunk, 1e-7) if per_iter is None else 0.5 * per_iter + 0.5 * max(dt / chunk, 1e-7)
        if done:
            return "all_visited"


def _extract(
    d: npt.NDArray[np.float64], best: tuple, budget: float
) -> tuple[list[list[int]], npt.NDArray[np.float64]]:
    """Routes as lists and their lengths recomputed from ``d``; a route over budget is a bug: raise."""
    r, n_nodes = best[0], best[1]
    routes = [[int(v) for v in r[k, : n_nodes[k]]] for k in range(r.shape[0])]
    lengths = np.array([float(d[x[:-1], x[1:]].sum()) for x in routes], dtype=np.float64)
    if (lengths > budget + BUDGET_TOL).any():
        msg = f"internal error: a route exceeds the budget {budget}: lengths {lengths.tolist()}"
        raise RuntimeError(msg)
    return routes, lengths
