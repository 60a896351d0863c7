"""Dispatch queue (派遣): cases to verify, register or dispatch, returned ones and overdue ones.

The queue, its filters, the suggested department and the inspector of each case's cell come from
:func:`services.queues.dispatch_queue` (role and district scope checked there); the chosen cases get one
action at a time through :func:`services.queues.bulk_act`. Widgets: :mod:`app.queue_widgets`.
"""

from __future__ import annotations

import streamlit as st

from app.context import require_role, service_context
from app.i18n import t
from app.queue_widgets import (
    alert_metrics,
    bulk_form,
    case_links,
    filters,
    pick_cases,
    queue_map,
    queue_table,
)
from app.queue_widgets import run_or_stop as run
from services.queues import STAGES, dispatch_queue

COLUMNS = [
    "case_id", "stage", "alert", "status", "category", "district", "subdistrict", "reported_at",
    "deadline_at", "hours_left", "department", "suggested_department", "inspector",
]  # fmt: skip

require_role("dispatcher", "supervisor", "admin")
ctx = service_context()
st.title(t("dispatch"))

request = filters(
    ctx, "dispatch", statuses=[*STAGES, "dispatched", "extension_requested", "suspension_requested"]
)
result = run(dispatch_queue, ctx, request)
table = result.to_frame()
returned = int((table["stage"] == "returned").sum())
alert_metrics(table, (t("q_returned"), returned))
if table.empty:
    st.info(t("q_empty"))
    st.stop()
st.caption(t("q_inspector_hint"))

tab_table, tab_map = st.tabs([t("q_table"), t("map")])
with tab_table:
    ticked = queue_table(table, COLUMNS, key="dispatch_table")
with tab_map:
    queue_map(table, key="dispatch_map")

chosen = pick_cases(table, ticked, key="dispatch_pick")
case_links(chosen)
st.subheader(t("q_bulk"))
bulk_form(ctx, table, chosen, key="dispatch_bulk")
