"""``gridpatrol import tracks`` and ``gridpatrol coverage``: the track store and patrol coverage reports.

``import tracks`` is listed in ``IMPORT_COMMANDS``, which ``app.cli`` adds to its ``import`` group.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

CRS_CHOICE = click.Choice(["wgs84", "gcj02", "bd09"])


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
@click.option("--crs", type=CRS_CHOICE, default=None, help="Coordinate system of the file (default wgs84).")
@click.option(
    "--timezone",
    envvar="GRIDPATROL_TIMEZONE",
    default="Asia/Shanghai",
    show_default=True,
    help="City zone: points are stored in day partitions of this zone.",
)
def import_tracks(files: tuple[Path, ...], inspector: str | None, mapping: Path | None, crs: str | None,
                  timezone: str) -> None:  # fmt: skip
    """Import GPS tracks (GPX, CSV, GeoLife .plt, GeoJSON/GPKG points, Parquet) into the track store.

    Re-importing a file adds nothing (points are unique per inspector and time).

    Example: gridpatrol import tracks run.gpx --inspector I-007
    """
    from cases.db import data_dir
    from patrol.readers import TrackReadError, load_track_mapping, read_tracks
    from patrol.store import write_tracks

    root = data_dir() / "tracks"
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
            problems.to_csv(out, index=False)
            click.echo(f"{len(problems)} unusable point(s) written to {out}", err=True)
        click.echo(
            f"{file}: read {len(points) + len(problems):,}, stored {report.added:,} new, "
            f"{report.duplicates:,} already stored, {len(problems):,} unusable; "
            f"{len(report.days)} day(s) → {root}"
        )


@click.command(name="coverage")
@click.option(
    "--from", "start", type=click.DateTime(["%Y-%m-%d"]), required=True, help="First day (city zone)."
)
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), required=True, help="Last day, inclusive.")
@click.option("--inspector", default=None, help="Only this inspector's tracks.")
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
@click.option("--timezone", envvar="GRIDPATROL_TIMEZONE", default="Asia/Shanghai", show_default=True)
@click.option(
    "--tiles", default="osm", show_default=True, help="Base map of the HTML map (osm, gaode, none …)."
)
@click.option(
    "--tracks",
    "tracks_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Track store (day=YYYY-MM-DD/ folders)  [default: <data dir>/tracks; demo: data/geo/demo/tracks].",
)
def coverage_cmd(
    start,
    end,
    inspector: str | None,
    out: Path,
    backend: str,
    timezone: str,
    tiles: str,
    tracks_dir: Path | None,
) -> None:
    """Patrol coverage per H3 cell: minutes present, visits, distinct inspectors, last visit.

    Example: gridpatrol coverage --from 2026-03-01 --to 2026-03-07 --out coverage.html
    """
    from cases.db import data_dir
    from grid.cells import cells_to_polygons, cells_to_strings
    from patrol.coverage import cell_summary
    from patrol.scale import fine_cube_dask, fine_cube_from_store

    suffix = out.suffix.lower()
    if suffix not in (".csv", ".parquet", ".html"):
        click.echo(f"error: --out must end in .csv, .parquet or .html; got {out.name}", err=True)
        sys.exit(2)
    reduce = fine_cube_dask if backend == "dask" else fine_cube_from_store
    root = tracks_dir or data_dir() / "tracks"
    fine = reduce(root, start.date(), end.date(), inspector=inspector, timezone=timezone)
    summary = cell_summary(fine)
    summary.insert(1, "h3", cells_to_strings(summary["cell"].to_numpy()))
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        summary.to_csv(out, index=False)
    else:
        polygons = cells_to_polygons(summary["cell"].to_numpy())
        cells = polygons.drop(columns="cell").join(summary)
        if suffix == ".parquet":
            cells.to_parquet(out)
        else:
            out.write_text(_coverage_html(cells, tiles), encoding="utf-8")
    click.echo(f"wrote {len(summary):,} cells ({summary['minutes'].sum():,.0f} patrol minutes) to {out}")


def _coverage_html(cells, tiles: str) -> str:
    import numpy as np

    from app.maps import base_map, cells_layer, standalone_html

    if len(cells) == 0:
        return standalone_html(base_map(32.0, 120.86, tiles=tiles))
    centroid = cells.geometry.union_all().centroid
    m = base_map(centroid.y, centroid.x, zoom=14, tiles=tiles)
    level = np.clip(np.log1p(cells["minutes"].to_numpy()) / np.log1p(max(cells["minutes"].max(), 1.0)), 0, 1)
    palette = np.array(["#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"])
    fill = cells["minutes"].map(lambda _: "")  # aligned Series, filled below
    fill[:] = palette[np.minimum((level * len(palette)).astype(int), len(palette) - 1)]
    frame = cells.assign(minutes=cells["minutes"].round(1), last_visit=cells["last_visit"].astype(str))
    tooltip = {"h3": "H3", "minutes": "minutes", "visits": "visits", "inspectors": "inspectors",
               "last_visit": "last visit (UTC)"}  # fmt: skip
    cells_layer(frame, fill=fill, tooltip=tooltip, tiles=tiles, name="coverage").add_to(m)
    return standalone_html(m)


COMMANDS = [coverage_cmd]
IMPORT_COMMANDS = [import_tracks]
