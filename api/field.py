"""The field API for inspectors' phones under ``/field/v1`` (JSON): sign in for a bearer token, today's
tasks, track uploads with an ``Idempotency-Key`` header. Each endpoint calls one function of
:mod:`services.field_api` with the caller its token stands for."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, File, Form, Header, Query, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api import render
from services import field_api
from services.context import ServiceContext
from services.errors import ServiceError
from services.users import Login

PREFIX = "/field/v1"
MAX_PHOTO_BYTES = 5 * 1024 * 1024
router = APIRouter(tags=["Field API"])


def _context(request: Request) -> ServiceContext:
    return request.app.state.ctx_factory()


def _bearer(authorization: str | None) -> str | None:
    if authorization and authorization[:7].lower() == "bearer ":
        return authorization[7:].strip() or None
    return None


def _as_caller(request: Request, authorization: str | None) -> ServiceContext:
    ctx = _context(request)
    return ctx.as_actor(field_api.token_actor(ctx, _bearer(authorization)))


@router.post("/token", summary="Sign in: a bearer token for this device")
def token(request: Request, username: Annotated[str, Form()], password: Annotated[str, Form()]) -> Response:
    found = field_api.issue_token(_context(request), Login(username=username, password=password))
    return render.respond("json", "token", found)


@router.delete("/token", summary="Sign out: end this token")
def sign_out(request: Request, authorization: Annotated[str | None, Header()] = None) -> Response:
    field_api.revoke_token(_context(request), _bearer(authorization) or "")
    return Response(status_code=204)


@router.get("/tasks", summary="My tasks today: cases to verify or check in my cells")
def tasks(
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
    inspector_id: Annotated[str | None, Query(description="administrators only")] = None,
) -> Response:
    found = field_api.tasks(_as_caller(request, authorization), inspector_id)
    return render.respond("json", "tasks", found)


@router.post("/cases/{case_id}/{action}", summary="Verify (verify) or check (check_pass / check_fail) a case")
async def act(
    request: Request,
    case_id: str,
    action: str,
    note: Annotated[str, Form()] = "",
    photo: Annotated[UploadFile | None, File(description="JPEG, PNG or WebP")] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    content = await photo.read(MAX_PHOTO_BYTES + 1) if photo is not None else None
    if content is not None and len(content) > MAX_PHOTO_BYTES:
        raise ServiceError("bad_request", "the photo is larger than 5 MB")

    def run() -> dict[str, Any]:
        return field_api.act_on_case(_as_caller(request, authorization), case_id, action, note, content)

    return render.respond("json", "case", await run_in_threadpool(run))


@router.post("/reports", summary="Report a problem found in my cells (a verified case)")
def report(
    request: Request,
    lat: Annotated[float, Form()],
    lon: Annotated[float, Form()],
    category_code: Annotated[str, Form()],
    description: Annotated[str, Form()] = "",
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    ctx = _as_caller(request, authorization)
    return render.respond("json", "case", field_api.report_find(ctx, lat, lon, category_code, description))


@router.post("/tracks", summary="Upload a batch of my GPS fixes (idempotent with Idempotency-Key)")
async def tracks(
    request: Request,
    points: Annotated[list[dict[str, Any]], Body(embed=True)],
    authorization: Annotated[str | None, Header()] = None,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> Response:
    def run() -> dict[str, Any]:
        ctx = _as_caller(request, authorization)
        return field_api.upload_track(ctx, field_api.TrackBatch(points, idempotency_key))

    return render.respond("json", "upload", await run_in_threadpool(run))


@router.get("/route.{fmt}", summary="My suggested route today (gpx or geojson)")
def route(
    request: Request,
    fmt: str,
    budget_hours: Annotated[float, Query(gt=0, le=12)] = 4.0,
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    body = field_api.route(_as_caller(request, authorization), fmt, budget_hours)
    media = "application/gpx+xml" if fmt == "gpx" else "application/geo+json"
    return Response(body, media_type=media, headers={"X-Content-Type-Options": "nosniff"})


@router.get("/positions", summary="The last position of each inspector in the last 24 hours (command centre)")
def positions(request: Request, authorization: Annotated[str | None, Header()] = None) -> Response:
    found = field_api.last_positions(_as_caller(request, authorization))
    return render.respond("json", "positions", found)


@router.post("/tracks.gpx", summary="Upload my GPS fixes as a GPX file (idempotent with Idempotency-Key)")
async def tracks_gpx(
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> Response:
    content = await request.body()

    def run() -> dict[str, Any]:
        ctx = _as_caller(request, authorization)
        return field_api.upload_track(ctx, field_api.TrackBatch([], idempotency_key, gpx=content))

    return render.respond("json", "upload", await run_in_threadpool(run))
