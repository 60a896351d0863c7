"""GridPatrol web app entry point: ``streamlit run app/streamlit_app.py`` (or ``make demo``).

Nothing is shown before login. After login, the navigation holds only the pages the user's role may
open, and every page checks the role again on the server (``app.context.require_role``), so a hidden
page cannot be reached by URL either. Every run first checks the tab's server-side session (or resumes
the one of the browser's session cookie after a reload) and re-reads the signed-in user from the store
(``app.context.refresh_session``): logout, a deactivated account or a changed role end it on the next run.

``streamlit run app/streamlit_app.py`` finds ``app = st.App(...)`` below and serves this script through
Streamlit's ASGI app together with the two routes of :mod:`app.session_routes` that set and delete the
http-only session cookie (same host and port). Streamlit runs the script itself as ``__main__``.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app.context import (
    ENDED_KEY,
    enter_browser_session,
    refresh_session,
    service_context,
    sidebar,
    sign_in,
    warm_up,
)
from app.i18n import t
from app.safe_text import safe_t
from services.sessions import SignIn
from services.sessions import sign_in as start_session

VIEWS = Path(__file__).with_name("views")
#: A local file: a Material icon as page icon is fetched from fonts.gstatic.com, which an intranet lacks.
FAVICON = Path(__file__).with_name("static") / "favicon.png"

# page file, title key, icon, roles that may open it
PAGES: list[tuple[str, str, str, frozenset[str] | None]] = [
    ("home.py", "home", ":material/home:", None),
    (
        "hotspots.py",
        "hotspots",
        ":material/local_fire_department:",
        frozenset({"planner", "manager", "admin"}),
    ),
    (
        "recurring.py",
        "recurring",
        ":material/autorenew:",
        frozenset({"planner", "manager", "admin"}),
    ),
    ("emerging.py", "emerging", ":material/trending_up:", frozenset({"planner", "manager", "admin"})),
    ("forecast.py", "forecast", ":material/online_prediction:", frozenset({"planner", "manager", "admin"})),
    ("my_grid.py", "my_grid", ":material/my_location:", frozenset({"inspector", "admin"})),
    ("dashboard.py", "dashboard", ":material/monitoring:", frozenset({"manager", "admin"})),
    ("deployment.py", "deployment", ":material/groups:", frozenset({"manager", "admin"})),
    ("coverage.py", "coverage", ":material/route:", frozenset({"manager", "admin"})),
    ("data.py", "data", ":material/upload_file:", frozenset({"admin"})),
    # the command centre's day (受理 → 核实 → 立案 → 派遣 → 处置 → 核查 → 结案 → 回访)
    ("intake.py", "intake", ":material/call:", frozenset({"operator", "admin"})),
    ("dispatch.py", "dispatch", ":material/send:", frozenset({"dispatcher", "supervisor", "admin"})),
    ("department.py", "department_queue", ":material/engineering:", frozenset({"department", "admin"})),
    ("approvals.py", "approvals", ":material/approval:", frozenset({"supervisor", "admin"})),
    (
        "callbacks.py",
        "callbacks",
        ":material/phone_callback:",
        frozenset({"operator", "supervisor", "admin"}),
    ),
    (
        "alerts.py",
        "alerts",
        ":material/notifications:",
        frozenset({"operator", "dispatcher", "supervisor", "department", "manager", "admin"}),
    ),
    (
        "case.py",
        "case_page",
        ":material/description:",
        frozenset({"inspector", "operator", "dispatcher", "department", "supervisor", "manager", "admin"}),
    ),
    (
        "reporters.py",
        "reporters",
        ":material/volunteer_activism:",
        frozenset({"supervisor", "manager", "admin"}),
    ),
    ("users.py", "user_admin", ":material/manage_accounts:", frozenset({"admin"})),
    ("wall.py", "wall", ":material/tv:", frozenset({"supervisor", "manager", "admin"})),
]


def _login() -> None:
    st.title(t("app_title"))
    st.caption(t("tagline"))
    ended = st.session_state.get(ENDED_KEY)
    if ended:
        st.warning(t(ended))
    with st.form("login"):
        username = st.text_input(t("username"))
        password = st.text_input(t("password"), type="password")
        submitted = st.form_submit_button(t("login"))
    if submitted:
        agent = st.context.headers.get("User-Agent") if st.context.headers else None
        # the client's address throttles failed logins (None on localhost: the account lockout still holds)
        request = SignIn(username, password, user_agent=agent, client=st.context.ip_address)
        result = start_session(service_context(), request)
        if result.auth.ok:
            sign_in(result.auth, result.token)
            enter_browser_session(result.cookie)
        elif result.auth.reason == "inactive":  # told only after a correct password
            st.error(t("login_inactive"))
        elif result.auth.reason == "throttled":
            st.error(t("login_throttled"))
        else:  # an unknown user, a wrong password and a locked account get one answer (no enumeration)
            st.error(t("login_failed"))


def _require_store() -> None:
    """Stop with a translated error when the store has no current schema (only ``gridpatrol init``
    migrates; :func:`cases.db.require_current_schema`)."""
    from app.context import engine
    from cases.db import SchemaOutOfDateError

    try:
        engine()
    except SchemaOutOfDateError as exc:
        key = "schema_missing" if exc.revision is None else "schema_old"
        st.error(safe_t(key, revision=exc.revision, head=exc.head))
        st.stop()


def main() -> None:
    st.set_page_config(page_title="GridPatrol", page_icon=str(FAVICON), layout="wide")
    _require_store()
    warm_up()
    user = refresh_session()
    if user is None and st.query_params.get("display") and _wall_by_token(st.query_params.get("display")):
        return
    sidebar()
    if user is None:
        # Register every page (hidden, never run) so that Streamlit keeps the requested page and query
        # (``/my_grid?case=…``) in the URL through the login; after login the role's own navigation
        # decides: a page outside the role falls back to the overview.
        st.navigation(_pages(None), position="hidden")
        _login()
        return
    st.navigation(_pages(user.role)).run()


def _wall_by_token(token: str) -> bool:
    """Show the wall display (大屏) without a login when ``token`` is the city's display token
    (:func:`services.wall.display_actor`); False (the login form follows) otherwise."""
    from services.wall import display_actor

    if display_actor(service_context(), token) is None:
        return False
    wall = st.Page(str(VIEWS / "wall.py"), title=t("wall"), url_path="wall")
    st.navigation([wall], position="hidden").run()
    return True


def _pages(role: str | None) -> list:
    """The pages ``role`` may open (every page for ``None``: the hidden login-time navigation)."""
    return [
        st.Page(str(VIEWS / file), title=t(key), icon=icon, url_path=file.removesuffix(".py"), default=not i)
        for i, (file, key, icon, roles) in enumerate(PAGES)
        if role is None or roles is None or role in roles
    ]


if __name__ == "__main__":  # a script run (Streamlit runs the script as ``__main__``)
    main()
else:  # imported by ``streamlit run`` / uvicorn: the ASGI app serving this script and the cookie routes
    from app.session_routes import routes

    app = st.App(__file__, routes=routes())
