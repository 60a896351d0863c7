"""The demo city's address / POI table: house numbers along its streets and a few schools, markets, parks.

Every east–west lattice line is a street named ``<stem>路`` (arterials) or ``<stem>街`` (local streets);
every north–south line ``<stem>大道`` (arterials) or ``<stem>巷``. Along each street segment (one block side)
two house numbers are placed at the segment's midpoint, 15 m to either side (odd numbers on the north or
east side, even on the other), numbered in the street's direction: ``人民路17号``. Points of interest sit at
block centres: every market block is a ``<stem>农贸市场``, every park block a ``<stem>公园``, and one
residential or old-town block in :data:`SCHOOL_EVERY` a ``<stem>小学``; their address is the house number
of the block's southern street. Deterministic (no randomness): the same geography gives the same table.

Written by :func:`write_addresses` as ``geo/addresses.csv`` (``name``, ``address``, ``kind``, ``lat``,
``lon`` WGS-84), imported by the demo loader with :func:`cases.addresses.import_addresses`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.geography import Geography
from sim.write import write_csv

__all__ = ["SCHOOL_EVERY", "build_addresses", "street_names", "write_addresses"]

#: One school per this many residential / old-town blocks.
SCHOOL_EVERY = 25
#: Distance of a house number from the street's centre line (m).
SIDE_OFFSET_M = 15.0
_STEM_TEXT = (
    "人民 青年 工农 城山 濠西 濠东 崇川 钟秀 文峰 跃龙 通京 世纪 长江 园林 学田 虹桥 任港 观音 狼山 唐闸 "
    "天生 秦灶 永兴 新城 八一 南大 北濠 西寺 东大 中心 光明 和平 建设 解放 胜利 友谊 团结 幸福 复兴 "
    "振兴 朝阳 桃园 桂花 海港 海洲 星湖 紫琅 通甲 江海 通盛 钟楼 环城 寺街 段家 城港 易家 越江 洪江 "
    "姚港 芦泾 孩儿 通富 东港 西港 南川 北川 兴富 兴仁 兴隆 陈桥 平潮 刘桥 石港 金沙 二甲 余西 川港"
)
_STEMS = tuple(_STEM_TEXT.split())


def street_names(count: int, offset: int, arterial: np.ndarray, major: str, minor: str) -> list[str]:
    """Names of ``count`` parallel streets: a stem (taken from ``offset`` on) and the major / minor type."""
    names = []
    for k in range(count):
        stem = _STEMS[(offset + k) % len(_STEMS)]
        round_ = (offset + k) // len(_STEMS)
        if round_:
            stem += "一二三四五六七八九"[round_ % 9]
        names.append(stem + (major if arterial[k] else minor))
    return names


def build_addresses(geo: Geography) -> pd.DataFrame:
    """The demo city's address table: ``name``, ``address``, ``kind`` (address | poi), ``lat``, ``lon``."""
    nodes = geo.nodes.set_index("node")
    n_i, n_j = int(nodes["i"].max()) + 1, int(nodes["j"].max()) + 1
    edges = geo.edges
    u = nodes.loc[edges["u"].to_numpy()]
    v = nodes.loc[edges["v"].to_numpy()]
    along_x = u["j"].to_numpy() == v["j"].to_numpy()  # an east-west segment (i → i + 1 at fixed j)
    art_j = _arterial_lines(edges, along_x, u["j"].to_numpy(), n_j)
    art_i = _arterial_lines(edges, ~along_x, u["i"].to_numpy(), n_i)
    ew = street_names(n_j, 0, art_j, "路", "街")
    ns = street_names(n_i, n_j, art_i, "大道", "巷")
    ux, uy, vx, vy = u["x"].to_numpy(), u["y"].to_numpy(), v["x"].to_numpy(), v["y"].to_numpy()
    mx, my = (ux + vx) / 2, (uy + vy) / 2
    length = np.hypot(vx - ux, vy - uy)
    # unit normal pointing north (east-west street) or east (north-south street)
    nx_, ny_ = -(vy - uy) / length, (vx - ux) / length
    flip = np.where(along_x, ny_ < 0, nx_ < 0)
    nx_, ny_ = np.where(flip, -nx_, nx_), np.where(flip, -ny_, ny_)
    position = np.where(along_x, u["i"].to_numpy(), u["j"].to_numpy())
    street = [ew[j] if ax else ns[i] for ax, i, j in zip(along_x, u["i"], u["j"], strict=True)]
    rows = []
    for side, sign in ((1, 1.0), (2, -1.0)):
        number = 2 * position + side
        x, y = mx + sign * SIDE_OFFSET_M * nx_, my + sign * SIDE_OFFSET_M * ny_
        lat, lon = geo.frame.to_latlon(x, y)
        rows.append(
            pd.DataFrame(
                {
                    "name": None,
                    "address": [f"{s}{n}号" for s, n in zip(street, number, strict=True)],
                    "kind": "address",
                    "lat": lat,
                    "lon": lon,
                }
            )
        )
    rows.append(_pois(geo, ew, ns))
    table = pd.concat(rows, ignore_index=True).drop_duplicates(["name", "address"], keep="first")
    table["lat"] = table["lat"].round(7)
    table["lon"] = table["lon"].round(7)
    return table.reset_index(drop=True)


def _arterial_lines(edges: pd.DataFrame, on: np.ndarray, line: np.ndarray, count: int) -> np.ndarray:
    out = np.zeros(count, dtype=bool)
    arterial = on & (edges["kind"].to_numpy() == "arterial")
    out[np.unique(line[arterial])] = True
    return out


def _pois(geo: Geography, ew: list[str], ns: list[str]) -> pd.DataFrame:
    blocks = geo.blocks
    centre = blocks.geometry.centroid
    lat, lon = geo.frame.to_latlon(centre.x.to_numpy(), centre.y.to_numpy())
    landuse = blocks["landuse"].to_numpy()
    homes = np.isin(landuse, ("residential", "old_town"))
    school = homes & (np.cumsum(homes) % SCHOOL_EVERY == 1)
    kinds = {"market": "农贸市场", "park": "公园"}
    used: dict[str, int] = {}
    rows = []
    for k, (i, j) in enumerate(zip(blocks["i"].to_numpy(), blocks["j"].to_numpy(), strict=True)):
        suffix = "小学" if school[k] else kinds.get(str(landuse[k]))
        if suffix is None:
            continue
        stem = ns[i] if suffix == "公园" else ew[j]
        name = stem[:2] + suffix
        used[name] = used.get(name, 0) + 1
        if used[name] > 1:
            name = f"{stem[:2]}第{'一二三四五六七八九十'[min(used[name], 10) - 1]}{suffix}"
        rows.append(
            {"name": name, "address": f"{ew[j]}{2 * i + 1}号", "kind": "poi", "lat": lat[k], "lon": lon[k]}
        )
    return pd.DataFrame(rows, columns=["name", "address", "kind", "lat", "lon"])


def write_addresses(geo: Geography, path: Path) -> Path:
    """Write :func:`build_addresses` as CSV (UTF-8) to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_csv(build_addresses(geo), path)
