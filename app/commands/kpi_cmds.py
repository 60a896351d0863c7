"""``gridpatrol kpi``: the command centre's KPIs per district, subdistrict, department, inspector or category.

A thin shell over :func:`services.kpi.kpi_table`: it reads the options, calls the service and writes the
table (the same table the Dashboard page shows for the same selection). The cases come from the database,
or from ``--cases FILE`` (imported into a throw-away SQLite database with ``--mapping``, as the analytics
commands do; a file has no history, so rework and extension counts are 0). The time zone, the working
calendar and the scoring table come from the city configuration (``gridpatrol.toml``); ``--timezone`` and
``--scoring`` override them for one run.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

GROUPS = ("district", "subdistrict", "department", "inspector", "category")
OUT_SUFFIXES = (".csv", ".parquet")


class KpiError(Exception):
    """A user-facing failure (message printed, exit code 1)."""


def _from_file(path: Path, mapping: str | None) -> Any:
    """Import ``path`` into a temporary SQLite database; return its lifecycle frame."""
    from app.commands.analytics_cmds import AnalysisError, cases_from_file
    from cases.lifecycle import load_lifecycle_frame

    try:
        return cases_from_file(path, mapping, read=load_lifecycle_frame)
    except AnalysisError as exc:
        raise KpiError(str(exc)) from exc


@click.command(name="kpi")
@click.option(
    "--cases",
    "cases_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Evaluate this cases file (imported into a temporary database) instead of the database.",
)
@click.option("--mapping", default=None, help="Mapping (TOML path or shipped name) of the --cases file.")
@click.option("--by", "by", type=click.Choice(GROUPS), default="department", show_default=True)
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), default=None, help="First filing day.")
@click.option(
    "--to", "end", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Last filing day, inclusive."
)
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M"]),
    default=None,
    help="Evaluate as of this local time (default: the end of --to, else the latest step in the data).",
)
@click.option(
    "--timezone", default=None, help="City time zone for this run (default: the city configuration's)."
)
@click.option(
    "--cells",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Cells table (Parquet: cell, district, subdistrict) for --by district/subdistrict.",
)
@click.option(
    "--scoring",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Scoring TOML (grades, weights, deductions); default: kpi_scoring of the city configuration.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Output .csv or .parquet (default: print the table).",
)
def kpi_cmd(**opts: Any) -> None:
    """KPIs of the cases filed from --from to --to: closure, on-time closure, handling, rework, extension,
    satisfaction (fractions 0–1) with the counts behind them, mean and p90 handling hours.

    Example: gridpatrol kpi --by department --from 2025-01-01 --to 2025-01-31 --out january.csv
    """
    from cases.csv_safe import write_csv
    from grid.config import ConfigError
    from services.errors import ServiceError

    out = opts["out"]
    if out is not None and out.suffix.lower() not in OUT_SUFFIXES:
        click.echo(f"error: --out must end in {', '.join(OUT_SUFFIXES)}; got {out.name}", err=True)
        sys.exit(2)
    try:
        result, unlocated = _result(opts)
    except (KpiError, ServiceError, ConfigError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    table = result.to_frame()
    click.echo(
        f"{len(table):,} {opts['by']} group(s), {result.filed:,} filed case(s), {result.due:,} due", err=True
    )
    if unlocated:
        click.echo(f"{unlocated:,} of the filed case(s) have no location: counted here, not mapped", err=True)
    if out is None:
        click.echo(table.to_string(index=False, max_rows=60))
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        write_csv(table, out)
    else:
        table.to_parquet(out, index=False)
    click.echo(f"wrote {len(table):,} {opts['by']} row(s) to {out}")


def _result(opts: dict[str, Any]) -> Any:
    import dataclasses

    from cases.db import make_engine
    from grid.config import data_dir, load_city_config
    from services.context import ServiceContext, open_context
    from services.kpi import KpiRequest, kpi_table

    if opts["mapping"] is not None and opts["cases_file"] is None:
        raise KpiError("--mapping is only used with --cases FILE")
    db_url = click.get_current_context().find_root().obj["db_url"]
    if opts["cases_file"] is not None:  # the store is not read: no schema needed
        cases = _from_file(opts["cases_file"], opts["mapping"])
        ctx = ServiceContext(make_engine(db_url), load_city_config(), data_dir())
    else:
        cases, ctx = None, open_context(db_url)
    overrides = {
        name: str(value)
        for name, value in (("timezone", opts["timezone"]), ("kpi_scoring", opts["scoring"]))
        if value is not None
    }
    if overrides:
        ctx = dataclasses.replace(ctx, config=ctx.config.replace(**overrides))
    request = KpiRequest(
        by=opts["by"],
        start=opts["start"].date() if opts["start"] else None,
        end=opts["end"].date() if opts["end"] else None,
        as_of=opts["as_of"],
        cells_file=opts["cells"],
        cases=cases,
    )
    try:
        from services.study import AnalysisFilters, unlocated_count

        window = AnalysisFilters(start=request.start, end=request.end)
        return kpi_table(ctx, request), unlocated_count(ctx, window, cases)
    finally:
        ctx.engine.dispose()


COMMANDS = [kpi_cmd]
