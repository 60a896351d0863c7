"""``gridpatrol backtest`` and ``gridpatrol forecast``: where problems are likely next, measured honestly.

Both parse their options into a request and call one service (:mod:`services.forecasting`) on the
configured store, or on a throw-away store holding ``--cases FILE --mapping M``; the cell universe (the
stored areas' cells, else the k-ring hull of the cases), the complete periods, the time zone and the
default model are the service's and the city configuration's.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from app.commands.analytics_cmds import (
    AnalysisError,
    echo_study,
    filters_from,
    guard,
    service_context,
    source_options,
    target_option,
    write_cells,
)


def _options(func: Callable[..., None]) -> Callable[..., None]:
    options = [
        *source_options(),
        target_option(),
        click.option(
            "--k",
            type=click.IntRange(min=0),
            default=None,
            help="Rings around the cases' cells forming the universe when no areas are stored "
            "(default: analysis.hotspot_k).",
        ),
        click.option(
            "--horizon", type=click.IntRange(min=1), default=1, show_default=True, help="Periods ahead."
        ),
        click.option(
            "--as-of",
            "as_of",
            type=click.DateTime(["%Y-%m-%d"]),
            default=None,
            help="As on this local day (later cases ignored). Default: --to, else the last case.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


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
@guard
def backtest_cmd(**opts: Any) -> None:
    """Rolling-origin backtest: hit rate, PAI, PEI at 1/2/5/10 % of the area, Poisson deviance, MAE.

    Each model is refitted on the periods before each held-out period. Columns: model, origin (the held-out
    period), hit_rate_1, pai_1, pai_2, pai_5, pai_10, pei_5, deviance, then trained_through, cases and the
    other hit rates / PEIs, mae, seconds. A summary per model is printed.

    Example: gridpatrol backtest --cases ../shared/datasets/boston311_2015/boston311_2015.csv.gz
    --mapping boston311 --timezone America/New_York --res 9 --weeks 12 --out backtest_r9.csv
    """
    from analytics.evaluation import write_curve_svg
    from services.forecasting import BacktestRequest, backtest

    out: Path = opts["out"]
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise AnalysisError(f"--out must end in .csv or .parquet; got {out.name}")
    models = tuple(m.strip() for m in opts["models"].split(",")) if opts["models"] else ()
    request = BacktestRequest(
        filters_from(opts),
        models=models,
        n_origins=opts["n_origins"],
        horizon=opts["horizon"],
        as_of=opts["as_of"].date() if opts["as_of"] else None,
        k=opts["k"],
        target=opts["target"],
    )
    with service_context(opts) as ctx:
        result = backtest(ctx, request)
    echo_study(result)
    table = result.to_frame()
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        from cases.csv_safe import write_csv

        write_csv(table, out)
    else:
        table.to_parquet(out, index=False)
    n_models = len(result.models)
    click.echo(f"wrote {len(table):,} rows ({n_models} models × {opts['n_origins']} origins) to {out}")
    summary = result.summary
    shown = ["model", "hit_rate_1", "pai_1", "pai_2", "pai_5", "pai_10", "pei_5", "deviance", "mae"]
    shown += [c for c in ("pai_5_vs_best_baseline", "origins_beating_best_baseline") if c in summary]
    click.echo(summary[shown].round(3).to_string(index=False))
    plot = opts["plot"] or out.with_name(f"{out.stem}_curve.svg")
    from cases.csv_safe import write_csv

    write_csv(result.curve, plot.with_suffix(".csv"))
    write_curve_svg(result.curve, plot.with_suffix(".svg"), title=f"hit rate vs area, res {result.res}")
    click.echo(f"wrote the hit-rate curve to {plot.with_suffix('.svg')} and {plot.with_suffix('.csv')}")


@click.command(name="forecast")
@_options
@click.option(
    "--model",
    default=None,
    help="A model name, or auto: the best backtest PAI at 5 %% on the city's own last 6 periods. "
    "Default: the city configuration's patrol.forecast_model.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Output by suffix: .csv, .geojson, .parquet (GeoParquet) or .html (map). Default: print the top.",
)
@click.option("--tiles", default=None, help="Base map (html). Default: the configuration's tiles.")
@guard
def forecast_cmd(**opts: Any) -> None:
    """Expected cases per cell in the next period, ranked.

    Rows: h3, period (ISO week YYYY-Www, day or month label), period_start, expected, rank (1 = highest;
    ties share the best rank), risk (expected / max expected), model.

    Example: gridpatrol forecast --horizon 1 --period week --model auto --out forecast.csv
    """
    from services.forecasting import ForecastRequest, forecast

    request = ForecastRequest(
        filters_from(opts),
        model=opts["model"],
        horizon=opts["horizon"],
        as_of=opts["as_of"].date() if opts["as_of"] else None,
        k=opts["k"],
        target=opts["target"],
    )
    with service_context(opts) as ctx:
        result = forecast(ctx, request)
        tiles = opts["tiles"] or ctx.config.tiles
    echo_study(result)
    frame = result.to_frame()
    click.echo(
        f"forecast of {result.period} with {result.model} (target {result.target}): "
        f"{frame['expected'].sum():,.1f} expected case(s) over {len(frame):,} cells"
    )
    write_cells(
        frame,
        opts["out"],
        colour=_risk_colours,
        tooltip={"h3": "H3", "expected": "expected", "rank": "rank", "risk": "risk"},
        map_rows=lambda f: f["expected"] > 0,
        name="forecast",
        tiles=tiles,
        show=["period", "expected", "rank", "risk", "model"],
    )


def _risk_colours(frame):
    import numpy as np
    import pandas as pd

    palette = np.array(["#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"])
    level = np.minimum((frame["risk"].to_numpy(dtype=float) * len(palette)).astype(int), len(palette) - 1)
    return pd.Series(palette[level], index=frame.index)


COMMANDS = [backtest_cmd, forecast_cmd]
