"""The ``gridpatrol`` command line.

Every command is a thin shell over a library function; run ``gridpatrol COMMAND --help`` for its options.
The database is ``--db-url``, else ``GRIDPATROL_DB_URL``, else SQLite at ``data/gridpatrol.db``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

CRS_CHOICE = click.Choice(["wgs84", "gcj02", "bd09"])


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db-url", envvar="GRIDPATROL_DB_URL", default=None, help="SQLAlchemy URL of the database.")
@click.pass_context
def main(ctx: click.Context, db_url: str | None) -> None:
    """GridPatrol: H3 grid, cases, patrol tracks and hotspots for grid city management."""
    ctx.obj = {"db_url": db_url}


def _engine(ctx: click.Context):
    from cases.db import init_db, make_engine

    engine = make_engine(ctx.obj["db_url"])
    init_db(engine)
    return engine


@main.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create or upgrade the database schema (idempotent)."""
    from cases.db import database_url, schema_revision

    engine = _engine(ctx)
    click.echo(f"database {database_url(ctx.obj['db_url'])} at schema revision {schema_revision(engine)}")


@main.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """Print how many rows each table of the database holds."""
    from cases.store import table_counts

    for table, count in table_counts(_engine(ctx)).items():
        click.echo(f"{table:<12} {count:>10,}")


@main.group(name="import")
def import_group() -> None:
    """Import cases, inspectors, assignments or areas from a file (nothing is lost: see the quarantine)."""


def _finish_import(report, quarantine_out: Path | None) -> None:
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    if report.quarantined:
        out = (
            quarantine_out
            or Path("data/quarantine") / f"{Path(report.file).name}.{report.kind}.quarantine.csv"
        )
        report.write_quarantine(out)
        reasons = ", ".join(f"{reason} {count}" for reason, count in report.reasons().items())
        click.echo(f"quarantined rows written to {out} ({reasons})", err=True)
    click.echo(report.summary())


def _mapping(name_or_path: str | None):
    """Load a mapping file, or exit 2 with its error (never a traceback)."""
    if not name_or_path:
        return None
    from cases.mapping import MappingError, load_mapping

    try:
        return load_mapping(name_or_path)
    except (MappingError, OSError) as exc:
        click.echo(f"error: mapping {name_or_path}: {exc}", err=True)
        sys.exit(2)


def _read_failed(path: Path, exc: Exception) -> None:
    click.echo(f"error: cannot read {path}: {exc}", err=True)
    sys.exit(2)


def _run_import(importer: Callable[..., Any], file: Path, quarantine_out: Path | None, **kwargs: Any) -> None:
    """Run ``importer(file, **kwargs)``; an unreadable file exits 2, anything else prints the report."""
    from cases.importing import ImportReadError

    try:
        report = importer(file, **kwargs)
    except ImportReadError as exc:
        _read_failed(file, exc)
    _finish_import(report, quarantine_out)


QUARANTINE_OPTION = click.option(
    "--quarantine-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write quarantined rows (CSV). Default: data/quarantine/<file>.<kind>.quarantine.csv",
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
@QUARANTINE_OPTION
@click.pass_context
def import_cases_cmd(
    ctx: click.Context,
    file: Path,
    mapping: str | None,
    on_duplicate: str,
    categories: Path | None,
    quarantine_out: Path | None,
) -> None:
    """Import cases from CSV (any encoding, .gz ok), Excel .xlsx or Open311 JSON.

    Example: gridpatrol import cases boston311_2015.csv.gz --mapping boston311
    """
    from cases.importing import import_cases

    _run_import(
        import_cases,
        file,
        quarantine_out,
        engine=_engine(ctx),
        mapping=_mapping(mapping),
        on_duplicate=on_duplicate,
        categories=categories,
    )


@import_group.command(name="inspectors")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@MAPPING_OPTION
@QUARANTINE_OPTION
@click.pass_context
def import_inspectors_cmd(
    ctx: click.Context, file: Path, mapping: str | None, quarantine_out: Path | None
) -> None:
    """Import inspectors (CSV/xlsx with inspector_id, name, district, active)."""
    from cases.people import import_inspectors

    _run_import(import_inspectors, file, quarantine_out, engine=_engine(ctx), mapping=_mapping(mapping))


@import_group.command(name="assignments")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@MAPPING_OPTION
@QUARANTINE_OPTION
@click.pass_context
def import_assignments_cmd(
    ctx: click.Context, file: Path, mapping: str | None, quarantine_out: Path | None
) -> None:
    """Import inspector ↔ cell assignments (inspector_id, cell as H3 hex string, valid_from, valid_to)."""
    from cases.people import import_assignments

    _run_import(import_assignments, file, quarantine_out, engine=_engine(ctx), mapping=_mapping(mapping))


@import_group.command(name="areas")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--level",
    type=click.Choice(["city", "district", "subdistrict", "community", "unit_grid"]),
    required=True,
    help="Administrative level of the polygons in the file.",
)
@click.option(
    "--crs", type=CRS_CHOICE, default="wgs84", show_default=True, help="Coordinate system of the file."
)
@click.option("--id-field", default=None, help="Column with the area code (default: adcode, code, id …).")
@click.option("--name-field", default=None, help="Column with the area name (default: name …).")
@click.option("--parent-field", default=None, help="Column with the parent area's code, if any.")
@click.option("--layer", default=None, help="Layer to read from a GeoPackage with several layers.")
@QUARANTINE_OPTION
@click.pass_context
def import_areas_cmd(
    ctx: click.Context,
    file: Path,
    level: str,
    crs: str,
    id_field: str | None,
    name_field: str | None,
    parent_field: str | None,
    layer: str | None,
    quarantine_out: Path | None,
) -> None:
    """Import area polygons (GeoJSON, Shapefile, GeoPackage); GCJ-02/BD-09 input is converted to WGS-84.

    Example: gridpatrol import areas nantong_districts_2021.geojson --level district --crs gcj02
    """
    from cases.areas import import_areas

    _run_import(
        import_areas,
        file,
        quarantine_out,
        engine=_engine(ctx),
        level=level,
        crs=crs,
        id_field=id_field,
        name_field=name_field,
        parent_field=parent_field,
        layer=layer,
    )


