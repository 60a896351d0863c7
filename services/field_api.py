"""The field API's operations for inspectors' phones: sign-in tokens, today's tasks, track uploads.

* :func:`issue_token` signs a user in (:func:`services.users.authenticate`: lockout and deactivation
  apply) and returns a bearer token (32 random bytes, shown once; the store keeps its SHA-256) valid for
  :data:`TOKEN_HOURS` hours. :func:`token_actor` turns a token into the caller on every request, re-reading
  the account (a deactivated user or a changed role takes effect at once); :func:`revoke_token` ends it.
* :func:`tasks` is the inspector's own grid today (:func:`services.field.field_view`): open cases to verify
  or check in their cells, with deadlines.
* :func:`act_on_case` (verify 核实, check_pass / check_fail 核查 with a note and a photo) and
  :func:`report_find` (a problem found on the street) are :func:`services.field.record_action` and
  :func:`services.field.report_problem`: only in the caller's cells, the events naming the inspector;
  photos are accepted as JPEG, PNG or WebP by their first bytes.
* :func:`route`: today's suggested route of the caller (:func:`services.deployment.route`), GPX or GeoJSON.
* :func:`last_positions`: the last fix of each inspector in the last 24 hours, for the command centre.
* :func:`upload_track` adds a batch of the caller's GPS fixes (JSON points or a GPX file) to the
  day-partitioned track store (:func:`patrol.store.write_tracks`, idempotent per inspector and time). With
  an idempotency key the answer is remembered: the same batch sent again (a phone retrying after a dropped
  connection) gets the first answer and writes nothing; a different batch under a used key is refused
  (``idempotency_conflict``).
  Writes to the track store are serialised in this process (a read-merge-write of day files).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import math
import secrets
import threading
from typing import Any

import pandas as pd

from cases import repository_api as store
from services.context import Actor, ServiceContext
from services.errors import ServiceError
from services.users import Login, actor_of, authenticate, current_user

__all__ = [
    "MAX_POINTS",
    "TOKEN_HOURS",
    "TrackBatch",
    "act_on_case",
    "issue_token",
    "last_positions",
    "report_find",
    "revoke_token",
    "route",
    "tasks",
    "token_actor",
    "upload_track",
]

TOKEN_HOURS = 12
#: Points of one upload.
MAX_POINTS = 5000
_TRACK_LOCK = threading.Lock()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(ctx: ServiceContext, login: Login) -> dict[str, Any]:
    """Sign in; ``{token, expires_at, username, role, inspector_id}``. Raises ``login_failed``."""
    result = authenticate(ctx, login)
    if not result.ok or result.user_id is None:
        raise ServiceError("login_failed", "unknown user or password, or the account is locked or inactive")
    token = secrets.token_urlsafe(32)
    now = dt.datetime.now(dt.UTC)
    expires = now + dt.timedelta(hours=TOKEN_HOURS)
    store.insert_token(
        ctx.engine, token_hash=_hash(token), user_id=result.user_id, at=now, expires_at=expires
    )
    return {
        "token": token,
        "expires_at": expires.isoformat(timespec="seconds"),
        "username": result.username,
        "role": result.role,
        "inspector_id": result.inspector_id,
    }


def token_actor(ctx: ServiceContext, token: str | None) -> Actor:
    """The caller a bearer token stands for. Raises ``token_invalid`` (none, unknown, expired, revoked, or
    the account deactivated)."""
    if not token:
        raise ServiceError("token_invalid", "a bearer token is required (POST /field/v1/token)")
    user_id = store.token_user(ctx.engine, _hash(token), dt.datetime.now(dt.UTC))
    user = current_user(ctx, user_id) if user_id is not None else None
    if user is None:
        raise ServiceError("token_invalid", "the token is not valid (expired, revoked or unknown)")
    return actor_of(user)


def revoke_token(ctx: ServiceContext, token: str) -> None:
    """End a token at once (sign out)."""
    if not store.revoke_token(ctx.engine, _hash(token), dt.datetime.now(dt.UTC)):
        raise ServiceError("token_invalid", "the token is not valid")


def _plain(value: Any) -> Any:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value.item() if hasattr(value, "item") else value


def tasks(ctx: ServiceContext, inspector_id: str | None = None) -> dict[str, Any]:
    """The caller's grid today: ``{inspector_id, day, cells, tasks: [...]}`` (an inspector only their own:
    another ``inspector_id`` is refused; the administrator names one)."""
    from services.field import FieldRequest, field_view

    view = field_view(ctx, FieldRequest(inspector_id=inspector_id, with_neglect=False))
    columns = [
        c
        for c in ("case_id", "task", "status", "category_code", "lat", "lon", "deadline_at", "description")
        if c in view.tasks.columns
    ]
    rows = [
        {c: _plain(v) for c, v in zip(columns, row, strict=True)}
        for row in view.tasks[columns].itertuples(False)
    ]
    return {
        "inspector_id": view.inspector_id,
        "day": view.day.isoformat(),
        "cells": [format(int(c), "x") for c in view.cells],
        "tasks": rows,
    }


@dataclasses.dataclass(frozen=True)
class TrackBatch:
    """GPS fixes of the caller: ``points`` as sent (each ``ts`` ISO 8601 with offset, ``lat``, ``lon``
    WGS-84, optional ``accuracy_m``); ``idempotency_key`` (optional) names the upload."""

    points: list[dict[str, Any]]
    idempotency_key: str | None = None
    gpx: bytes | None = dataclasses.field(default=None, repr=False)  #: a GPX file instead of ``points``


def _gpx_points(inspector_id: str, content: bytes) -> pd.DataFrame:
    """The ``<trkpt>`` fixes of an uploaded GPX file (:func:`patrol.readers.read_gpx`), as the caller's."""
    import tempfile
    from pathlib import Path

    from patrol.readers import TrackReadError, read_gpx

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "upload.gpx"
        path.write_bytes(content)
        try:
            points, _ = read_gpx(path, inspector=inspector_id)
        except TrackReadError as exc:
            raise ServiceError("bad_request", f"cannot read the GPX file: {exc}") from exc
    if points.empty:
        raise ServiceError("bad_request", "the GPX file has no usable track point")
    if len(points) > MAX_POINTS:
        raise ServiceError("bad_request", f"at most {MAX_POINTS} points an upload")
    return points.assign(inspector_id=inspector_id)


