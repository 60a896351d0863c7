"""Open311 GeoReport v2 operations: discovery, services, service definitions, requests, tokens, POST.

Spec: http://wiki.open311.org/GeoReport_v2/. Each function returns plain Python values (dicts and lists in
the spec's field names and order); the HTTP front-end (:mod:`api.open311`) writes them as JSON or XML.
Errors are :class:`services.errors.ServiceError` with a code the front-end maps to 400 / 403 / 404.

* Services are the city's category table (the shipped standard table, :func:`cases.categories.
  load_categories`): ``service_code`` = category code, ``service_name`` = its name, ``group`` = its class,
  ``keywords`` = class, kind and standard. No category needs extra attributes yet (``metadata`` false).
* A posted request becomes a case through the import's own row checks (:func:`cases.case_rules.
  check_cases`: the same validation and the same quarantine reason codes as a file row, e.g.
  ``outside_city_area``, ``value_too_long``, ``unknown_category``), then :func:`services.cases.report` as
  the key's caller (``key:NAME``, an operator by default: the case enters the intake queue as
  ``reported``, its first event names the key). The source is the key's (``wechat``, ``video``, ``other``).
  The reporter's phone is the case's ``reporter_phone`` (PII, masked by default); the name, e-mail,
  ``device_id``, ``account_id``, ``media_url`` and an uploaded photo (``media``: JPEG, PNG or WebP by its
  first bytes, at most :data:`MAX_MEDIA_BYTES`, stored under ``<data dir>/photos/<case>/``) are kept beside
  it (``api_requests``).
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
import threading
import time
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa

from cases import repository_api as store
from cases.categories import load_categories
from cases.export import OPEN311_FIELDS
from services import api_keys
from services.cases import CaseReport, report
from services.context import ServiceContext
from services.errors import ServiceError

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
#: Seconds the city area (the union of the stored areas) is reused before it is read again.
AREA_TTL_S = 60.0
_AREA_CACHE: dict[str, tuple[float, Any]] = {}
_AREA_LOCK = threading.Lock()
_STRING = pd.ArrowDtype(pa.string())
#: Why a posted point or field was refused, by the import's reason code.
_REASON_TEXT = {
    "outside_city_area": "the point is outside the city",
    "lat_lon_swapped": "lat and long look swapped",
    "coordinate_out_of_range": "lat or long is out of range",
    "unparseable_number": "lat and long must be numbers",
    "missing_field": "a required field is missing",
    "value_too_long": "a field is too long",
    "unknown_category": "service_code is not a known service",
}


@functools.lru_cache(maxsize=4)
def _categories(path: str | None = None) -> pd.DataFrame:
    return load_categories(path)


@functools.lru_cache(maxsize=1)
def _by_code() -> dict[str, dict[str, Any]]:
    table = _categories()
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
    return [_service(row) for row in _categories().to_dict("records")]


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


def _city_area(ctx: ServiceContext) -> Any:
    """The stored areas' union, reused for :data:`AREA_TTL_S` seconds (areas change only on import)."""
    url = str(ctx.engine.url)
    with _AREA_LOCK:
        hit = _AREA_CACHE.get(url)
        if hit is not None and time.monotonic() - hit[0] < AREA_TTL_S:
            return hit[1]
    area = store.city_area(ctx.engine)
    with _AREA_LOCK:
        _AREA_CACHE[url] = (time.monotonic(), area)
    return area


def _check_extras(request: NewRequest) -> None:
    for name, limit in _LIMITS.items():
        value = getattr(request, name)
        if value is not None and len(value) > limit:
            raise ServiceError("bad_request", f"{name} is longer than {limit} characters")
    if request.media_url and not _URL.match(request.media_url):
        raise ServiceError("bad_request", "media_url must be an http(s) URL")


def _checked_row(ctx: ServiceContext, request: NewRequest, case_id: str, source: str, at: dt.datetime) -> Any:
    """The request as one case row through the import's checks; ServiceError with the reason on failure."""
    from cases.case_rules import CaseContext, check_cases
    from cases.mapping import CASE_FIELDS, Mapping, apply_mapping

    values = {
        "case_id": case_id,
        "source": source,
        "category_code": request.service_code or "",
        "lat": (request.lat or "").strip(),
        "lon": (request.long or "").strip(),
        "reported_at": at.isoformat(),
        "address": request.address_string or "",
        "description": request.description or "",
        "reporter_phone": request.phone or "",
    }
    frame = pd.DataFrame({k: pd.Series([v], dtype=_STRING) for k, v in values.items()})
    checks = CaseContext(
        file="open311", mapping=Mapping(timezone="UTC"), categories=_categories(), area=_city_area(ctx)
    )
    checked = check_cases(apply_mapping(frame, checks.mapping, CASE_FIELDS), checks)
    if not checked.problems.ok[0]:
        problem = checked.problems.to_frame("open311", np.array([1]), frame).iloc[0]
        reason = str(problem["reason"])
        text = _REASON_TEXT.get(reason, reason)
        raise ServiceError(reason, f"{text} ({problem['field']}: {problem['detail']})")
    row = checked.rows.iloc[0]
    if not (np.isfinite(row["lat"]) and np.isfinite(row["lon"])):
        # a field-level defect empties the location of a file row; a posted request needs one
        defects = getattr(checked.problems, "defects_frame", None)
        found = defects("open311", np.array([1])) if defects is not None else None
        located = found[found["field"].isin(["lat", "lon"])] if found is not None else None
        reason = str(located["reason"].iloc[0]) if located is not None and len(located) else "missing_field"
        raise ServiceError(
            reason, f"{_REASON_TEXT.get(reason, reason)} (lat: {request.lat}, long: {request.long})"
        )
    return row


def post_request(ctx: ServiceContext, request: NewRequest) -> list[dict[str, Any]]:
    """POST requests: file the request as a case for the key's caller; return ``[{service_request_id,
    token, service_notice, account_id}]``.

    Raises ServiceError ``api_key_required`` / ``api_key_invalid`` (403), ``service_code_missing``,
    ``service_code_unknown``, ``location_required``, ``address_lookup_unavailable``, a row check's reason
    code (``outside_city_area`` …) or ``bad_request`` (400).
    """
    key = api_keys.authenticate_key(ctx, request.api_key)
    if not request.service_code:
        raise ServiceError("service_code_missing", "service_code is required")
    if request.service_code not in _by_code():
        raise ServiceError("service_code_unknown", f"service_code {request.service_code!r} is not a service")
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
    row = _checked_row(ctx, request, case_id, key.source, at)
    fields = {
        name: _plain(row[name])
        for name in ("category_standard", "kind", "address", "description", "reporter_phone", "cell")
        if _plain(row[name]) is not None
    }
    report(
        ctx.as_actor(api_keys.key_actor(key)),
        CaseReport(
            case_id=case_id,
            source=key.source,
            category_code=request.service_code,
            reported_at=at,
            lat=float(row["lat"]),
            lon=float(row["lon"]),
            fields=fields,
        ),
    )
    token = secrets.token_urlsafe(16)
    media_file = _save_media(ctx, case_id, request.media, suffix) if request.media and suffix else None
    store.insert_request(
        ctx.engine,
        token=token,
        case_id=case_id,
        key_id=key.key_id,
        received_at=at,
        media_file=media_file,
        **{name: getattr(request, name) or None for name in _LIMITS},
    )
    return [
        {
            "service_request_id": case_id,
            "token": token,
            "service_notice": None,
            "account_id": request.account_id or None,
        }
    ]
