"""Callbacks (回访): closed cases whose reporter left a phone and who was not called back yet; the
operator records reached / not reached, satisfied / not and a note. An unsatisfied reporter sends the case
back for rework when the city's rule says so. Everything is decided by :mod:`services.callbacks` (roles and
district scope on the server); the satisfaction KPI reads these records.
"""

from __future__ import annotations

import streamlit as st

from app.case_widgets import callback_form, flash, run
from app.context import require_role, service_context
from app.i18n import t
from app.tables import show_table
from services.callbacks import CALLBACK_ROLES, CallbackListRequest, callback_list

require_role(*CALLBACK_ROLES, "admin")
ctx = service_context()

st.title(t("callbacks"))
st.caption(t("cw_callback_intro"))
flash()
since = st.date_input(t("cw_closed_since"), value=None, key="cw_since")
result = run(callback_list, ctx, CallbackListRequest(closed_since=since, limit=200))
if result is None:
    st.stop()
table = result.to_frame()
if table.empty:
    st.info(t("cw_callback_none"))
    st.stop()
shown = table[["case_id", "category_code", "department", "closed_at", "reporter_phone", "description"]]
show_table(shown, timezone=ctx.timezone, key="cw_callback_table")
callback_form(ctx, table)
