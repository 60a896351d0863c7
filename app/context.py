"""What every page shares: the service context, the signed-in user (re-read every run), the sidebar.

**Sessions follow the store.** A login starts a server-side session (:func:`services.sessions.sign_in`: a
``web_sessions`` row, the browser gets its token in a signed, http-only cookie through
:mod:`app.session_routes`). :func:`refresh_session` runs at the top of every script run: a browser tab
without a signed-in user (a reload, a new tab) resumes the session of its cookie; a signed-in one is checked
against its row (:func:`services.sessions.resume_session`): revoked (logout, the account's role change,
deactivation or password reset), expired, idle for ``session_idle_minutes`` (city configuration, default
30), the account deactivated or given another role → signed out with the reason. Pages call one service
function with :func:`service_context` (the store, the city configuration and the signed-in user as actor).
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
from app.safe_text import safe_t
from cases.db import database_url, make_engine, require_current_schema
from grid.config import CityConfig, data_dir, load_city_config
from services.context import Actor, Engine, ServiceContext  # Engine: the store's engine type
from services.sessions import COOKIE_NAME, SessionToken, end_session, resume_session, token_of_cookie
from services.users import AuthResult, actor_of

#: Session-state keys: the signed-in user, the time of their last page run, why a session ended, the
#: session's token (the server-side row: :mod:`services.sessions`).
USER_KEY, SEEN_KEY, ENDED_KEY, TOKEN_KEY = "user", "last_seen", "session_ended", "session_token"
#: Session-state key: the token of a cookie whose session was found not valid (not looked up again).
ENDED_TOKEN_KEY = "session_token_ended"
#: Why a session is not valid (:data:`cases.web_sessions.SESSION_REASONS`) → the text the login form shows
#: (None: nothing to say, e.g. after one's own logout).
ENDED_TEXT = {
    "idle": "session_idle",
    "account_gone": "session_account_gone",
    "role_changed": "session_role_changed",
    "expired": "session_expired",
    "revoked": "session_revoked",
}
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
    """A small hashable key for ``st.cache_data`` functions: the database URL and its data version
    (:func:`services.cache.data_version`), so an import or a case action invalidates every cached read."""
    from services.cache import data_version

    url = database_url()
    return f"{url}#{data_version(ServiceContext(engine=engine(), config=city_config(), data_dir=data_dir()))}"


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


def sign_in(user: AuthResult, token: str | None = None) -> None:
    """Hold ``user`` (a successful :func:`services.sessions.sign_in`, or a resumed session) and the token
    of its server-side session in this tab's state."""
    st.session_state[USER_KEY] = user
    st.session_state[SEEN_KEY] = time.time()
    if token is not None:
        st.session_state[TOKEN_KEY] = token
    st.session_state.pop(ENDED_KEY, None)


def sign_out(reason: str | None = None) -> None:
    """Forget the user in this tab; ``reason`` (an i18n key) is shown on the login form."""
    st.session_state.pop(USER_KEY, None)
    st.session_state.pop(SEEN_KEY, None)
    st.session_state.pop(TOKEN_KEY, None)
    if reason is not None:
        st.session_state[ENDED_KEY] = reason


def log_out() -> None:
    """The user's own logout: revoke the server-side session (its cookie is refused from now on) and
    forget the user in this tab."""
    token = st.session_state.get(TOKEN_KEY)
    if token:
        end_session(service_context(), SessionToken(token))
    sign_out()


def _cookie_token(ctx: ServiceContext) -> str | None:
    """The session token of this browser's signed cookie (None without one, or with a forged one)."""
    try:
        value = st.context.cookies.get(COOKIE_NAME)
    except Exception:
        return None
    return token_of_cookie(ctx, value)


def refresh_session() -> AuthResult | None:
    """At the top of every run: resume the cookie's session in a tab without a user; check a signed-in
    tab's session against the store (and end an idle one); returns the user of this run (re-read from the
    store), None when signed out."""
    user = current_user()
    ctx = service_context()
    now = time.time()
    if user is None:
        token = _cookie_token(ctx)
        if token is None or token == st.session_state.get(ENDED_TOKEN_KEY):
            return None
        state = resume_session(ctx, SessionToken(token))
        if state.user is None:
            st.session_state[ENDED_TOKEN_KEY] = token  # look it up once, not on every run
            if state.reason in ENDED_TEXT and state.reason != "revoked":  # revoked: e.g. one's own logout
                st.session_state[ENDED_KEY] = ENDED_TEXT[state.reason]
            return None
        sign_in(state.user, token)
        return state.user
    idle_s = city_config().session_idle_minutes * 60
    if now - float(st.session_state.get(SEEN_KEY, now)) > idle_s:
        log_out()
        sign_out("session_idle")
        return None
    token = st.session_state.get(TOKEN_KEY)
    if token is None:  # a tab signed in without a server-side session (before sessions were stored)
        sign_out("session_expired")
        return None
    state = resume_session(ctx, SessionToken(token))
    if state.user is None:
        sign_out(ENDED_TEXT.get(state.reason, "session_account_gone"))
        return None
    st.session_state[USER_KEY] = state.user
    st.session_state[SEEN_KEY] = now
    return state.user


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
        role = label(ROLE_LABELS, user.role or "")
        st.sidebar.caption(safe_t("signed_in_as", user=user.username, role=role))
        if st.sidebar.button(t("logout")):
            log_out()
            leave_browser_session()


def _go(url: str) -> None:
    """Send the browser to ``url`` (a path of this host) and stop the run."""
    import json

    st.html(f"<script>window.location.replace({json.dumps(url)});</script>", unsafe_allow_javascript=True)
    st.stop()


def enter_browser_session(cookie: str | None) -> None:
    """After a login: when the app serves :mod:`app.session_routes`, send the browser to collect its
    http-only session cookie and come back to the page it asked for (with its query); else rerun (the
    session then lives in this tab only)."""
    from app import session_routes

    if not session_routes.SERVED or not cookie:
        st.rerun()
    path = "/" + (st.context.url or "").split("://", 1)[-1].partition("/")[2]
    query = st.query_params.to_dict()
    if query:
        import urllib.parse

        path += "?" + urllib.parse.urlencode(query)
    _go(session_routes.session_url(session_routes.issue_ticket(cookie), path))


def leave_browser_session() -> None:
    """After a logout: delete the cookie through :data:`app.session_routes.LOGOUT_PATH` (when served),
    else rerun."""
    from app import session_routes

    if not session_routes.SERVED:
        st.rerun()
    _go(session_routes.LOGOUT_PATH)
