"""The demo city's geography: street lattice, blocks, river, land use, admin areas, unit grids, H3 cells.

Everything is built in a local metric frame (metres east/north of the city centre, a linear map of WGS-84
degrees, see :class:`LocalFrame`) and converted to WGS-84 at the edges. Blocks are the quadrilaterals of a
jittered street lattice, so blocks, communities, subdistricts, districts and unit grids tile the city
exactly: they are unions or subdivisions of the same quads with shared vertices.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
import shapely

from sim import _h3, regions
from sim.config import DemoConfig

_A = 6378137.0
_E2 = 0.00669437999014
LANDUSES = ("old_town", "market", "residential", "new_development", "construction", "industrial", "park")
#: Residents per km² by land use.
DENSITY = {
    "old_town": 24000,
    "market": 16000,
    "residential": 18000,
    "new_development": 6000,
    "construction": 0,
    "industrial": 1500,
    "park": 300,
}


@dataclass(frozen=True)
class LocalFrame:
    """Linear map between WGS-84 degrees and metres east (x) / north (y) of (``lat0``, ``lon0``)."""

    lat0: float
    lon0: float

    @property
    def m_per_deg(self) -> tuple[float, float]:
        """(metres per degree of latitude, metres per degree of longitude) at ``lat0``."""
        s = np.sin(np.radians(self.lat0))
        w = 1.0 - _E2 * s * s
        m = _A * (1 - _E2) / w**1.5 * np.pi / 180
        n = _A / np.sqrt(w) * np.cos(np.radians(self.lat0)) * np.pi / 180
        return float(m), float(n)

    def to_latlon(self, x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """(lat, lon) of local metres."""
        my, mx = self.m_per_deg
        return self.lat0 + np.asarray(y) / my, self.lon0 + np.asarray(x) / mx

    def to_xy(self, lat: npt.ArrayLike, lon: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) local metres of WGS-84 points."""
        my, mx = self.m_per_deg
        return (np.asarray(lon) - self.lon0) * mx, (np.asarray(lat) - self.lat0) * my

    def geoms_to_wgs84(self, geoms: npt.ArrayLike) -> np.ndarray:
        """Shapely geometries from local metres to lon/lat (x = lon, y = lat)."""
        my, mx = self.m_per_deg
        return shapely.transform(
            np.asarray(geoms), lambda c: np.column_stack([self.lon0 + c[:, 0] / mx, self.lat0 + c[:, 1] / my])
        )


@dataclass
class Geography:
    """The built city. Frames in local metres unless the name says ``wgs84``."""

    frame: LocalFrame
    nodes: pd.DataFrame  # node, x, y, i, j
    edges: pd.DataFrame  # u, v, kind, length_m
    blocks: (
        gpd.GeoDataFrame
    )  # block_id, i, j, landuse, population, open_day, district, subdistrict, community
    river: shapely.Polygon
    city: shapely.Polygon
    areas: dict[str, gpd.GeoDataFrame]  # level -> code, name, parent_code, geometry (wgs84), area_m2
    unit_grids: gpd.GeoDataFrame  # unit_grid, community, geometry (wgs84), area_m2, block_id
    cells: pd.DataFrame  # cell, lat, lon, x, y, block_id, district, subdistrict, community, unit_grid, ...


def build_geography(cfg: DemoConfig, rng: np.random.Generator) -> Geography:
    """Build the whole geography of the demo city from the configuration."""
    frame = LocalFrame(cfg.center_lat, cfg.center_lon)
    side = float(np.sqrt(cfg.area_km2) * 1000.0)
    nodes, gx, gy, art_i, art_j = _lattice(cfg, side, rng)
    city = _city_polygon(gx, gy)
    river = _river(side, rng).intersection(city)
    edges = _edges(gx, gy, art_i, art_j, river)
    blocks = _blocks(gx, gy)
    _landuse(blocks, river, cfg, rng)
    _admin(blocks, cfg, rng)
    areas = _areas(blocks, frame, rng)
    units = _unit_grids(blocks, frame, cfg)
    cells = _cells(city, blocks, units, edges, nodes, frame, cfg)
    return Geography(frame, nodes, edges, blocks, river, city, areas, units, cells)


