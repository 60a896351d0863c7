"""Widgets of the intake page (:mod:`app.views.intake`): the call form, the preview and the save / merge
buttons. Every decision (where the point is, which department, which deadline, which cases are duplicates,
whether the caller may save) is the service's (:mod:`services.intake`); these only collect and draw.

The form's widget keys carry a counter (``ix_form``) that a successful save or merge bumps, so the next
call starts with an empty form.
"""

from __future__ import annotations

from typing import Any

import folium
import pandas as pd
import streamlit as st

from app.cell_maps import show_map
from app.i18n import error_text, t, word, worded
from app.maps import base_map, display_crs
from app.safe_text import safe_t
from app.tables import category_names, show_table
from services.addresses import AddressQuery, lookup_address
from services.context import ServiceContext
from services.errors import ServiceError
from services.intake import (
    IntakeDraft,
    IntakeOptions,
    IntakePreview,
    MergeRequest,
    merge_intake,
    register_intake,
)

MODES = ("address", "map", "coords")
DUPLICATE_SHOWN = {
    "case_id": "ix_col_case",
    "status": "ix_col_status",
    "distance_m": "ix_col_distance",
    "reported_at": "ix_col_reported",
    "department": "ix_col_department",
    "description": "ix_col_description",
}


def _key(name: str) -> str:
    return f"ix_{name}_{st.session_state.get('ix_form', 0)}"


def _local(value: Any, timezone: str) -> str:
    if value is None or pd.isna(value):
        return "–"
    return pd.Timestamp(value).tz_convert(timezone).strftime("%Y-%m-%d %H:%M")


def location_input(ctx: ServiceContext, options: IntakeOptions) -> dict[str, Any]:
    """Where: an address looked up in the city's table, a map click or typed coordinates (WGS-84 or
    GCJ-02). Returns draft fields (``lat``, ``lon``, ``crs``, ``address``); empty while none is given."""
    mode = st.radio(
        t("ix_locate_by"),
        MODES,
        format_func=worded(lambda m: t(f"ix_mode_{m}")),
        horizontal=True,
        key=_key("mode"),
    )
    if mode == "address":
        text = st.text_input(t("ix_address_search"), max_chars=200, key=_key("address"))
        if not text.strip():
            return {}
        try:
            found = lookup_address(ctx, AddressQuery(text, limit=10)).to_frame()
        except ServiceError as exc:
            st.error(error_text(exc))
            return {}
        if found.empty:
            st.warning(t("ix_no_address"))
            return {}
        labels = [
            " · ".join(
                str(v)
                for v in (r.name, r.address, r.district_name, t(f"ix_match_{r.match}"))
                if v and pd.notna(v)
            )
            for r in found.itertuples()
        ]
        pick = st.selectbox(
            t("ix_candidates"), range(len(found)), format_func=lambda i: labels[i], key=_key("pick")
        )
        row = found.iloc[int(pick)]
        return {
            "lat": float(row["lat"]),
            "lon": float(row["lon"]),
            "crs": "wgs84",
            "address": str(row["address"]),
        }
    if mode == "map":
        tiles = st.session_state.get("tiles", "osm")
        point = st.session_state.get(_key("click"))
        lat, lon = point or options.centre or (0.0, 0.0)
        m = base_map(lat, lon, zoom=15 if point else 13, tiles=tiles)
        if point:
            shown = point
            if display_crs(tiles) == "gcj02":
                from grid.coords import wgs84_to_gcj02

                g_lat, g_lon = wgs84_to_gcj02(point[0], point[1])
                shown = (float(g_lat), float(g_lon))
            folium.Marker(list(shown)).add_to(m)
        clicked = show_map(m, key=_key("map"), height=380)
        if clicked is not None and clicked != point:
            st.session_state[_key("click")] = clicked
            st.rerun()
        if point is None:
            st.caption(t("ix_click_map"))
            return {}
        st.caption(t("ix_picked", lat=f"{point[0]:.6f}", lon=f"{point[1]:.6f}"))
        return {"lat": point[0], "lon": point[1], "crs": "wgs84"}
    crs = st.radio(
        t("ix_crs"),
        ("wgs84", "gcj02"),
        format_func=worded(lambda c: t(f"ix_crs_{c}")),
        horizontal=True,
        key=_key("crs"),
    )
    left, right = st.columns(2)
    lat = left.number_input(
        t("ix_lat"), min_value=-90.0, max_value=90.0, value=None, format="%.6f", key=_key("lat")
    )
    lon = right.number_input(
        t("ix_lon"), min_value=-180.0, max_value=180.0, value=None, format="%.6f", key=_key("lon")
    )
    if lat is None or lon is None:
        return {}
    return {"lat": float(lat), "lon": float(lon), "crs": crs}


def category_input(options: IntakeOptions) -> str | None:
    """A category of the standard tree, found by a search over names and codes; shown by name."""
    table = options.categories
    query = st.text_input(t("ix_category_search"), max_chars=50, key=_key("cat_search")).strip()
    shown = table
    if query:
        hit = (
            table["name_zh"].str.contains(query, regex=False, na=False)
            | table["code"].str.startswith(query)
            | table["class_name_zh"].str.contains(query, regex=False, na=False)
            | category_names(table).str.contains(query, case=False, regex=False, na=False)
        )
        shown = table[hit]
    if shown.empty:
        st.warning(t("ix_no_category"))
        return None
    labels = category_names(shown, "class_name") + " › " + category_names(shown)
    names = dict(zip(shown["code"], labels, strict=True))
    return st.selectbox(t("ix_category"), list(names), format_func=lambda c: names[c], key=_key("category"))


