"""``gridpatrol exposure``: the exposure-aware problem rate per cell (issue #24, docs/concepts/exposure.md).

Parses its options into :class:`services.exposure.ExposureRequest`, calls
:func:`services.exposure.exposure_rates` on the configured store (or on a throw-away store holding ``--cases
FILE``) and writes the table like the other analytics commands.
"""

from __future__ import annotations

from typing import Any

import click

from app.commands.analytics_cmds import (
    _analysis_options,
    echo_study,
    filters_from,
    guard,
    service_context,
    write_cells,
)


@click.command(name="exposure")
@_analysis_options
@click.option(
    "--level",
    type=click.FloatRange(0.5, 0.999),
    default=0.9,
    show_default=True,
    help="Mass of the credible interval of the rate.",
)
@click.option(
    "--half-life",
    "half_life",
    type=click.FloatRange(min=0.1),
    default=None,
    help="Discount older periods with this half-life (periods). Default: every period weighs the same.",
)
@guard
def exposure_cmd(**opts: Any) -> None:
    """Citizen reports, patrol finds per patrol-hour and the estimated problem rate per cell.

    Rows (highest estimated rate first): h3, cases, exposure_citizen (citizen reports), exposure_finds
    (patrol finds), patrol_minutes (presence from the tracks), exposure_rate (posterior mean, citizen
    reports per period), exposure_rate_lower / exposure_rate_upper (credible interval) and exposure_shrinkage
    (weight of the city mean: 1 = the cell is barely known). κ (finds per patrol-minute per unit rate) is
    printed.

    Example: gridpatrol exposure --from 2025-01-06 --to 2025-02-23 --out exposure.csv
    """
    from services.exposure import ExposureRequest, exposure_rates

    request = ExposureRequest(
        filters_from(opts), k=opts["k"], level=opts["level"], half_life=opts["half_life"]
    )
    with service_context(opts) as ctx:
        result = exposure_rates(ctx, request)
        tiles = opts["tiles"] or ctx.config.tiles
    echo_study(result)
    click.echo(f"kappa (finds per patrol-minute per citizen report per period): {result.kappa:.4g}")
    write_cells(
        result.to_frame(),
        opts["out"],
        colour=_rate_colours,
        tooltip={
            "h3": "H3", "exposure_rate": "rate", "exposure_rate_upper": "upper", "patrol_minutes": "minutes",
        },
        map_rows=lambda f: f["exposure_rate"] > 0,
        name="exposure",
        tiles=tiles,
        show=[
            "cases", "exposure_citizen", "exposure_finds", "patrol_minutes", "exposure_rate",
            "exposure_rate_lower", "exposure_rate_upper", "exposure_shrinkage",
        ],
    )  # fmt: skip


def _rate_colours(frame):
    import numpy as np
    import pandas as pd

    palette = np.array(["#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"])
    rate = frame["exposure_rate"].to_numpy(dtype=float)
    top = rate.max() if rate.size and rate.max() > 0 else 1.0
    level = np.minimum((rate / top * len(palette)).astype(int), len(palette) - 1)
    return pd.Series(palette[level], index=frame.index)


COMMANDS = [exposure_cmd]
