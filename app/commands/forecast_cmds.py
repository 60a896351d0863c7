"""``gridpatrol backtest`` and ``gridpatrol forecast``: where problems are likely next, measured honestly.

Both read the cases of the database (or of ``--cases FILE --mapping M``, imported into a throw-away SQLite
database) over the universe of :mod:`app.commands.analytics_cmds` (cells of the stored areas, else the
k-ring hull of the cases), keep the complete periods only and build a by-category cube.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from app.commands._common import exit_on
from app.commands.analytics_cmds import AnalysisError, _selection, _write, source_options

#: Leading columns of the backtest table (issue #6); more metrics follow.
BACKTEST_COLUMNS = ("model", "origin", "hit_rate_1", "pai_1", "pai_2", "pai_5", "pai_10", "pei_5", "deviance")


def _options(func: Callable[..., None]) -> Callable[..., None]:
    options = [
        *source_options(),
        click.option(
            "--k",
            type=click.IntRange(min=0),
            default=1,
            show_default=True,
            help="Rings around the cases' cells forming the universe when no areas are stored.",
        ),
        click.option("--category", multiple=True, help="Category code or class prefix; repeatable."),
        click.option(
            "--horizon", type=click.IntRange(min=1), default=1, show_default=True, help="Periods ahead."
        ),
        click.option("--timezone", envvar="GRIDPATROL_TIMEZONE", default="Asia/Shanghai", show_default=True),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _cube(opts: dict[str, Any], as_of: Any = None):
    from analytics.cube import build_cube
    from analytics.forecast import complete_range

    cases, universe, described = _selection(opts)
    click.echo(f"universe: {described}")
    first, last, cases = complete_range(cases, opts["period"], opts["timezone"], as_of)
    cube = build_cube(
        cases,
        universe,
        period=opts["period"],
        timezone=opts["timezone"],
        categories=list(opts["category"]) or None,
        by_category=True,
        start=first,
        end=last,
    )
    click.echo(
        f"cube: {cube.n_cases:,} case(s) over {len(cube.cells):,} cells × {len(cube.periods)} complete "
        f"{cube.period}(s) ({cube.periods[0]} … {cube.periods[-1]}); {cube.n_outside:,} outside the "
        f"universe, {cube.n_flagged:,} on a suspicious location cluster excluded"
    )
    return cases, universe, cube


@click.command(name="backtest")
@_options
@click.option(
    "--weeks",
    "n_origins",
    type=click.IntRange(min=1),
    default=12,
    show_default=True,
    help="Held-out periods (the last N periods, forecast one at a time; weeks with --period week).",
)
@click.option(
    "--models",
    default=None,
    help="Comma-separated models (default: every model: baseline_last, baseline_ma4, baseline_mean, "
    "baseline_kde, poisson_gbm, ensemble).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Backtest table, .csv or .parquet: one row per model and held-out period.",
)
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Hit rate vs area chart (.svg) with its table beside it (.csv). Default: <out>_curve.svg.",
)
@exit_on(AnalysisError, ValueError)  # EmptySelectionError, TooFewPeriodsError: ValueErrors
def backtest_cmd(**opts: Any) -> None:
    """Rolling-origin backtest: hit rate, PAI, PEI at 1/2/5/10 % of the area, Poisson deviance, MAE.

    Each model is refitted on the periods before each held-out period. Columns: model, origin (the held-out
    period), hit_rate_1, pai_1, pai_2, pai_5, pai_10, pei_5, deviance, then trained_through, cases and the
    other hit rates / PEIs, mae, seconds. A summary per model is printed.

    Example: gridpatrol backtest --cases ../shared/datasets/boston311_2015/boston311_2015.csv.gz
    --mapping boston311 --timezone America/New_York --res 9 --weeks 12 --out backtest_r9.csv
    """
    import numpy as np

    from analytics._features import ring_matrices
    from analytics.evaluation import backtest, summarise, write_curve_svg
    from analytics.forecast import MODELS

    out: Path = opts["out"]
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise AnalysisError(f"--out must end in .csv or .parquet; got {out.name}")
    names = [m.strip() for m in opts["models"].split(",")] if opts["models"] else list(MODELS)
    unknown = [m for m in names if m not in MODELS]
    if unknown:
        raise AnalysisError(f"unknown model(s) {unknown}; choose from {list(MODELS)}")
    _, _, cube = _cube(opts)
    rings = ring_matrices(cube.cells)
    table = backtest(
        cube,
        names,
        n_origins=opts["n_origins"],
        horizon=opts["horizon"],
        rings=rings,
        curve_areas=np.linspace(0.005, 0.3, 60),
    )
    curve = table.attrs.pop("curve")
    table = table[[*BACKTEST_COLUMNS, *[c for c in table.columns if c not in BACKTEST_COLUMNS]]]
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        table.to_csv(out, index=False)
    else:
        table.to_parquet(out, index=False)
    click.echo(f"wrote {len(table):,} rows ({len(names)} models × {opts['n_origins']} origins) to {out}")
    summary = summarise(table)
    shown = ["model", "hit_rate_1", "pai_1", "pai_2", "pai_5", "pai_10", "pei_5", "deviance", "mae"]
    shown += [c for c in ("pai_5_vs_best_baseline", "origins_beating_best_baseline") if c in summary]
    click.echo(summary[shown].round(3).to_string(index=False))
    plot = opts["plot"] or out.with_name(f"{out.stem}_curve.svg")
    curve.to_csv(plot.with_suffix(".csv"), index=False)
    write_curve_svg(curve, plot.with_suffix(".svg"), title=f"hit rate vs area, res {cube.res}")
    click.echo(f"wrote the hit-rate curve to {plot.with_suffix('.svg')} and {plot.with_suffix('.csv')}")


@click.command(name="forecast")
@_options
@click.option(
    "--model",
    default="auto",
    show_default=True,
    help="A model name, or auto: the best backtest PAI at 5 %% on the city's own last 6 periods.",
)
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Forecast as on this local day (later cases ignored). Default: the last case.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Output by suffix: .csv, .geojson, .parquet (GeoParquet) or .html (map). Default: print the top.",
)
@click.option("--tiles", envvar="GRIDPATROL_TILES", default="osm", show_default=True, help="Base map (html).")
@exit_on(AnalysisError, ValueError)  # EmptySelectionError, TooFewPeriodsError: ValueErrors
def forecast_cmd(**opts: Any) -> None:
    """Expected cases per cell in the next period, ranked.

    Rows: h3, period (ISO week YYYY-Www, day or month label), period_start, expected, rank (1 = highest;
    ties share the best rank), risk (expected / max expected), model.

    Example: gridpatrol forecast --horizon 1 --period week --model auto --out forecast.csv
    """
    from analytics.forecast import MODELS, forecast_cells

    out: Path | None = opts["out"]
    if out is not None and out.suffix.lower() not in (".csv", ".geojson", ".parquet", ".html"):
        click.echo(f"error: --out must end in .csv, .geojson, .parquet or .html; got {out.name}", err=True)
        sys.exit(2)
    if opts["model"] != "auto" and opts["model"] not in MODELS:
        raise AnalysisError(f"unknown model {opts['model']!r}; choose auto or one of {list(MODELS)}")
    cases, universe, described = _selection(opts)
    click.echo(f"universe: {described}")
    frame = forecast_cells(
        cases,
        universe,
        period=opts["period"],
        horizon=opts["horizon"],
        model=opts["model"],
        timezone=opts["timezone"],
        as_of=opts["as_of"].date() if opts["as_of"] else None,
        categories=list(opts["category"]) or None,
    )
    click.echo(
        f"forecast of {frame['period'].iloc[0]} with {frame['model'].iloc[0]}: "
        f"{frame['expected'].sum():,.1f} expected case(s) over {len(frame):,} cells"
    )
    _write(
        frame,
        out,
        colour=_risk_colours,
        tooltip={"h3": "H3", "expected": "expected", "rank": "rank", "risk": "risk"},
        map_rows=lambda f: f["expected"] > 0,
        name="forecast",
        tiles=opts["tiles"],
        sort_by=["rank"],
        ascending=[True],
        show=["period", "expected", "rank", "risk", "model"],
    )


def _risk_colours(frame):
    import numpy as np
    import pandas as pd

    palette = np.array(["#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"])
    level = np.minimum((frame["risk"].to_numpy(dtype=float) * len(palette)).astype(int), len(palette) - 1)
    return pd.Series(palette[level], index=frame.index)


COMMANDS = [backtest_cmd, forecast_cmd]
