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


def route_view(result: Any, name: str) -> None:
    """A suggested route (:class:`services.deployment.RouteResult`) drawn on the map (the walk along the
    streets, numbered stops, the city's geography) and its GPX in WGS-84 or GCJ-02 (two buttons: a choice
    that does not rerun the page and lose the route)."""
    from app.cell_maps import show_map
    from app.i18n import t
    from app.patrol_maps import route_map

    tiles = st.session_state.get("tiles", "osm")
    show_map(
        route_map(result.route, tiles=tiles, timezone=result.timezone), key=f"route-map-{name}", height=420
    )
    st.caption(f"{t('gpx_crs')}: {t('gpx_crs_help')}")
    columns = st.columns(2)
    for column, crs in zip(columns, ("wgs84", "gcj02"), strict=True):
        label = "GPX" if crs == "wgs84" else f"GPX · {t('gpx_crs_gcj02')}"  # WGS-84: the GPX standard
        column.download_button(
            label, result.gpx_bytes(crs), f"{name}-{crs}.gpx", "application/gpx+xml", key=f"gpx-{crs}-{name}",
            help=t(f"gpx_crs_{crs}"),
        )  # fmt: skip
