"""``gridpatrol import addresses FILE [--mapping M]``: the city's address / POI table for address lookup.

Registered under ``gridpatrol import`` through ``IMPORT_COMMANDS``; the work is
:func:`services.addresses.import_addresses` (bad rows quarantined with file, line, field and reason;
importing a file twice adds nothing).
"""

from __future__ import annotations

from pathlib import Path

import click

from app.commands._common import exit_on
from services.errors import ServiceError


@click.command(name="addresses")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--mapping",
    default=None,
    help="Mapping TOML or shipped name ([columns] name, address, lat, lon; [options] crs).",
)
@click.option(
    "--quarantine-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write quarantined rows (CSV). Default: <data dir>/quarantine/.",
)
@exit_on(ServiceError)
def import_addresses_cmd(file: Path, mapping: str | None, quarantine_out: Path | None) -> None:
    """Import the city's address / POI table (CSV/xlsx: name, address, lat, lon; optional kind).

    Example: gridpatrol import addresses addresses.csv --mapping my_addresses.toml
    """
    from app.commands.deploy_cmds import command_context
    from services.addresses import AddressImportRequest, import_addresses

    result = import_addresses(
        command_context(), AddressImportRequest(path=file, mapping=mapping, quarantine_out=quarantine_out)
    )
    report = result.report
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    if result.quarantine_file is not None:
        reasons = ", ".join(f"{reason} {count}" for reason, count in report.reasons().items())
        click.echo(f"quarantined rows written to {result.quarantine_file} ({reasons})", err=True)
    click.echo(report.summary())


IMPORT_COMMANDS = [import_addresses_cmd]
