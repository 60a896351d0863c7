"""Contiguous, nested partitions of a set of polygons (blocks or cells) into regions, with codes and names.

Regions grow from seeds along the adjacency graph (multi-source Dijkstra with random edge weights), so
every region is connected and nested regions never cross their parent's boundary.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

#: Nantong district-level units (GB/T 2260 codes; 320671 is the statistical code of the development zone).
DISTRICTS: tuple[tuple[str, str], ...] = (
    ("320613", "崇川区"),
    ("320612", "通州区"),
    ("320671", "南通经济技术开发区"),
    ("320614", "海门区"),
)
SUBDISTRICT_NAMES: dict[str, tuple[str, ...]] = {
    "320613": (
        "和平桥街道",
        "城东街道",
        "任港街道",
        "新城桥街道",
        "虹桥街道",
        "学田街道",
        "钟秀街道",
        "文峰街道",
        "观音山街道",
        "狼山镇街道",
        "唐闸镇街道",
        "天生港镇街道",
        "秦灶街道",
        "陈桥街道",
    ),
    "320612": ("金沙街道", "金新街道", "先锋街道", "兴东街道", "平潮街道", "兴仁街道", "张芝山街道"),
    "320671": ("中兴街道", "新开街道", "竹行街道", "小海街道", "江海街道"),
    "320614": ("海门街道", "三厂街道", "滨江街道", "三星街道", "正余街道"),
}
COMMUNITY_WORDS: tuple[str, ...] = (
    "桃园",
    "北濠",
    "南川",
    "青年",
    "人民",
    "跃龙",
    "永兴",
    "光明",
    "新华",
    "友谊",
    "园林",
    "濠东",
    "濠西",
    "八里",
    "星湖",
    "紫琅",
    "学田",
    "长桥",
    "孩儿巷",
    "江海",
    "天生",
    "秦灶",
    "五一",
    "文峰",
    "城山",
    "虹桥",
    "钟秀",
    "东大",
    "西大",
    "南大",
    "北大",
    "芦泾",
    "任港",
    "幸福",
    "通京",
    "青山",
    "洪江",
    "朝晖",
    "易家桥",
    "姚港",
    "盘香",
    "唐闸",
    "陈桥",
    "瑞丰",
    "闸西",
    "十里坊",
    "永和",
    "金桥",
    "华强",
    "新桥",
)


def grow_regions(
    adj: sp.csr_matrix,
    seeds: npt.NDArray[np.int64],
    rng: np.random.Generator,
    *,
    mask: npt.NDArray[np.bool_] | None = None,
) -> npt.NDArray[np.int64]:
    """Label each node with the index of its nearest seed along ``adj`` with randomised edge weights.

    Parameters
    ----------
    adj
        Symmetric adjacency (n × n), nonzero = adjacent.
    seeds
        Node indices of the seeds.
    rng
        Random generator (edge weights).
    mask
        Nodes that take part (others get -1); the graph is restricted to them.

    Returns
    -------
    ndarray of int64, shape (n,)
        Seed index per node, -1 outside ``mask`` or unreachable.
    """
    n = adj.shape[0]
    coo = sp.triu(adj, k=1).tocoo()
    keep = np.ones(coo.nnz, dtype=bool) if mask is None else (mask[coo.row] & mask[coo.col])
    w = 1.0 + rng.random(int(keep.sum()))
    g = sp.coo_matrix((w, (coo.row[keep], coo.col[keep])), shape=(n, n)).tocsr()
    g = g + g.T
    _, _, sources = dijkstra(g, directed=False, indices=seeds, min_only=True, return_predecessors=True)
    labels = np.full(n, -1, dtype=np.int64)
    lookup = {int(s): k for k, s in enumerate(seeds)}
    ok = sources >= 0
    labels[ok] = np.array([lookup[int(s)] for s in sources[ok]], dtype=np.int64)
    if mask is not None:
        labels[~mask] = -1
    return labels


def spread_seeds(
    xy: npt.NDArray[np.float64], k: int, rng: np.random.Generator, *, first: int | None = None
) -> npt.NDArray[np.int64]:
    """``k`` well-spread node indices by farthest-point sampling (random first point unless given)."""
    n = len(xy)
    k = min(k, n)
    chosen = [int(rng.integers(n)) if first is None else int(first)]
    d = np.hypot(*(xy - xy[chosen[0]]).T)
    for _ in range(1, k):
        nxt = int(np.argmax(d))
        chosen.append(nxt)
        d = np.minimum(d, np.hypot(*(xy - xy[nxt]).T))
    return np.array(chosen, dtype=np.int64)


def split_counts(total: int, weights: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Split ``total`` into integers ≥ 1 proportional to ``weights`` (largest remainder)."""
    w = np.asarray(weights, dtype=float)
    raw = total * w / w.sum()
    out = np.maximum(np.floor(raw).astype(np.int64), 1)
    while out.sum() < total:
        out[int(np.argmax(raw - out))] += 1
    while out.sum() > total and (out > 1).any():
        cand = np.where(out > 1, out - raw, -np.inf)
        out[int(np.argmax(cand))] -= 1
    return out


