"""Honest evaluation of cell forecasts: hit rate / PAI / PEI at fixed area shares, Poisson deviance, MAE,
and a rolling-origin backtest over the last N periods of a cube.

Area share is the share of universe cells (H3 cells of one resolution differ in area by a few per cent
inside a city). Selecting the top ``a`` of the area means taking ``m = a · n_cells`` cells by forecast,
highest first; ``m`` need not be whole and the cells tied at the cut need not fit, so the hit rate is the
**expected** share of the period's cases caught when the last partial slot and the tied cells are chosen at
random: ``(C_above + (m − n_above) / n_tied · C_tied) / C_total``. A forecast that cannot tell cells apart
(e.g. ``baseline_last`` with thousands of cells at 0 or 1) therefore gets no credit for an arbitrary
tie-break order. PAI = hit rate ÷ area share; PEI = hit rate ÷ the hit rate of the perfect forecast (the
actual counts as scores) at the same area, i.e. PAI relative to the best possible PAI.

The scores themselves are :mod:`analytics.forecast_metrics` (re-exported here); this module runs the
backtest over the models of :mod:`analytics.forecast_models`. Imports go one way: metrics ← models ←
evaluation ← :mod:`analytics.forecast` (whose :func:`~analytics.forecast.choose_model` runs a backtest).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from analytics._features import Rings, ring_matrices
from analytics._validate import TooFewPeriodsError, check_int
from analytics.cube import CaseCube
from analytics.forecast_metrics import (
    AREA_SHARES,
    captured,
    coverage_metrics,
    hit_rate,
    pai,
    pei,
    poisson_deviance,
)
from analytics.forecast_models import MODELS, period_label

__all__ = [
    "AREA_SHARES",
    "backtest",
    "captured",
    "coverage_metrics",
    "hit_rate",
    "hit_rate_curve",
    "pai",
    "pei",
    "poisson_deviance",
    "summarise",
    "write_curve_svg",
]


def backtest(
    cube: CaseCube,
    models: Sequence[str] | dict[str, object],
    *,
    n_origins: int = 12,
    horizon: int = 1,
    areas: Sequence[float] = AREA_SHARES,
    rings: Rings | None = None,
    min_history: int = 8,
    curve_areas: Sequence[float] | None = None,
) -> pd.DataFrame:
    """Rolling-origin backtest: each model is refitted on ``[0, t)`` and scored on period ``t + h − 1``.

    Parameters
    ----------
    cube
        The case cube (complete periods only: a partial last period would be scored as a drop).
    models
        Names of :data:`analytics.forecast.MODELS`, or ``{name: factory}`` with factories returning a
        :class:`analytics.forecast.Forecaster`.
    n_origins
        Held-out periods: the last ``n_origins`` periods of the cube are forecast one at a time.
    horizon
        Periods ahead.
    rings
        Precomputed ring operators of ``cube.cells`` (computed once here otherwise).
    min_history
        Periods every origin must have before it.
    curve_areas
        When given, the hit rate vs area curve pooled over the origins (as :func:`hit_rate_curve`, from
        the same fits) is attached as ``table.attrs["curve"]``.

    Returns
    -------
    pandas.DataFrame
        One row per model and held-out period: ``model``, ``origin`` (label of the held-out period being
        forecast; the model saw the periods before it, ``horizon − 1`` of them excepted), ``trained_through``
        (label of the last period the model saw), ``cases`` (actual cases in the period), the
        :func:`coverage_metrics` columns and ``seconds`` (fit + predict).
    """
    n_origins = check_int(n_origins, "n_origins", low=1)
    horizon = check_int(horizon, "horizon", low=1)
    factories = {n: MODELS[n] for n in models} if not isinstance(models, dict) else dict(models)
    n_t = cube.counts.shape[1]
    first_target = n_t - n_origins
    if first_target - horizon + 1 < min_history:
        msg = (
            f"a backtest of {n_origins} origins at horizon {horizon} needs at least "
            f"{n_origins + min_history + horizon - 1} periods; the cube has {n_t}"
        )
        raise TooFewPeriodsError(msg)
    rings = rings if rings is not None else ring_matrices(cube.cells)
    totals = cube.counts.sum(axis=2)
    rows = []
    grid = np.asarray(curve_areas if curve_areas is not None else [], dtype=np.float64)
    caught = {name: np.zeros(grid.size) for name in [*factories, "perfect"]}
    for target in range(first_target, n_t):
        until = target - horizon + 1
        actual = totals[:, target]
        caught["perfect"] += [captured(actual, actual, a) for a in grid]
        for name, factory in factories.items():
            t0 = time.perf_counter()
            model = factory().fit(cube, until, horizon=horizon, rings=rings)  # type: ignore[operator]
            expected = model.predict()
            seconds = time.perf_counter() - t0
            caught[name] += [captured(expected, actual, a) for a in grid]
            rows.append(
                {
                    "model": name,
                    "origin": period_label(cube.periods[target], cube.period),
                    "trained_through": period_label(cube.periods[until - 1], cube.period),
                    "cases": int(actual.sum()),
                    **coverage_metrics(expected, actual, areas),
                    "seconds": seconds,
                }
            )
    table = pd.DataFrame(rows)
    if curve_areas is not None:
        total = max(float(totals[:, first_target:].sum()), 1.0)
        table.attrs["curve"] = pd.concat(
            [pd.DataFrame({"model": k, "area": grid, "hit_rate": v / total}) for k, v in caught.items()],
            ignore_index=True,
        )
    return table


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Mean of every metric per model over the origins, with ``pai_5_vs_best_baseline`` (ratio of mean
    PAI at 5 % to the best ``baseline_*`` model's) and the number of origins each model won at 5 %."""
    metrics = [c for c in table.columns if c not in ("model", "origin", "trained_through")]
    out = table.groupby("model", sort=False)[metrics].mean()
    baselines = out.loc[out.index.str.startswith("baseline_")]
    if len(baselines):
        best = baselines["pai_5"].max()
        out["pai_5_vs_best_baseline"] = out["pai_5"] / best
        best_name = baselines["pai_5"].idxmax()
        ref = table[table["model"] == best_name].set_index("origin")["pai_5"]
        wins = table.assign(ref=table["origin"].map(ref)).assign(win=lambda f: f["pai_5"] > f["ref"])
        out["origins_beating_best_baseline"] = wins.groupby("model", sort=False)["win"].sum()
    out.insert(0, "origins", table.groupby("model", sort=False).size())
    return out.reset_index()