def _points(inspector_id: str, points: list[dict[str, Any]]) -> pd.DataFrame:
    if not isinstance(points, list) or not points:
        raise ServiceError("bad_request", "points must be a non-empty list")
    if len(points) > MAX_POINTS:
        raise ServiceError("bad_request", f"at most {MAX_POINTS} points an upload")
    try:
        frame = pd.DataFrame(
            {
                "ts": pd.to_datetime([p["ts"] for p in points], utc=False, format="ISO8601"),
                "lat": [float(p["lat"]) for p in points],
                "lon": [float(p["lon"]) for p in points],
                "accuracy_m": [float(p.get("accuracy_m") or "nan") for p in points],
            }
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ServiceError(
            "bad_request", f"each point needs ts (ISO 8601 with offset), lat, lon: {exc}"
        ) from exc
    if frame["ts"].dt.tz is None:
        raise ServiceError("bad_request", "ts needs a UTC offset, e.g. 2026-12-07T09:30:00+08:00")
    if not (frame["lat"].abs().le(90).all() and frame["lon"].abs().le(180).all()):
        raise ServiceError("bad_request", "lat or lon out of range")
    frame["ts"] = frame["ts"].dt.tz_convert("UTC")
    frame.insert(0, "inspector_id", inspector_id)
    return frame


def upload_track(ctx: ServiceContext, batch: TrackBatch) -> dict[str, Any]:
    """Store the caller's fixes; ``{received, added, duplicates, days, replayed}`` (inspector only)."""
    from patrol.store import write_tracks
    from services.deployment import own_inspector

    inspector_id = own_inspector(ctx, None, "upload a track")
    key = (batch.idempotency_key or "").strip() or None
    if key is not None and len(key) > 128:
        raise ServiceError("bad_request", "the idempotency key is longer than 128 characters")
    payload = (
        batch.gpx if batch.gpx is not None else json.dumps(batch.points, sort_keys=True, default=str).encode()
    )
    digest = hashlib.sha256(payload).hexdigest()
    if key is not None:
        known = store.idempotent_answer(ctx.engine, ctx.actor.username, key)
        if known is not None:
            return _replayed(known, digest)
    points = (
        _gpx_points(inspector_id, batch.gpx) if batch.gpx is not None else _points(inspector_id, batch.points)
    )
    with _TRACK_LOCK:
        stored = write_tracks(points, ctx.data_dir / "tracks", timezone=ctx.timezone)
    answer = {
        "received": stored.received,
        "added": stored.added,
        "duplicates": stored.duplicates,
        "days": [str(d) for d in stored.days],
        "replayed": False,
    }
    if key is None:
        return answer
    kept = store.remember_answer(
        ctx.engine,
        username=ctx.actor.username,
        key=key,
        request_sha256=digest,
        response=json.dumps(answer),
        at=dt.datetime.now(dt.UTC),
    )
    return answer if kept[0] == digest and json.loads(kept[1]) == answer else _replayed(kept, digest)


def _replayed(known: tuple[str, str], digest: str) -> dict[str, Any]:
    if known[0] != digest:
        raise ServiceError("idempotency_conflict", "this idempotency key was used for a different upload")
    return {**json.loads(known[1]), "replayed": True}


def act_on_case(
    ctx: ServiceContext, case_id: str, action: str, note: str = "", photo: bytes | None = None
) -> dict[str, Any]:
    """Verify or check a case in the caller's cells on site; ``{case_id, status}``."""
    from services.field import FieldActionRequest, record_action
    from services.open311 import image_suffix

    kind = None
    if photo:
        kind = {".jpg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}[image_suffix(photo)]
    status = record_action(ctx, FieldActionRequest(case_id, action, note, photo or None, kind))
    return {"case_id": case_id, "status": status}


def report_find(
    ctx: ServiceContext, lat: float, lon: float, category_code: str, description: str = ""
) -> dict:
    """File the caller's find in their cells as a verified case; ``{case_id}``."""
    from services.field import ReportRequest, report_problem

    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise ServiceError("bad_request", "lat and lon must be numbers")
    return {"case_id": report_problem(ctx, ReportRequest(lat, lon, category_code, description=description))}


def route(ctx: ServiceContext, fmt: str, budget_hours: float = 4.0) -> bytes:
    """Today's suggested route of the caller (:func:`services.deployment.route`) as GPX or GeoJSON."""
    import tempfile
    from pathlib import Path

    from services.deployment import RouteRequest
    from services.deployment import route as suggest

    if fmt not in ("gpx", "geojson"):
        raise ServiceError("bad_request", "the route is served as .gpx or .geojson")
    if not 0 < budget_hours <= 12:
        raise ServiceError("bad_request", "budget_hours must be in (0, 12]")
    today = pd.Timestamp.now(tz=ctx.timezone).date()
    found = suggest(ctx, RouteRequest(date=today, budget_s=budget_hours * 3600.0))
    with tempfile.TemporaryDirectory() as folder:
        return found.write(Path(folder) / f"route.{fmt}").read_bytes()


#: Roles of the command centre, who see where every inspector is.
POSITION_ROLES = ("dispatcher", "supervisor", "manager", "admin")


def last_positions(ctx: ServiceContext) -> list[dict[str, Any]]:
    """The last fix of each inspector in the last 24 hours: ``[{inspector_id, ts, lat, lon, accuracy_m}]``."""
    from patrol.store import read_days

    ctx.require("see where the inspectors are", *POSITION_ROLES)
    now = pd.Timestamp.now(tz=ctx.timezone)
    since = now - pd.Timedelta(hours=24)
    points = read_days(ctx.data_dir / "tracks", since.date(), now.date())
    points = points[points["ts"] >= since]
    if points.empty:
        return []
    last = points.sort_values("ts").groupby("inspector_id", sort=True).tail(1).sort_values("inspector_id")
    return [
        {
            "inspector_id": str(r.inspector_id),
            "ts": r.ts.tz_convert(ctx.timezone).isoformat(timespec="seconds"),
            "lat": float(r.lat),
            "lon": float(r.lon),
            "accuracy_m": _plain(float(r.accuracy_m)),
        }
        for r in last.itertuples(index=False)
    ]
