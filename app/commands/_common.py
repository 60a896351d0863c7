"""What the command modules share."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import click


def exit_on(*errors: type[Exception]) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Decorate a command so that ``errors`` print ``error: …`` on stderr and exit with code 1 (no traceback).

    For errors about the data or the request (an empty selection, too few periods, an unknown category),
    which the user can fix; anything else is a bug and keeps its traceback.
    """

    def decorate(func: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(func)
        def wrapper(**opts: Any) -> None:
            try:
                func(**opts)
            except errors as exc:
                click.echo(f"error: {exc}", err=True)
                sys.exit(1)

        return wrapper

    return decorate