def hit_rate_curve(
    cube: CaseCube,
    models: Sequence[str],
    *,
    n_origins: int = 12,
    areas: Sequence[float] | None = None,
    rings: Rings | None = None,
) -> pd.DataFrame:
    """Hit rate vs area share pooled over the last ``n_origins`` periods: ``model``, ``area``, ``hit_rate``
    (captured cases ÷ all cases of the held-out periods), plus the ``perfect`` forecast."""
    grid = areas if areas is not None else np.linspace(0.005, 0.3, 60)
    return backtest(cube, models, n_origins=n_origins, rings=rings, curve_areas=grid).attrs["curve"]


def write_curve_svg(curve: pd.DataFrame, path: str | Path, *, title: str = "hit rate vs area") -> Path:
    """A dependency-free SVG line chart of :func:`hit_rate_curve` (one line per model)."""
    path = Path(path)
    w, h, pad = 640, 420, 60
    x_max = float(curve["area"].max())
    palette = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" '
        'font-size="12">',
        f'<rect width="{w}" height="{h}" fill="white"/>',
        f'<text x="{w / 2}" y="20" text-anchor="middle" font-size="14">{title}</text>',
        f'<line x1="{pad}" y1="{h - pad}" x2="{w - 20}" y2="{h - pad}" stroke="black"/>',
        f'<line x1="{pad}" y1="{h - pad}" x2="{pad}" y2="30" stroke="black"/>',
        f'<text x="{w / 2}" y="{h - 15}" text-anchor="middle">share of area (cells)</text>',
        f'<text x="15" y="{h / 2}" transform="rotate(-90 15 {h / 2})" text-anchor="middle">hit rate</text>',
    ]

    def sx(a: float) -> float:
        return pad + (w - 20 - pad) * a / x_max

    def sy(r: float) -> float:
        return (h - pad) - (h - pad - 30) * r

    for tick in np.linspace(0, 1, 6):
        parts.append(f'<text x="{pad - 8}" y="{sy(tick) + 4:.1f}" text-anchor="end">{tick:.1f}</text>')
    for tick in np.linspace(0, x_max, 7):
        parts.append(f'<text x="{sx(tick):.1f}" y="{h - pad + 16}" text-anchor="middle">{tick:.0%}</text>')
    for i, (name, group) in enumerate(curve.groupby("model", sort=False)):
        colour = palette[i % len(palette)]
        dash = ' stroke-dasharray="4 3"' if name == "perfect" else ""
        points = " ".join(
            f"{sx(a):.1f},{sy(r):.1f}" for a, r in zip(group["area"], group["hit_rate"], strict=True)
        )
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2"{dash} points="{points}"/>')
        parts.append(f'<text x="{pad + 10}" y="{45 + 15 * i}" fill="{colour}">{name}</text>')
    parts.append("</svg>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
