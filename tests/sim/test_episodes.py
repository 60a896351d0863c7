"""Episodes (transient problem sites): the rate process, the truth tables and the problems they produce."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.config import DemoConfig
from sim.episodes import episode_shares, plant_episodes
from sim.intensity import affinity
from sim.run import DemoCity
from tests.sim.conftest import SMALL


def test_episode_shares_add_up_per_category() -> None:
    eps = dict(zip(SMALL.category_codes, episode_shares(SMALL), strict=True))
    assert eps["06011"] == pytest.approx(0.2 + 0.2)  # construction muck + dumping piles
    assert eps["07001"] == 0.0
    share = float((episode_shares(SMALL) * SMALL.category_shares).sum())
    assert 0.14 < share < 0.17  # ≈ 15 % of all cases at the default mix (config.DEFAULT_EPISODES)
    too_much = DemoConfig(episodes=(("x", "flat", 7, 14, 0.0, 2.0, (("06010", 0.7),)),) * 2)
    with pytest.raises(ValueError, match="add up to 1 or more"):
        episode_shares(too_much)


def test_site_process_delivers_the_configured_volume(city: DemoCity) -> None:
    """Over ten simulated years of sites on the small city the mean daily episode rate equals ε_k × volume."""
    cfg = DemoConfig(**{**SMALL.__dict__, "days": 3650})
    geo = city.geography
    aff = affinity(geo, cfg)
    ep = plant_episodes(geo, cfg, aff, np.random.default_rng(0))
    length = ep.site_end - ep.site_start
    kinds = {k[0]: k for k in cfg.episodes}
    for kind, (_, _, lo, hi, _, _, _) in kinds.items():
        got = length[ep.site_kind == kind]
        assert got.min() >= lo
        assert got.max() <= hi
    street = geo.cells["street_m"].to_numpy() > 0
    assert street[ep.comp_cell].all()
    ones = np.ones(len(cfg.category_codes))
    per_day = np.zeros(len(cfg.category_codes))
    for d in range(0, cfg.days, 5):
        per_day += ep.day(d, ones, aff.shape).sum(axis=0)
    per_day /= len(range(0, cfg.days, 5))
    want = episode_shares(cfg) * cfg.category_shares * cfg.cases_per_day
    on = want > 0
    np.testing.assert_allclose(per_day[on], want[on], rtol=0.12)
    assert (per_day[~on] == 0).all()


def test_episodes_keep_off_the_planted_hot_spots_of_their_categories(city: DemoCity) -> None:
    inten = city.intensity
    episodes = inten.episodes
    assert episodes is not None
    planted = np.zeros(inten.affinity.shape, dtype=bool)
    for h in inten.hotspots:
        planted[h.cells, h.category] = True
    assert planted.any()
    # every category a site serves, at every cell it covers
    served = pd.DataFrame({"site": episodes.comp_site, "cat": episodes.comp_cat}).drop_duplicates()
    covered = pd.DataFrame({"site": episodes.comp_site, "cell": episodes.comp_cell}).drop_duplicates()
    pairs = covered.merge(served, on="site")
    assert len(pairs) > 0
    assert not planted[pairs["cell"].to_numpy(), pairs["cat"].to_numpy()].any()
    # without the mask some sites would land there (the night-life street draws vending pitches)
    rng = np.random.default_rng([city.config.seed, 0xE915])
    unmasked = plant_episodes(city.geography, city.config, inten.affinity, rng)
    assert planted[unmasked.comp_cell, unmasked.comp_cat].any()


def test_intensity_includes_the_episodes(city: DemoCity) -> None:
    inten = city.intensity
    eps = episode_shares(city.config)
    # the background gives up exactly ε_k of each category's daily total
    np.testing.assert_allclose(
        inten.daily_total.sum(axis=0),
        (150.0 * city.config.category_shares * (1 - eps) * inten.episode_factor.sum(axis=0)),
        rtol=1e-9,
    )
    d = 20
    np.testing.assert_allclose(inten.day(d), inten.background_day(d) + inten.episode_day(d))
    share = 1 - inten.daily_total.sum() / inten.totals().sum()
    assert 0.08 < share < 0.25


def test_episode_cells_get_the_problems_the_truth_promises(city: DemoCity) -> None:
    """Problems of an episode's categories in its cells while it runs ≈ the truth's λ there, far above the
    background alone (so episodes do reach the generated problems)."""
    inten, ep = city.intensity, city.intensity.episodes
    assert ep is not None
    assert ep.site_start.size > 20
    n_cells, n_cat = inten.affinity.shape
    keys_on: set[int] = set()
    lam = bg = 0.0
    for d in range(city.config.days):
        on, _ = ep.running(d, inten.episode_factor[d])
        if not on.any():
            continue
        cell, cat = ep.comp_cell[on], ep.comp_cat[on]
        key = np.unique((d * n_cells + cell) * n_cat + cat)
        keys_on.update(key.tolist())
        c, k = np.divmod(key - d * n_cells * n_cat, n_cat)
        b = inten.background_day(d)[c, k]
        bg += b.sum()
        lam += b.sum() + inten.episode_day(d)[c, k].sum()
    p = city.problems[city.problems["generation"] == 0]
    local = pd.to_datetime(p["occurred_ns"], utc=True).dt.tz_convert("Asia/Shanghai")
    day = (local.dt.normalize() - pd.Timestamp(city.config.start, tz="Asia/Shanghai")).dt.days.to_numpy()
    key = (day * n_cells + p["cell_idx"].to_numpy()) * n_cat + p["cat"].to_numpy()
    observed = int(np.isin(key, np.fromiter(keys_on, dtype=np.int64)).sum())
    assert observed == pytest.approx(lam, rel=0.08)
    assert lam > 2.5 * bg


def test_truth_tables_list_the_episodes(city: DemoCity, small_out: Path) -> None:
    cells = pd.read_csv(small_out / "truth" / "hotspot_cells.csv", dtype=str)
    periods = pd.read_csv(small_out / "truth" / "hotspot_periods.csv", dtype={"category_code": str})
    ep_cells = cells[cells["pattern"] == "episode"]
    ep_periods = periods[periods["pattern"] == "episode"]
    ep = city.intensity.episodes
    assert ep_cells["hotspot_id"].nunique() == ep.site_start.size
    assert len(ep_cells) == ep.comp_cell.size
    assert ep_cells["hotspot_id"].str.fullmatch(r"E\d{4}").all()
    assert set(ep_cells["category_code"]) <= {c for k in city.config.episodes for c, _ in k[6]}
    assert (pd.to_datetime(ep_periods["start"]) <= pd.to_datetime(ep_periods["end"])).all()
    assert pd.to_datetime(ep_periods["start"]).min() >= pd.Timestamp(city.config.start)
    assert (ep_periods["multiplier"] > 1.0).all()
    # the planted hot spots are still there, untouched
    assert {"persistent", "new", "sporadic"} <= set(cells["pattern"])


def test_no_episodes_configured_means_none() -> None:
    cfg = DemoConfig(**{**SMALL.__dict__, "episodes": ()})
    assert (episode_shares(cfg) == 0).all()
