"""The "My grid" page's pieces: the inspector picker, the tasks table, today's route, the on-site action
form and the report form. Each parses widgets into a request of :mod:`services.field` /
:func:`services.deployment.route` and shows the answer; untrusted text is shown as text (``st.text``, the
data grid), never as markdown or HTML.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from app.i18n import language, t, worded
from app.patrol_widgets import message, run
from services.context import ServiceContext
from services.deployment import RouteRequest, route
from services.errors import ServiceError
from services.field import (
    FieldActionRequest,
    FieldView,
    ReportRequest,
    inspector_actions,
    inspector_choices,
    record_action,
    report_problem,
)
from services.study import category_table

TASK_COLUMNS = ["case_id", "task", "category", "waiting_since", "deadline_at", "address", "description",
                "reporter_phone"]  # fmt: skip


def pick_inspector(ctx: ServiceContext) -> str:
    """The signed-in inspector, or (administrator) the inspector chosen in a select box."""
    if ctx.actor.role == "inspector":
        if not ctx.actor.inspector_id:
            st.error(t("no_inspector"))
            st.stop()
        return ctx.actor.inspector_id
    people = inspector_choices(ctx)
    if people.empty:
        st.info(t("no_inspector"))
        st.stop()
    names = dict(zip(people["inspector_id"], people["name"], strict=True))
    return st.selectbox(t("inspector"), list(names), format_func=lambda i: f"{i} {names[i]}")


def task_table(view: FieldView) -> pd.DataFrame:
    """The open tasks with their kind and category in the page's language."""
    names = category_table().set_index("code")["name_zh"]
    tasks = view.tasks.assign(
        task=view.tasks["task"].map({"verify": t("verify"), "check": t("check")}),
        category=view.tasks["category_code"].map(names).fillna(view.tasks["category_code"]),
    )
    return tasks


@st.cache_data(ttl=300, max_entries=32, show_spinner=False)
def grid_map(
    cells: np.ndarray, tasks: pd.DataFrame, neglect: pd.DataFrame | None, tiles: str, lang: str
) -> Any:
    """My cells and tasks, built once per choice (a click reruns the page without redrawing it)."""
    from app.patrol_maps import my_grid_map

    del lang  # the cache key: labels are in the session's language
    names = ("days_since_visit", "case_id", "task", "category", "deadline", "description")
    labels = {name: t({"case_id": "case"}.get(name, name)) for name in names}
    return my_grid_map(cells, tasks, neglect, labels, tiles=tiles)


def route_section(inspector_id: str, day: dt.date) -> None:
    """Today's suggested route as a stop list and a GPX download."""
    left, right = st.columns(2)
    shift_start = left.time_input(t("shift_start"), value=dt.time(8, 0))
    hours = right.number_input(t("shift_hours"), min_value=1.0, max_value=12.0, value=4.0, step=0.5)
    if not st.button(t("suggest_route"), key="suggest_route"):
        return
    request = RouteRequest(
        date=day, inspector_id=inspector_id, budget_s=float(hours) * 3600, shift_start=f"{shift_start:%H:%M}"
    )
    try:
        result = run(route, request)
    except ServiceError as exc:  # no history, no cells …: say it, no traceback
        st.warning(message(exc))
        return
    stops = result.to_frame()
    stops["why"] = why_words(result.route.stops, ctx_timezone())
    totals = result.totals
    st.caption(
        t("route_totals", stops=len(stops), km=totals["distance_m"] / 1000, minutes=totals["duration_s"] / 60)
    )
    from app.tables import show_table

    show_table(stops, timezone=ctx_timezone())
    st.download_button("GPX", result.gpx_bytes(), f"route-{inspector_id}-{day}.gpx", "application/gpx+xml")


