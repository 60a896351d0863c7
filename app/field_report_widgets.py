"""The inspector's report form ("My grid" → report a problem), phone first: "use my position" (the
browser's geolocation, :mod:`app.geolocation`) or a map click places the point; the form then shows the
nearest address of the city's address table, the area, and a warning when a same-category case is nearby
(:func:`services.field.preview_report`); a photo goes with the report. Refusals (an empty description, an
identical repeat, a point outside my cells, a bad photo) come from :func:`services.field.report_problem`.
Untrusted text (addresses, descriptions) is shown as text, never as markdown or HTML.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st

from app.field_widgets import local_time, shown
from app.geolocation import fix_of, position_button
from app.i18n import error_text, label, t
from app.labels import STATUS_LABELS
from app.safe_text import safe_t
from app.tables import category_names
from services.context import ServiceContext
from services.errors import ServiceError
from services.field import ReportPreview, ReportRequest, preview_report, report_problem
from services.study import category_table

PHOTO_TYPES = ["jpg", "jpeg", "png", "webp"]


def _place(clicked: Any, centre: Any) -> None:
    """Move the report's point to a new map click or a new position fix (each used once)."""
    if clicked is not None and st.session_state.get("report_click") != clicked:
        st.session_state["report_click"] = clicked
        st.session_state["report_lat"], st.session_state["report_lon"] = clicked
    st.session_state.setdefault("report_lat", round(float(centre.y), 6))
    st.session_state.setdefault("report_lon", round(float(centre.x), 6))
    value = position_button("fp_geolocation")
    if not value or value.get("at") == st.session_state.get("fp_fix_at"):
        return
    st.session_state["fp_fix_at"] = value.get("at")
    fix = fix_of(value)
    if fix is None:
        st.session_state["fp_geo_error"] = str(value.get("error") or "unavailable")
        return
    st.session_state.pop("fp_geo_error", None)
    st.session_state["report_lat"], st.session_state["report_lon"] = round(fix[0], 6), round(fix[1], 6)
    st.session_state["fp_accuracy"] = fix[2]


def _position_words() -> None:
    error = st.session_state.get("fp_geo_error")
    if error:
        st.warning(
            t(f"fp_geo_{error}" if error in ("denied", "unavailable", "timeout") else "fp_geo_unavailable")
        )
        if error == "denied":
            st.caption(t("fp_geo_insecure"))
    elif st.session_state.get("fp_accuracy") is not None:
        st.caption(
            t(
                "fp_position",
                lat=f"{st.session_state['report_lat']:.6f}",
                lon=f"{st.session_state['report_lon']:.6f}",
                accuracy=f"{float(st.session_state['fp_accuracy']):,.0f}",
            )
        )


def _category() -> Any:
    """The standard tree: standard → class → category; the chosen category's row (index: its code)."""
    categories = category_table()
    standard = st.selectbox(t("standard"), sorted(categories["standard"].unique(), reverse=True))
    of_standard = categories[categories["standard"] == standard]
    classes = of_standard.drop_duplicates("class_code").set_index("class_code")
    class_names = category_names(classes, "class_name")
    class_code = st.selectbox(
        t("category_class"), list(class_names.index), format_func=lambda c: f"{c} {class_names[c]}"
    )
    of_class = of_standard[of_standard["class_code"] == class_code].set_index("code")
    category = category_names(of_class)
    code = st.selectbox(t("category"), list(of_class.index), format_func=lambda c: f"{c} {category[c]}")
    return of_class.loc[code].rename(code)


def _show_preview(preview: ReportPreview) -> None:
    """The address, the area, a warning outside my cells and the same-category cases nearby."""
    if preview.address:
        name = f"{preview.address_name} " if preview.address_name else ""
        st.text(
            t(
                "fp_address_at",
                address=f"{name}{preview.address}",
                distance=f"{preview.address_distance_m:,.0f}",
            )
        )
    else:
        st.caption(t("fp_no_address_near"))
    area = " ".join(x for x in (shown(preview.district_name), shown(preview.subdistrict_name)) if x)
    if area:
        st.text(t("fp_area_at", area=area))
    if not preview.inside:
        st.warning(t("fp_outside_cells"))
    if not preview.duplicates.empty:
        lines = [
            t(
                "fp_duplicate_row",
                case=row.case_id,
                status=label(STATUS_LABELS, shown(row.status)),
                distance=f"{float(row.distance_m):,.0f}",
                when=local_time(row.reported_at),
            )
            for row in preview.duplicates.head(5).itertuples(index=False)
        ]
        st.warning(t("fp_duplicates", n=len(preview.duplicates)))
        st.text("\n".join(lines))


def report_form(ctx: ServiceContext, day: dt.date, clicked: Any, centre: Any) -> None:
    """Report a problem at a point of my cells: my position, a map click or typed coordinates."""
    st.caption(t("click_to_place"))
    _place(clicked, centre)
    _position_words()
    left, right = st.columns(2)
    lat = left.number_input(t("latitude"), min_value=-90.0, max_value=90.0, format="%.6f", key="report_lat")
    lon = right.number_input(
        t("longitude"), min_value=-180.0, max_value=180.0, format="%.6f", key="report_lon"
    )
    row = _category()
    try:
        _show_preview(preview_report(ctx, ReportRequest(float(lat), float(lon), str(row.name), day=day)))
    except ServiceError as exc:
        st.warning(error_text(exc))
    description = st.text_area(t("fp_description_hint"), max_chars=2000, key="report_description")
    photo = st.file_uploader(t("fp_report_photo"), type=PHOTO_TYPES, key="fp_report_photo")
    camera = (
        st.camera_input(t("fp_take_photo"), key="fp_report_camera")
        if st.session_state.get("fp_report_cam")
        else None
    )
    st.toggle(t("use_camera"), key="fp_report_cam")
    if not st.button(t("submit"), type="primary", key="report_submit", width="stretch"):
        return
    picture = camera or photo
    request = ReportRequest(
        float(lat), float(lon), str(row.name), row["standard"], row["kind"], description, day=day,
        photo=None if picture is None else picture.getvalue(),
        photo_name="" if picture is None else picture.name,
    )  # fmt: skip
    try:
        new_id = report_problem(ctx, request)
    except ServiceError as exc:
        st.error(error_text(exc))
    else:
        st.success(safe_t("reported", case=new_id))
        if picture is not None:
            st.caption(t("fp_photo_saved", n=1))
