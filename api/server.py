"""Serve the API with uvicorn (``gridpatrol api``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from api.app import create_app
from services.context import ServiceContext


def serve(
    ctx_factory: Callable[[], ServiceContext],
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    cors_origins: Sequence[str] = (),
    log_level: str = "info",
) -> None:
    """Run the API until interrupted (one process; the rate limits live in it)."""
    import uvicorn

    app = create_app(ctx_factory, cors_origins=cors_origins)
    uvicorn.run(app, host=host, port=port, log_level=log_level, server_header=False, proxy_headers=False)
