"""The generating intensity λ(cell, day, category) of city-management problems, with planted hotspots.

λ_d(c, k) = T_d(k) · A(c, k) H_d(c, k) / Σ_c A(c, k) H_d(c, k) + E_d(c, k), where

* T_d(k) = cases_per_day · share_k · S_d(k) · W_d · (1 − n_k) · (1 − ε_k): the category's daily background
  total, with a seasonal factor S (mean 1 over the calendar year: summer barbecues, winter ice days), the
  weekly factor W (holidays count as Sundays, make-up days as weekdays), the share left to background after
  near-repeat offspring (branching ratio n_k, see :mod:`sim.cases`) and after episodes (ε_k);
* A(c, k) = street length in the cell × land-use affinity of the category × population factor;
* H_d(c, k) = multipliers of the planted hotspots active on day d (persistent, new, intensifying,
  diminishing, sporadic, oscillating).
* E_d(c, k) = the running episodes (transient sites, :mod:`sim.episodes`): rate × S_d(k) · W_d · (1 − n_k)
  × profile; they carry the share ε_k of the category, taken from the diffuse background (cells outside
  active planted hot spots keep the rest; the hot spots keep their expected counts).

Hotspots therefore move problems around without changing the category mix, and episodes keep it in
expectation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from cases.calendar import default_calendar
from sim.config import DemoConfig
from sim.episodes import Episodes, episode_shares, plant_episodes
from sim.geography import Geography
from sim.hotspots import Hotspot, plant_hotspots

#: Land-use affinity per category group (columns follow geography.LANDUSES).
_LU_ORDER = ("old_town", "market", "residential", "new_development", "construction", "industrial", "park")
_GROUP_LU: dict[str, tuple[float, ...]] = {
    "vending": (3.0, 8.0, 1.5, 0.5, 0.1, 0.3, 0.5),
    "ads": (3.0, 2.0, 2.0, 1.0, 0.3, 0.5, 0.3),
    "garbage": (2.0, 3.0, 2.0, 1.0, 1.0, 1.0, 0.5),
    "parking": (3.0, 3.0, 2.0, 1.0, 0.3, 0.7, 0.5),
    "works": (0.3, 0.1, 0.3, 2.0, 1.0, 1.0, 0.2),
    # 积存垃圾渣土: large or long-standing piles, often mixed with muck, so they gather where building
    # and demolition go on (works sites, the urban fringe, yards), not where most people live
    "muck": (1.5, 1.5, 1.0, 2.5, 4.0, 2.0, 0.5),
    "green": (1.0, 0.3, 1.5, 1.0, 0.3, 0.3, 6.0),
    "building": (2.0, 1.0, 2.0, 1.0, 0.3, 1.0, 0.3),
    "infra": (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
}
_GROUP_OF = {
    "09001": "vending",
    "09006": "vending",
    "09005": "vending",
    "06029": "vending",
    "06027": "vending",
    "07001": "ads",
    "07003": "ads",
    "06010": "garbage",
    "06011": "muck",
    "06012": "garbage",
    "06042": "garbage",
    "06036": "garbage",
    "06007": "garbage",
    "09009": "parking",
    "09010": "parking",
    "08004": "works",
    "08005": "works",
    "06045": "green",
    "06017": "green",
    "06001": "building",
}
_POP_GROUPS = ("vending", "ads", "garbage", "parking", "building")


@dataclass
class Intensity:
    """Everything needed to evaluate λ on any simulated day."""

    affinity: npt.NDArray[np.float64]  # (n_cells, n_cat)
    daily_total: npt.NDArray[np.float64]  # (days, n_cat) background expected count
    branching: npt.NDArray[np.float64]  # (n_cat,) near-repeat branching ratio
    hotspots: list[Hotspot] = field(default_factory=list)
    episodes: Episodes | None = None
    episode_factor: npt.NDArray[np.float64] | None = None  # (days, n_cat) S · W · (1 − n) of episodes

    episode_share: npt.NDArray[np.float64] | None = None  # (n_cat,) ε_k taken from the background

    def background_day(self, d: int) -> npt.NDArray[np.float64]:
        """Expected background problems (hot spots, no episodes) per (cell, category) on day ``d``.

        The episodes' share ε_k comes out of the diffuse background only: the cells of an active planted
        hot spot keep the expected count they would have without episodes (a market's vendors do not move
        to a night market), the other cells are scaled down so the category's total is ``daily_total``
        (never below 0).
        """
        m = self.affinity.copy()
        n_cat = m.shape[1]
        hot: list[npt.NDArray[np.int64]] = []
        for h in self.hotspots:
            m[h.cells, h.category] *= h.multiplier[d]
            if h.multiplier[d] > 1.0:
                hot.append(h.cells * n_cat + h.category)
        col = m.sum(axis=0)
        eps = np.zeros(n_cat) if self.episode_share is None else self.episode_share
        full_total = self.daily_total[d] / (1.0 - eps)
        full = m * (full_total / np.where(col > 0, col, 1.0))
        if not eps.any():
            return full
        flat = np.unique(np.concatenate(hot)) if hot else np.zeros(0, dtype=np.int64)
        kept = full.reshape(-1)[flat]
        hot_sum = np.bincount(flat % n_cat, weights=kept, minlength=n_cat)
        cold_sum = full_total - hot_sum
        rest = np.divide(self.daily_total[d] - hot_sum, cold_sum, out=np.zeros(n_cat), where=cold_sum > 0)
        out = full * np.clip(rest, 0.0, None)
        out.reshape(-1)[flat] = kept
        return out

    def episode_day(self, d: int) -> npt.NDArray[np.float64]:
        """Expected episode problems per (cell, category) on day ``d`` (zeros without episodes)."""
        if self.episodes is None or self.episode_factor is None:
            return np.zeros(self.affinity.shape)
        return self.episodes.day(d, self.episode_factor[d], self.affinity.shape)

    def day(self, d: int) -> npt.NDArray[np.float64]:
        """Expected problems arising (before near-repeat offspring) per (cell, category) on day ``d``."""
        return self.background_day(d) + self.episode_day(d)

    def totals(self) -> npt.NDArray[np.float64]:
        """Expected problems arising (before offspring) per (day, category), shape (days, n_cat)."""
        return np.stack([self.day(d).sum(axis=0) for d in range(self.daily_total.shape[0])])


def day_type(cfg: DemoConfig) -> pd.DataFrame:
    """Per simulated day: date, weekday, workday (Chinese calendar), holiday flag and weekly factor."""
    dates = [cfg.start + dt.timedelta(days=k) for k in range(cfg.days)]
    calendar = default_calendar(cfg.timezone)  # the library's calendar: Chinese holidays and make-up days
    work = np.array([calendar.is_workday(d, warn=False) for d in dates])
    wd = np.array([d.weekday() for d in dates])
    prof = np.asarray(cfg.weekly_profile, dtype=float)
    prof = prof / prof.mean()
    # make-up working days behave like an ordinary weekday; holidays like a Sunday
    w = np.where(
        work,
        np.where(wd >= 5, prof[:5].mean(), prof[np.minimum(wd, 4)]),
        np.where(wd >= 5, prof[wd], prof[6]),
    )
    return pd.DataFrame({"date": dates, "weekday": wd, "workday": work, "weekly": w})


def seasonal(cfg: DemoConfig, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """Seasonal factor per (simulated day, category), mean 1 over the calendar year of each day."""
    codes = cfg.category_codes
    out = np.ones((cfg.days, len(codes)))
    dates = pd.date_range(cfg.start, periods=cfg.days, freq="D")
    years = sorted(set(dates.year))
    for y in years:
        doy_all = np.arange(366 if pd.Timestamp(y, 12, 31).day_of_year == 366 else 365)
        sel = dates.year == y
        doy = dates[sel].day_of_year.to_numpy() - 1
        ice = (rng.random(len(doy_all)) < 0.18) & ((doy_all < 59) | (doy_all > 334))
        ice[[15, 20, 350]] = True
        for k, code in enumerate(codes):
            year_curve = _curve(code, doy_all, ice)
            out[sel, k] = year_curve[doy] / year_curve.mean()
    return out


def _curve(code: str, doy: np.ndarray, ice: np.ndarray) -> np.ndarray:
    summer = np.exp(-(((doy - 200) / 50.0) ** 2))
    if code == "06029":  # 露天烧烤: summer nights
        return 0.08 + 3.0 * summer
    if code == "10001":  # 道路积雪、结冰: cold spells only
        return ice.astype(float) + 1e-9
    group = _GROUP_OF.get(code, "infra")
    if group in ("garbage", "green", "vending"):
        return 1.0 + 0.35 * summer
    if group in ("works", "muck"):
        return 1.0 + 0.2 * np.sin(2 * np.pi * (doy - 60) / 365)
    return 1.0 + 0.1 * np.cos(2 * np.pi * (doy - 15) / 365)


def affinity(geo: Geography, cfg: DemoConfig) -> npt.NDArray[np.float64]:
    """A(c, k): street length × land-use affinity × population factor, per category column."""
    cells = geo.cells
    lu_idx = pd.Categorical(cells["landuse"], categories=_LU_ORDER).codes
    pop = cells["population"].to_numpy(dtype=float)
    pop_f = np.sqrt(pop / max(np.median(pop[pop > 0]) if (pop > 0).any() else 1.0, 1e-9) + 0.2)
    street = cells["street_m"].to_numpy(dtype=float)
    out = np.empty((len(cells), len(cfg.category_codes)))
    for k, code in enumerate(cfg.category_codes):
        group = _GROUP_OF.get(code, "infra")
        col = street * np.asarray(_GROUP_LU[group])[lu_idx]
        if group in _POP_GROUPS:
            col = col * pop_f
        out[:, k] = col
    return out


def build_intensity(geo: Geography, cfg: DemoConfig, rng: np.random.Generator) -> Intensity:
    """Assemble affinity, daily totals, branching ratios and the planted hotspots."""
    days = day_type(cfg)
    shares = cfg.category_shares
    branching = np.zeros(len(shares))
    for code, n, _, _ in cfg.contagion:
        if code in cfg.category_codes:
            branching[cfg.category_codes.index(code)] = n
    factor = seasonal(cfg, rng) * days["weekly"].to_numpy()[:, None] * (1.0 - branching)[None, :]
    eps = episode_shares(cfg)
    total = cfg.cases_per_day * shares[None, :] * factor * (1.0 - eps)[None, :]
    aff = affinity(geo, cfg)
    hotspots = plant_hotspots(geo, cfg, rng)
    # episodes draw from a stream of their own: a run without them is byte-identical to one before them
    planted = np.zeros(aff.shape, dtype=bool)
    for h in hotspots:
        planted[h.cells, h.category] = True
    episodes = plant_episodes(geo, cfg, aff, np.random.default_rng([cfg.seed, 0xE915]), planted)
    return Intensity(aff, total, branching, hotspots, episodes, factor, eps)


def weekly_truth(intensity: Intensity, geo: Geography, cfg: DemoConfig) -> pd.DataFrame:
    """The truth cube: expected problems per (cell, ISO week), one float32 column per category code.

    One row per cell of the study area and ISO week the period touches, zeros included, sorted by cell
    then week. ``week`` is the ISO week label ``YYYY-Www`` of the local date. Values add the stationary
    mean of the near-repeat offspring to the background (background / (1 − n_k), offspring counted at the
    parent's cell); the background alone is ``value × (1 − n_k)`` with n_k from ``config.json``
    (``contagion``).
    """
    dates = pd.date_range(cfg.start, periods=cfg.days, freq="D")
    iso = dates.isocalendar()
    labels = (iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)).to_numpy()
    uniq, week_of_day = np.unique(labels, return_inverse=True)
    n_cells, n_cat = intensity.affinity.shape
    acc = np.zeros((n_cells, len(uniq), n_cat), dtype=np.float32)
    for d in range(cfg.days):
        acc[:, week_of_day[d], :] += intensity.day(d).astype(np.float32)
    acc *= (1.0 / (1.0 - intensity.branching)).astype(np.float32)
    frame = pd.DataFrame(acc.reshape(-1, n_cat), columns=list(cfg.category_codes))
    frame.insert(0, "week", pd.Categorical.from_codes(np.tile(np.arange(len(uniq)), n_cells), uniq))
    frame.insert(0, "cell", np.repeat(geo.cells["cell"].to_numpy(), len(uniq)))
    return frame


def episode_tables(
    intensity: Intensity, geo: Geography, cfg: DemoConfig
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Truth rows of the episodes in the layout of :func:`sim.hotspots.hotspot_tables`, pattern ``episode``.

    Returns
    -------
    (cells, periods)
        ``cells``: ``hotspot_id`` (``E0001`` …), ``pattern``, ``category_code``, ``cell`` (int64), ``note``
        (kind and days). ``periods``: one row per site and category with the part of the site's life inside
        the simulated period (``start``/``end`` local dates, inclusive) and ``multiplier`` = (background +
        episode) ÷ background over the site's cells and running days, comparable with the planted hot spots'.
    """
    ep = intensity.episodes
    cols_c = ["hotspot_id", "pattern", "category_code", "cell", "note"]
    cols_p = ["hotspot_id", "pattern", "category_code", "start", "end", "multiplier"]
    if ep is None or ep.site_start.size == 0:
        return pd.DataFrame(columns=cols_c), pd.DataFrame(columns=cols_p)
    codes = np.asarray(cfg.category_codes, dtype=object)
    n_sites, n_cat = ep.site_start.size, intensity.affinity.shape[1]
    ids = np.array([f"E{i + 1:04d}" for i in range(n_sites)], dtype=object)
    a, b = np.maximum(ep.site_start, 0), np.minimum(ep.site_end, cfg.days)
    note = np.char.add(
        np.char.add(np.char.add(ep.site_kind.astype(str), " site, days "), ep.site_start.astype(str)),
        np.char.add("–", (ep.site_end - 1).astype(str)),
    )
    cells = pd.DataFrame(
        {
            "hotspot_id": ids[ep.comp_site],
            "pattern": "episode",
            "category_code": codes[ep.comp_cat],
            "cell": geo.cells["cell"].to_numpy()[ep.comp_cell],
            "note": note[ep.comp_site],
        }
    )
    bg_sum = np.zeros((n_sites, n_cat))
    ep_sum = np.zeros((n_sites, n_cat))
    for d in range(cfg.days):
        on, value = ep.running(d, intensity.episode_factor[d])
        if not on.any():
            continue
        bg = intensity.background_day(d)
        site, cell, cat = ep.comp_site[on], ep.comp_cell[on], ep.comp_cat[on]
        np.add.at(bg_sum, (site, cat), bg[cell, cat])
        np.add.at(ep_sum, (site, cat), value)
    site, cat = np.unique(np.column_stack([ep.comp_site, ep.comp_cat]), axis=0).T
    dates = pd.date_range(cfg.start, periods=cfg.days, freq="D").strftime("%Y-%m-%d").to_numpy()
    bg, add = bg_sum[site, cat], ep_sum[site, cat]
    periods = pd.DataFrame(
        {
            "hotspot_id": ids[site],
            "pattern": "episode",
            "category_code": codes[cat],
            "start": dates[a[site]],
            "end": dates[b[site] - 1],
            "multiplier": np.divide(bg + add, bg, out=np.full(bg.shape, np.nan), where=bg > 0),
        }
    )
    return cells, periods
