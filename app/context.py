"""What every page shares: the database engine, the signed-in user, the sidebar."""

from __future__ import annotations

import contextlib
import importlib
import threading
from pathlib import Path

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine

from app.i18n import LANGUAGES, ROLE_LABELS, label, t
from app.maps import TILE_PROVIDERS, default_tiles
from cases.db import data_dir, database_url, init_db, make_engine
from cases.users import AuthResult

#: Modules the analysis pages need: importing them (pandas, numba kernels, geopandas …) takes
#: seconds on first use, so the server imports them in the background while the first user logs in.
#: The first group (with the cases and one small Gi*) serves the planner's first page; then the rest.
WARM_FIRST = ("analytics.cube", "analytics.hotspots", "grid.rollup", "app.hexmap", "cases.categories")
WARM_LATER = (
    "altair",  # Streamlit's charts (the cell history) import it on first use: ~1.3 s
    "analytics.recurrence",
    "analytics.emerging",
    "analytics.forecast",  # scikit-learn: the slowest import
)  # not streamlit_folium: a component must be declared from a script run, or its frontend is not served


def _first_hotspots(cases: pd.DataFrame) -> None:
    """A small cube and Gi* on the first cases: loads every compiled kernel the planner's first page runs
    (numba's first use in a process costs ~1.5 s)."""
    import numpy as np

    from analytics.cube import build_cube, universe_from_cases
    from analytics.hotspots import cube_hotspots
    from grid.cells import cells_to_parents

    if len(cases):
        cells_to_parents(cases["cell"].to_numpy(dtype=np.int64), 9)  # as the cell history does
        head = cases.head(500)
        cube_hotspots(build_cube(head, universe_from_cases(head, 9, k=1)), k=1).to_geodataframe()


def _first_chart() -> None:
    """Build one small Altair chart: the first one in a process sets up Vega-Lite's schema validation."""
    import altair as alt

    alt.Chart(pd.DataFrame({"x": [1], "y": [1]})).mark_bar().encode(x="x", y="y").to_dict()


@st.cache_resource
def warm_up() -> threading.Thread:
    """Start (once per server process) a daemon thread that imports :data:`WARM_FIRST`, reads the cases
    (:func:`case_frame`), loads the compiled numba kernels (one small Gi*) and imports :data:`WARM_LATER`,
    so the first planner page does not pay for them."""

    def run() -> None:
        for name in WARM_FIRST:
            importlib.import_module(name)
        with contextlib.suppress(Exception):  # a missing or broken database is reported by the pages
            _first_hotspots(case_frame(db_key()))
        for name in WARM_LATER:
            importlib.import_module(name)
        _first_chart()

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


@st.cache_resource(ttl=300, max_entries=4)
def case_frame(key: str) -> pd.DataFrame:
    """The located cases of the database ``key`` (:func:`cases.store.load_case_frame`), cached 5 min.

    One shared frame per server (``cache_resource``: no copy per rerun; a year of cases is ~15 MB to
    unpickle on every call otherwise). Read-only by contract: pages filter it into new frames, never
    assign into it.
    """
    del key  # the cache key: one entry per database
    from cases.store import load_case_frame

    return load_case_frame(engine())


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
