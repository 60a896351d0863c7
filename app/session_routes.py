"""The two HTTP routes that put the session cookie into the browser and take it out again.

A Streamlit script cannot answer with HTTP headers, so it cannot set an http-only cookie. Streamlit 1.67
serves a script through ``st.App`` (Starlette) when the script file holds ``app = st.App(...)``, and such an
app can carry routes of its own on the same host and port (``app/streamlit_app.py`` does this; ``streamlit
run app/streamlit_app.py`` starts it). After a successful login the page hands the signed cookie to
:func:`issue_ticket` and sends the browser to ``/_gp/session?ticket=…&next=<the page>``: the route
exchanges the one-time ticket (in this process's memory, valid :data:`TICKET_SECONDS`) for an
``HttpOnly; SameSite=Lax`` cookie (``Secure`` over https) and redirects back to the page. ``/_gp/logout``
deletes the cookie (the session row is revoked before, by the page).

:data:`SERVED` tells a page whether the routes exist in this process (False under ``AppTest`` or a plain
script run: the session then lives in Streamlit's session state only).
"""

from __future__ import annotations

import secrets
import threading
import time
import urllib.parse

from cases.web_sessions import SESSION_LIFETIME
from services.sessions import COOKIE_NAME

#: The path of the route that sets the cookie, and of the one that deletes it.
SESSION_PATH, LOGOUT_PATH = "/_gp/session", "/_gp/logout"
#: How long a login's ticket may wait for the browser to come and fetch its cookie.
TICKET_SECONDS = 60
#: True once :func:`routes` built the routes in this process (the app serves them).
SERVED = False

_tickets: dict[str, tuple[str, float]] = {}
_lock = threading.Lock()


def issue_ticket(cookie: str) -> str:
    """A one-time ticket for the signed ``cookie`` (fetched by :data:`SESSION_PATH` within
    :data:`TICKET_SECONDS`)."""
    ticket = secrets.token_urlsafe(24)
    now = time.monotonic()
    with _lock:
        for key in [k for k, (_, at) in _tickets.items() if now - at > TICKET_SECONDS]:
            del _tickets[key]
        _tickets[ticket] = (cookie, now)
    return ticket


def _redeem(ticket: str) -> str | None:
    with _lock:
        cookie, at = _tickets.pop(ticket, ("", 0.0))
    return cookie if cookie and time.monotonic() - at <= TICKET_SECONDS else None


def safe_next(target: str | None) -> str:
    """``target`` when it is a path on this host (``/page?query``), else ``/``: never an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urllib.parse.urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def session_url(ticket: str, next_path: str) -> str:
    """Where the browser goes after a login to collect its cookie."""
    return f"{SESSION_PATH}?{urllib.parse.urlencode({'ticket': ticket, 'next': safe_next(next_path)})}"


def routes() -> list:
    """The Starlette routes :data:`SESSION_PATH` and :data:`LOGOUT_PATH` (marks :data:`SERVED`)."""
    from starlette.responses import RedirectResponse
    from starlette.routing import Route

    global SERVED
    SERVED = True

    async def enter(request):
        response = RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
        response.headers["Cache-Control"] = "no-store"
        cookie = _redeem(request.query_params.get("ticket", ""))
        if cookie is not None:
            response.set_cookie(
                COOKIE_NAME,
                cookie,
                max_age=int(SESSION_LIFETIME.total_seconds()),
                path="/",
                httponly=True,
                samesite="lax",
                secure=request.url.scheme == "https",
            )
        return response

    async def leave(request):
        response = RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
        response.headers["Cache-Control"] = "no-store"
        response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax")
        return response

    return [Route(SESSION_PATH, enter, methods=["GET"]), Route(LOGOUT_PATH, leave, methods=["GET"])]