def _lattice(cfg: DemoConfig, side: float, rng: np.random.Generator):
    lo, hi = cfg.block_min_m + 30.0, cfg.block_max_m - 60.0

    def lines() -> npt.NDArray[np.float64]:
        steps = rng.uniform(lo, hi, size=int(side / lo) + 2)
        pos = np.concatenate([[0.0], np.cumsum(steps)])
        pos = pos[pos <= side + lo / 2]
        pos = pos * (side / pos[-1])
        return pos - side / 2

    xs, ys = lines(), lines()
    art_i = np.zeros(len(xs), dtype=bool)
    art_i[:: cfg.arterial_every] = True
    art_i[-1] = True
    art_j = np.zeros(len(ys), dtype=bool)
    art_j[:: cfg.arterial_every] = True
    art_j[-1] = True
    jit = 0.08 * cfg.block_min_m
    gx = xs[:, None] + rng.uniform(-jit, jit, (len(xs), len(ys))) * ~art_i[:, None]
    gy = ys[None, :] + rng.uniform(-jit, jit, (len(xs), len(ys))) * ~art_j[None, :]
    ii, jj = np.meshgrid(np.arange(len(xs)), np.arange(len(ys)), indexing="ij")
    nodes = pd.DataFrame(
        {"node": np.arange(ii.size), "x": gx.ravel(), "y": gy.ravel(), "i": ii.ravel(), "j": jj.ravel()}
    )
    return nodes, gx, gy, art_i, art_j


def _city_polygon(gx: np.ndarray, gy: np.ndarray) -> shapely.Polygon:
    ring = np.concatenate(
        [
            np.column_stack([gx[:, 0], gy[:, 0]]),
            np.column_stack([gx[-1, 1:], gy[-1, 1:]]),
            np.column_stack([gx[-2::-1, -1], gy[-2::-1, -1]]),
            np.column_stack([gx[0, -2:0:-1], gy[0, -2:0:-1]]),
        ]
    )
    return shapely.Polygon(ring)


def _river(side: float, rng: np.random.Generator) -> shapely.Polygon:
    x = np.linspace(-side, side, 200)
    phase = rng.uniform(0, 2 * np.pi)
    y = -0.22 * side + 0.03 * side * np.sin(2 * np.pi * x / (0.6 * side) + phase)
    return shapely.LineString(np.column_stack([x, y])).buffer(35.0, cap_style="flat")


def _edges(gx, gy, art_i, art_j, river) -> pd.DataFrame:
    nx_, ny_ = gx.shape
    idx = np.arange(nx_ * ny_).reshape(nx_, ny_)
    # edges along x (between i and i+1 at fixed j): arterial when row j is an arterial line
    u1, v1 = idx[:-1, :].ravel(), idx[1:, :].ravel()
    k1 = np.broadcast_to(art_j[None, :], (nx_ - 1, ny_)).ravel()
    u2, v2 = idx[:, :-1].ravel(), idx[:, 1:].ravel()
    k2 = np.broadcast_to(art_i[:, None], (nx_, ny_ - 1)).ravel()
    u, v = np.concatenate([u1, u2]), np.concatenate([v1, v2])
    art = np.concatenate([k1, k2])
    x, y = gx.ravel(), gy.ravel()
    lines = shapely.linestrings(np.stack([np.column_stack([x[u], y[u]]), np.column_stack([x[v], y[v]])], 1))
    crosses = shapely.intersects(lines, river)
    keep = art | ~crosses
    length = np.hypot(x[u] - x[v], y[u] - y[v])
    return pd.DataFrame(
        {
            "u": u[keep],
            "v": v[keep],
            "kind": np.where(art[keep], "arterial", "local"),
            "bridge": crosses[keep],
            "length_m": length[keep],
        }
    ).reset_index(drop=True)


