"""Planted hotspots: persistent, new, intensifying, diminishing, sporadic and oscillating patterns.

Each hotspot is a disc of cells (centre cell + cells within a radius) with one category and a multiplier
per simulated day; the periods where the multiplier is raised are the hotspot's active periods (truth).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from sim.config import DemoConfig
from sim.geography import Geography

PATTERNS = ("persistent", "new", "intensifying", "diminishing", "sporadic", "oscillating")


@dataclass
class Hotspot:
    """A planted hotspot: cells (row indices of geography.cells), one category, a daily multiplier."""

    hotspot_id: str
    pattern: str
    category: int
    cells: npt.NDArray[np.int64]
    multiplier: npt.NDArray[np.float64]  # (days,)
    note: str = ""


def _disc(geo: Geography, centre: int, radius_m: float) -> npt.NDArray[np.int64]:
    x, y = geo.cells["x"].to_numpy(), geo.cells["y"].to_numpy()
    near = np.hypot(x - x[centre], y - y[centre]) <= radius_m
    return np.flatnonzero(near & (geo.cells["street_m"].to_numpy() > 0))


def _pick(geo: Geography, landuses: tuple[str, ...], rng: np.random.Generator, taken: set[int]) -> int:
    cand = np.flatnonzero(
        geo.cells["landuse"].isin(landuses).to_numpy() & (geo.cells["street_m"] > 0).to_numpy()
    )
    cand = np.array([c for c in cand if c not in taken]) if taken else cand
    if len(cand) == 0:
        cand = np.flatnonzero(geo.cells["street_m"].to_numpy() > 0)
    return int(rng.choice(cand))


def plant_hotspots(geo: Geography, cfg: DemoConfig, rng: np.random.Generator) -> list[Hotspot]:
    """The planted hotspots of the demo city (categories missing from the mix are skipped)."""
    codes = cfg.category_codes
    days = cfg.days
    t = np.arange(days, dtype=float)
    out: list[Hotspot] = []
    taken: set[int] = set()

    def add(pattern: str, code: str, centre: int, radius: float, mult: np.ndarray, note: str) -> None:
        if code not in codes:
            return
        cells = _disc(geo, centre, radius)
        if len(cells) == 0:
            return
        taken.update(cells.tolist())
        out.append(Hotspot(f"H{len(out) + 1:03d}", pattern, codes.index(code), cells, mult, note))

    cells = geo.cells
    # persistent: every market (street vending, hawkers, garbage) and the old-town core (small ads, parking)
    for blk in np.unique(cells.loc[cells["landuse"] == "market", "block_id"]):
        centre = int(np.flatnonzero(cells["block_id"].to_numpy() == blk)[0])
        for code, m in (("09006", 6.0), ("09001", 4.0), ("06010", 3.0)):
            add("persistent", code, centre, 160.0, np.full(days, m), f"market block {blk}")
    core = int(np.argmin(np.hypot(cells["x"], cells["y"])))
    add("persistent", "07001", core, 450.0, np.full(days, 3.0), "old town core")
    add("persistent", "09009", core, 350.0, np.full(days, 3.0), "old town core")
    # new: construction sites that open during the period; existing sites are persistent
    for blk, open_day in (
        cells.loc[cells["landuse"] == "construction", ["block_id", "open_day"]]
        .drop_duplicates("block_id")
        .itertuples(index=False)
    ):
        centre = int(np.flatnonzero(cells["block_id"].to_numpy() == blk)[0])
        if open_day > 0:
            mult = np.where(t >= open_day, 10.0, 1.0)
            pattern = "new"
        else:
            mult, pattern = np.full(days, 8.0), "persistent"
        for code in ("08005", "08004", "06011"):
            add(pattern, code, centre, 200.0, mult, f"construction site block {blk} opens day {open_day}")
    # intensifying: a night-life street getting busier
    centre = _pick(geo, ("old_town", "residential"), rng, taken)
    for code in ("06029", "06027", "09006"):
        add("intensifying", code, centre, 220.0, 1.0 + 7.0 * t / max(days - 1, 1), "night-life street")
    # diminishing: small-ad wave ended by an enforcement campaign
    campaign = int(days * rng.uniform(0.25, 0.4))
    centre = _pick(geo, ("residential",), rng, taken)
    mult = np.where(t < campaign, 8.0, 1.0 + 7.0 * np.exp(-(t - campaign) / 10.0))
    add("diminishing", "07001", centre, 300.0, mult, f"enforcement campaign from day {campaign}")
    add("diminishing", "06036", centre, 300.0, mult, f"enforcement campaign from day {campaign}")
    # sporadic: piles of clutter / dumping in random weeks
    for _ in range(3):
        centre = _pick(geo, ("residential", "new_development", "industrial"), rng, taken)
        on = rng.random(days // 7 + 1) < 0.25
        add(
            "sporadic",
            "06036" if _ % 2 == 0 else "06011",
            centre,
            180.0,
            np.where(on[(t // 7).astype(int)], 10.0, 1.0),
            "random active weeks",
        )
    # oscillating: bikes piling up near schools, two weeks on / two weeks off
    for _ in range(2):
        centre = _pick(geo, ("residential", "old_town"), rng, taken)
        phase = int(rng.integers(0, 28))
        add(
            "oscillating",
            "09010",
            centre,
            200.0,
            np.where(((t + phase) // 14) % 2 == 0, 8.0, 1.0),
            "two weeks on, two weeks off",
        )
    return out


def hotspot_tables(
    hotspots: list[Hotspot], geo: Geography, cfg: DemoConfig
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Truth tables: (hotspot_id, pattern, category_code, cell, note) and active periods.

    A period is a maximal run of days whose multiplier exceeds 1.5 (``start``/``end`` local dates,
    inclusive) with its mean multiplier.
    """
    codes = cfg.category_codes
    rows, periods = [], []
    dates = pd.date_range(cfg.start, periods=cfg.days, freq="D")
    for h in hotspots:
        for c in geo.cells["cell"].to_numpy()[h.cells]:
            rows.append((h.hotspot_id, h.pattern, codes[h.category], int(c), h.note))
        active = h.multiplier > 1.5
        edges = np.flatnonzero(np.diff(np.concatenate([[0], active.astype(int), [0]])))
        for a, b in zip(edges[::2], edges[1::2], strict=True):
            periods.append(
                (
                    h.hotspot_id,
                    h.pattern,
                    codes[h.category],
                    dates[a].date().isoformat(),
                    dates[b - 1].date().isoformat(),
                    float(h.multiplier[a:b].mean()),
                )
            )
    cells = pd.DataFrame(rows, columns=["hotspot_id", "pattern", "category_code", "cell", "note"])
    per = pd.DataFrame(
        periods, columns=["hotspot_id", "pattern", "category_code", "start", "end", "multiplier"]
    )
    return cells, per
