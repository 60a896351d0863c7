"""API keys of HTTP clients (a WeChat mini-program, a web form, video analytics): add, list, revoke, check.

A key is 32 random bytes (``secrets.token_urlsafe``), shown once by :func:`add_key`; the store keeps only
its SHA-256 (enough for a high-entropy random key: no dictionary to try, so no slow hash is needed, and a
lookup by hash costs one index search). :func:`authenticate_key` reads the store on every request, so a
revoked key is refused at once. Each key has the case ``source`` its reports get, a ``role`` (default
``operator``: a citizen's report is filed like a call, to be verified on site) and a rate limit in requests
per minute, which the HTTP front-end enforces. Managing keys is the administrator's (or the system's:
``gridpatrol keys``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
import secrets

import pandas as pd

from cases import repository_api as store
from services.context import Actor, ServiceContext
from services.errors import ServiceError

__all__ = [
    "KEY_SOURCES",
    "ApiKeyInfo",
    "NewKey",
    "add_key",
    "authenticate_key",
    "hash_key",
    "key_actor",
    "list_keys",
    "revoke_key",
]

#: Case sources a key may give its reports.
KEY_SOURCES = ("wechat", "other", "video")
#: Roles a key may act in: filing reports (operator) or an inspector's device.
KEY_ROLES = ("operator", "inspector")
ADMIN_ROLES = ("admin",)
DEFAULT_RATE_PER_MINUTE = 600
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,48}$")

ApiKeyInfo = store.ApiKeyRow


@dataclasses.dataclass(frozen=True)
class NewKey:
    """A key to create: its ``name`` (letters, digits, ``_.-``, at most 48), the ``source`` of its
    reports, its ``role`` and its rate limit (requests per minute)."""

    name: str
    source: str = "other"
    role: str = "operator"
    rate_per_minute: int = DEFAULT_RATE_PER_MINUTE


def hash_key(key: str) -> str:
    """The stored form of a key: hex SHA-256 of its UTF-8 bytes."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def add_key(ctx: ServiceContext, request: NewKey) -> tuple[ApiKeyInfo, str]:
    """Create a key; return it as stored and the key itself (shown once, never stored).

    Raises ServiceError ``bad_request`` (name, source, role or rate) or ``key_exists``.
    """
    ctx.require("manage API keys", *ADMIN_ROLES)
    if not NAME_PATTERN.match(request.name):
        raise ServiceError("bad_request", "a key name is 1-48 letters, digits, '_', '.' or '-'")
    if request.source not in KEY_SOURCES:
        raise ServiceError("bad_request", f"source must be one of {', '.join(KEY_SOURCES)}")
    if request.role not in KEY_ROLES:
        raise ServiceError("bad_request", f"role must be one of {', '.join(KEY_ROLES)}")
    if request.rate_per_minute < 1:
        raise ServiceError("bad_request", "the rate limit must be at least 1 request a minute")
    key = secrets.token_urlsafe(32)
    try:
        store.insert_key(
            ctx.engine,
            name=request.name,
            key_hash=hash_key(key),
            source=request.source,
            role=request.role,
            rate_per_minute=request.rate_per_minute,
            at=dt.datetime.now(dt.UTC),
        )
    except store.DuplicateKeyError as exc:
        raise ServiceError("key_exists", str(exc), name=request.name) from exc
    info = next(k for k in store.list_keys(ctx.engine) if k.name == request.name)
    return info, key


def list_keys(ctx: ServiceContext) -> pd.DataFrame:
    """Every key (never the key itself): name, source, role, rate_per_minute, created_at, revoked_at."""
    ctx.require("manage API keys", *ADMIN_ROLES)
    rows = [dataclasses.asdict(k) for k in store.list_keys(ctx.engine)]
    columns = ["name", "source", "role", "rate_per_minute", "created_at", "revoked_at"]
    return pd.DataFrame(rows, columns=["key_id", *columns])[columns]


def revoke_key(ctx: ServiceContext, name: str) -> None:
    """Revoke the key ``name`` at once. Raises ServiceError ``key_not_found`` (none, or revoked already)."""
    ctx.require("manage API keys", *ADMIN_ROLES)
    if not store.revoke_key(ctx.engine, name, dt.datetime.now(dt.UTC)):
        raise ServiceError("key_not_found", f"no active API key named {name!r}", name=name)


def authenticate_key(ctx: ServiceContext, key: str | None) -> ApiKeyInfo:
    """The active key ``key`` (read from the store on every call: a revocation holds at once).

    Raises ServiceError ``api_key_required`` (none given) or ``api_key_invalid`` (unknown or revoked).
    """
    if not key:
        raise ServiceError("api_key_required", "api_key is required")
    info = store.key_by_hash(ctx.engine, hash_key(key))
    if info is None or info.revoked_at is not None:
        raise ServiceError("api_key_invalid", "api_key is not valid")
    return info


def key_actor(info: ApiKeyInfo) -> Actor:
    """The caller a key acts as: ``key:NAME`` in its role (the case events name the key)."""
    return Actor(username=f"key:{info.name}", role=info.role)
