"""``gridpatrol api`` (serve the HTTP API) and ``gridpatrol keys add|list|revoke`` (its API keys).

``api`` opens the service context once (the store, the city configuration) and serves
:func:`api.create_app` with uvicorn; ``keys`` call :mod:`services.api_keys` as the system.
"""

from __future__ import annotations

from typing import Any

import click

from app.commands._common import exit_on
from services.errors import ServiceError


def _context() -> Any:
    from services.context import open_context

    return open_context(click.get_current_context().find_root().obj["db_url"])


@click.command("api")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port.")
@click.option(
    "--cors-origin", "cors_origins", multiple=True, help="Allow browser GETs from this origin (repeatable)."
)
def api_cmd(host: str, port: int, cors_origins: tuple[str, ...]) -> None:
    """Serve the Open311 GeoReport v2 API (docs at /docs) until interrupted."""
    from api.server import serve

    ctx = _context()
    click.echo(f"GridPatrol API on http://{host}:{port}/open311/v2/discovery.json (docs: /docs)")
    serve(lambda: ctx, host=host, port=port, cors_origins=cors_origins)


@click.group("keys")
def keys_group() -> None:
    """API keys of HTTP clients (shown once on creation, stored hashed)."""


@keys_group.command("add")
@click.argument("name")
@click.option(
    "--source", type=click.Choice(["wechat", "other", "video"]), default="other", show_default=True,
    help="Case source of the reports posted with this key.",
)  # fmt: skip
@click.option(
    "--role", type=click.Choice(["operator", "inspector"]), default="operator", show_default=True,
    help="Role the key reports in (operator: to be verified on site).",
)  # fmt: skip
@click.option(
    "--rate", "rate", default=600, show_default=True, type=click.IntRange(1), help="Requests/minute."
)
@exit_on(ServiceError)
def keys_add(name: str, source: str, role: str, rate: int) -> None:
    """Create the key NAME and print it (once: only its hash is stored)."""
    from services.api_keys import NewKey, add_key

    info, key = add_key(_context(), NewKey(name, source, role, rate))
    click.echo(f"API key {info.name} (source {info.source}, role {info.role}, {info.rate_per_minute}/min):")
    click.echo(key)


@keys_group.command("list")
@exit_on(ServiceError)
def keys_list() -> None:
    """List the keys (never the keys themselves)."""
    from services.api_keys import list_keys

    frame = list_keys(_context())
    if frame.empty:
        click.echo("no API keys")
        return
    click.echo(frame.to_string(index=False))


@keys_group.command("revoke")
@click.argument("name")
@exit_on(ServiceError)
def keys_revoke(name: str) -> None:
    """Revoke the key NAME at once."""
    from services.api_keys import revoke_key

    revoke_key(_context(), name)
    click.echo(f"API key {name} revoked")


COMMANDS = [api_cmd, keys_group]
