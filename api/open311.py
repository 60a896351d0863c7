"""Open311 GeoReport v2 endpoints under ``/open311/v2/``: each path answers with or without ``.xml`` /
``.json`` (XML, the spec's default, when none is given); errors are the spec's ``[{code, description}]``.

Every endpoint parses the request and calls one function of :mod:`services.open311`; a POST is first
checked against its key's rate limit, a GET against its client IP's (:mod:`api.ratelimit`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api import render
from services import api_keys
from services import open311 as service
from services.context import ServiceContext
from services.errors import ServiceError

PREFIX = "/open311/v2"
router = APIRouter(tags=["Open311 GeoReport v2"])
_Text = Annotated[str | None, Form()]


def _context(request: Request) -> ServiceContext:
    """The service context; an anonymous read (GET) first takes a token of its client IP's rate limit."""
    if request.method == "GET":
        ip = request.client.host if request.client else "unknown"
        rate = request.app.state.anonymous_per_minute
        if not request.app.state.rate_limiter.allow_anonymous(ip, rate):
            raise ServiceError("rate_limited", f"rate limit of {rate} anonymous requests a minute")
    return request.app.state.ctx_factory()


def _utf8(text: str | None) -> str | None:
    """A form value as its sender meant it: raw UTF-8 bytes in a urlencoded body (``curl -d 垃圾``, not
    percent-encoded) reach us decoded as Latin-1; re-decode them when they are valid UTF-8."""
    if text is None or text.isascii():
        return text
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def _fmt(fmt: str) -> str:
    if fmt not in render.FORMATS:
        raise ServiceError("request_not_found", f"unknown format {fmt!r}: use .xml or .json")
    return fmt


def _both(path: str, method: str = "GET", **options: Any) -> Callable:
    """Register the endpoint at ``path.{fmt}`` and, outside the schema, at ``path`` (XML)."""

    def decorate(func: Callable) -> Callable:
        router.api_route(f"{path}.{{fmt}}", methods=[method], **options)(func)
        router.api_route(path, methods=[method], include_in_schema=False, **options)(func)
        return func

    return decorate


@_both("/discovery", summary="Service discovery")
def discovery(request: Request, fmt: str = "xml") -> Response:
    base = str(request.base_url).rstrip("/") + PREFIX
    return render.respond(_fmt(fmt), "discovery", service.discovery(_context(request), base))


@_both("/services", summary="Service list: the city's case categories")
def services(request: Request, fmt: str = "xml") -> Response:
    return render.respond(_fmt(fmt), "services", service.service_list(_context(request)))


@_both("/services/{service_code}", summary="Service definition")
def service_definition(request: Request, service_code: str, fmt: str = "xml") -> Response:
    found = service.service_definition(_context(request), service_code)
    return render.respond(_fmt(fmt), "service_definition", found)


@_both("/requests", summary="Service requests (90-day default window, one page)")
def requests(
    request: Request,
    fmt: str = "xml",
    service_request_id: Annotated[str | None, Query(description="comma-separated ids")] = None,
    service_code: Annotated[str | None, Query(description="comma-separated service codes")] = None,
    start_date: Annotated[
        str | None, Query(description="W3C date-time, e.g. 2026-12-01T00:00:00+08:00")
    ] = None,
    end_date: Annotated[str | None, Query(description="W3C date-time")] = None,
    status: Annotated[str | None, Query(description="open, closed or both (comma-separated)")] = None,
    page: Annotated[int, Query(ge=1, description=f"page of {service.MAX_PAGE_SIZE} requests")] = 1,
    jurisdiction_id: str | None = None,
) -> Response:
    query = service.RequestQuery(service_request_id, service_code, start_date, end_date, status, page)
    return render.respond(_fmt(fmt), "service_requests", service.find_requests(_context(request), query))


@_both("/requests/{service_request_id}", summary="One service request")
def one_request(request: Request, service_request_id: str, fmt: str = "xml") -> Response:
    found = service.get_request(_context(request), service_request_id)
    return render.respond(_fmt(fmt), "service_requests", found)


@_both("/tokens/{token}", summary="The service request id of a token")
def token(request: Request, token: str, fmt: str = "xml") -> Response:
    return render.respond(_fmt(fmt), "service_requests", service.token_request(_context(request), token))


@_both("/requests", method="POST", summary="Create a service request (api_key required)")
async def create_request(
    request: Request,
    fmt: str = "xml",
    api_key: _Text = None,
    service_code: _Text = None,
    lat: _Text = None,
    long: _Text = None,
    address_string: _Text = None,
    address_id: _Text = None,
    description: _Text = None,
    media_url: _Text = None,
    first_name: _Text = None,
    last_name: _Text = None,
    phone: _Text = None,
    email: _Text = None,
    device_id: _Text = None,
    account_id: _Text = None,
    jurisdiction_id: _Text = None,
    media: Annotated[UploadFile | None, File(description="a photo: JPEG, PNG or WebP")] = None,
) -> Response:
    fmt = _fmt(fmt)
    key = api_key or request.query_params.get("api_key")
    photo = await media.read(service.MAX_MEDIA_BYTES + 1) if media is not None else None
    texts = [_utf8(t) for t in (address_string, address_id, description, first_name, last_name)]
    new = service.NewRequest(
        key, service_code, lat, long, texts[0], texts[1], texts[2], media_url,
        texts[3], texts[4], phone, email, device_id, account_id, photo or None,
    )  # fmt: skip

    def admit(info: api_keys.ApiKeyInfo) -> None:
        if not request.app.state.rate_limiter.allow(info.name, info.rate_per_minute):
            raise ServiceError("rate_limited", f"rate limit of {info.rate_per_minute} requests a minute")

    def run() -> list[dict[str, Any]]:
        return service.post_request(_context(request), new, admit)

    return render.respond(fmt, "service_requests", await run_in_threadpool(run))
