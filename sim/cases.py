"""Latent problems (background + near-repeat offspring) and the public reports among them.

Every problem arises in a cell at a time (``occurred_ns``, UTC ns) with a category. Background problems
follow λ (:mod:`sim.intensity`); each problem of a contagious category (small ads, exposed garbage,
dumped construction waste …) spawns Poisson(n_k) offspring a few days later and ~100 m away (a
self-exciting, Hawkes-type cascade, generated generation by generation). Each problem is then given a
channel: ``patrol`` (waits in the street until an inspector walks through its cell, :mod:`sim.tracks`) or
one of the public sources (hotline, WeChat, video, other) that report it after a short delay in waking hours.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from sim import _h3
from sim.config import DemoConfig
from sim.geography import Geography
from sim.intensity import Intensity

_NS = 1_000_000_000
_H = 3600 * _NS
_DAY = 86_400 * _NS
#: Hour-of-day profile of problems arising (local time), default and per-category overrides.
_OCCUR_DEFAULT = np.array(
    [1, 0.6, 0.4, 0.3, 0.3, 0.6, 1.5, 3, 5, 6, 6.5, 6.5, 6, 5.5, 6, 6, 6, 5.5, 5, 4, 3, 2.5, 2, 1.5],
    dtype=float,
)
_OCCUR_NIGHT = np.array(
    [6, 4, 2, 0.5, 0.2, 0.1, 0.1, 0.1, 0.2, 0.3, 0.5, 0.8, 1, 1, 1, 1, 1.5, 2.5, 5, 8, 10, 10, 9, 8],
    dtype=float,
)
_OCCUR_EVENING = np.array(
    [1.5, 1, 0.5, 0.2, 0.2, 0.5, 1.5, 3, 4, 4, 4, 4.5, 4.5, 4, 4, 4, 4.5, 5.5, 7, 7.5, 6.5, 5, 3.5, 2.5],
    dtype=float,
)
_NIGHT_CODES = ("06029", "06027")
_EVENING_CODES = ("09001", "09006", "09005")
#: Mean report delay (minutes) after a problem arises, per public source.
_REPORT_DELAY_MIN = {"hotline": 50.0, "wechat": 35.0, "video": 12.0, "other": 120.0}

LATENT_COLUMNS = ("problem_id", "occurred_ns", "cell_idx", "cat", "x", "y", "generation", "parent", "channel")


def _hour_profiles(cfg: DemoConfig) -> npt.NDArray[np.float64]:
    out = np.empty((len(cfg.category_codes), 24))
    for k, code in enumerate(cfg.category_codes):
        p = (
            _OCCUR_NIGHT
            if code in _NIGHT_CODES
            else _OCCUR_EVENING
            if code in _EVENING_CODES
            else _OCCUR_DEFAULT
        )
        out[k] = np.cumsum(p / p.sum())
    return out


def _local_midnights_ns(cfg: DemoConfig) -> npt.NDArray[np.int64]:
    idx = pd.date_range(cfg.start, periods=cfg.days, freq="D").tz_localize(cfg.timezone)
    return idx.tz_convert("UTC").as_unit("ns").asi8


def _jitter_in_cell(
    n: int, rng: np.random.Generator, radius_m: float = 40.0
) -> tuple[np.ndarray, np.ndarray]:
    r = radius_m * np.sqrt(rng.random(n))
    a = rng.uniform(0, 2 * np.pi, n)
    return r * np.cos(a), r * np.sin(a)


def background(
    intensity: Intensity, geo: Geography, cfg: DemoConfig, rng: np.random.Generator
) -> pd.DataFrame:
    """Background problems day by day (one multinomial draw per day over cells × categories)."""
    midnights = _local_midnights_ns(cfg)
    prof = _hour_profiles(cfg)
    n_cat = intensity.affinity.shape[1]
    parts = []
    for d in range(cfg.days):
        lam = intensity.day(d).ravel()
        cum = np.cumsum(lam)
        n = int(rng.poisson(cum[-1]))
        flat = np.minimum(np.searchsorted(cum, rng.random(n) * cum[-1], side="right"), len(cum) - 1)
        cell, cat = np.divmod(flat, n_cat)
        hour = (prof[cat] < rng.random(n)[:, None]).sum(axis=1)
        t = midnights[d] + hour * _H + (rng.random(n) * _H).astype(np.int64)
        parts.append((t, cell, cat))
    t = np.concatenate([p[0] for p in parts])
    cell = np.concatenate([p[1] for p in parts])
    cat = np.concatenate([p[2] for p in parts])
    dx, dy = _jitter_in_cell(len(t), rng)
    return pd.DataFrame(
        {
            "occurred_ns": t,
            "cell_idx": cell,
            "cat": cat,
            "x": geo.cells["x"].to_numpy()[cell] + dx,
            "y": geo.cells["y"].to_numpy()[cell] + dy,
            "generation": 0,
            "parent": -1,
        }
    )


def offspring(
    problems: pd.DataFrame, geo: Geography, cfg: DemoConfig, rng: np.random.Generator
) -> pd.DataFrame:
    """Add near-repeat offspring generation by generation (returns background + offspring, ids assigned)."""
    params = {
        cfg.category_codes.index(c): (n, tau, sig)
        for c, n, tau, sig in cfg.contagion
        if c in cfg.category_codes
    }
    end_ns = int(_local_midnights_ns(cfg)[-1]) + _DAY
    cells = geo.cells["cell"].to_numpy()
    out = [problems.assign(problem_id=np.arange(len(problems)))]
    current = out[0]
    next_id = len(problems)
    branching = np.zeros(len(cfg.category_codes))
    tau = np.ones(len(cfg.category_codes))
    sigma = np.ones(len(cfg.category_codes))
    for k, (n, t_, s_) in params.items():
        branching[k], tau[k], sigma[k] = n, t_, s_
    while len(current):
        cat = current["cat"].to_numpy()
        n_child = rng.poisson(branching[cat])
        rep = np.repeat(np.arange(len(current)), n_child)
        if len(rep) == 0:
            break
        par = current.iloc[rep]
        ccat = cat[rep]
        t = par["occurred_ns"].to_numpy() + (rng.exponential(tau[ccat]) * _DAY).astype(np.int64)
        x = par["x"].to_numpy() + rng.normal(0, sigma[ccat])
        y = par["y"].to_numpy() + rng.normal(0, sigma[ccat])
        lat, lon = geo.frame.to_latlon(x, y)
        h = _h3.latlng_to_cells(lat, lon, cfg.h3_res)
        pos = np.clip(np.searchsorted(cells, h), 0, len(cells) - 1)
        ok = (cells[pos] == h) & (t < end_ns)
        child = pd.DataFrame(
            {
                "occurred_ns": t[ok],
                "cell_idx": pos[ok],
                "cat": ccat[ok],
                "x": x[ok],
                "y": y[ok],
                "generation": par["generation"].to_numpy()[ok] + 1,
                "parent": par["problem_id"].to_numpy()[ok],
            }
        )
        child["problem_id"] = np.arange(next_id, next_id + len(child))
        next_id += len(child)
        out.append(child)
        current = child
    return pd.concat(out, ignore_index=True)


def assign_channels(
    problems: pd.DataFrame,
    beat: npt.NDArray[np.int64],
    geo: Geography,
    cfg: DemoConfig,
    rng: np.random.Generator,
) -> pd.Series:
    """Channel per problem: ``patrol`` (only on street cells inside a beat) or a public source."""
    shares = cfg.source_share_map
    public = [s for s in shares if s != "patrol"]
    p_pub = np.array([shares[s] for s in public])
    p_pub = p_pub / p_pub.sum()
    patrolable = (beat[problems["cell_idx"].to_numpy()] >= 0) & (
        geo.cells["street_m"].to_numpy()[problems["cell_idx"].to_numpy()] > 0
    )
    is_patrol = (rng.random(len(problems)) < shares.get("patrol", 0.0)) & patrolable
    pub = np.asarray(public, dtype=object)[
        np.minimum(
            np.searchsorted(np.cumsum(p_pub), rng.random(len(problems)), side="right"), len(public) - 1
        )
    ]
    return pd.Series(np.where(is_patrol, "patrol", pub), index=problems.index, name="channel")


def latent_problems(
    intensity: Intensity,
    geo: Geography,
    beat: npt.NDArray[np.int64],
    cfg: DemoConfig,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """All latent problems of the period with their channel, sorted by occurrence time."""
    problems = offspring(background(intensity, geo, cfg, rng), geo, cfg, rng)
    problems["channel"] = assign_channels(problems, beat, geo, cfg, rng)
    return problems.sort_values(["occurred_ns", "problem_id"], kind="stable").reset_index(drop=True)


def public_reports(problems: pd.DataFrame, cfg: DemoConfig, rng: np.random.Generator) -> pd.DataFrame:
    """Reported time of the public-channel problems: occurrence + delay, pushed into waking hours 07–23."""
    pub = problems[problems["channel"] != "patrol"]
    mean = pub["channel"].map(_REPORT_DELAY_MIN).to_numpy(dtype=float)
    t = pub["occurred_ns"].to_numpy() + (rng.exponential(mean) * 60 * _NS).astype(np.int64)
    local = pd.DatetimeIndex(t.view("datetime64[ns]")).tz_localize("UTC").tz_convert(cfg.timezone)
    hour = local.hour.to_numpy()
    night = (hour < 7) & (pub["channel"].to_numpy() != "video")
    next7 = (local.normalize() + pd.Timedelta(hours=7)).tz_convert("UTC").as_unit("ns").asi8
    wait = (rng.exponential(75.0, len(t)) * 60 * _NS).astype(np.int64)
    t = np.where(night, next7 + wait, t)
    return pd.DataFrame(
        {
            "problem_id": pub["problem_id"].to_numpy(),
            "reported_ns": t,
            "source": pub["channel"].to_numpy(),
            "reported_by": None,
        }
    )
