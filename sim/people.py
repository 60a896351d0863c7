"""Inspectors with contiguous beats inside one subdistrict, and departments by category and district."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from sim import _h3, regions
from sim.config import DemoConfig
from sim.geography import Geography

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建国红梅志斌海燕鹏飞宇浩然晨辉婷雪琳凯"


@dataclass
class People:
    """Inspectors, their beats (cell → inspector) and the departments table."""

    inspectors: pd.DataFrame  # inspector_id, name, district, subdistrict, active
    beat: npt.NDArray[np.int64]  # per row of geography.cells: index into inspectors, -1 unassigned
    departments: pd.DataFrame  # department_id, name, district, key


def cell_adjacency(cells: npt.NDArray[np.int64]) -> sp.csr_matrix:
    """Symmetric adjacency of H3 cells (shared edge)."""
    a, b = _h3.neighbour_pairs(cells)
    n = len(cells)
    return sp.coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n)).tocsr()


def build_people(geo: Geography, cfg: DemoConfig, rng: np.random.Generator) -> People:
    """Allocate inspectors to subdistricts by street length and grow one contiguous beat each.

    Cells of a subdistrict that are cut off from its main part (a cell or two at a ragged boundary) are
    left without an inspector, so every beat is one connected set of cells inside one subdistrict.
    """
    cells = geo.cells
    adj = cell_adjacency(cells["cell"].to_numpy())
    subs = np.sort(cells["subdistrict"].unique())
    load = cells.groupby("subdistrict")["street_m"].sum().reindex(subs).to_numpy() + 1.0
    per_sub = (
        regions.split_counts(cfg.n_inspectors, load)
        if cfg.n_inspectors >= len(subs)
        else _fewer(cfg.n_inspectors, load)
    )
    xy = cells[["x", "y"]].to_numpy()
    beat = np.full(len(cells), -1, dtype=np.int64)
    rows = []
    next_id = 0
    sub_arr = cells["subdistrict"].to_numpy()
    for s, k in zip(subs, per_sub, strict=True):
        if k == 0:
            continue
        mask = _main_component(adj, sub_arr == s)
        labels = regions.lloyd_regions(adj, xy, mask, int(k), rng)
        for q in range(int(k)):
            members = labels == q
            if not members.any():
                continue
            beat[members] = next_id
            rows.append(
                {
                    "inspector_id": f"NT{next_id + 1:04d}",
                    "name": _name(rng),
                    "district": s[:6],
                    "subdistrict": s,
                    "active": True,
                }
            )
            next_id += 1
    inspectors = pd.DataFrame(rows, columns=["inspector_id", "name", "district", "subdistrict", "active"])
    return People(inspectors, beat, _departments(geo, cfg))


def _fewer(n: int, load: np.ndarray) -> np.ndarray:
    out = np.zeros(len(load), dtype=np.int64)
    out[np.argsort(-load, kind="stable")[:n]] = 1
    return out


def _main_component(adj: sp.csr_matrix, mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    idx = np.flatnonzero(mask)
    _, lab = connected_components(adj[idx][:, idx], directed=False)
    main = np.bincount(lab).argmax()
    out = np.zeros_like(mask)
    out[idx[lab == main]] = True
    return out


def _name(rng: np.random.Generator) -> str:
    given = "".join(rng.choice(list(GIVEN), size=int(rng.integers(1, 3))))
    return str(rng.choice(list(SURNAMES))) + given


def _departments(geo: Geography, cfg: DemoConfig) -> pd.DataFrame:
    names = dict(regions.DISTRICTS)
    rows = [
        {"department_id": f"{d}-{key}", "name": f"{names[d]}{label}", "district": d, "key": key}
        for d in sorted(geo.cells["district"].unique())
        for key, label in cfg.departments
    ]
    return pd.DataFrame(rows)


def assignments_frame(people: People, geo: Geography, cfg: DemoConfig) -> pd.DataFrame:
    """Assignments in the contract's columns (cell as H3 hex string, valid_from UTC, valid_to empty)."""
    has = people.beat >= 0
    valid_from = pd.Timestamp(cfg.start).tz_localize(cfg.timezone).tz_convert("UTC")
    out = pd.DataFrame(
        {
            "inspector_id": people.inspectors["inspector_id"].to_numpy()[people.beat[has]],
            "cell": _h3.to_strings(geo.cells["cell"].to_numpy()[has]),
            "valid_from": valid_from.isoformat().replace("+00:00", "Z"),
            "valid_to": None,
        }
    )
    return out.sort_values(["inspector_id", "cell"], kind="stable").reset_index(drop=True)
