"""The pieces of the case page, the callback page and the reporters' page (:mod:`app.views.case`,
:mod:`app.views.callbacks`, :mod:`app.views.reporters`): each reads or writes through one service call and
shows a :class:`~services.errors.ServiceError` as words, never a traceback. Citizens' text (descriptions,
notes, agreements) is shown as text, never as markdown or HTML."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st

from app.i18n import ROLE_LABELS, error_text, label, t
from app.labels import STATUS_LABELS
from app.safe_text import safe_t
from app.tables import names, show_table
from app.texts.casework import ACTION_WORDS
from services.callbacks import CallbackRecord, MediationRequest, mediate, record_callback
from services.case_view import CaseDetail
from services.cases import CaseAction, suggest_department
from services.context import ServiceContext
from services.errors import ServiceError
from services.photos import PhotoUpload, act_with_photos, photo_bytes

_FLASH = "cw_flash"
#: Actions that take a photo as evidence (核实, 处置, 核查).
PHOTO_ACTIONS = ("verify", "handle", "check_pass", "check_fail")


def _local(value: Any, timezone: str) -> str:
    if value is None or pd.isna(value):
        return "–"
    return pd.Timestamp(value).tz_convert(timezone).strftime("%Y-%m-%d %H:%M")


def action_word(action: Any) -> str:
    return label(ACTION_WORDS, str(action)) if str(action) in ACTION_WORDS else str(action)


def run(service: Any, ctx: ServiceContext, *args: Any) -> Any:
    """``service(ctx, *args)``; a ServiceError is shown in words and None returned."""
    try:
        return service(ctx, *args)
    except ServiceError as exc:
        st.error(error_text(exc))
        return None


def header(detail: CaseDetail, timezone: str) -> None:
    """Status, deadline, time left, department, reporter and the citizen's description (as text)."""
    case = detail.case.iloc[0]
    st.subheader(
        f"{case['case_id']} · {names().categories.get(str(case['category_code']), case['category_code'])}"
    )
    cols = st.columns(3)
    cols[0].metric(t("cw_status"), label(STATUS_LABELS, detail.status))
    cols[1].metric(t("cw_deadline"), _local(detail.deadline_at, timezone) if detail.deadline_at else "–")
    if detail.hours_left is None:
        left = t("cw_no_deadline")
    elif detail.overdue:
        left = t("cw_overdue", hours=-detail.hours_left)
    else:
        left = t("cw_hours", hours=detail.hours_left, working=detail.working_hours_left or 0.0)
    cols[2].metric(t("cw_time_left"), left)
    department = case["department"]
    facts = {
        "cw_department": names().departments.get(str(department), department)
        if pd.notna(department)
        else "–",
        "cw_reported_at": _local(case["reported_at"], timezone),
        "cw_reporter_phone": case["reporter_phone"] or "–",
        "cw_address": case["address"] or "–",
    }
    for key, value in facts.items():
        st.text(f"{t(key)}: {value}")
    st.caption(t("cw_description"))
    st.text(str(case["description"] or "–"))


def location(detail: CaseDetail) -> None:
    """The case's point on the map."""
    case = detail.case.iloc[0]
    if pd.isna(case["lat"]) or pd.isna(case["lon"]):
        st.info(t("cw_no_location"))
        return
    import geopandas as gpd

    from app.cell_maps import show_map
    from app.maps import base_map, points_layer

    tiles = st.session_state.get("tiles", "osm")
    points = gpd.GeoDataFrame(
        {"case_id": [case["case_id"]]}, geometry=gpd.points_from_xy([case["lon"]], [case["lat"]]), crs=4326
    )
    m = base_map(float(case["lat"]), float(case["lon"]), zoom=16, tiles=tiles)
    points_layer(points, fill="#d7301f", tiles=tiles, radius=9).add_to(m)
    show_map(m, key="cw_map", height=320)


def timeline(detail: CaseDetail, timezone: str) -> None:
    """Every event: time, who, in which role, what, the status it led to, the note and the deadline set."""
    events = detail.timeline
    frame = pd.DataFrame(
        {
            "cw_at": events["at"],
            "cw_actor": events["actor"].astype(object),
            "cw_role": events["role"].map(lambda r: label(ROLE_LABELS, r) if r in ROLE_LABELS else r),
            "cw_action": events["action"].map(action_word),
            "status": events["to_status"],
            "cw_note": events["note"].astype(object),
            "cw_event_deadline": events["deadline_at"],
        }
    )
    show_table(frame, timezone=timezone, key="cw_timeline")
    if not detail.mediation.empty:
        last = detail.mediation.iloc[-1]
        st.text(t("cw_mediated", parties=last["parties"], agreement=last["agreement"]))
    if not detail.callbacks.empty:
        st.caption(t("cw_callbacks_done"))
        show_table(detail.callbacks.drop(columns=["callback_id", "case_id"]), timezone=timezone, key="cw_cbs")
    if not detail.merges.empty:
        st.caption(t("cl_merged_calls"))
        merged = detail.merges.rename(columns={"at": "cl_merged_at", "actor": "cl_merged_by"})
        show_table(merged.drop(columns=["merge_id", "case_id"]), timezone=timezone, key="cw_merges")


