"""Each inspector's intended patrol loop: a closed walk over every street of the beat, as a polyline.

The beat's streets (edges with any point in one of the beat's cells) are doubled, so every node has even
degree, and walked as an Eulerian circuit (Hierholzer's algorithm): each street is passed twice per loop.
Pieces of the beat that the street graph does not connect are joined by shortest paths (scipy Dijkstra on
street lengths). The loop is precomputed once; tracks then only interpolate along its cumulative distance
(:mod:`sim.tracks`).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, dijkstra

from sim import _h3
from sim.config import DemoConfig
from sim.geography import Geography, edge_samples

LOOKUP_STEP_M = 5.0


@dataclass
class Route:
    """One inspector's loop in local metres, with a cell lookup every ``LOOKUP_STEP_M`` metres."""

    x: npt.NDArray[np.float64]
    y: npt.NDArray[np.float64]
    cum_m: npt.NDArray[np.float64]  # cumulative distance at each vertex; cum_m[-1] = loop length
    lookup_cell: npt.NDArray[np.int64]  # row index in geography.cells (-1 outside the study area)

    @property
    def length_m(self) -> float:
        """Length of the loop in metres."""
        return float(self.cum_m[-1])

    def cell_at(self, s: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        """Cell row index at distance ``s`` (any real, taken modulo the loop length)."""
        k = (np.mod(s, self.length_m) / LOOKUP_STEP_M).astype(np.int64)
        return self.lookup_cell[np.minimum(k, len(self.lookup_cell) - 1)]


def street_graph(geo: Geography) -> sp.csr_matrix:
    """The street network as a symmetric sparse matrix of street lengths (m), indexed by node id."""
    e, n = geo.edges, len(geo.nodes)
    u, v, w = e["u"].to_numpy(), e["v"].to_numpy(), e["length_m"].to_numpy(dtype=float)
    g = sp.coo_matrix((w, (u, v)), shape=(n, n)).tocsr()
    return (g + g.T).tocsr()


def build_routes(
    geo: Geography, beat: npt.NDArray[np.int64], n_inspectors: int, cfg: DemoConfig, rng: np.random.Generator
) -> list[Route]:
    """Loops for inspectors ``0 … n_inspectors-1`` (``beat`` gives the inspector of each cell row)."""
    cells = geo.cells["cell"].to_numpy()
    e_idx, sx, sy = edge_samples(geo.edges, geo.nodes, 10.0)
    lat, lon = geo.frame.to_latlon(sx, sy)
    h = _h3.latlng_to_cells(lat, lon, cfg.h3_res)
    pos = np.clip(np.searchsorted(cells, h), 0, len(cells) - 1)
    owner = np.where(cells[pos] == h, beat[pos], -1)
    g = street_graph(geo)
    u_all, v_all = geo.edges["u"].to_numpy(), geo.edges["v"].to_numpy()
    nx_, ny_ = geo.nodes["x"].to_numpy(), geo.nodes["y"].to_numpy()
    routes = []
    for i in range(n_inspectors):
        mine = np.unique(e_idx[owner == i])
        nodes = _loop_nodes(g, u_all[mine], v_all[mine], rng)
        routes.append(_route(nx_[nodes], ny_[nodes]))
    _fill_lookup(routes, geo, cfg)
    return routes


def _loop_nodes(g: sp.csr_matrix, u: np.ndarray, v: np.ndarray, rng: np.random.Generator) -> list[int]:
    """Node sequence of a closed walk passing every street (u, v) twice, pieces joined by shortest paths."""
    nodes = np.unique(np.concatenate([u, v]))
    iu, iv = np.searchsorted(nodes, u), np.searchsorted(nodes, v)
    sub = sp.coo_matrix((np.ones(len(u)), (iu, iv)), shape=(len(nodes), len(nodes)))
    n_comp, label = connected_components(sub, directed=False)
    comps = sorted((nodes[label == c] for c in range(n_comp)), key=lambda c: (-len(c), int(c[0])))
    eu, ev = u.tolist(), v.tolist()
    if n_comp > 1:
        source = int(comps[0][0])
        _, pred = dijkstra(g, directed=False, indices=source, return_predecessors=True)
        for comp in comps[1:]:
            path = [int(comp[0])]
            while path[-1] != source:
                if pred[path[-1]] < 0:
                    msg = f"street node {comp[0]} cannot be reached from node {source}: the network is split"
                    raise RuntimeError(msg)
                path.append(int(pred[path[-1]]))
            for a, b in itertools.pairwise(path[::-1]):
                eu.append(a)
                ev.append(b)
    all_nodes = sorted(set(eu) | set(ev))
    start = all_nodes[int(rng.integers(len(all_nodes)))]
    return _eulerian_circuit(eu + eu, ev + ev, start)


def _eulerian_circuit(eu: list[int], ev: list[int], start: int) -> list[int]:
    """Hierholzer's algorithm: nodes of a closed walk using every edge ``(eu[k], ev[k])`` once.

    Every node must have even degree and the edges must be connected (true for doubled, joined streets).
    """
    adj: dict[int, list[int]] = defaultdict(list)
    for k, (a, b) in enumerate(zip(eu, ev, strict=True)):
        adj[a].append(k)
        adj[b].append(k)
    used = bytearray(len(eu))
    nxt: dict[int, int] = defaultdict(int)
    stack, out = [start], []
    while stack:
        x = stack[-1]
        edges, k = adj[x], nxt[x]
        while k < len(edges) and used[edges[k]]:
            k += 1
        nxt[x] = k
        if k == len(edges):
            out.append(stack.pop())
        else:
            e = edges[k]
            used[e] = 1
            stack.append(ev[e] if eu[e] == x else eu[e])
    return out[::-1]


def _route(x: np.ndarray, y: np.ndarray) -> Route:
    seg = np.hypot(np.diff(x), np.diff(y))
    return Route(x, y, np.concatenate([[0.0], np.cumsum(seg)]), np.empty(0, dtype=np.int64))


def _fill_lookup(routes: list[Route], geo: Geography, cfg: DemoConfig) -> None:
    """One vectorised cell lookup for the points every 5 m along all loops."""
    cells = geo.cells["cell"].to_numpy()
    pts = []
    for r in routes:
        s = np.arange(0.0, r.length_m, LOOKUP_STEP_M) + LOOKUP_STEP_M / 2
        pts.append((np.interp(s, r.cum_m, r.x), np.interp(s, r.cum_m, r.y)))
    x = np.concatenate([p[0] for p in pts])
    y = np.concatenate([p[1] for p in pts])
    lat, lon = geo.frame.to_latlon(x, y)
    h = _h3.latlng_to_cells(lat, lon, cfg.h3_res)
    pos = np.clip(np.searchsorted(cells, h), 0, len(cells) - 1)
    idx = np.where(cells[pos] == h, pos, -1)
    start = 0
    for r, p in zip(routes, pts, strict=True):
        r.lookup_cell = idx[start : start + len(p[0])]
        start += len(p[0])
