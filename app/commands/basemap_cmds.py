"""``gridpatrol import basemap FILE``: the city's streets, water, green and railway drawn under every map.

Parses the options and calls :func:`services.basemap.import_basemap`; rows that could not be stored are
listed (row, reason), and the command exits 1 when nothing was stored.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from app.commands._common import exit_on
from cases.models import BASEMAP_KINDS
from services.errors import ServiceError


@click.command(name="basemap")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--kind",
    type=click.Choice(BASEMAP_KINDS),
    default=None,
    help="Kind of every feature [default: the file's kind column, else OSM tags highway/waterway/…].",
)
@click.option(
    "--crs",
    default="wgs84",
    show_default=True,
    help="Coordinate system when the file declares none: wgs84, gcj02, bd09 or an EPSG code (EPSG:4528).",
)
@click.option("--kind-field", default=None, help="Column holding each feature's kind.")
@click.option("--name-field", default=None, help="Column holding each feature's name.")
@click.option("--layer", default=None, help="GeoPackage layer.")
@exit_on(ServiceError)
def import_basemap_cmd(**opts: Any) -> None:
    """Import base map layers (GeoJSON, GeoPackage, Shapefile, GeoParquet or an OSM extract as GeoJSON
    lines); importing the same file again replaces its features.

    Example: gridpatrol import basemap streets.gpkg --kind street --crs EPSG:4528
    """
    from app.commands.deploy_cmds import command_context
    from services.basemap import ImportBasemapRequest, import_basemap

    request = ImportBasemapRequest(
        path=opts["file"], kind=opts["kind"], crs=opts["crs"], kind_field=opts["kind_field"],
        name_field=opts["name_field"], layer=opts["layer"],
    )  # fmt: skip
    report = import_basemap(command_context(), request).report
    click.echo(report.summary())
    for note in report.notes:
        click.echo(f"  note: {note}")
    for row in report.problems.head(20).itertuples():
        click.echo(f"  row {row.row}: {row.reason} ({row.detail})")
    if len(report.problems) > 20:
        click.echo(f"  … and {len(report.problems) - 20} more rows not stored")
    if report.imported == 0:
        click.echo(f"error: no base map feature stored from {report.file}", err=True)
        sys.exit(1)


IMPORT_COMMANDS = [import_basemap_cmd]
