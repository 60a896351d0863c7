"""``gridpatrol reporters``: the most active citizen reporters of a quarter (热心市民), phones masked.

A thin shell over :func:`services.reporters.active_reporters` (run as the system, i.e. the administrator on
the server): it reads the options, calls the service and prints the table or writes it as a spreadsheet-
safe CSV — the same table the Reporters page shows and downloads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from app.commands._common import exit_on


def _errors() -> tuple[type[Exception], ...]:
    from grid.config import ConfigError
    from services.errors import ServiceError

    return ServiceError, ConfigError, RuntimeError


@click.command(name="reporters")
@click.option(
    "--quarter", default=None, help="A quarter such as 2025Q4 (local dates; default: every report)."
)
@click.option(
    "--top", type=click.IntRange(1, 10_000), default=20, show_default=True, help="How many reporters."
)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write the table as CSV."
)
@exit_on(*_errors())
def reporters_cmd(**opts: Any) -> None:
    """The citizens whose reports were accepted most often (for the reward scheme), with their cases.

    Example: gridpatrol reporters --quarter 2025Q4 --top 50 --out reporters-2025Q4.csv
    """
    from services.context import open_context
    from services.reporters import ReportersRequest, active_reporters

    ctx = open_context(click.get_current_context().find_root().obj["db_url"])
    result = active_reporters(ctx, ReportersRequest(quarter=opts["quarter"], top=opts["top"]))
    table = result.to_frame()
    if opts["out"] is None:
        click.echo(table.to_string(index=False, max_rows=100) if len(table) else "no accepted citizen report")
        return
    opts["out"].parent.mkdir(parents=True, exist_ok=True)
    opts["out"].write_bytes(result.to_csv())
    click.echo(f"wrote {len(table):,} reporter(s) to {opts['out']}")


COMMANDS = [reporters_cmd]
