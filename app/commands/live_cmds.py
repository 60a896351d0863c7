"""``gridpatrol demo-live``: replay a simulated day of the demo city through the HTTP API in accelerated
time (:func:`services.demo_live.replay_day`); the API is served in this process on a free loopback port
unless ``--url`` names a running one (``gridpatrol api``)."""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import click

from app.commands._common import exit_on
from services.errors import ServiceError


@contextlib.contextmanager
def _served(ctx: Any) -> Iterator[str]:
    """The API on a free loopback port, in a thread of this process; yields its base URL."""
    import uvicorn

    from api import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    config = uvicorn.Config(create_app(lambda: ctx), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="demo-live-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise click.ClickException("the API server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@click.command("demo-live")
@click.option("--speed", default=60.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Simulated seconds per real second.")  # fmt: skip
@click.option("--day", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Simulated day to replay (default: the last one).")  # fmt: skip
@click.option("--from-hour", default=0.0, show_default=True, type=click.FloatRange(0, 24),
              help="Local hour of the day the replay starts at.")  # fmt: skip
@click.option("--hours", default=24.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Hours of the day replayed.")  # fmt: skip
@click.option("--url", default=None, help="A running API (http://127.0.0.1:8000); default: serve one here.")
@exit_on(ServiceError)
def demo_live(speed: float, day: dt.datetime | None, from_hour: float, hours: float, url: str | None) -> None:
    """Replay a simulated day of the demo city through the API (Open311 reports, inspectors' positions and
    finds), so the app shows the day unfold.

    Example: gridpatrol demo-live --speed 120 --from-hour 8 --hours 4
    """
    from services.context import open_context
    from services.demo_live import LiveRequest, replay_day

    ctx = open_context(click.get_current_context().find_root().obj["db_url"])
    with contextlib.ExitStack() as stack:
        base = url or stack.enter_context(_served(ctx))
        click.echo(f"replaying through {base} at {speed:g}x …")
        request = LiveRequest(base, day.date() if day else None, speed, from_hour, hours)
        result = replay_day(ctx, request, progress=click.echo)
    click.echo(f"day {result.day} replayed in {result.seconds:.1f} s; {result.points} track points stored")
    click.echo(result.to_frame().to_string(index=False))


COMMANDS = [demo_live]
