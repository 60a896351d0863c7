"""Transient problem sites ("episodes"): places that produce reports for a few weeks and then stop.

Real cities have them and a stationary intensity surface does not:

* a short construction job (road works, a renovation, a pipe trench) spilling muck and raising dust for
  4–12 weeks: 08005 施工废弃料, 08004 工地扬尘, 06011 积存垃圾渣土, 06012 道路不洁;
* an illegal dumping spot that keeps growing until it is cleared (2–6 weeks): 06036 乱堆杂物, 06011,
  06010 暴露垃圾;
* a night market or seasonal street-vending pitch for a season (6–16 weeks): 09006 占道经营, 09001 无照经营
  游商, 06029 露天烧烤, 06027 油烟污染;
* a broken manhole cover, street lamp or road surface reported again and again until it is repaired
  (1–3 weeks): 01002 污水井盖异常, 01003 雨水井盖异常, 01037 路灯异常, 06013 道路破损.

Codes are GB/T 47678.5-2026 matter codes (``cases/data/categories.csv``).

Each kind (``DemoConfig.episodes``) states which share of each of its categories' cases comes from such
sites; the background of those categories is reduced by the same share (:mod:`sim.intensity`), so the
category mix and ``cases_per_day`` are unchanged. Sites start as a Poisson process in time (also before
day 0, so the first day already has its share of running sites), last a uniform number of days, sit at a
cell drawn by the category's land-use × street × population affinity, and cover that cell (``radius_m`` 0)
or the street cells within ``radius_m`` (centre weight 1, others 0.4). A site never covers a cell of a
planted hot spot (:mod:`sim.hotspots`) of one of its categories: a planted spot's pattern is the truth the
analytics are checked against, and a night market dropped onto the intensifying night-life street would
hide its trend. While a site runs it adds
``cases_per_week`` (split over its categories by their episode volume) × the category's weekly and seasonal
factor × a profile: ``flat``, or ``growing`` (0.25 → 1.75 of the mean, then cleared at once).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from sim.config import DemoConfig
from sim.geography import Geography

PROFILES = ("flat", "growing")
#: Weight of the non-centre cells of a site's footprint (the centre has 1).
_RING_WEIGHT = 0.4


@dataclass
class Episodes:
    """All episode sites of a run, flattened to components (one per site × cell × category).

    Attributes
    ----------
    site_kind, site_start, site_end : ndarray, shape (n_sites,)
        Kind name, first day and end day (exclusive) of each site, days relative to ``cfg.start`` (the start
        may be negative, the end may be past the period).
    comp_site, comp_cell, comp_cat : ndarray of int64, shape (n_comp,)
        Site, cell row (``geography.cells``) and category column of each component.
    comp_rate : ndarray of float64, shape (n_comp,)
        Expected problems per day at profile 1 before the weekly / seasonal / branching factor.
    comp_growing : ndarray of bool, shape (n_comp,)
        Whether the component follows the ``growing`` profile.
    """

    site_kind: npt.NDArray[np.str_]
    site_start: npt.NDArray[np.int64]
    site_end: npt.NDArray[np.int64]
    comp_site: npt.NDArray[np.int64]
    comp_cell: npt.NDArray[np.int64]
    comp_cat: npt.NDArray[np.int64]
    comp_rate: npt.NDArray[np.float64]
    comp_growing: npt.NDArray[np.bool_]

    def running(
        self, d: int, factor: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64]]:
        """Components running on day ``d`` (mask, shape (n_comp,)) and their expected problems that day.

        ``factor`` (shape (n_cat,)) is the day's seasonal × weekly × (1 − branching) factor per category.
        """
        start = self.site_start[self.comp_site]
        end = self.site_end[self.comp_site]
        on = (start <= d) & (d < end)
        s, e = start[on], end[on]
        prof = np.where(self.comp_growing[on], 0.25 + 1.5 * (d - s + 0.5) / (e - s), 1.0)
        return on, self.comp_rate[on] * prof * factor[self.comp_cat[on]]

    def day(self, d: int, factor: npt.NDArray[np.float64], shape: tuple[int, int]) -> npt.NDArray[np.float64]:
        """Expected episode problems per (cell, category) on day ``d``, shape ``shape`` (n_cells, n_cat)."""
        out = np.zeros(shape)
        on, value = self.running(d, factor)
        np.add.at(out, (self.comp_cell[on], self.comp_cat[on]), value)
        return out


def episode_shares(cfg: DemoConfig) -> npt.NDArray[np.float64]:
    """Share ε_k of each category's cases that comes from episodes, in ``category_codes`` order."""
    eps = np.zeros(len(cfg.category_codes))
    for _, _, _, _, _, _, codes in cfg.episodes:
        for code, share in codes:
            if code in cfg.category_codes:
                eps[cfg.category_codes.index(code)] += share
    if (eps >= 1.0).any():
        bad = [c for c, e in zip(cfg.category_codes, eps, strict=True) if e >= 1.0]
        msg = f"episode shares of {bad} add up to 1 or more; the background would vanish"
        raise ValueError(msg)
    return eps


