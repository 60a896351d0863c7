"""The FastAPI application: :func:`create_app` wires the routers, the limits and the error handlers.

* No stack trace in any response: a :class:`services.errors.ServiceError` becomes the spec's error list
  with 400 / 403 / 404 / 429 (:data:`STATUS_OF`), a malformed request 400, anything else a bare 500
  (:class:`_Internal`; the traceback goes to the server's log only).
* CORS is closed by default (no ``Access-Control-Allow-Origin`` at all); ``cors_origins`` opens it to the
  listed origins, for GET only.
* Request bodies over ``max_body_bytes`` are refused (413) before and while they are read.
* ``/docs`` is a page served from this process (no CDN, :mod:`api.docs`); ``/openapi.json`` the description.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import docs, field, open311, render
from api.ratelimit import ANONYMOUS_PER_MINUTE, RateLimiter
from services.context import ServiceContext
from services.errors import ServiceError

__all__ = ["MAX_BODY_BYTES", "STATUS_OF", "create_app"]

#: Largest request body accepted (a report with a photo fits; anything larger is refused with 413).
MAX_BODY_BYTES = 10 * 1024 * 1024
#: HTTP status of each ServiceError code (others: 400).
STATUS_OF = {
    "api_key_required": 403,
    "api_key_invalid": 403,
    "not_allowed": 403,
    "service_not_found": 404,
    "request_not_found": 404,
    "token_not_found": 404,
    "case_not_found": 404,
    "rate_limited": 429,
    "login_failed": 401,
    "token_invalid": 401,
    "no_inspector": 403,
    "idempotency_conflict": 409,
    "case_refused": 403,
}
log = logging.getLogger("gridpatrol.api")


class BodyTooLargeError(Exception):
    """The request body passed the limit while it was read."""


class _BodyLimit:
    """ASGI middleware: refuse bodies over ``max_bytes`` (by Content-Length, and while streaming)."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            fmt = render.format_of(scope.get("path", ""))
            await render.errors(fmt, 413, "request body too large")(scope, receive, send)
            return
        received = 0

        async def limited() -> dict:
            nonlocal received
            message = await receive()
            if message.get("type") == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLargeError
            return message

        await self.app(scope, limited, send)


class _Internal:
    """ASGI middleware: an unexpected error becomes a bare 500 error list (logged here with its traceback,
    never sent), and the connection stays usable (the error is not raised on to the server)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: dict) -> None:
            nonlocal started
            started = started or message.get("type") == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception:
            path = scope.get("path", "")
            log.exception("unhandled error on %s %s", scope.get("method"), path)
            if started:
                raise
            await render.errors(render.format_of(path), 500, "internal error")(scope, receive, send)


def create_app(
    ctx_factory: Callable[[], ServiceContext],
    *,
    cors_origins: Sequence[str] = (),
    max_body_bytes: int = MAX_BODY_BYTES,
    anonymous_per_minute: int = ANONYMOUS_PER_MINUTE,
) -> FastAPI:
    """The API application; ``ctx_factory()`` gives the service context of each request (the caller is
    set per request from its API key); anonymous Open311 reads are limited to ``anonymous_per_minute`` per
    client IP."""
    app = FastAPI(
        title="GridPatrol API",
        version="0.1.0",
        description="Open311 GeoReport v2 server and field API of the city's grid management.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.ctx_factory = ctx_factory
    app.state.rate_limiter = RateLimiter()
    app.state.anonymous_per_minute = anonymous_per_minute
    app.include_router(docs.router)
    app.include_router(open311.router, prefix=open311.PREFIX)
    app.include_router(field.router, prefix=field.PREFIX)

    @app.exception_handler(ServiceError)
    async def service_error(request: Request, exc: ServiceError) -> Any:
        return render.errors(render.format_of(request.url.path), STATUS_OF.get(exc.code, 400), str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Any:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'request'}: {e.get('msg', 'invalid')}"
            for e in exc.errors()
        )
        return render.errors(render.format_of(request.url.path), 400, problems or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Any:
        text = exc.detail if isinstance(exc.detail, str) else "request failed"
        return render.errors(render.format_of(request.url.path), exc.status_code, text)

    @app.exception_handler(BodyTooLargeError)
    async def too_large(request: Request, exc: BodyTooLargeError) -> Any:
        return render.errors(render.format_of(request.url.path), 413, "request body too large")

    if cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=list(cors_origins), allow_methods=["GET"], allow_credentials=False
        )
    app.add_middleware(_BodyLimit, max_bytes=max_body_bytes)
    app.add_middleware(_Internal)
    return app
