"""Open311 GeoReport v2 operations: discovery, services, service definitions, requests, tokens, POST.

Spec: http://wiki.open311.org/GeoReport_v2/. Each function returns plain Python values (dicts and lists in
the spec's field names and order); the HTTP front-end (:mod:`api.open311`) writes them as JSON or XML.
Errors are :class:`services.errors.ServiceError` with a code the front-end maps to 400 / 403 / 404.

* Services are the city's category table (the shipped standard table, :func:`cases.categories.
  load_categories`): ``service_code`` = category code, ``service_name`` = its name, ``group`` = its class,
  ``keywords`` = class, kind and standard. No category needs extra attributes yet (``metadata`` false).
* A posted request becomes a case through the import's own row checks, for one row without the batch
  machinery (:mod:`services.open311_rows`, :func:`cases.case_row.check_case_row`: the same validation and
  the same quarantine reason codes as a file row, e.g. ``outside_city_area``, ``value_too_long``,
  ``unknown_category``), filed as the key's caller (``key:NAME``, an operator by default: the case enters
  the intake queue as ``reported``, its first event names the key). The source is the key's (``wechat``,
  ``video``, ``other``). The reporter's phone is the case's ``reporter_phone`` (PII, masked by default);
  the name, e-mail, ``device_id``, ``account_id``, ``media_url`` and an uploaded photo (``media``: JPEG,
  PNG or WebP by its first bytes, at most :data:`MAX_MEDIA_BYTES`, stored under
  ``<data dir>/photos/<case>/``) are kept beside it (``api_requests``), written in the same transaction as
  the case (:func:`cases.repository_api.report_with_request`): a crash between them leaves neither.
* Status is ``open`` / ``closed`` (a ``closed_at`` or a terminal status), ``status_notes`` the case's own
  status, ``agency_responsible`` its department, ``expected_datetime`` its deadline, ``updated_datetime`` the
  time of its last event; times in the city's zone with their offset.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
import secrets
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from cases import repository_api as store
from cases.export import OPEN311_FIELDS
from services import api_keys
from services.cases import REPORT_ROLES
from services.context import ServiceContext
from services.errors import ServiceError
from services.open311_rows import categories, checked_row

__all__ = [
    "MAX_PAGE_SIZE",
    "REQUEST_FIELDS",
    "WINDOW_DAYS",
    "NewRequest",
    "RequestQuery",
    "discovery",
    "find_requests",
    "get_request",
    "image_suffix",
    "post_request",
    "service_definition",
    "service_list",
    "token_request",
]

SPEC = "http://wiki.open311.org/GeoReport_v2"
#: The default window of GET requests without dates (the spec's recommendation).
WINDOW_DAYS = 90
#: Requests per page of GET requests (``page`` selects further pages).
MAX_PAGE_SIZE = 1000
#: Fields of a service request, in the spec's order (the export's, one definition).
REQUEST_FIELDS = OPEN311_FIELDS
#: Lengths of the fields kept beside the case (``api_requests``).
_LIMITS = {
    "first_name": 200,
    "last_name": 200,
    "email": 320,
    "device_id": 200,
    "account_id": 200,
    "media_url": 2000,
}
_URL = re.compile(r"^https?://[^\s<>\"]+$", re.IGNORECASE)


@functools.lru_cache(maxsize=1)
def _by_code() -> dict[str, dict[str, Any]]:
    table = categories()
    return {str(r["code"]): r for r in table.to_dict("records")}


def _service(row: dict[str, Any]) -> dict[str, Any]:
    name = row.get("name_zh") or row["code"]
    group = row.get("class_name_zh") or ""
    keywords = [k for k in (group, row.get("kind"), row.get("standard")) if k]
    return {
        "service_code": str(row["code"]),
        "service_name": name,
        "description": f"{name} ({row['standard']})" if row.get("standard") else name,
        "metadata": False,
        "type": "realtime",
        "keywords": ", ".join(str(k) for k in keywords),
        "group": group,
    }


def discovery(ctx: ServiceContext, base_url: str) -> dict[str, Any]:
    """The discovery document: one production endpoint at ``base_url`` in XML and JSON."""
    return {
        "changeset": "2026-12-07T00:00:00Z",
        "contact": ctx.config.city_name,
        "key_service": "API keys are issued by the city's administrator (gridpatrol keys add).",
        "endpoints": [
            {
                "specification": SPEC,
                "url": base_url,
                "changeset": "2026-12-07T00:00:00Z",
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


def service_list(ctx: ServiceContext) -> list[dict[str, Any]]:
    """Every service (the city's category table), in the table's order."""
    return [_service(row) for row in categories().to_dict("records")]


def service_definition(ctx: ServiceContext, service_code: str) -> dict[str, Any]:
    """The definition of one service (no extra attributes). Raises ``service_not_found``."""
    if service_code not in _by_code():
        raise ServiceError("service_not_found", f"no service with service_code {service_code!r}")
    return {"service_code": service_code, "attributes": []}


@dataclasses.dataclass(frozen=True)
class RequestQuery:
    """The spec's filters of GET requests, as received (texts; comma-separated lists).

    With ``service_request_id`` the other filters are ignored (as the spec says). Without dates the window
    is the last :data:`WINDOW_DAYS` days; with one date it is :data:`WINDOW_DAYS` days from / up to it.
    ``page`` (1-based) selects a page of :data:`MAX_PAGE_SIZE` requests, newest first.
    """

    service_request_id: str | None = None
    service_code: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    status: str | None = None
    page: int = 1


def _items(text: str | None) -> list[str]:
    return [t.strip() for t in (text or "").split(",") if t.strip()]


def _time(text: str | None, name: str) -> dt.datetime | None:
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ServiceError("bad_request", f"{name} is not a W3C date-time: {text!r}") from exc
    if value.tzinfo is None:
        raise ServiceError("bad_request", f"{name} needs a UTC offset, e.g. 2026-12-01T00:00:00+08:00")
    return value.astimezone(dt.UTC)


def _window(query: RequestQuery) -> tuple[dt.datetime, dt.datetime]:
    start, end = _time(query.start_date, "start_date"), _time(query.end_date, "end_date")
    span = dt.timedelta(days=WINDOW_DAYS)
    if start is None and end is None:
        end = dt.datetime.now(dt.UTC)
    if start is None:
        start = end - span
    if end is None:
        end = start + span
    if end < start:
        raise ServiceError("bad_request", "end_date is before start_date")
    return start, end


def _closed_filter(status: str | None) -> bool | None:
    wanted = {s.lower() for s in _items(status)}
    if wanted - {"open", "closed"}:
        raise ServiceError("bad_request", "status must be open, closed or both (comma-separated)")
    return None if len(wanted) != 1 else wanted == {"closed"}


def _iso(values: pd.Series, zone: ZoneInfo) -> list[str | None]:
    return [None if pd.isna(v) else v.tz_convert(zone).isoformat(timespec="seconds") for v in values]


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    return value.item() if isinstance(value, np.generic) else value


def _requests(ctx: ServiceContext, frame: pd.DataFrame) -> list[dict[str, Any]]:
    zone = ZoneInfo(ctx.timezone)
    names = {code: row.get("name_zh") for code, row in _by_code().items()}
    times = {c: _iso(frame[c], zone) for c in ("reported_at", "updated_at", "deadline_at")}
    out = []
    for i, row in enumerate(frame.itertuples(index=False)):
        code = str(row.category_code)
        out.append(
            {
                "service_request_id": row.case_id,
                "status": "closed" if row.closed else "open",
                "status_notes": _plain(row.status),
                "service_name": names.get(code) or code,
                "service_code": code,
                "description": _plain(row.description),
                "agency_responsible": _plain(row.department),
                "service_notice": None,
                "requested_datetime": times["reported_at"][i],
                "updated_datetime": times["updated_at"][i],
                "expected_datetime": times["deadline_at"][i],
                "address": _plain(row.address),
                "address_id": None,
                "zipcode": None,
                "lat": _plain(row.lat),
                "long": _plain(row.lon),
                "media_url": _plain(row.media_url),
            }
        )
    return out


def find_requests(ctx: ServiceContext, query: RequestQuery) -> list[dict[str, Any]]:
    """GET requests: the spec's filters, newest first, one page. Raises ``bad_request``."""
    if query.page < 1:
        raise ServiceError("bad_request", "page must be 1 or more")
    offset = (query.page - 1) * MAX_PAGE_SIZE
    ids = _items(query.service_request_id)
    if ids:
        frame = store.open311_cases(ctx.engine, case_ids=ids, limit=MAX_PAGE_SIZE, offset=offset)
    else:
        start, end = _window(query)
        frame = store.open311_cases(
            ctx.engine,
            codes=_items(query.service_code),
            start=start,
            end=end,
            closed=_closed_filter(query.status),
            limit=MAX_PAGE_SIZE,
            offset=offset,
        )
    return _requests(ctx, frame)


def get_request(ctx: ServiceContext, service_request_id: str) -> list[dict[str, Any]]:
    """GET requests/{id}: a list of one request. Raises ``request_not_found``."""
    frame = store.open311_cases(ctx.engine, case_ids=[service_request_id], limit=1)
    if frame.empty:
        raise ServiceError("request_not_found", f"no service request {service_request_id!r}")
    return _requests(ctx, frame)


def token_request(ctx: ServiceContext, token: str) -> list[dict[str, Any]]:
    """GET tokens/{token}: ``[{service_request_id, token}]``. Raises ``token_not_found``."""
    case_id = store.request_by_token(ctx.engine, token)
    if case_id is None:
        raise ServiceError("token_not_found", f"no service request with token {token!r}")
    return [{"service_request_id": case_id, "token": token}]


@dataclasses.dataclass(frozen=True)
class NewRequest:
    """POST requests: the spec's arguments, as received (texts)."""

    api_key: str | None = None
    service_code: str | None = None
    lat: str | None = None
    long: str | None = None
    address_string: str | None = None
    address_id: str | None = None
    description: str | None = None
    media_url: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    email: str | None = None
    device_id: str | None = None
    account_id: str | None = None
    media: bytes | None = dataclasses.field(default=None, repr=False)  #: an uploaded photo


#: Largest uploaded photo, and the image kinds accepted (recognised by their first bytes, not their name).
MAX_MEDIA_BYTES = 5 * 1024 * 1024
_IMAGE_MAGIC = ((b"\xff\xd8\xff", ".jpg"), (b"\x89PNG\r\n\x1a\n", ".png"))


def image_suffix(content: bytes) -> str:
    """The file suffix of an uploaded image (JPEG, PNG, WebP by its first bytes); ServiceError otherwise."""
    if len(content) > MAX_MEDIA_BYTES:
        raise ServiceError("bad_request", f"media is larger than {MAX_MEDIA_BYTES // (1024 * 1024)} MB")
    for magic, suffix in _IMAGE_MAGIC:
        if content.startswith(magic):
            return suffix
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return ".webp"
    raise ServiceError("bad_request", "media must be a JPEG, PNG or WebP image")


def _save_media(ctx: ServiceContext, case_id: str, content: bytes, suffix: str) -> str:
    """Store an uploaded photo under ``<data dir>/photos/<case>/``; its path relative to the data folder."""
    import hashlib

    relative = f"photos/{case_id}/open311-{hashlib.sha256(content).hexdigest()[:16]}{suffix}"
    path = ctx.data_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return relative


def _check_extras(request: NewRequest) -> None:
    for name, limit in _LIMITS.items():
        value = getattr(request, name)
        if value is not None and len(value) > limit:
            raise ServiceError("bad_request", f"{name} is longer than {limit} characters")
    if request.media_url and not _URL.match(request.media_url):
        raise ServiceError("bad_request", "media_url must be an http(s) URL")


def _located_by_address(ctx: ServiceContext, key: Any, request: NewRequest) -> NewRequest:
    """The request with ``lat``/``long`` of the best match of its ``address_string`` in the city's address
    table; unchanged when the city has no address table. ServiceError ``address_not_found`` otherwise."""
    from cases.repository_addresses import address_count
    from services.addresses import AddressQuery, lookup_address

    if address_count(ctx.engine) == 0:
        return request
    text = (request.address_string or "").strip()
    best = lookup_address(ctx.as_actor(api_keys.key_actor(key)), AddressQuery(text, limit=1)).located
    if best is None:
        raise ServiceError("address_not_found", f"address_string {text!r} is not in the city's address table")
    return dataclasses.replace(request, lat=repr(float(best["lat"])), long=repr(float(best["lon"])))


def post_request(
    ctx: ServiceContext,
    request: NewRequest,
    admit: Callable[[api_keys.ApiKeyInfo], None] | None = None,
) -> list[dict[str, Any]]:
    """POST requests: file the request as a case for the key's caller; return ``[{service_request_id,
    token, service_notice, account_id}]``. ``admit`` (the front-end's rate limit) is called with the
    authenticated key before anything else and may raise (e.g. ``rate_limited``).

    Raises ServiceError ``api_key_required`` / ``api_key_invalid`` (403), ``service_code_missing``,
    ``service_code_unknown``, ``location_required``, ``address_lookup_unavailable`` (no address table),
    ``address_not_found`` (an ``address_string`` without lat/long not in the table), a row check's reason
    code (``outside_city_area`` …) or ``bad_request`` (400).
    """
    key = api_keys.authenticate_key(ctx, request.api_key)
    if admit is not None:
        admit(key)
    if not request.service_code:
        raise ServiceError("service_code_missing", "service_code is required")
    if request.service_code not in _by_code():
        raise ServiceError("service_code_unknown", f"service_code {request.service_code!r} is not a service")
    if not (request.lat and request.long) and (request.address_string or "").strip():
        request = _located_by_address(ctx, key, request)  # the city's address table (services.addresses)
    if not (request.lat and request.long):
        if request.address_string or request.address_id:
            raise ServiceError(
                "address_lookup_unavailable", "address lookup not available: send lat and long"
            )
        raise ServiceError("location_required", "lat and long (or address_string) are required")
    _check_extras(request)
    suffix = image_suffix(request.media) if request.media else None
    at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    case_id = f"O311-{at:%Y%m%d}-{secrets.token_hex(5).upper()}"
    fields = {
        "case_id": case_id,
        "source": key.source,
        "category_code": request.service_code,
        "lat": request.lat,
        "lon": request.long,
        "address": request.address_string,
        "description": request.description,
        "reporter_phone": request.phone,
    }
    row = checked_row(ctx, fields, at)  # the import's rules for one row (services.open311_rows)
    actor = ctx.as_actor(api_keys.key_actor(key)).require("report a case", *REPORT_ROLES)
    token = secrets.token_urlsafe(16)
    media_file = _save_media(ctx, case_id, request.media, suffix) if request.media and suffix else None
    kept = ("category_standard", "kind", "address", "description", "reporter_phone", "cell", "lat", "lon")
    case = {
        "case_id": case_id,
        "source": key.source,
        "category_code": request.service_code,
        "reported_at": at,
        "actor": actor.inspector_id if actor.role == "inspector" and actor.inspector_id else actor.username,
        "role": actor.role if actor.role in REPORT_ROLES else "operator",
        **{name: row[name] for name in kept if row.get(name) is not None},
    }
    extras = {name: getattr(request, name) or None for name in _LIMITS}
    store.report_with_request(  # the case and its api_requests row in one transaction
        ctx.engine,
        case,
        {"token": token, "case_id": case_id, "key_id": key.key_id, "received_at": at,
         "media_file": media_file, **extras},
    )  # fmt: skip
    return [
        {
            "service_request_id": case_id,
            "token": token,
            "service_notice": None,
            "account_id": request.account_id or None,
        }
    ]
