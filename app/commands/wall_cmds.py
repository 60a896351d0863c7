"""``gridpatrol wall-token``: a new display token for the wall display (指挥大屏) that opens without login.

The token is printed once; only its SHA-256 is kept (``<data dir>/wall-token.sha256``), so a lost token is
replaced, not recovered. Open the wall with ``http://HOST:8501/wall?display=TOKEN``. A new token replaces
the old one (every wall showing the old one asks for the new). A thin shell over
:func:`services.wall.new_display_token`.
"""

from __future__ import annotations

import sys

import click


@click.command(name="wall-token")
def wall_token() -> None:
    """Make a new display token for the wall display; print it once (only its SHA-256 is stored).

    Example: gridpatrol wall-token
    """
    from cases.db import SchemaOutOfDateError
    from grid.config import ConfigError
    from services.context import open_context
    from services.errors import ServiceError
    from services.wall import TOKEN_FILE, new_display_token

    try:
        ctx = open_context(click.get_current_context().find_root().obj["db_url"])
        token = new_display_token(ctx)
    except (ServiceError, ConfigError, SchemaOutOfDateError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"stored the SHA-256 of a new display token in {ctx.data_dir / TOKEN_FILE}", err=True)
    click.echo("open the wall with …/wall?display=<token>; the token (shown only now):", err=True)
    click.echo(token)


COMMANDS = [wall_token]
