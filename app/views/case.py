"""The case page (``?case=<id>``): one case for every role that may see it — header, status, deadline and
time left, map, the timeline of every event, photos, and the actions the signed-in user may take now.

Who may see the case is decided by :func:`services.case_view.case_detail` on the server (an inspector's
cells, a department's cases, a district-scoped user's district): a case id typed into the URL is refused
there, not hidden here. Each action is sent to the service, which checks the role and the status again.
The pieces are in :mod:`app.case_widgets`.
"""

from __future__ import annotations

import streamlit as st

from app.case_widgets import (
    action_form,
    action_word,
    flash,
    header,
    location,
    mediation_form,
    photos,
    run,
    timeline,
)
from app.context import require_role, service_context
from app.i18n import t
from services.case_view import VIEW_ROLES, case_detail

require_role(*VIEW_ROLES)
ctx = service_context()

st.title(t("case_page"))
flash()
case_id = st.query_params.get("case") or st.text_input(t("cw_case_id"), key="cw_case_input").strip()
if not case_id:
    st.info(t("cw_pick_case"))
    st.stop()
detail = run(case_detail, ctx, case_id)
if detail is None:
    st.stop()

header(detail, ctx.timezone)
tab_timeline, tab_map, tab_photos = st.tabs([t("cw_timeline"), t("cw_location"), t("cw_photos")])
with tab_timeline:
    timeline(detail, ctx.timezone)
with tab_map:
    location(detail)
with tab_photos:
    photos(ctx, detail, ctx.timezone)

st.subheader(t("cw_actions"))
if not detail.actions:
    st.caption(t("cw_no_actions"))
for action in detail.actions:
    with st.expander(action_word(action), expanded=len(detail.actions) == 1):
        if action == "mediate":
            mediation_form(ctx, detail)
        else:
            action_form(ctx, detail, action)