def why_words(stops: pd.DataFrame, tz: str) -> list[str]:
    """Why each stop is on the route, in the page's language (the route's own ``why`` is English)."""
    rows = stops[stops["kind"] == "stop"]
    said = []
    for _, row in rows.iterrows():
        parts = []
        if row["n_verify"]:
            parts.append(t("why_verify", n=int(row["n_verify"])))
        if row["n_check"]:
            parts.append(t("why_check", n=int(row["n_check"])))
        if row["must_visit"] and pd.notna(row["deadline"]):
            late = row["deadline"] < row["arrival"]
            when = row["deadline"].tz_convert(tz).strftime("%m-%d %H:%M" if late else "%H:%M")
            parts.append(t("why_overdue" if late else "why_due", time=when))
        if row["risk"] > 0:
            parts.append(t("why_risk", risk=float(row["risk"])))
        days = float(row["days_since_visit"])
        if np.isinf(days):
            parts.append(t("why_never"))
        elif days >= 1:
            parts.append(t("why_days", days=days))
        said.append(("；" if language() == "zh" else "; ").join(parts) or t("why_on_the_way"))
    return said


def ctx_timezone() -> str:
    """The city's zone (for the route's arrival times)."""
    from app.context import city_config

    return city_config().timezone


def action_form(ctx: ServiceContext, case_id: str, status: str, day: dt.date) -> None:
    """Verify (核实) or check (核查) ``case_id`` with a note and a photo."""
    with st.form("action", clear_on_submit=True):
        action_words = worded(lambda a: t(f"action_{a}"))
        action = st.radio(t("action"), inspector_actions(status), format_func=action_words, horizontal=True)
        note = st.text_area(t("note"), max_chars=2000)
        photo = st.file_uploader(t("photo"), type=["jpg", "jpeg", "png", "webp", "heic"])
        camera = st.camera_input(t("camera")) if st.session_state.get("use_camera") else None
        submitted = st.form_submit_button(t("submit"), type="primary")
    st.toggle(t("use_camera"), key="use_camera")
    if not submitted:
        return
    picture = camera or photo
    request = FieldActionRequest(
        case_id, action, note=note, day=day, photo=None if picture is None else picture.getvalue(),
        photo_type=None if picture is None else picture.type,
    )  # fmt: skip
    try:
        record_action(ctx, request)
    except ServiceError as exc:
        st.error(message(exc))
    else:
        st.success(t("action_done", case=case_id, status=t(f"action_{action}")))


def report_form(ctx: ServiceContext, day: dt.date, clicked: Any, centre: Any) -> None:
    """Report a problem at a point of my cells (a click on the map places it)."""
    st.caption(t("click_to_place"))
    if clicked is not None and st.session_state.get("report_click") != clicked:
        st.session_state["report_click"] = clicked
        st.session_state["report_lat"], st.session_state["report_lon"] = clicked
    st.session_state.setdefault("report_lat", round(float(centre.y), 6))
    st.session_state.setdefault("report_lon", round(float(centre.x), 6))
    categories = category_table()
    left, right = st.columns(2)
    lat = left.number_input(t("latitude"), min_value=-90.0, max_value=90.0, format="%.6f", key="report_lat")
    lon = right.number_input(
        t("longitude"), min_value=-180.0, max_value=180.0, format="%.6f", key="report_lon"
    )
    # The standard tree: standard → class → category.
    standard = st.selectbox(t("standard"), sorted(categories["standard"].unique(), reverse=True))
    of_standard = categories[categories["standard"] == standard]
    class_names = of_standard.drop_duplicates("class_code").set_index("class_code")["class_name_zh"]
    class_code = st.selectbox(
        t("category_class"), list(class_names.index), format_func=lambda c: f"{c} {class_names[c]}"
    )
    of_class = of_standard[of_standard["class_code"] == class_code].set_index("code")
    code = st.selectbox(
        t("category"), list(of_class.index), format_func=lambda c: f"{c} {of_class.loc[c, 'name_zh']}"
    )
    description = st.text_area(t("description"), max_chars=2000, key="report_description")
    if st.button(t("submit"), type="primary", key="report_submit"):
        row = of_class.loc[code]
        request = ReportRequest(
            float(lat), float(lon), code, row["standard"], row["kind"], description.strip(), day=day
        )
        try:
            new_id = report_problem(ctx, request)
        except ServiceError as exc:
            st.error(message(exc))
        else:
            st.success(t("reported", case=new_id))
