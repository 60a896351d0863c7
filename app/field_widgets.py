"""The "My grid" page's pieces: the inspector picker, the task cards (a countdown to each deadline, big
tap targets, no sideways scrolling on a phone) and the full task table, today's route and the on-site
action form with its photo (the report form: :mod:`app.field_report_widgets`). Each parses widgets into a
request of :mod:`services.field` / :func:`services.deployment.route` and shows the answer; untrusted text is
shown as text (``st.text``, the data grid), never as markdown or HTML, and a missing value as nothing
(never ``nan``, ``NaT`` or ``None``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from app.i18n import language, t, worded
from app.patrol_widgets import message, run
from app.safe_text import md, safe_t
from services.context import ServiceContext
from services.deployment import RouteRequest, route
from services.errors import ServiceError
from services.field import (
    FieldActionRequest,
    FieldView,
    inspector_actions,
    inspector_choices,
    record_action,
)
from services.study import category_table

TASK_COLUMNS = ["case_id", "task", "category", "waiting_since", "deadline_at", "address", "description",
                "reporter_phone"]  # fmt: skip
#: Task cards drawn at most (the rest: the case picker and the table).
MAX_CARDS = 12
#: Bigger tap targets for a phone (buttons, radio options, the file picker); no citizen's text in it.
PHONE_CSS = """<style>
div[data-testid="stButton"] button, div[data-testid="stFormSubmitButton"] button { min-height: 3rem; }
div[data-testid="stRadio"] label { padding: .35rem 0; }
</style>"""


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
    table = category_table().set_index("code")
    names = table["name_en"].fillna(table["name_zh"]) if language() == "en" else table["name_zh"]
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
    tasks = tasks.assign(description=tasks["description"].map(shown))  # no "None" in a popup
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
    from app.patrol_widgets import route_view  # the route on the map and its GPX in WGS-84 / GCJ-02 (H5)

    route_view(result, f"route-{inspector_id}-{day}")


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


def shown(value: Any) -> str:
    """A value as text; missing (None, NaN, NaT, empty) as ""."""
    if value is None or (not isinstance(value, str | bytes) and bool(pd.isna(value))):
        return ""
    return str(value).strip()


def local_time(value: Any) -> str:
    """A (tz-aware, city-zone) time as ``MM-DD HH:MM``; "" when missing."""
    return "" if value is None or pd.isna(value) else pd.Timestamp(value).strftime("%m-%d %H:%M")


def span_words(seconds: float) -> str:
    """A duration in days and hours, hours and minutes, or minutes."""
    minutes = int(abs(seconds) // 60)
    days, hours, mins = minutes // 1440, minutes % 1440 // 60, minutes % 60
    if days:
        return t("fp_days_hours", d=days, h=hours)
    return t("fp_hours_minutes", h=hours, m=mins) if hours else t("fp_minutes", m=mins)


def countdown(seconds: Any) -> tuple[str, str]:
    """The countdown text to a deadline and its colour (red overdue, orange < 4 h, green, grey)."""
    if seconds is None or pd.isna(seconds):
        return t("fp_no_deadline"), "gray"
    if seconds < 0:
        return t("fp_overdue", left=span_words(seconds)), "red"
    return t("fp_due_in", left=span_words(seconds)), "orange" if seconds < 4 * 3600 else "green"


def _choose(case_id: str) -> None:
    st.session_state["fp_case"] = case_id


def task_cards(tasks: pd.DataFrame, as_of: Any, requested: str | None) -> str:
    """One card per task (most urgent first): kind, category, countdown, place, description and a big
    button that makes it the current task; then the case picker. Returns the current case id."""
    ids = tasks["case_id"].tolist()
    if requested in ids and st.session_state.get("fp_requested") != requested:
        st.session_state["fp_requested"] = requested
        st.session_state["fp_case"] = requested  # a case id in the URL is preselected once
    if st.session_state.get("fp_case") not in ids:
        st.session_state["fp_case"] = ids[0]
    st.html(PHONE_CSS)
    if as_of is not None:
        st.caption(t("fp_countdown_as_of", when=local_time(as_of)))
    for row in tasks.head(MAX_CARDS).itertuples(index=False):
        current = row.case_id == st.session_state["fp_case"]
        with st.container(border=True):
            words, colour = countdown(row.due_in_s)
            # task kind and category are the app's own words; the rest is shown as text
            st.markdown(f"**{md(row.task)} · {md(row.category)}** :{colour}[{md(words)}]")  # markdown-safe
            st.text(" · ".join(x for x in (shown(row.case_id), shown(row.address)) if x))
            if shown(row.description):
                st.text(shown(row.description))
            st.caption(t("fp_waiting_since", when=local_time(row.waiting_since)))
            label = t("fp_chosen") if current else t("fp_open_task")
            st.button(
                label, key=f"fp_open_{row.case_id}", on_click=_choose, args=(row.case_id,),
                type="primary" if current else "secondary", width="stretch", disabled=current,
            )  # fmt: skip
    return st.selectbox(t("case"), ids, key="fp_case")


def task_details(detail: pd.Series) -> None:
    """The current task's fields as text lines; a missing field is left out (never nan / NaT / None)."""
    lines = [
        (t("task"), shown(detail["task"])),
        (t("category"), shown(detail["category"])),
        (t("deadline"), local_time(detail["deadline_at"])),
        (t("address"), shown(detail["address"])),
        (t("description"), shown(detail["description"])),
        (t("fp_phone"), shown(detail["reporter_phone"])),
    ]
    st.text("\n".join(f"{name}: {value}" for name, value in lines if value))


def task_frame(tasks: pd.DataFrame) -> pd.DataFrame:
    """The task table's columns with missing texts empty (the data grid would show "None")."""
    out = tasks[TASK_COLUMNS].copy()
    for column in ("address", "description", "reporter_phone", "category"):
        out[column] = out[column].map(shown)
    return out


def action_form(ctx: ServiceContext, case_id: str, status: str, day: dt.date) -> None:
    """Verify (核实) or check (核查) ``case_id`` with a note and a photo (:mod:`services.photos`)."""
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
        photo_name="" if picture is None else picture.name,
    )  # fmt: skip
    try:
        record_action(ctx, request)
    except ServiceError as exc:
        st.error(message(exc))
    else:
        st.success(safe_t("action_done", case=case_id, status=t(f"action_{action}")))
