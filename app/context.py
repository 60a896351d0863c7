"""What every page shares: the database engine, the signed-in user, the sidebar."""

from __future__ import annotations

import importlib
import threading
from pathlib import Path

import streamlit as st
from sqlalchemy.engine import Engine

from app.i18n import LANGUAGES, ROLE_LABELS, label, t
from app.maps import TILE_PROVIDERS, default_tiles
from cases.db import data_dir, database_url, init_db, make_engine
from cases.users import AuthResult

#: Modules the analysis pages need: importing them (pandas, numba kernels, geopandas …) takes
#: seconds on first use, so the server imports them in the background while the first user logs in.
WARM_MODULES = (
    "analytics.cube",
    "analytics.hotspots",
    "analytics.recurrence",
    "analytics.emerging",
    "analytics.forecast",
    "grid.rollup",
)  # not streamlit_folium: a component must be declared from a script run, or its frontend is not served


@st.cache_resource
def warm_up() -> threading.Thread:
    """Start (once per server process) a daemon thread that imports :data:`WARM_MODULES` and loads the
    compiled numba H3 kernels, so the first planner page does not pay for them."""

    def run() -> None:
        import numpy as np

        for name in WARM_MODULES:
            importlib.import_module(name)
        from grid.cells import grid_disk, latlng_to_cells

        grid_disk(latlng_to_cells(np.array([32.0]), np.array([120.86]), 10), 1)

    thread = threading.Thread(target=run, name="gridpatrol-warm-up", daemon=True)
    thread.start()
    return thread


@st.cache_resource
def _engine_for(url: str) -> Engine:
    engine = make_engine(url)
    init_db(engine)
    return engine


def engine() -> Engine:
    """The (cached, thread-safe) SQLAlchemy engine of the configured database."""
    return _engine_for(database_url())


def db_key() -> str:
    """A small hashable key for ``st.cache_data`` functions: the database URL."""
    return database_url()


def tracks_root() -> Path | None:
    """The patrol track store: ``<data dir>/tracks``, else the demo city's ``<data dir>/geo/demo/tracks``."""
    for candidate in (data_dir() / "tracks", data_dir() / "geo" / "demo" / "tracks"):
        if candidate.is_dir():
            return candidate
    return None


def current_user() -> AuthResult | None:
    """The signed-in user of this browser session, or None."""
    return st.session_state.get("user")


def require_role(*roles: str) -> AuthResult:
    """Stop the page unless the signed-in user has one of ``roles`` (checked on the server, every run)."""
    user = current_user()
    if user is None or user.role not in roles:
        st.error(t("not_allowed"))
        st.stop()
    return user


def sidebar() -> None:
    """Language switch, base-map setting, who is signed in, and logout."""
    st.sidebar.radio(
        "语言 / Language", list(LANGUAGES), format_func=LANGUAGES.get, key="lang", horizontal=True
    )
    if "tiles" not in st.session_state:
        st.session_state["tiles"] = default_tiles()
    st.sidebar.selectbox(t("tiles"), list(TILE_PROVIDERS), key="tiles")
    user = current_user()
    if user is not None:
        st.sidebar.caption(t("signed_in_as", user=user.username, role=label(ROLE_LABELS, user.role or "")))
        if st.sidebar.button(t("logout")):
            del st.session_state["user"]
            st.rerun()
