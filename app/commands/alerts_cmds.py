"""``gridpatrol alerts``: the daily digest of cases near or past their deadline (督办预警).

A thin shell over :func:`services.alerts.alerts` (run as the system, i.e. the administrator on the server):
it prints the escalation list per department or per district and the flagged cases, or writes the cases
(``--by`` omitted) or the list (``--by department|district``) as CSV with ``--out``. The threshold is
``[alerts] near_share`` of ``gridpatrol.toml`` unless ``--near-share`` is given.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import click


@click.command(name="alerts")
@click.option(
    "--as-of",
    "as_of",
    callback=lambda _ctx, _param, value: _parse_as_of(value),
    default=None,
    metavar="YYYY-MM-DD[THH:MM]",
    help="Local time of the digest (a date alone: the end of that day; default: now).",
)
@click.option(
    "--by",
    type=click.Choice(["department", "district"]),
    default=None,
    help="Write the escalation list per department or district instead of the flagged cases.",
)
@click.option("--near-share", type=float, default=None, help="Threshold (0–1] of elapsed working time.")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write a .csv file."
)
def alerts_cmd(as_of: Any, by: str | None, near_share: float | None, out: Path | None) -> None:
    """Cases near (≥ near_share of their working time used) or past their deadline, and per department /
    district how many and the oldest overdue one.

    Example: gridpatrol alerts --as-of 2025-03-01 --by department --out digest.csv
    """
    from cases.csv_safe import write_csv
    from cases.db import SchemaOutOfDateError
    from grid.config import ConfigError
    from services.alerts import AlertsRequest, alerts
    from services.context import open_context
    from services.errors import ServiceError

    if out is not None and out.suffix.lower() != ".csv":
        click.echo(f"error: --out must end in .csv; got {out.name}", err=True)
        sys.exit(2)
    try:
        ctx = open_context(click.get_current_context().find_root().obj["db_url"])
        result = alerts(ctx, AlertsRequest(as_of=as_of, near_share=near_share))
    except (ServiceError, ConfigError, SchemaOutOfDateError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    table = result.to_frame()
    counts = table["alert"].value_counts()
    click.echo(
        f"as of {result.as_of.tz_convert(ctx.timezone):%Y-%m-%d %H:%M} ({ctx.timezone}): "
        f"{int(counts.get('overdue', 0)):,} overdue, {int(counts.get('near', 0)):,} near "
        f"(near = {result.near_share:.0%} of the working time used)",
        err=True,
    )
    chosen = result.summary(by) if by else table
    if out is None:
        for name in ("department", "district"):
            if by in (None, name):
                click.echo(f"\nper {name}:")
                click.echo(result.summary(name).to_string(index=False, max_rows=60))
        if by is None:
            click.echo("\ncases:")
            click.echo(table.to_string(index=False, max_rows=60))
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    write_csv(chosen, out)
    click.echo(f"wrote {len(chosen):,} row(s) to {out}")


def _parse_as_of(value: str | None) -> dt.date | dt.datetime | None:
    """``YYYY-MM-DD`` (a date: the end of that local day) or ``YYYY-MM-DDTHH:MM`` (a local time)."""
    if value is None:
        return None
    for fmt in ("%Y-%m-%dT%H:%M", "%Y-%m-%d"):
        try:
            parsed = dt.datetime.strptime(value, fmt)
        except ValueError:
            continue
        return parsed if "T" in fmt else parsed.date()
    raise click.BadParameter(f"{value!r} is not YYYY-MM-DD or YYYY-MM-DDTHH:MM")


COMMANDS = [alerts_cmd]