def nested_partition(
    adj: sp.csr_matrix,
    xy: npt.NDArray[np.float64],
    sizes: tuple[int, int, int],
    rng: np.random.Generator,
    *,
    first_seed: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Three nested contiguous partitions (district, subdistrict, community) of the nodes.

    Returns global region indices per node for each level; subdistrict and community indices are
    numbered consecutively inside their parent.
    """
    n_d, n_s, n_c = sizes
    district = grow_regions(adj, spread_seeds(xy, n_d, rng, first=first_seed), rng)
    sub = np.full(len(xy), -1, dtype=np.int64)
    com = np.full(len(xy), -1, dtype=np.int64)
    d_sizes = np.bincount(district, minlength=n_d)
    s_per_d = split_counts(n_s, d_sizes)
    next_s = 0
    for d in range(n_d):
        next_s = _split_level(adj, xy, district == d, int(s_per_d[d]), rng, sub, next_s)
    s_sizes = np.bincount(sub, minlength=next_s)
    c_per_s = split_counts(n_c, s_sizes)
    next_c = 0
    for s in range(next_s):
        next_c = _split_level(adj, xy, sub == s, int(c_per_s[s]), rng, com, next_c)
    return district, sub, com


def _split_level(
    adj: sp.csr_matrix,
    xy: npt.NDArray[np.float64],
    mask: npt.NDArray[np.bool_],
    k: int,
    rng: np.random.Generator,
    out: npt.NDArray[np.int64],
    offset: int,
) -> int:
    idx = np.flatnonzero(mask)
    seeds = idx[spread_seeds(xy[idx], k, rng)]
    labels = grow_regions(adj, seeds, rng, mask=mask)
    used = np.unique(labels[mask])
    used = used[used >= 0]
    remap = np.full(k, -1, dtype=np.int64)
    remap[used] = offset + np.arange(len(used))
    out[mask] = np.where(labels[mask] >= 0, remap[np.maximum(labels[mask], 0)], offset)
    return offset + max(len(used), 1)


def subdistrict_name(county: str, k: int) -> str:
    """Name of the ``k``-th subdistrict of a district (real 街道 names first)."""
    names = SUBDISTRICT_NAMES.get(county, ())
    return names[k] if k < len(names) else f"第{k + 1}街道"


def community_names(n: int, rng: np.random.Generator) -> list[str]:
    """``n`` distinct community names (社区)."""
    words = list(COMMUNITY_WORDS)
    order = rng.permutation(len(words))
    out = []
    for i in range(n):
        base = words[order[i % len(words)]]
        out.append(f"{base}社区" if i < len(words) else f"{base}{i // len(words) + 1}社区")
    return out


def lloyd_regions(
    adj: sp.csr_matrix,
    xy: npt.NDArray[np.float64],
    mask: npt.NDArray[np.bool_],
    k: int,
    rng: np.random.Generator,
    *,
    iterations: int = 4,
) -> npt.NDArray[np.int64]:
    """Contiguous regions of the ``mask`` nodes grown from seeds moved to their region's centre a few times.

    The Lloyd-style iterations even out region sizes compared with plain farthest-point seeds.
    """
    idx = np.flatnonzero(mask)
    seeds = idx[spread_seeds(xy[idx], k, rng)]
    labels = grow_regions(adj, seeds, rng, mask=mask)
    for _ in range(iterations):
        new = []
        for q in range(len(seeds)):
            members = np.flatnonzero(labels == q)
            if len(members) == 0:
                new.append(seeds[q])
                continue
            centre = xy[members].mean(axis=0)
            new.append(members[int(np.argmin(np.hypot(*(xy[members] - centre).T)))])
        seeds = np.array(new, dtype=np.int64)
        labels = grow_regions(adj, seeds, rng, mask=mask)
    return labels
