"""What the patrol pages (Coverage, Deployment, My grid) share: cached service calls for the signed-in
user, and a service failure said in the page's language instead of a traceback.

The cache key holds the caller (user, role and inspector id: an inspector's grid is theirs alone), the
database, the city configuration and the request; the service itself checks the role on every miss.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import streamlit as st

from app.context import db_key, service_context
from app.i18n import error_text
from grid.config import CityConfig
from services.context import Actor, ServiceContext
from services.errors import ServiceError


@st.cache_data(ttl=300, max_entries=32, show_spinner=False)
def _cached(
    module: str, name: str, key: str, config: CityConfig, actor: Actor, request: Any, _ctx: ServiceContext
) -> Any:
    del key, config, actor  # the cache key with ``request``
    return getattr(importlib.import_module(module), name)(_ctx, request)


def run(service: Callable[..., Any], request: Any) -> Any:
    """``service(ctx, request)`` for the signed-in user, cached 5 minutes."""
    ctx = service_context()
    return _cached(service.__module__, service.__name__, db_key(), ctx.config, ctx.actor, request, ctx)


@st.cache_data(ttl=300, max_entries=16, show_spinner=False)
def cached_map(builder: str, frame: Any, labels: dict[str, str], tiles: str) -> Any:
    """``app.patrol_maps.<builder>(frame, labels, tiles=tiles)``, built once per choice: a rerun (a click)
    hands the browser a copy with the same HTML instead of redrawing it."""
    from app import patrol_maps

    return getattr(patrol_maps, builder)(frame, labels, tiles=tiles)


def message(exc: ServiceError) -> str:
    """The failure in the page's language when its code has a text, else the service's message."""
    return error_text(exc)


def run_or_stop(service: Callable[..., Any], request: Any, *, level: str = "warning") -> Any:
    """:func:`run`; a :class:`ServiceError` is shown (``st.info`` / ``st.warning``) and the page stops."""
    try:
        return run(service, request)
    except ServiceError as exc:
        getattr(st, level)(message(exc))
        st.stop()
        raise  # unreachable: st.stop() raises
