"""The ``gridpatrol`` command line.

Every command is a thin shell over a library function; run ``gridpatrol COMMAND --help`` for its options.
The database is ``--db-url``, else ``GRIDPATROL_DB_URL``, else SQLite at ``data/gridpatrol.db``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

#: Modules of the optional extras (``pip install 'gridpatrol[EXTRA]'``) → the extra that installs them.
EXTRA_OF_MODULE = {
    "folium": "web",
    "branca": "web",
    "streamlit": "web",
    "streamlit_folium": "web",
    "pydeck": "web",
    "altair": "web",
    "dask": "dask",
    "distributed": "dask",
    "psycopg": "postgres",
    "fastapi": "api",
    "uvicorn": "api",
}


class _Main(click.Group):
    """The command group. Two failures end any command with ``error: …`` and exit code 1, not a traceback:
    a store without the current schema (``run `gridpatrol init```), and a module of an extra the install
    lacks (``pip install 'gridpatrol[web]'`` …)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ImportError as exc:
            top = (exc.name or "").split(".")[0]
            if top not in EXTRA_OF_MODULE:
                raise
            hint = "" if "gridpatrol[" in str(exc) else f": pip install 'gridpatrol[{EXTRA_OF_MODULE[top]}]'"
            click.echo(f"error: {exc}{hint}", err=True)
            ctx.exit(1)
        except RuntimeError as exc:
            from cases.db import SchemaOutOfDateError

            if not isinstance(exc, SchemaOutOfDateError):
                raise
            click.echo(f"error: {exc}", err=True)
            ctx.exit(1)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db-url", envvar="GRIDPATROL_DB_URL", default=None, help="SQLAlchemy URL of the database.")
@click.pass_context
def main(ctx: click.Context, db_url: str | None) -> None:
    """GridPatrol: H3 grid, cases, patrol tracks and hotspots for grid city management."""
    ctx.obj = {"db_url": db_url}


def _engine(ctx: click.Context):
    """The store, refused (:class:`cases.db.SchemaOutOfDateError`) unless ``gridpatrol init`` made it
    current: only ``init`` migrates."""
    from cases.db import make_engine, require_current_schema

    return require_current_schema(make_engine(ctx.obj["db_url"]))


