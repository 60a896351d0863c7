"""``gridpatrol effectiveness``: inspectors' tracks joined with the cases of a date range.

Parses the options, calls :func:`services.effectiveness.effectiveness` (the cases, events, assignments and
areas of the database, the tracks of the track store reduced to cell visits day by day, optionally cached)
and writes one row per inspector, subdistrict, district, category or cell and, with ``--gap-out``, the
allocation-gap map (expected problems vs patrol minutes per cell). The forecast model of the expected
problems and the time zone come from the city configuration.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from app.commands._common import exit_on
from cases.csv_safe import write_csv
from services.errors import ServiceError

TABLE_SUFFIXES = (".csv", ".parquet")
GAP_SUFFIXES = (".geojson", ".parquet", ".csv", ".html")


@click.command(name="effectiveness")
@click.option(
    "--from", "start", type=click.DateTime(["%Y-%m-%d"]), required=True, help="First day (city zone)."
)
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), required=True, help="Last day, inclusive.")
@click.option(
    "--by",
    type=click.Choice(["inspector", "subdistrict", "district", "category", "cell"]),
    default="inspector",
    show_default=True,
    help="One row per this group.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The table: .csv or .parquet.",
)
@click.option(
    "--gap-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the allocation-gap map: .geojson, .parquet (GeoParquet), .csv or .html.",
)
@click.option(
    "--window-h",
    type=click.FloatRange(min=0, min_open=True),
    default=2.0,
    show_default=True,
    help="An inspector's pass counts within this many hours before a report.",
)
@click.option("--k", type=click.IntRange(min=0), default=1, show_default=True, help="Rings around a case.")
@click.option(
    "--tracks",
    "tracks_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Track store (day=YYYY-MM-DD/ folders)  [default: the data folder's].",
)
@click.option(
    "--cache",
    "cache_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep each day's cell visits here (reduced once until the day's track file changes).",
)
@click.option("--tiles", default=None, help="Base map of an HTML gap map [default: the configured tiles].")
@exit_on(ServiceError)
def effectiveness_cmd(
    start: Any,
    end: Any,
    by: str,
    out: Path,
    gap_out: Path | None,
    window_h: float,
    k: int,
    tracks_dir: Path | None,
    cache_dir: Path | None,
    tiles: str | None,
) -> None:
    """Patrol effectiveness: discovery rate (主动发现率), problems walked past, attribution, response.

    Example: gridpatrol effectiveness --from 2025-03-03 --to 2025-03-09 --by inspector --out eff.csv
    """
    from app.commands.deploy_cmds import command_context
    from services.coverage import EffectivenessRequest, effectiveness

    if out.suffix.lower() not in TABLE_SUFFIXES:
        click.echo(f"error: --out must end in {', '.join(TABLE_SUFFIXES)}; got {out.name}", err=True)
        sys.exit(2)
    if gap_out is not None and gap_out.suffix.lower() not in GAP_SUFFIXES:
        click.echo(f"error: --gap-out must end in {', '.join(GAP_SUFFIXES)}; got {gap_out.name}", err=True)
        sys.exit(2)
    ctx = command_context()
    request = EffectivenessRequest(
        start=start.date(), end=end.date(), by=by, window_h=window_h, k=k, gap=gap_out is not None,
        tracks=tracks_dir, cache_dir=cache_dir,
    )  # fmt: skip
    result = effectiveness(ctx, request)
    table = result.to_frame()
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        write_csv(table, out)
    else:
        table.to_parquet(out, index=False)
    n = result.n_cases
    walked = (
        f"{result.missed:,} citizen reports walked past within {window_h:g} h; {result.tracks_message}"
        if result.tracks_found
        else f"{result.tracks_message}: nothing is known of the patrols (visit columns left empty)"
    )
    click.echo(
        f"{n:,} cases {request.start} … {request.end}: {result.n_patrol:,} found by patrol "
        f"({result.n_patrol / n:.1%}), {walked}; expected problems from {result.expected_source}"
    )
    click.echo(f"wrote {len(table):,} {by} rows to {out}")
    if gap_out is not None:
        _write_gap(result.gap, gap_out, tiles or ctx.config.tiles)
        click.echo(
            f"wrote the allocation gap of {len(result.gap):,} cells to {gap_out} "
            f"(patrol time to move: {result.allocation_index():.1%})"
        )
    if not result.tracks_found:  # the case figures are written, but the patrols were not found: say so
        click.echo(f"error: {result.tracks_message}", err=True)
        sys.exit(3)


def _write_gap(gap: Any, path: Path, tiles: str) -> None:
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        write_csv(gap.drop(columns="geometry"), path)
    elif suffix == ".parquet":
        gap.to_parquet(path)
    elif suffix == ".geojson":
        finite = gap["minutes_per_expected"].where(np.isfinite(gap["minutes_per_expected"]))
        gap.assign(cell=gap["h3"], minutes_per_expected=finite).to_file(path, driver="GeoJSON")
    else:  # the map builders need folium (the [web] extra): imported only here
        from app.commands.deploy_cmds import write_html
        from app.patrol_maps import gap_map

        tooltip = {"h3": "H3", "expected": "expected problems", "patrol_minutes": "patrol minutes",
                   "gap": "gap (points of share)", "status": "status"}  # fmt: skip
        write_html(gap_map(gap, tooltip, tiles=tiles), path)


COMMANDS = [effectiveness_cmd]
