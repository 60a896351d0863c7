"""Alerts and escalation (督办预警): the daily digest of cases near or past their deadline.

:func:`services.alerts.alerts` flags the cases (threshold ``[alerts] near_share`` of the city
configuration) and lists them per department and per district; a department user sees their own
department's, a district-scoped user their district's. Each table downloads as CSV (``gridpatrol alerts``
writes the same).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.context import require_role, service_context
from app.i18n import t
from app.queue_widgets import alert_metrics, csv_bytes, shown
from app.queue_widgets import run_or_stop as run
from app.tables import show_table
from services.alerts import ALERT_COLUMNS, ALERT_ROLES, AlertsRequest, alerts

require_role(*ALERT_ROLES)
ctx = service_context()
st.title(t("alerts"))

today = pd.Timestamp.now(tz=ctx.timezone).date()
left, right = st.columns(2)
day = left.date_input(t("al_day"), value=today, max_value=today)
share = right.slider(t("al_near_share"), 0.5, 1.0, float(ctx.config.alerts.near_share), 0.05)
result = run(alerts, ctx, AlertsRequest(as_of=None if day >= today else day, near_share=share))
table = result.to_frame()
st.caption(t("al_as_of", time=f"{result.as_of.tz_convert(ctx.timezone):%Y-%m-%d %H:%M}"))
alert_metrics(table, total="al_title_cases")
if table.empty:
    st.info(t("al_none"))
    st.stop()

tabs = st.tabs([t("al_by_department"), t("al_by_district"), t("al_title_cases")])
for tab, by in zip(tabs[:2], ("department", "district"), strict=True):
    with tab:
        summary = result.summary(by)
        show_table(shown(summary, list(summary.columns)), key=f"alerts_{by}")
        st.download_button(
            t("al_download"), csv_bytes(summary), f"alerts-{by}-{day}.csv", "text/csv", key=f"dl_{by}"
        )
with tabs[2]:
    show_table(shown(table, list(ALERT_COLUMNS)), key="alerts_cases")
    st.download_button(t("al_download"), csv_bytes(table), f"alerts-{day}.csv", "text/csv", key="dl_cases")
