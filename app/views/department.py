"""Department queue (专业部门处置): the department's open cases with the working time left.

A department user sees only their own department's cases (:func:`services.queues.department_queue` checks
it); the administrator picks a department. A case is handled with a note, returned as not ours, or an
extension (with reason and the new deadline) or a suspension is asked for (:func:`services.cases.act`);
a handling may carry a photo of the work (:func:`services.photos.act_with_photos`).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from app.context import require_role, service_context
from app.i18n import t, worded
from app.queue_widgets import act_on, alert_metrics, case_links, filters, queue_table, role_actions
from app.queue_widgets import run_or_stop as run
from app.safe_text import md
from app.tables import names
from services.cases import CaseAction
from services.photos import PhotoUpload
from services.queues import RUNNING, department_queue

COLUMNS = [
    "case_id", "alert", "status", "category", "district", "subdistrict", "description", "dispatched_at",
    "deadline_at", "hours_left",
]  # fmt: skip

user = require_role("department", "admin")
ctx = service_context()
st.title(t("department_queue"))

department = None
if user.role == "admin":
    known = names().departments
    department = st.selectbox(
        t("q_pick_department"),
        [None, *sorted(known)],
        format_func=worded(lambda d: t("q_all") if d is None else known.get(d, d)),
    )
elif not user.department:
    st.error(t("q_no_department"))
    st.stop()
else:
    st.caption(md(names().departments.get(user.department, user.department)))

result = run(department_queue, ctx, filters(ctx, "department", statuses=RUNNING, department=department))
table = result.to_frame()
alert_metrics(table)
if table.empty:
    st.info(t("q_empty"))
    st.stop()
ticked = queue_table(table, COLUMNS, key="department_table")

options = list(dict.fromkeys([*ticked, *table["case_id"]]))
category = dict(zip(table["case_id"], table["category"], strict=True))
case_id = st.selectbox(
    t("q_pick_one"), options, format_func=lambda c: f"{c} · {category.get(c, '')}", key="department_case"
)
case_links([case_id])
row = table[table["case_id"] == case_id].iloc[0]
actions = [
    a
    for a in ("handle", "request_extension", "request_suspension", "return")
    if a in role_actions([row["status"]])
]
if not actions:
    st.info(t("q_no_actions"))
    st.stop()
with st.form("department_action", clear_on_submit=True):
    action = st.radio(t("q_action"), actions, format_func=worded(lambda a: t(f"q_act_{a}")), horizontal=True)
    note = st.text_area(t("q_reason") + " / " + t("note"), max_chars=2000)
    due = pd.Timestamp(row["deadline_at"]).tz_convert(ctx.timezone) if pd.notna(row["deadline_at"]) else None
    start = (due or pd.Timestamp.now(tz=ctx.timezone)).date() + dt.timedelta(days=3)
    left, right = st.columns(2)
    day = left.date_input(t("q_new_deadline_day"), value=start)
    hour = right.time_input(t("q_new_deadline_time"), value=dt.time(17, 30))
    photo = st.file_uploader(t("cl_handle_photo"), type=["jpg", "jpeg", "png", "webp"])
    submitted = st.form_submit_button(t("submit"), type="primary")
if submitted:
    deadline = None
    if action == "request_extension":
        deadline = pd.Timestamp(dt.datetime.combine(day, hour)).tz_localize(ctx.timezone).to_pydatetime()
    request = CaseAction(
        case_id, note=note or None, expected_version=int(row["version"]), deadline=deadline, action=action
    )
    photos = (PhotoUpload(case_id, photo.getvalue(), photo.name),) if photo and action == "handle" else ()
    if act_on(ctx, request, photos):
        st.rerun()
