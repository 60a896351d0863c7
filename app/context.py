"""What every page shares: the service context, the signed-in user (re-read every run), the sidebar.

**Sessions follow the store.** :func:`refresh_session` runs at the top of every script run: it signs the
user out after ``session_idle_minutes`` (city configuration, default 30) without a page run, and otherwise
re-reads the account by its id (:func:`services.users.current_user`), so a deactivated account is signed
out and a changed role shows its own pages on the very next run. Pages call one service function with
:func:`service_context` (the store, the city configuration and the signed-in user as the actor).
"""

from __future__ import annotations

import contextlib
import importlib
import threading
import time
from pathlib import Path

import pandas as pd
import streamlit as st

from app.i18n import LANGUAGES, ROLE_LABELS, label, t, worded
from app.maps import TILE_PROVIDERS, default_tiles
from cases.db import database_url, make_engine, require_current_schema
from grid.config import CityConfig, data_dir, load_city_config
from services.context import Actor, Engine, ServiceContext  # Engine: the store's engine type
from services.users import AuthResult, actor_of
from services.users import current_user as stored_user

#: Session-state keys: the signed-in user, the time of their last page run, why a session ended.
USER_KEY, SEEN_KEY, ENDED_KEY = "user", "last_seen", "session_ended"
#: The caller of a service before login (may only authenticate).
ANONYMOUS = Actor(username="", role="")

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
    """Start (once per server process) a daemon thread that imports :data:`WARM_FIRST`, fills the service
    layer's read cache (the cases and the areas' cells: :func:`services.study.warm_up`), loads the compiled
    numba kernels (one small Gi*) and imports :data:`WARM_LATER`, so the first planner page pays for none."""

    def run() -> None:
        for name in WARM_FIRST:
            importlib.import_module(name)
        with contextlib.suppress(Exception):  # a missing or broken database is reported by the pages
            from services.study import load_cases
            from services.study import warm_up as warm_study

            ctx = ServiceContext(engine=engine(), config=city_config(), data_dir=data_dir())
            warm_study(ctx)
            _first_hotspots(load_cases(ctx))
        for name in WARM_LATER:
            importlib.import_module(name)
        _first_chart()

    thread = threading.Thread(target=run, name="gridpatrol-warm-up", daemon=True)
    thread.start()
    return thread


@st.cache_resource
def _engine_for(url: str) -> Engine:
    # read-only: a store without the current schema raises SchemaOutOfDateError (not cached, so the app
    # works on the next run after `gridpatrol init`); only `gridpatrol init` migrates
    return require_current_schema(make_engine(url))


def engine() -> Engine:
    """The (cached, thread-safe) SQLAlchemy engine of the configured database."""
    return _engine_for(database_url())


def db_key() -> str:
    """A small hashable key for ``st.cache_data`` functions: the database URL."""
    return database_url()


def city_config() -> CityConfig:
    """The city configuration (:func:`grid.config.load_city_config`), read on every call: an edit of
    ``gridpatrol.toml`` applies on the next page run."""
    return load_city_config()


def service_context() -> ServiceContext:
    """The service context of this run: the store, the city configuration, the signed-in user as actor."""
    user = current_user()
    return ServiceContext(
        engine=engine(),
        config=city_config(),
        data_dir=data_dir(),
        actor=actor_of(user) if user is not None else ANONYMOUS,
    )


def tracks_root() -> Path | None:
    """The patrol track store: ``<data dir>/tracks``, else the demo city's ``<data dir>/geo/demo/tracks``."""
    return service_context().tracks_root()


def current_user() -> AuthResult | None:
    """The signed-in user of this browser session (as re-read at the top of this run), or None."""
    return st.session_state.get(USER_KEY)


def sign_in(user: AuthResult) -> None:
    """Start a session for ``user`` (a successful :func:`services.users.authenticate`)."""
    st.session_state[USER_KEY] = user
    st.session_state[SEEN_KEY] = time.time()
    st.session_state.pop(ENDED_KEY, None)


def sign_out(reason: str | None = None) -> None:
    """End the session; ``reason`` (an i18n key) is shown on the login form."""
    st.session_state.pop(USER_KEY, None)
    st.session_state.pop(SEEN_KEY, None)
    if reason is not None:
        st.session_state[ENDED_KEY] = reason


def refresh_session() -> AuthResult | None:
    """At the top of every run: end an idle session, else re-read the user from the store (None when
    the account was deactivated or deleted: signed out); returns the user of this run."""
    user = current_user()
    if user is None:
        return None
    now = time.time()
    idle_s = city_config().session_idle_minutes * 60
    if now - float(st.session_state.get(SEEN_KEY, now)) > idle_s:
        sign_out("session_idle")
        return None
    fresh = stored_user(service_context(), user.user_id) if user.user_id is not None else None
    if fresh is None:
        sign_out("session_account_gone")
        return None
    st.session_state[USER_KEY] = fresh
    st.session_state[SEEN_KEY] = now
    return fresh


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
    st.sidebar.selectbox(t("tiles"), list(TILE_PROVIDERS), key="tiles", format_func=worded())
    user = current_user()
    if user is not None:
        st.sidebar.caption(t("signed_in_as", user=user.username, role=label(ROLE_LABELS, user.role or "")))
        if st.sidebar.button(t("logout")):
            sign_out()
            st.rerun()
