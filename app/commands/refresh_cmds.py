"""``gridpatrol refresh``: precompute the slow answers (coverage, effectiveness, learned forecasts).

Run it after an import or nightly (``make demo`` runs it after building the demo): the Coverage and
Forecast pages then read their default answers from ``<data dir>/cache/`` in a moment instead of
computing them for a minute. A thin shell over :func:`services.refresh.refresh`.
"""

from __future__ import annotations

import sys

import click

from app.commands._common import exit_on
from services.errors import ServiceError


@click.command(name="refresh")
@click.option(
    "--model",
    "models",
    multiple=True,
    help="Forecast model to precompute (repeatable) [default: the learned models and the configured one].",
)
@click.option("--no-forecast", is_flag=True, help="Do not precompute forecasts.")
@click.option("--no-coverage", is_flag=True, help="Do not precompute coverage and effectiveness.")
@click.option("--force", is_flag=True, help="Recompute answers already stored for the present data.")
@click.option("--horizon", type=click.IntRange(1, 12), default=1, show_default=True, help="Forecast horizon.")
@exit_on(ServiceError)
def refresh_cmd(
    models: tuple[str, ...], no_forecast: bool, no_coverage: bool, force: bool, horizon: int
) -> None:
    """Precompute the Coverage and Forecast pages' default answers into the cache.

    Example: gridpatrol refresh
    """
    from app.commands.deploy_cmds import command_context
    from services.refresh import RefreshRequest, refresh

    ctx = command_context()
    chosen = () if no_forecast else (tuple(models) or None)
    request = RefreshRequest(models=chosen, horizon=horizon, coverage=not no_coverage, force=force)

    def say(step: str, fraction: float) -> None:
        click.echo(f"[{fraction:4.0%}] {step}", err=True)

    result = refresh(ctx, request, progress=say)
    for row in result.entries.itertuples(index=False):
        note = f": {row.note}" if row.note else ""
        click.echo(f"{row.status:8s} {row.kind:14s} {row.what} ({row.seconds:.1f} s){note}")
    stored = int(result.entries["status"].isin(["stored", "cached"]).sum())
    where = ctx.data_dir / "cache" / result.version
    click.echo(
        f"stored {stored} of {len(result.entries)} answer(s) in {where}; removed {result.pruned} stale"
    )
    if stored == 0:
        click.echo("error: nothing could be precomputed (no tracks and no cases?)", err=True)
        sys.exit(1)


COMMANDS = [refresh_cmd]