def photos(ctx: ServiceContext, detail: CaseDetail, timezone: str) -> None:
    """The case's photos, each fetched through the service that checks the caller may see the case."""
    if detail.photos.empty:
        st.caption(t("cw_no_photos"))
        return
    cols = st.columns(3)
    for k, row in enumerate(detail.photos.itertuples(index=False)):
        served = run(photo_bytes, ctx, int(row.photo_id))
        if served is not None:
            caption = t("cw_photo_caption", who=row.uploaded_by, at=_local(row.uploaded_at, timezone))
            cols[k % 3].image(served.data, caption=caption)


def _deadline(timezone: str, key: str, current: Any = None) -> dt.datetime:
    """The requested deadline: by default three days after the current one (an extension must move the
    deadline later; today 17:30 would be refused after that time or when the case is due later)."""
    due = (
        pd.Timestamp(current) if current is not None and not pd.isna(current) else pd.Timestamp.now(tz="UTC")
    )
    local = (
        due.tz_convert(timezone) if due.tzinfo else due.tz_localize("UTC").tz_convert(timezone)
    ) + pd.Timedelta(days=3)
    day = st.date_input(t("cw_new_deadline_day"), value=local.date(), key=f"{key}_day")
    at = st.time_input(
        t("cw_new_deadline_time"), value=local.time().replace(microsecond=0), key=f"{key}_time"
    )
    return pd.Timestamp(dt.datetime.combine(day, at)).tz_localize(timezone).tz_convert("UTC").to_pydatetime()


def action_form(ctx: ServiceContext, detail: CaseDetail, action: str) -> None:
    """One allowed action as a form with its note (and its department, deadline or photo)."""
    case_id = str(detail.case["case_id"].iloc[0])
    version = int(detail.case["version"].iloc[0])
    key = f"cw_{action}"
    with st.form(key):
        st.markdown(f"**{action_word(action)}**")
        extra: dict[str, Any] = {}
        if action == "dispatch":
            known = names().departments
            suggested = run(suggest_department, ctx, case_id)
            options = sorted(known)
            index = options.index(suggested) if suggested in options else 0
            extra["department"] = st.selectbox(
                t("cw_dispatch_to"),
                options,
                index=index,
                format_func=lambda d: known.get(d, d),
                key=f"{key}_d",
            )
        if action == "request_extension":
            extra["deadline"] = _deadline(ctx.timezone, key, detail.case["deadline_at"].iloc[0])
        note = st.text_area(t("cw_note"), key=f"{key}_note", max_chars=2000)
        upload = (
            st.file_uploader(t("cw_photo_upload"), type=["jpg", "jpeg", "png", "webp"], key=f"{key}_photo")
            if action in PHOTO_ACTIONS
            else None
        )
        if not st.form_submit_button(t("cw_submit")):
            return
    request = CaseAction(case_id, note=note or None, expected_version=version, action=action, **extra)
    photo = (PhotoUpload(case_id, upload.getvalue(), upload.name),) if upload is not None else ()
    done = run(act_with_photos, ctx, request, photo)
    if done is not None:
        done_and_rerun(safe_t("cw_done", case=case_id, status=label(STATUS_LABELS, done.status)))


def done_and_rerun(message: str) -> None:
    """Rerun the page (it shows the new state) and say ``message`` on top of it (:func:`flash`)."""
    st.session_state[_FLASH] = message
    st.rerun()


def flash() -> None:
    """The message of the last action, once."""
    message = st.session_state.pop(_FLASH, None)
    if message:
        st.success(message)  # markdown-safe: made with safe_t


def mediation_form(ctx: ServiceContext, detail: CaseDetail) -> None:
    """Close the case by mediation (和谐调解): the parties, the agreement and a note."""
    case_id = str(detail.case["case_id"].iloc[0])
    with st.form("cw_mediate"):
        st.markdown(f"**{action_word('mediate')}**")
        parties = st.text_input(t("cw_parties"), max_chars=500, key="cw_parties")
        agreement = st.text_area(t("cw_agreement"), max_chars=4000, key="cw_agreement")
        note = st.text_area(t("cw_note"), max_chars=2000, key="cw_mediate_note")
        if not st.form_submit_button(t("cw_submit")):
            return
    version = int(detail.case["version"].iloc[0])
    request = MediationRequest(case_id, parties, agreement, note or None, expected_version=version)
    done = run(mediate, ctx, request)
    if done is not None:
        done_and_rerun(safe_t("cw_done", case=case_id, status=label(STATUS_LABELS, done.status)))


def callback_form(ctx: ServiceContext, table: pd.DataFrame) -> None:
    """Record one callback: the case, reached or not, satisfied or not, a note."""
    case_ids = list(table["case_id"])
    with st.form("cw_callback"):
        case_id = st.selectbox(t("cw_callback_case"), case_ids, key="cw_callback_case")
        reached = st.checkbox(t("cw_reached"), value=True, key="cw_reached")
        verdict = st.radio(
            t("cw_satisfaction"), ["yes", "no"], horizontal=True, key="cw_verdict",
            format_func=lambda v: t("cw_satisfied") if v == "yes" else t("cw_unsatisfied"),
        )  # fmt: skip
        note = st.text_area(t("cw_note"), max_chars=2000, key="cw_callback_note")
        if not st.form_submit_button(t("cw_submit")):
            return
    record = CallbackRecord(
        str(case_id), bool(reached), (verdict == "yes") if reached else None, note or None
    )
    done = run(record_callback, ctx, record)
    if done is not None:
        key = "cw_callback_reopened" if done.reopened else "cw_callback_saved"
        done_and_rerun(t(key, case=case_id))
