"""Approvals (审批): extension (延期) and suspension (挂账) requests with the case's history.

The requests come from :func:`services.queues.approvals_queue` (supervisors; a district-scoped supervisor
sees their district's); approving or refusing with a note is :func:`services.cases.act`. An approved
extension moves the deadline to the requested one.
"""

from __future__ import annotations

import streamlit as st

from app.context import require_role, service_context
from app.i18n import t, worded
from app.queue_widgets import act_on, alert_metrics, case_links, filters, history, queue_table, role_actions
from app.queue_widgets import run_or_stop as run
from services.cases import CaseAction
from services.queues import REQUESTS, approvals_queue

COLUMNS = [
    "case_id", "request", "alert", "category", "district", "department", "requested_at", "requested_by",
    "reason", "deadline_at", "requested_deadline", "hours_left",
]  # fmt: skip
#: (request, decision) → lifecycle action
DECISIONS = {
    ("extension_requested", "approve"): "approve_extension",
    ("extension_requested", "refuse"): "reject_extension",
    ("suspension_requested", "approve"): "approve_suspension",
    ("suspension_requested", "refuse"): "reject_suspension",
}

require_role("supervisor", "admin")
ctx = service_context()
st.title(t("approvals"))

result = run(approvals_queue, ctx, filters(ctx, "approvals", statuses=REQUESTS))
table = result.to_frame()
alert_metrics(table)
if table.empty:
    st.info(t("q_empty"))
    st.stop()
ticked = queue_table(table, COLUMNS, key="approvals_table")

options = list(dict.fromkeys([*ticked, *table["case_id"]]))
category = dict(zip(table["case_id"], table["category"], strict=True))
case_id = st.selectbox(
    t("q_pick_one"), options, format_func=lambda c: f"{c} · {category.get(c, '')}", key="approvals_case"
)
case_links([case_id])
row = table[table["case_id"] == case_id].iloc[0]
st.subheader(t("q_history"))
history(result.history_of(case_id), key="approvals_history")

if not role_actions([str(row["request"])]):  # the administrator sees the requests; supervisors decide
    st.info(t("q_no_actions"))
    st.stop()
with st.form("approval", clear_on_submit=True):
    decision = st.radio(
        t("q_action"), ["approve", "refuse"], format_func=worded(lambda d: t(f"q_act_{d}")), horizontal=True
    )
    note = st.text_area(t("note"), max_chars=2000)
    submitted = st.form_submit_button(t("submit"), type="primary")
if submitted:
    action = DECISIONS[(str(row["request"]), decision)]
    if act_on(
        ctx, CaseAction(case_id, note=note or None, expected_version=int(row["version"]), action=action)
    ):
        st.rerun()