def _blocks(gx: np.ndarray, gy: np.ndarray) -> gpd.GeoDataFrame:
    nx_, ny_ = gx.shape
    ii, jj = np.meshgrid(np.arange(nx_ - 1), np.arange(ny_ - 1), indexing="ij")
    ii, jj = ii.ravel(), jj.ravel()
    corners = [(ii, jj), (ii + 1, jj), (ii + 1, jj + 1), (ii, jj + 1), (ii, jj)]
    coords = np.stack([np.column_stack([gx[a, b], gy[a, b]]) for a, b in corners], axis=1)
    geom = shapely.polygons(coords)
    return gpd.GeoDataFrame(
        {"block_id": np.arange(len(ii)), "i": ii, "j": jj, "area_m2": shapely.area(geom)}, geometry=geom
    )


def _landuse(blocks: gpd.GeoDataFrame, river, cfg: DemoConfig, rng: np.random.Generator) -> None:
    c = shapely.centroid(blocks.geometry.values)
    x, y = shapely.get_x(c), shapely.get_y(c)
    side = np.sqrt(cfg.area_km2) * 1000.0
    r = np.hypot(x, y)
    n = len(blocks)
    lu = np.full(n, "residential", dtype=object)
    lu[r < 0.13 * side] = "old_town"
    lu[(x < -0.15 * side) & (y > 0.15 * side) & (r > 0.25 * side)] = "industrial"
    newdev = ((x > 0.2 * side) | (y < -0.28 * side)) & (r > 0.42 * side) & (lu != "industrial")
    lu[newdev] = "new_development"
    lu[shapely.distance(c, river) < 60.0] = "park"
    lu[(rng.random(n) < 0.04) & (lu != "industrial")] = "park"
    cand = np.flatnonzero(lu == "new_development")
    k_con = min(len(cand), max(4, n // 250))
    con = rng.choice(cand, size=k_con, replace=False) if len(cand) else np.empty(0, int)
    lu[con] = "construction"
    open_day = np.full(n, -1, dtype=np.int64)
    late = rng.random(len(con)) < 0.5
    open_day[con] = np.where(late, (cfg.days * rng.uniform(0.35, 0.6, len(con))).astype(int), 0)
    cand = np.flatnonzero(np.isin(lu, ["old_town", "residential"]))
    k_mkt = min(len(cand), max(4, n // 400))
    mkt = rng.choice(cand, size=k_mkt, replace=False, p=_w(1.0 / (1.0 + r[cand] / 1000.0)))
    lu[mkt] = "market"
    dens = np.array([DENSITY[v] for v in lu], dtype=float)
    blocks["landuse"] = lu.astype(str)
    blocks["open_day"] = open_day
    blocks["population"] = np.round(
        dens * blocks["area_m2"].to_numpy() / 1e6 * rng.lognormal(0.0, 0.3, n)
    ).astype(np.int64)


def _w(v: np.ndarray) -> np.ndarray:
    return v / v.sum()


def _block_adjacency(blocks: gpd.GeoDataFrame) -> sp.csr_matrix:
    ni, nj = int(blocks["i"].max()) + 1, int(blocks["j"].max()) + 1
    idx = np.arange(ni * nj).reshape(ni, nj)
    a = np.concatenate([idx[:-1, :].ravel(), idx[:, :-1].ravel()])
    b = np.concatenate([idx[1:, :].ravel(), idx[:, 1:].ravel()])
    m = sp.coo_matrix((np.ones(len(a)), (a, b)), shape=(ni * nj, ni * nj)).tocsr()
    return m + m.T


def _admin(blocks: gpd.GeoDataFrame, cfg: DemoConfig, rng: np.random.Generator) -> None:
    c = shapely.centroid(blocks.geometry.values)
    xy = np.column_stack([shapely.get_x(c), shapely.get_y(c)])
    first = int(np.argmin(np.hypot(xy[:, 0], xy[:, 1])))
    n_d = min(cfg.n_districts, len(regions.DISTRICTS))
    d, s, k = regions.nested_partition(
        _block_adjacency(blocks), xy, (n_d, cfg.n_subdistricts, cfg.n_communities), rng, first_seed=first
    )
    county = np.array([regions.DISTRICTS[i][0] for i in range(n_d)])
    blocks["district"] = county[d]
    # codes: subdistrict = county + 3 digits (001…), community = subdistrict + 3 digits (001…)
    s_first_block = pd.Series(np.arange(len(s))).groupby(s).min()
    s_d = d[s_first_block.to_numpy()]
    s_seq = pd.Series(s_d).groupby(s_d).cumcount().to_numpy() + 1
    s_code = np.array([f"{county[dd]}{q:03d}" for dd, q in zip(s_d, s_seq, strict=True)])
    blocks["subdistrict"] = s_code[s]
    k_first = pd.Series(np.arange(len(k))).groupby(k).min()
    k_s = s[k_first.to_numpy()]
    k_seq = pd.Series(k_s).groupby(k_s).cumcount().to_numpy() + 1
    k_code = np.array([f"{s_code[ss]}{q:03d}" for ss, q in zip(k_s, k_seq, strict=True)])
    blocks["community"] = k_code[k]


def _areas(blocks: gpd.GeoDataFrame, frame: LocalFrame, rng: np.random.Generator) -> dict:
    names_d = dict(regions.DISTRICTS)
    out: dict[str, gpd.GeoDataFrame] = {}
    geoms = blocks.geometry.values
    for level, parent in (("district", None), ("subdistrict", "district"), ("community", "subdistrict")):
        codes = np.sort(blocks[level].unique())
        polys = [shapely.coverage_union_all(geoms[(blocks[level] == code).to_numpy()]) for code in codes]
        if level == "district":
            names = [names_d[c] for c in codes]
            parents = [None] * len(codes)
        elif level == "subdistrict":
            names = [regions.subdistrict_name(c[:6], int(c[6:]) - 1) for c in codes]
            parents = [c[:6] for c in codes]
        else:
            names = regions.community_names(len(codes), rng)
            parents = [c[:9] for c in codes]
        del parent
        local = np.array(polys, dtype=object)
        out[level] = gpd.GeoDataFrame(
            {
                "code": codes,
                "name": names,
                "parent_code": parents,
                "level": level,
                "area_m2": shapely.area(local),
            },
            geometry=frame.geoms_to_wgs84(local),
            crs="EPSG:4326",
        )
    return out


def _unit_grids(blocks: gpd.GeoDataFrame, frame: LocalFrame, cfg: DemoConfig) -> gpd.GeoDataFrame:
    """Subdivide each block quad bilinearly into ~``unit_grid_m2`` cells, coded per community."""
    unit = np.sqrt(cfg.unit_grid_m2)
    polys, comm, bid = [], [], []
    # one subdivision count per lattice column (na) and row (nb): neighbouring blocks then cut their shared
    # street edge at the same points, so there are no T-junctions and the unit grids tile exactly
    bounds = shapely.bounds(blocks.geometry.values)
    na_col = np.maximum(
        1, np.round(pd.Series(bounds[:, 2] - bounds[:, 0]).groupby(blocks["i"].to_numpy()).mean() / unit)
    ).astype(int)
    nb_row = np.maximum(
        1, np.round(pd.Series(bounds[:, 3] - bounds[:, 1]).groupby(blocks["j"].to_numpy()).mean() / unit)
    ).astype(int)
    for geom, code, b, bi, bj in zip(
        blocks.geometry.values, blocks["community"], blocks["block_id"], blocks["i"], blocks["j"], strict=True
    ):
        p = np.asarray(geom.exterior.coords)[:4]
        na, nb = int(na_col[bi]), int(nb_row[bj])
        u = np.linspace(0, 1, na + 1)[:, None, None]
        v = np.linspace(0, 1, nb + 1)[None, :, None]
        g = (1 - u) * (1 - v) * p[0] + u * (1 - v) * p[1] + u * v * p[2] + (1 - u) * v * p[3]
        q = np.stack([g[:-1, :-1], g[1:, :-1], g[1:, 1:], g[:-1, 1:], g[:-1, :-1]], axis=2)
        polys.append(shapely.polygons(q.reshape(-1, 5, 2)))
        comm.extend([code] * (na * nb))
        bid.extend([b] * (na * nb))
    local = np.concatenate(polys)
    c = shapely.centroid(local)
    df = pd.DataFrame(
        {
            "community": comm,
            "block_id": bid,
            "row": -np.round(shapely.get_y(c) / unit),
            "x": shapely.get_x(c),
            "k": np.arange(len(local)),
        }
    )
    df = df.sort_values(["community", "row", "x"], kind="stable")
    seq = df.groupby("community").cumcount().to_numpy() + 1
    code = df["community"].to_numpy().astype(str) + np.char.zfill(seq.astype(str), 3)
    order = df["k"].to_numpy()
    return gpd.GeoDataFrame(
        {
            "unit_grid": code,
            "community": df["community"].to_numpy(),
            "block_id": df["block_id"].to_numpy(),
            "area_m2": shapely.area(local[order]),
        },
        geometry=frame.geoms_to_wgs84(local[order]),
        crs="EPSG:4326",
    )


def edge_samples(edges: pd.DataFrame, nodes: pd.DataFrame, step_m: float = 5.0):
    """Points every ``step_m`` along each edge: (edge index, x, y)."""
    x, y = nodes["x"].to_numpy(), nodes["y"].to_numpy()
    u, v = edges["u"].to_numpy(), edges["v"].to_numpy()
    n = np.maximum(np.ceil(edges["length_m"].to_numpy() / step_m).astype(np.int64), 1)
    e = np.repeat(np.arange(len(edges)), n)
    start = np.repeat(np.cumsum(n) - n, n)
    t = (np.arange(n.sum()) - start + 0.5) / np.repeat(n, n)
    return e, x[u[e]] + t * (x[v[e]] - x[u[e]]), y[u[e]] + t * (y[v[e]] - y[u[e]])


def _cells(city, blocks, units, edges, nodes, frame: LocalFrame, cfg: DemoConfig) -> pd.DataFrame:
    cells = _h3.polygon_to_cells(frame.geoms_to_wgs84(np.array([city], dtype=object))[0], cfg.h3_res)
    lat, lon = _h3.cell_centers(cells)
    x, y = frame.to_xy(lat, lon)
    pts = shapely.points(x, y)
    tree = shapely.STRtree(blocks.geometry.values)
    pi, bi = tree.query(pts, predicate="intersects")
    first = pd.Series(bi).groupby(pi).min()
    block = np.full(len(cells), -1, dtype=np.int64)
    block[first.index.to_numpy()] = first.to_numpy()
    keep = block >= 0
    cells, lat, lon, x, y, block, pts = (
        cells[keep],
        lat[keep],
        lon[keep],
        x[keep],
        y[keep],
        block[keep],
        pts[keep],
    )
    ug_local = shapely.transform(
        units.geometry.values, lambda c: np.column_stack(frame.to_xy(c[:, 1], c[:, 0]))
    )
    pi, ui = shapely.STRtree(ug_local).query(pts, predicate="intersects")
    ug = pd.Series(ui).groupby(pi).min()
    unit_grid = np.full(len(cells), None, dtype=object)
    unit_grid[ug.index.to_numpy()] = units["unit_grid"].to_numpy()[ug.to_numpy()]
    _, sx, sy = edge_samples(edges, nodes, 5.0)
    slat, slon = frame.to_latlon(sx, sy)
    scell = _h3.latlng_to_cells(slat, slon, cfg.h3_res)
    pos = np.searchsorted(cells, scell)
    pos = np.clip(pos, 0, len(cells) - 1)
    hit = cells[pos] == scell
    street_m = np.bincount(pos[hit], minlength=len(cells)) * 5.0
    b = blocks.set_index("block_id").loc[block]
    return pd.DataFrame(
        {
            "cell": cells,
            "lat": lat,
            "lon": lon,
            "x": x,
            "y": y,
            "block_id": block,
            "district": b["district"].to_numpy(),
            "subdistrict": b["subdistrict"].to_numpy(),
            "community": b["community"].to_numpy(),
            "unit_grid": unit_grid,
            "landuse": b["landuse"].to_numpy(),
            "open_day": b["open_day"].to_numpy(),
            "population": b["population"].to_numpy() / np.maximum(np.bincount(block)[block], 1),
            "street_m": street_m,
        }
    )
