"""Citizen reporters (热心市民): the most active reporters of accepted problems in a quarter, phones masked,
with their cases, for the bureau's reward scheme; downloadable as CSV. :mod:`services.reporters` decides
who may read it (supervisors, managers, administrators; a district-scoped user: their district)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.case_widgets import run
from app.context import require_role, service_context
from app.i18n import t
from app.tables import show_table
from services.reporters import REPORTER_ROLES, ReportersRequest, active_reporters

require_role(*REPORTER_ROLES)
ctx = service_context()

st.title(t("reporters"))
st.caption(t("cw_reporters_intro"))
now = pd.Timestamp.now(tz=ctx.timezone)
cols = st.columns(2)
quarter = cols[0].text_input(t("cw_quarter"), value=f"{now.year}Q{now.quarter}", key="cw_quarter").strip()
top = cols[1].number_input(t("cw_top"), min_value=1, max_value=500, value=20, step=1, key="cw_top")
result = run(active_reporters, ctx, ReportersRequest(quarter=quarter or None, top=int(top)))
if result is None:
    st.stop()
table = result.to_frame()
if table.empty:
    st.info(t("cw_reporters_none"))
    st.stop()
show_table(table, timezone=ctx.timezone, key="cw_reporters_table")
st.download_button(
    t("cw_download_csv"), result.to_csv(), file_name=f"reporters-{quarter or 'all'}.csv", mime="text/csv"
)