@import_group.command(name="unitgrids")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--crs", type=CRS_CHOICE, default="wgs84", show_default=True, help="Coordinate system of the file."
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
def import_unitgrids_cmd(
    ctx: click.Context,
    file: Path,
    crs: str,
    id_field: str | None,
    name_field: str | None,
    parent_field: str | None,
    layer: str | None,
    quarantine_out: Path | None,
) -> None:
    """Import official unit-grid polygons (单元网格, 14- or 15-digit codes) as the finest area level.

    Malformed codes are quarantined (invalid_unit_grid_code). Example:
    gridpatrol import unitgrids data/geo/demo/unit_grids.geojson
    """
    from cases.areas import import_areas

    _run_import(
        import_areas,
        file,
        quarantine_out,
        engine=_engine(ctx),
        level="unit_grid",
        crs=crs,
        id_field=id_field,
        name_field=name_field,
        parent_field=parent_field,
        layer=layer,
    )


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
    envvar="GRIDPATROL_TIMEZONE",
    default="Asia/Shanghai",
    show_default=True,
    help="Zone the ISO 8601 times are written in (with their offset).",
)
@click.pass_context
def export_cases_cmd(ctx: click.Context, fmt: str, out: Path, timezone: str) -> None:
    """Export every case as CSV, GeoJSON (WGS-84 points) or Open311 GeoReport v2 requests.json.

    Example: gridpatrol export cases --format geojson --out cases.geojson
    """
    from cases.export import export_cases

    n = export_cases(_engine(ctx), out, fmt=fmt, timezone=timezone)
    click.echo(f"wrote {n} cases to {out}")


@main.group(name="users")
def users_group() -> None:
    """Manage application users and roles."""


@users_group.command(name="add")
@click.argument("username")
@click.option(
    "--role",
    type=click.Choice(
        ["inspector", "operator", "dispatcher", "department", "supervisor", "planner", "manager", "admin"]
    ),
    required=True,
)
@click.option("--inspector", "inspector_id", default=None, help="The inspector_id an inspector account is.")
@click.option("--department", default=None, help="The department a department account belongs to.")
@click.option(
    "--password",
    default=None,
    help="Password (at least 8 characters); generated and printed when omitted.",
)
@click.pass_context
def users_add_cmd(
    ctx: click.Context,
    username: str,
    role: str,
    inspector_id: str | None,
    department: str | None,
    password: str | None,
) -> None:
    """Create a user; prints the password when it was generated.

    Example: gridpatrol users add chief --role manager
    """
    from cases.users import UserError, create_user

    try:
        password_out = create_user(
            _engine(ctx), username, role, password=password, inspector_id=inspector_id, department=department
        )
    except UserError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    shown = password_out if password is None else "(as given)"
    click.echo(f"created {role} {username} with password {shown}")


@users_group.command(name="list")
@click.pass_context
def users_list_cmd(ctx: click.Context) -> None:
    """List users and their roles (never their passwords)."""
    from cases.users import list_users

    for user in list_users(_engine(ctx)):
        locked = f" locked until {user['locked_until']:%Y-%m-%d %H:%M}Z" if user["locked_until"] else ""
        extra = user["inspector_id"] or user["department"] or ""
        click.echo(f"{user['username']:<20} {user['role']:<11} {extra}{locked}")


@users_group.command(name="demo")
@click.option("--inspector", "inspector_id", default=None, help="Inspector the demo inspector account is.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File the new passwords are appended to (keep it private)  [default: <data dir>/demo-users.txt].",
)
@click.pass_context
def users_demo_cmd(ctx: click.Context, inspector_id: str | None, out: Path | None) -> None:
    """Create one demo user per role (demo-admin, demo-manager …) and print their passwords."""
    from cases.db import data_dir
    from cases.users import ensure_demo_users

    out = out or data_dir() / "demo-users.txt"
    created = ensure_demo_users(_engine(ctx), inspector_id=inspector_id)
    if created:
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("a", encoding="utf-8") as fh:
            for username, password in created.items():
                fh.write(f"{username} {password}\n")
    if out.exists():
        click.echo(f"demo users and passwords ({out}):")
        click.echo(out.read_text(encoding="utf-8").rstrip())


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
