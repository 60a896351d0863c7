"""Each inspector's intended patrol loop: a closed walk over every street of the beat, as a polyline.

The beat's streets (edges with any point in one of the beat's cells) are doubled, so every node has even
degree, and walked as an Eulerian circuit: each street is passed twice per loop. Pieces of the beat that the
street graph does not connect are joined by shortest paths. The loop is precomputed once; tracks then only
interpolate along its cumulative distance (:mod:`sim.tracks`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import networkx as nx
import numpy as np
import numpy.typing as npt

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


def street_graph(geo: Geography) -> nx.Graph:
    """The street network as an undirected networkx graph (node ids, ``length_m`` and ``kind`` on edges)."""
    g = nx.Graph()
    e = geo.edges
    g.add_nodes_from(geo.nodes["node"].tolist())
    g.add_weighted_edges_from(
        zip(e["u"].tolist(), e["v"].tolist(), e["length_m"].tolist(), strict=True), weight="length_m"
    )
    return g


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


def _loop_nodes(g: nx.Graph, u: np.ndarray, v: np.ndarray, rng: np.random.Generator) -> list[int]:
    m = nx.MultiGraph()
    for a, b in zip(u.tolist(), v.tolist(), strict=True):
        m.add_edge(a, b)
        m.add_edge(a, b)
    comps = [sorted(c) for c in nx.connected_components(m)]
    comps.sort(key=lambda c: (-len(c), c[0]))
    for comp in comps[1:]:
        path = nx.shortest_path(g, comps[0][0], comp[0], weight="length_m")
        for a, b in itertools.pairwise(path):
            m.add_edge(a, b)
            m.add_edge(a, b)
    start = sorted(m.nodes)[int(rng.integers(m.number_of_nodes()))]
    circuit = list(nx.eulerian_circuit(m, source=start))
    return [circuit[0][0], *[b for _, b in circuit]]


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
