"""``gridpatrol grid build``: the study area's H3 cells from area polygons (GeoParquet, GeoJSON or CSV)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cases.csv_safe import write_csv


@click.group(name="grid")
def grid_group() -> None:
    """Build and check the H3 grid of the study area."""


@grid_group.command(name="build")
@click.option(
    "--areas",
    "areas_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="Area polygons (GeoJSON, Shapefile, GeoPackage).",
)
@click.option(
    "--level",
    type=click.Choice(["city", "district", "subdistrict", "community"]),
    default="district",
    show_default=True,
    help="Administrative level of the polygons in the file.",
)
@click.option("--res", type=click.IntRange(0, 15), default=10, show_default=True, help="H3 resolution.")
@click.option(
    "--rule",
    type=click.Choice(["overlap", "center"]),
    default="overlap",
    show_default=True,
    help="overlap: every cell touching the area (narrow polygons keep cells); center: cell centre inside.",
)
@click.option(
    "--crs",
    type=click.Choice(["wgs84", "gcj02", "bd09"]),
    default="wgs84",
    show_default=True,
    help="Coordinate system of the polygons.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Output: .parquet (GeoParquet), .geojson or .csv (h3 hex id and WKT), by suffix.",
)
def grid_build_cmd(areas_file: Path, level: str, res: int, rule: str, crs: str, out: Path) -> None:
    """Build the cells table (cell, geometry, district, subdistrict, community, unit_grid, area_m2, share).

    Example: gridpatrol grid build --areas nantong_districts.json --crs gcj02 --res 10 --out cells.parquet
    """
    from grid.areas import AreaFileError, read_areas
    from grid.build import cells_from_polygons
    from grid.cells import cells_to_strings

    suffix = out.suffix.lower()
    if suffix not in (".parquet", ".geojson", ".json", ".csv"):
        click.echo(f"error: --out must end in .parquet, .geojson or .csv; got {out.name}", err=True)
        sys.exit(2)
    try:
        areas, quarantine = read_areas(areas_file, level=level, crs=crs)
    except AreaFileError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    if len(quarantine):
        click.echo(f"warning: {len(quarantine)} feature(s) of {areas_file} unusable and skipped", err=True)
    cells = cells_from_polygons(areas, res=res, rule=rule)
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".parquet":
        cells.to_parquet(out)
    elif suffix == ".csv":
        import pandas as pd

        # a plain table: WKT text in the geometry column (a GeoDataFrame warns that it is not geometry)
        frame = pd.DataFrame(cells).assign(
            h3=cells_to_strings(cells["cell"].to_numpy()), geometry=cells.geometry.to_wkt()
        )
        write_csv(frame, out)
    else:
        cells.assign(h3=cells_to_strings(cells["cell"].to_numpy())).to_file(out, driver="GeoJSON")
    area_km2 = float((cells["area_m2"] * cells["share"]).sum()) / 1e6
    click.echo(f"wrote {len(cells):,} res-{res} cells ({rule} rule, {area_km2:,.1f} km²) to {out}")


COMMANDS = [grid_group]