def draft_form(ctx: ServiceContext, options: IntakeOptions) -> tuple[IntakeDraft | None, Any]:
    """The call: location, category, description, caller, urgency, source, photo. Returns the draft (None
    until a location, a category and a description are given) and the uploaded photo (or None)."""
    where = location_input(ctx, options)
    code = category_input(options)
    description = st.text_area(t("ix_description"), max_chars=2000, key=_key("description"))
    left, right = st.columns(2)
    name = left.text_input(t("ix_reporter_name"), max_chars=200, key=_key("name"))
    phone = right.text_input(t("ix_reporter_phone"), max_chars=32, key=_key("phone"))
    left, right = st.columns(2)
    urgency = left.selectbox(
        t("ix_urgency"),
        options.urgencies,
        format_func=worded(lambda u: t(f"ix_urgency_{u}")),
        key=_key("urgency"),
    )
    source = right.selectbox(t("ix_source"), options.sources, format_func=worded(), key=_key("source"))
    photo = st.file_uploader(t("ix_photo"), type=["jpg", "jpeg", "png", "webp"], key=_key("photo"))
    if not where or code is None or not description.strip():
        return None, photo
    draft = IntakeDraft(
        category_code=code,
        description=description,
        reporter_name=name.strip() or None,
        reporter_phone=phone.strip() or None,
        urgency=urgency,
        source=source,
        **where,
    )
    return draft, photo


def show_preview(preview: IntakePreview, timezone: str, options: IntakeOptions) -> None:
    """Where the call lies, the suggested department, the deadline, the time limits and the duplicates."""
    place = " · ".join(v for v in (preview.district_name, preview.subdistrict_name) if v) or "–"
    cols = st.columns(3)
    cols[0].metric(t("ix_where"), place)
    cols[1].metric(t("ix_department"), preview.department_name or preview.department or "–")
    cols[2].metric(t("ix_deadline"), _local(preview.deadline_at, timezone))
    if preview.department is None:
        st.caption(t("ix_no_department"))
    limits = preview.time_limits
    with st.expander(t("ix_time_limits")):
        show_table(
            pd.DataFrame(
                {
                    "ix_col_urgency": [t(f"ix_urgency_{u}") for u in limits["urgency"]],
                    "ix_col_limit": [
                        t(f"ix_unit_{u}", limit=f"{x:g}")
                        for x, u in zip(limits["limit"], limits["unit"], strict=True)
                    ],
                    "ix_col_deadline": limits["deadline_at"],
                }
            ),
            timezone=timezone,
            key=_key("limits"),
        )
    st.markdown(
        "**"
        + t(
            "ix_duplicates",
            radius=f"{options.duplicate_radius_m:g}",
            hours=f"{options.duplicate_window_hours:g}",
        )
        + "**"
    )
    if preview.duplicates.empty:
        st.caption(t("ix_no_duplicates"))
        return
    frame = preview.duplicates[list(DUPLICATE_SHOWN)].rename(columns=DUPLICATE_SHOWN)
    frame["ix_col_status"] = frame["ix_col_status"].map(word)
    show_table(frame, timezone=timezone, key=_key("duplicates"))


def save_or_merge(ctx: ServiceContext, draft: IntakeDraft, preview: IntakePreview, photo: Any) -> None:
    """Register the call as a new case (then store the photo), or merge it into a duplicate."""
    if st.button(t("ix_save"), type="primary", key=_key("save")):
        try:
            done = register_intake(ctx, draft)
        except ServiceError as exc:
            st.error(error_text(exc))
            return
        message = safe_t("ix_saved", case=done.case_id)
        if photo is not None:
            from services.photos import PhotoUpload, add_photo

            try:
                add_photo(ctx, PhotoUpload(done.case_id, photo.getvalue(), photo.name))
                message += " " + t("ix_photo_saved")
            except ServiceError as exc:
                st.session_state["ix_error"] = error_text(exc)
        _finish(message, done.case_id)
    if preview.duplicates.empty:
        return
    ids = preview.duplicates["case_id"].tolist()
    left, right = st.columns([3, 1])
    target = left.selectbox(t("ix_merge_into"), ids, key=_key("merge_target"))
    if right.button(t("ix_merge"), key=_key("merge")):
        try:
            merged = merge_intake(ctx, MergeRequest(str(target), draft))
        except ServiceError as exc:
            st.error(error_text(exc))
            return
        _finish(safe_t("ix_merged", case=target, n=len(merged.merges)), str(target))


def _finish(message: str, case_id: str) -> None:
    """Remember the outcome, empty the form and run the page again."""
    st.session_state["ix_done"] = (message, case_id)
    st.session_state["ix_form"] = st.session_state.get("ix_form", 0) + 1
    st.rerun()


def outcome() -> None:
    """The last save or merge (once), with a link to the case page."""
    done = st.session_state.pop("ix_done", None)
    error = st.session_state.pop("ix_error", None)
    if done is not None:
        message, case_id = done
        st.success(message)  # markdown-safe: made with safe_t
        st.page_link("views/case.py", label=t("ix_open_case"), query_params={"case": case_id})
    if error:
        st.error(error)  # markdown-safe: error_text