def _footprint(geo: Geography, centre: int, radius_m: float) -> tuple[np.ndarray, np.ndarray]:
    if radius_m <= 0:
        return np.array([centre]), np.ones(1)
    x, y = geo.cells["x"].to_numpy(), geo.cells["y"].to_numpy()
    near = (np.hypot(x - x[centre], y - y[centre]) <= radius_m) & (geo.cells["street_m"].to_numpy() > 0)
    near[centre] = True
    cells = np.flatnonzero(near)
    w = np.where(cells == centre, 1.0, _RING_WEIGHT)
    return cells, w / w.sum()


def _reaches(geo: Geography, targets: npt.NDArray[np.bool_], radius_m: float) -> npt.NDArray[np.bool_]:
    """Cells whose footprint of ``radius_m`` would cover one of the ``targets`` cells."""
    if not targets.any():
        return np.zeros(targets.size, dtype=bool)
    xy = geo.cells[["x", "y"]].to_numpy()
    distance, _ = cKDTree(xy[targets]).query(xy, k=1)
    return distance <= radius_m


def plant_episodes(
    geo: Geography,
    cfg: DemoConfig,
    affinity: npt.NDArray[np.float64],
    rng: np.random.Generator,
    planted: npt.NDArray[np.bool_] | None = None,
) -> Episodes:
    """Draw the episode sites of the period for every kind of ``cfg.episodes``.

    Parameters
    ----------
    geo
        The geography (cell coordinates and street lengths).
    cfg
        The configuration (``episodes``, ``cases_per_day``, ``days``, the category mix).
    affinity : ndarray, shape (n_cells, n_cat)
        Where each category's problems arise (:func:`sim.intensity.affinity`); a site's centre is drawn
        proportionally to the column of its kind's largest category.
    rng
        Random generator (a stream of its own, so a run without episodes is unchanged).
    planted : ndarray of bool, shape (n_cells, n_cat), optional
        The cells of the planted hot spots per category; no site's footprint covers one of them in one of
        the site's categories.
    """
    codes = cfg.category_codes
    shares = cfg.category_shares
    kinds, starts, ends = [], [], []
    comp: list[tuple[np.ndarray, ...]] = []
    for kind, profile, min_days, max_days, radius_m, per_week, parts in cfg.episodes:
        if profile not in PROFILES:
            msg = f"episode kind {kind!r}: profile must be one of {PROFILES}, got {profile!r}"
            raise ValueError(msg)
        idx = np.array([codes.index(c) for c, _ in parts if c in codes], dtype=np.int64)
        vol = np.array([s for c, s in parts if c in codes]) * shares[idx] * cfg.cases_per_day
        if idx.size == 0 or vol.sum() <= 0:
            continue
        # stationary start process: concurrent sites × rate per site = the kind's episode cases per day
        mean_days = 0.5 * (min_days + max_days)
        per_day = per_week / 7.0
        start_rate = vol.sum() / (per_day * mean_days)
        n = int(rng.poisson(start_rate * (cfg.days + max_days)))
        s = rng.integers(-int(max_days), cfg.days, n)
        length = rng.integers(int(min_days), int(max_days) + 1, n)
        keep = s + length > 0
        s, length = s[keep], length[keep]
        main = idx[np.argmax(vol)]
        weight = affinity[:, main] * (geo.cells["street_m"].to_numpy() > 0)
        if planted is not None:
            clear = weight * ~_reaches(geo, planted[:, idx].any(axis=1), radius_m)
            weight = clear if clear.sum() > 0 else weight  # a tiny city all planted: sites may overlap
        centres = rng.choice(len(weight), size=s.size, p=weight / weight.sum())
        split = per_day * vol / vol.sum()
        for centre, a, b in zip(centres, s, s + length, strict=True):
            cells, w = _footprint(geo, int(centre), radius_m)
            site = len(kinds)
            kinds.append(kind)
            starts.append(a)
            ends.append(b)
            comp.append(
                (
                    np.full(cells.size * idx.size, site),
                    np.repeat(cells, idx.size),
                    np.tile(idx, cells.size),
                    np.outer(w, split).ravel(),
                    np.full(cells.size * idx.size, profile == "growing"),
                )
            )
    cat = [np.concatenate([c[k] for c in comp]) if comp else np.array([]) for k in range(5)]
    return Episodes(
        np.asarray(kinds, dtype=str),
        np.asarray(starts, dtype=np.int64),
        np.asarray(ends, dtype=np.int64),
        cat[0].astype(np.int64),
        cat[1].astype(np.int64),
        cat[2].astype(np.int64),
        cat[3].astype(np.float64),
        cat[4].astype(bool),
    )