@main.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Write the city configuration if missing and create or upgrade the database schema (idempotent).

    The configuration (``<data dir>/gridpatrol.toml``, or ``GRIDPATROL_CONFIG``) is written with the
    defaults only when there is none: a city's edits are kept.
    """
    from cases.db import database_url, init_db, make_engine, schema_revision
    from grid.config import ConfigError, config_path, load_city_config, write_default_config

    written = write_default_config()
    path = config_path()
    click.echo(f"configuration {path} {'written' if written else 'kept'}")
    try:
        load_city_config(path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    engine = make_engine(ctx.obj["db_url"])
    init_db(engine)  # the one place that migrates
    click.echo(f"database {database_url(ctx.obj['db_url'])} at schema revision {schema_revision(engine)}")


def _context(ctx: click.Context) -> Any:
    """The service context of a command: the store (:func:`_engine`), the city configuration, the system
    as the caller (a command is run by the administrator on the server)."""
    from services.context import open_context

    return open_context(engine=_engine(ctx))


def _fail(exc: Exception, code: int = 1) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(code)


@main.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """Print how many rows each table of the database holds."""
    from services.imports import store_status

    for table, count in store_status(_context(ctx)).counts.items():
        click.echo(f"{table:<12} {count:>10,}")


@main.group(name="import")
def import_group() -> None:
    """Import cases, inspectors, assignments or areas from a file (nothing is lost: see the quarantine)."""


def _finish_import(result: Any) -> None:
    report = result.report
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    if result.quarantine_file is not None:
        if report.quarantined:
            reasons = ", ".join(f"{reason} {count}" for reason, count in report.reasons().items())
            click.echo(f"quarantined rows written to {result.quarantine_file} ({reasons})", err=True)
        defects = getattr(report, "defect_reasons", None)
        if defects is not None and len(report.defects):
            listed = ", ".join(f"{what} {count}" for what, count in defects().items())
            click.echo(
                f"field defects (imported, field empty) written to {result.quarantine_file} ({listed})",
                err=True,
            )
    click.echo(report.summary())


def _say_waiting() -> None:
    click.echo("waiting for another import to finish …", err=True)


def _run_import(ctx: click.Context, kind: str, file: Path, **options: Any) -> None:
    """Import ``file`` through :func:`services.imports.import_file`; a bad file or mapping exits 2."""
    from services.errors import ServiceError
    from services.imports import ImportRequest, import_file

    try:
        request = ImportRequest(kind=kind, path=file, on_wait=_say_waiting, **options)
        result = import_file(_context(ctx), request)
    except ServiceError as exc:
        _fail(exc, 2 if exc.code in ("unreadable", "bad_mapping", "store_busy") else 1)
    _finish_import(result)


QUARANTINE_OPTION = click.option(
    "--quarantine-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write quarantined rows (CSV). Default: <data dir>/quarantine/<file>.<kind>.quarantine.csv",
)
MAPPING_OPTION = click.option(
    "--mapping",
    default=None,
    help="Mapping file (TOML) from the source's columns to GridPatrol's fields, or a shipped mapping's name.",
)


@import_group.command(name="cases")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@MAPPING_OPTION
@click.option(
    "--on-duplicate",
    type=click.Choice(["skip", "update"]),
    default="skip",
    show_default=True,
    help="A case_id already stored: keep the stored row, or update it from the file.",
)
@click.option(
    "--categories",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The city's category table (CSV with a `code` column): other categories are quarantined.",
)
@click.option(
    "--strict",
    "strict",
    multiple=True,
    metavar="REASON",
    help="Quarantine rows with this field-level problem (closed_before_reported, unparseable_time, "
    "unmapped_value, missing_field (a location) …, or `all`) instead of importing them with the field "
    "empty; repeatable.",
)
@QUARANTINE_OPTION
@click.option(
    "--time-window",
    default=None,
    metavar="START,END",
    help="Plausible report times, e.g. 2000-01-01,+1d (ISO times UTC, now, +Nd/-Nh): others are "
    "quarantined. Default: the mapping's time_window, else 2000-01-01,+1d.",
)
@click.pass_context
def import_cases_cmd(
    ctx: click.Context,
    file: Path,
    mapping: str | None,
    on_duplicate: str,
    categories: Path | None,
    strict: tuple[str, ...],
    quarantine_out: Path | None,
    time_window: str | None,
) -> None:
    """Import cases from CSV (any encoding, .gz ok), Excel .xlsx or Open311 JSON.

    Example: gridpatrol import cases boston311_2015.csv.gz --mapping boston311
    """
    _run_import(
        ctx,
        "cases",
        file,
        mapping=mapping,
        on_duplicate=on_duplicate,
        categories=categories,
        strict=strict,
        quarantine_out=quarantine_out,
        time_window=_time_window(time_window),
    )


def _time_window(text: str | None) -> tuple | None:
    """``--time-window`` read (:mod:`cases.time_window`); a bad one is a usage error (exit 2)."""
    from cases.time_window import WindowError, parse_window, resolve_window

    try:
        window = parse_window(text, "--time-window")
    except WindowError as exc:
        raise click.BadParameter(str(exc), param_hint="--time-window") from exc
    return None if window is None else resolve_window(window)


@import_group.command(name="inspectors")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@MAPPING_OPTION
@QUARANTINE_OPTION
@click.pass_context
def import_inspectors_cmd(
    ctx: click.Context, file: Path, mapping: str | None, quarantine_out: Path | None
) -> None:
    """Import inspectors (CSV/xlsx with inspector_id, name, district, active)."""
    _run_import(ctx, "inspectors", file, mapping=mapping, quarantine_out=quarantine_out)


@import_group.command(name="assignments")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@MAPPING_OPTION
@QUARANTINE_OPTION
@click.pass_context
def import_assignments_cmd(
    ctx: click.Context, file: Path, mapping: str | None, quarantine_out: Path | None
) -> None:
    """Import inspector ↔ cell assignments (inspector_id, cell as H3 hex string, valid_from, valid_to)."""
    _run_import(ctx, "assignments", file, mapping=mapping, quarantine_out=quarantine_out)


@import_group.command(name="areas")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--level",
    type=click.Choice(["city", "district", "subdistrict", "community", "unit_grid"]),
    required=True,
    help="Administrative level of the polygons in the file.",
)
@click.option(
    "--crs",
    default="wgs84",
    show_default=True,
    help="Coordinate system of the file: wgs84, gcj02, bd09, an EPSG code (EPSG:4528) or a PROJ string.",
)
@click.option("--id-field", default=None, help="Column with the area code (default: adcode, code, id …).")
@click.option("--name-field", default=None, help="Column with the area name (default: name …).")
@click.option("--parent-field", default=None, help="Column with the parent area's code, if any.")
@click.option("--layer", default=None, help="Layer to read from a GeoPackage with several layers.")
@QUARANTINE_OPTION
@click.pass_context
def import_areas_cmd(ctx: click.Context, file: Path, **options: Any) -> None:
    """Import area polygons (GeoJSON, Shapefile, GeoPackage); GCJ-02/BD-09 input is converted to WGS-84.

    Example: gridpatrol import areas nantong_districts_2021.geojson --level district --crs gcj02
    """
    _run_import(ctx, "areas", file, **options)


@import_group.command(name="unitgrids")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--crs",
    default="wgs84",
    show_default=True,
    help="Coordinate system of the file: wgs84, gcj02, bd09, an EPSG code (EPSG:4528) or a PROJ string.",
)
@click.option(
    "--id-field", default=None, help="Column with the 14/15-digit unit-grid code (default: code …)."
)
@click.option("--name-field", default=None, help="Column with the unit grid's name.")
@click.option(
    "--parent-field", default=None, help="Column with the community code (default: the code's first 12)."
)
@click.option("--layer", default=None, help="Layer to read from a GeoPackage with several layers.")
@QUARANTINE_OPTION
@click.pass_context
def import_unitgrids_cmd(ctx: click.Context, file: Path, **options: Any) -> None:
    """Import official unit-grid polygons (单元网格, 14- or 15-digit codes) as the finest area level.

    Malformed codes are quarantined (invalid_unit_grid_code). Example:
    gridpatrol import unitgrids data/geo/demo/unit_grids.geojson
    """
    _run_import(ctx, "unit_grids", file, **options)


@main.group(name="export")
def export_group() -> None:
    """Export data from the database."""


@export_group.command(name="cases")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "geojson", "open311"]), required=True, help="Output format."
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Output file.")
@click.option(
    "--timezone",
    default=None,
    help="Zone the ISO 8601 times are written in (with their offset); default: the city configuration's.",
)
@click.pass_context
def export_cases_cmd(ctx: click.Context, fmt: str, out: Path, timezone: str | None) -> None:
    """Export every case as CSV, GeoJSON (WGS-84 points) or Open311 GeoReport v2 requests.json.

    Example: gridpatrol export cases --format geojson --out cases.geojson
    """
    from cases.export import export_cases

    context = _context(ctx)
    n = export_cases(context.engine, out, fmt=fmt, timezone=timezone or context.timezone)
    click.echo(f"wrote {n} cases to {out}")


def _register_command_modules() -> None:
    import importlib
    import pkgutil

    import app.commands

    for info in sorted(pkgutil.iter_modules(app.commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"app.commands.{info.name}")
        for command in getattr(module, "COMMANDS", []):
            main.add_command(command)
        for command in getattr(module, "IMPORT_COMMANDS", []):
            import_group.add_command(command)


_register_command_modules()

# The demo-city simulator stands beside the house (nothing imports it); the CLI is its one front door.
# sim.cli imports only click at module level, so registering it costs nothing at start-up.
from sim.cli import demo_data  # noqa: E402

main.add_command(demo_data)


if __name__ == "__main__":
    main()
