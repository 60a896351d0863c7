"""``gridpatrol import tracks``, ``coverage`` and ``neglect``: the track store and patrol coverage reports.

``import tracks`` is listed in ``IMPORT_COMMANDS``, which ``app.cli`` adds to its ``import`` group. The
reports parse their options, call :func:`services.coverage.coverage_report` or
:func:`services.coverage.neglect` and write the result.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from app.commands._common import exit_on
from cases.csv_safe import write_csv
from services.errors import ServiceError


@click.command(name="tracks")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--inspector", default=None, help="Inspector id of every point (GPX, .plt, CSV without one).")
@click.option(
    "--mapping",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Track mapping TOML ([columns] inspector_id, ts, lat, lon, accuracy_m; [options]).",
)
@click.option(
    "--crs",
    default=None,
    help="Coordinate system of the file: wgs84 (default), gcj02, bd09, an EPSG code (EPSG:4528) or a PROJ "
    "string; in a projected one lat/lon (or y/x) are northing/easting.",
)
def import_tracks(
    files: tuple[Path, ...], inspector: str | None, mapping: Path | None, crs: str | None
) -> None:
    """Import GPS tracks (GPX, CSV, GeoLife .plt, GeoJSON/GPKG points, Parquet) into the track store.

    Re-importing a file adds nothing (points are unique per inspector and time).

    Example: gridpatrol import tracks run.gpx --inspector I-007
    """
    from grid.config import data_dir, load_city_config
    from patrol.readers import TrackReadError, load_track_mapping, read_tracks
    from patrol.store import write_tracks

    root = data_dir() / "tracks"
    timezone = load_city_config().timezone  # points are stored in day partitions of the city's zone
    try:
        track_mapping = load_track_mapping(mapping) if mapping else None
    except TrackReadError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    for file in files:
        try:
            points, problems = read_tracks(file, inspector=inspector, mapping=track_mapping, crs=crs)
        except TrackReadError as exc:
            click.echo(f"error: cannot read {file}: {exc}", err=True)
            sys.exit(2)
        report = write_tracks(points, root, timezone=timezone)
        if len(problems):
            out = data_dir() / "quarantine" / f"{file.name}.tracks.quarantine.csv"
            out.parent.mkdir(parents=True, exist_ok=True)
            write_csv(problems, out)
            click.echo(f"{len(problems)} unusable point(s) written to {out}", err=True)
        click.echo(
            f"{file}: read {len(points) + len(problems):,}, stored {report.added:,} new, "
            f"{report.duplicates:,} already stored, {len(problems):,} unusable; "
            f"{len(report.days)} day(s) → {root}"
        )


TRACKS_OPTION = click.option(
    "--tracks",
    "tracks_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Track store (day=YYYY-MM-DD/ folders)  [default: <data dir>/tracks; demo: data/geo/demo/tracks].",
)


def _out_suffix(out: Path, suffixes: tuple[str, ...]) -> str:
    suffix = out.suffix.lower()
    if suffix not in suffixes:
        click.echo(f"error: --out must end in {', '.join(suffixes)}; got {out.name}", err=True)
        sys.exit(2)
    out.parent.mkdir(parents=True, exist_ok=True)
    return suffix


def _maps() -> Any:
    """The map builders (folium: the ``[web]`` extra), imported only for an HTML output."""
    from app import patrol_maps

    return patrol_maps


def _write_cells(frame: Any, out: Path, suffix: str, html: Any) -> None:
    """``frame`` (with ``cell``) as CSV, GeoParquet with the cell polygons, or the map ``html()``."""
    from grid.cells import with_cell_polygons

    if suffix == ".csv":
        write_csv(frame, out)
    elif suffix == ".parquet":
        with_cell_polygons(frame).to_parquet(out)
    else:
        from app.commands.deploy_cmds import write_html

        write_html(html(), out)


@click.command(name="coverage")
@click.option(
    "--from", "start", type=click.DateTime(["%Y-%m-%d"]), required=True, help="First day (city zone)."
)
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), required=True, help="Last day, inclusive.")
@click.option("--inspector", default=None, help="Only this inspector's tracks and cells.")
@click.option(
    "--by",
    type=click.Choice(["cell", "inspector", "neglect"]),
    default="cell",
    show_default=True,
    help="cell: minutes, visits, inspectors and last visit per cell; inspector: the share of assigned cells "
    "visited per inspector and day/week (the Coverage page's table); neglect: the assigned cells' neglect.",
)
@click.option("--freq", type=click.Choice(["D", "W"]), default="D", show_default=True, help="--by inspector.")
@click.option(
    "--never-days",
    type=click.IntRange(min=1),
    default=None,
    help="--by neglect: not entered for this many days [default: patrol.never_visited_days].",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Output by suffix: .csv, .parquet (GeoParquet with cell polygons) or .html (map).",
)
@click.option(
    "--backend",
    type=click.Choice(["pandas", "dask"]),
    default="pandas",
    show_default=True,
    help="pandas: one day at a time in this process; dask: the same over Dask.",
)
@click.option("--tiles", default=None, help="Base map of the HTML map [default: the configured tiles].")
@TRACKS_OPTION
@exit_on(ServiceError)
def coverage_cmd(
    start: Any,
    end: Any,
    inspector: str | None,
    by: str,
    freq: str,
    never_days: int | None,
    out: Path,
    backend: str,
    tiles: str | None,
    tracks_dir: Path | None,
) -> None:
    """Patrol coverage per H3 cell (minutes present, visits, inspectors, last visit) or per inspector.

    Example: gridpatrol coverage --from 2026-03-01 --to 2026-03-07 --out coverage.html
    """
    from app.commands.deploy_cmds import command_context
    from services.coverage import CoverageRequest, coverage_report

    suffix = _out_suffix(out, (".csv", ".parquet") if by == "inspector" else (".csv", ".parquet", ".html"))
    ctx = command_context()
    request = CoverageRequest(
        start=start.date(), end=end.date(), freq=freq, never_days=never_days, inspector_id=inspector,
        backend=backend, tracks=tracks_dir,
    )  # fmt: skip
    result = coverage_report(ctx, request)
    tiles = tiles or ctx.config.tiles
    if by == "inspector":
        kpis = result.to_frame("kpis")
        if suffix == ".csv":
            write_csv(kpis, out)
        else:
            kpis.to_parquet(out, index=False)
        click.echo(f"wrote {len(kpis):,} inspector rows to {out}")
    elif by == "neglect":
        table = result.to_frame("neglect")
        tooltip = {"h3": "H3", "inspector_id": "inspector", "days_since_visit": "days since visit"}
        _write_cells(table, out, suffix, lambda: _maps().neglect_map(table, tooltip, tiles=tiles))
        click.echo(
            f"wrote {len(table):,} assigned cells to {out}: {int(table['neglected'].sum()):,} not entered "
            f"for {result.never_days} days"
        )
    else:
        summary = result.to_frame("cells")
        _write_cells(summary, out, suffix, lambda: _maps().coverage_map(summary, tiles=tiles))
        click.echo(f"wrote {len(summary):,} cells ({summary['minutes'].sum():,.0f} patrol minutes) to {out}")
    if not result.tracks_found:
        _no_tracks(tracks_dir or ctx.tracks_root(), f"{request.start} … {request.end}")


@click.command(name="neglect")
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(["%Y-%m-%d"]),
    required=True,
    help="Day (city zone) of the report.",
)
@click.option("--inspector", default=None, help="Only this inspector's cells.")
@click.option(
    "--never-days",
    type=click.IntRange(min=1),
    default=None,
    help="Not entered for this many days [default: patrol.never_visited_days].",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Output by suffix: .csv, .parquet (GeoParquet) or .html (map).",
)
@click.option("--tiles", default=None, help="Base map of the HTML map [default: the configured tiles].")
@TRACKS_OPTION
@exit_on(ServiceError)
def neglect_cmd(
    as_of: Any,
    inspector: str | None,
    never_days: int | None,
    out: Path,
    tiles: str | None,
    tracks_dir: Path | None,
) -> None:
    """Assigned cells not patrolled for N days before the end of a day, with their last visit.

    Example: gridpatrol neglect --as-of 2026-03-07 --never-days 7 --out neglected.csv
    """
    from app.commands.deploy_cmds import command_context
    from services.coverage import NeglectRequest, neglect

    suffix = _out_suffix(out, (".csv", ".parquet", ".html"))
    ctx = command_context()
    request = NeglectRequest(
        as_of=as_of.date(), never_days=never_days, inspector_id=inspector, tracks=tracks_dir
    )
    result = neglect(ctx, request)
    table = result.to_frame()
    tooltip = {"h3": "H3", "inspector_id": "inspector", "days_since_visit": "days since visit"}
    tiles = tiles or ctx.config.tiles
    _write_cells(table, out, suffix, lambda: _maps().neglect_map(table, tooltip, tiles=tiles))
    click.echo(
        f"wrote {len(table):,} assigned cells to {out}: {int(table['neglected'].sum()):,} not entered for "
        f"{result.never_days} days" + ("" if result.tracks_found else " (no patrol tracks found)")
    )
    if not result.tracks_found:
        _no_tracks(tracks_dir or ctx.tracks_root(), f"the days up to {request.as_of}")


def _no_tracks(root: Path | None, span: str) -> None:
    """Say that no patrol track was found (where and for which days) and exit with status 3: the table is
    written, but every visit figure in it is unknown, not zero."""
    where = root if root is not None else "(no track store: <data dir>/tracks)"
    click.echo(f"error: no patrol tracks found in {where} for {span}", err=True)
    sys.exit(3)


COMMANDS = [coverage_cmd, neglect_cmd]
IMPORT_COMMANDS = [import_tracks]
