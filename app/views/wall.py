"""Wall display (指挥大屏): today's intake, open and overdue work by district and department, a live map.

For the command centre's 1920×1080 screen: big numbers, refreshed every minute (a fragment re-runs on its
own), read only. Opens for a signed-in command-centre user, or without a login with the display token
(``…/wall?display=TOKEN``; ``gridpatrol wall-token`` makes one). One service call:
:func:`services.wall.wall_summary`.
"""

import streamlit as st

from app import wall_widgets as w
from app.i18n import error_text, t
from services.errors import ServiceError
from services.wall import WallRequest, wall_summary


@st.fragment(run_every=w.REFRESH_S)
def _wall() -> None:
    ctx = w.wall_context()
    if ctx is None:
        st.warning(t("wall_no_access"))
        return
    try:
        summary = wall_summary(ctx, WallRequest())
    except ServiceError as exc:
        st.error(error_text(exc))
        return
    w.header(summary)
    w.tiles(summary)
    left, right = st.columns([3, 2], gap="large")
    with left:
        w.live_map(summary)
        if not summary.tracks_found:
            st.caption(t("wall_no_tracks"))
    with right:
        w.sources(summary)
        w.counts(summary.by_district, t("wall_by_district"))
        w.counts(summary.by_department, t("wall_by_department", n=w.TOP_DEPARTMENTS), w.TOP_DEPARTMENTS)


_wall()
