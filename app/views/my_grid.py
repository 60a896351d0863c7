"""Grid inspector's page "My grid": my cells, my open tasks (核实 / 核查), neglected cells, on-site actions.

Every query here is filtered by the cells assigned to the signed-in inspector on the chosen day — on the
server, not by hiding widgets: the case list, the case an action may touch, a case id passed in the URL
(``?case=...``, refused with a message when it is not in my cells) and the place of a new report. An
administrator may open the page for any inspector. Phone numbers are masked unless the role is in
:data:`cases.users.PHONE_ROLES`; untrusted text is escaped on the map and shown as text in tables.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import sqlalchemy as sa
import streamlit as st

from app.context import db_key, engine, require_role, tracks_root
from app.i18n import t
from app.maps import base_map, cells_layer, fit_to, points_layer
from app.views._shared import TIMEZONE, category_table, neglect_table, show_map
from cases.db import data_dir
from cases.field_actions import (
    FieldActionError,
    NewProblem,
    case_in_cells,
    inspector_actions,
    inspector_cells,
    record_action,
    report_problem,
)
from cases.lifecycle import LifecycleError
from cases.models import Case, Inspector
from cases.users import mask_phone
from grid.cells import cells_to_polygons, cells_to_strings

user = require_role("inspector", "admin")
TASK_STATUSES = ("reported", "resolved")  # waiting for an inspector on site: 核实, 核查
# Only an inspector acts on site (the lifecycle's role); an administrator sees the page read-only.
acting = user.role == "inspector"
PHOTO_TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/heic": ".heic"}
SAFE_ID = re.compile(r"[^A-Za-z0-9_.:-]")


def _safe(text: str) -> str:
    """An id from the URL, reduced to harmless characters, for messages."""
    return SAFE_ID.sub("?", text)[:64]


def _inspector_id() -> str:
    if user.role == "inspector":
        if not user.inspector_id:
            st.error(t("no_inspector"))
            st.stop()
        return user.inspector_id
    with engine().connect() as conn:
        rows = conn.execute(
            sa.select(Inspector.inspector_id, Inspector.name).order_by(Inspector.inspector_id)
        ).all()
    if not rows:
        st.info(t("no_inspector"))
        st.stop()
    names = dict(rows)
    return st.selectbox(t("inspector"), list(names), format_func=lambda i: f"{i} {names[i]}")


@st.cache_data(ttl=300)
def _last_track_day(root: str) -> dt.date | None:
    from patrol.store import day_paths

    paths = day_paths(root)
    return paths[-1][0] if paths else None


@st.cache_data(ttl=300, max_entries=32)
def _fine(root: str, inspector_id: str, first: dt.date, last: dt.date) -> pd.DataFrame:
    from patrol.scale import fine_cube_from_store

    return fine_cube_from_store(root, first, last, inspector=inspector_id, timezone=TIMEZONE)


def _tasks(cells: np.ndarray) -> pd.DataFrame:
    """Open cases in ``cells`` that wait for me: status ``reported`` (核实) or ``resolved`` (核查)."""
    c = Case.__table__.c
    columns = [
        c.case_id,
        c.status,
        c.category_code,
        c.reported_at,
        c.resolved_at,
        c.deadline_at,
        c.lat,
        c.lon,
        c.cell,
        c.address,
        c.description,
        c.reporter_phone,
    ]
    rows: list[tuple] = []
    cell_list = [int(x) for x in cells]
    with engine().connect() as conn:
        for i in range(0, len(cell_list), 900):  # SQLite's bound-parameter limit
            query = sa.select(*columns).where(c.cell.in_(cell_list[i : i + 900]), c.status.in_(TASK_STATUSES))
            rows.extend(conn.execute(query).all())
    frame = pd.DataFrame(rows, columns=[col.key for col in columns])
    for column in ("reported_at", "resolved_at", "deadline_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True).dt.tz_convert(TIMEZONE)
    frame["task"] = frame["status"].map({"reported": t("verify"), "resolved": t("check")})
    frame["waiting_since"] = frame["resolved_at"].where(frame["status"] == "resolved", frame["reported_at"])
    names = category_table().set_index("code")["name_zh"]
    frame["category"] = frame["category_code"].map(names).fillna(frame["category_code"])
    frame["reporter_phone"] = frame["reporter_phone"].map(lambda p: mask_phone(p, user.role))
    return frame.sort_values(["deadline_at", "waiting_since"], na_position="last").reset_index(drop=True)


def _save_photo(case_id: str, photo) -> str:
    """Store an uploaded photo under ``<data dir>/photos/<case>/`` and return its path relative to it."""
    content = photo.getvalue()
    suffix = PHOTO_TYPES.get(photo.type or "", ".jpg")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    relative = f"photos/{_safe(case_id)}/{stamp}-{hashlib.sha256(content).hexdigest()[:10]}{suffix}"
    path = data_dir() / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return relative


@st.cache_data(ttl=300, max_entries=32)
def _map(
    cells: np.ndarray, tasks: pd.DataFrame, neglect: pd.DataFrame | None, tiles: str, lang: str
) -> folium.Map:
    """My cells (orange when neglected) and my tasks; cached so a rerun (a click) does not redraw it."""
    polygons = cells_to_polygons(cells)
    polygons.insert(1, "h3", cells_to_strings(cells))
    fill = pd.Series("#9ecae1", index=polygons.index)
    polygons["days_since_visit"] = "?"
    if neglect is not None:
        polygons["days_since_visit"] = neglect["days_since_visit"].round(1).astype(str).to_numpy()
        fill[neglect["neglected"].to_numpy()] = "#fd8d3c"
    centre = polygons.geometry.union_all().centroid
    m = base_map(centre.y, centre.x, zoom=14, tiles=tiles)
    tooltip = {"h3": "H3", "days_since_visit": t("days_since_visit")}
    cells_layer(polygons, fill=fill, tooltip=tooltip, tiles=tiles, name="my_cells", fill_opacity=0.35).add_to(
        m
    )
    located = tasks.dropna(subset=["lat", "lon"])
    if len(located):
        points = gpd.GeoDataFrame(
            located.assign(deadline=located["deadline_at"].dt.strftime("%m-%d %H:%M").fillna("")),
            geometry=gpd.points_from_xy(located["lon"], located["lat"]),
            crs=4326,
        )
        points_layer(
            points,
            fill=points["status"].map({"reported": "#e31a1c", "resolved": "#6a3d9a"}),
            tooltip={
                "case_id": t("case"),
                "task": t("task"),
                "category": t("category"),
                "deadline": t("deadline"),
                "description": t("description"),
            },
            tiles=tiles,
            name="tasks",
        ).add_to(m)
    return fit_to(m, polygons, tiles=tiles)


@st.cache_data(ttl=300, max_entries=4)
def _my_case_history(key: str, cells: np.ndarray) -> pd.DataFrame:
    """Every case (all statuses) in ``cells``, lifecycle columns: the route's forecast and open tasks."""
    from cases.lifecycle import load_lifecycle_frame

    frame = load_lifecycle_frame(engine())
    return frame[frame["cell"].isin(cells)].reset_index(drop=True)


def _route_section(inspector_id: str, day: dt.date, cells: np.ndarray, neglect: pd.DataFrame | None) -> None:
    """Today's suggested route (:func:`patrol.routes.suggest_route`) as a stop list and a GPX download."""
    import tempfile
    from pathlib import Path

    from analytics.forecast import forecast_cells
    from patrol.routes import RouteOptions, suggest_route, write_gpx

    left, right = st.columns(2)
    shift_start = left.time_input(t("shift_start"), value=dt.time(8, 0))
    hours = right.number_input(t("shift_hours"), min_value=1.0, max_value=12.0, value=4.0, step=0.5)
    if not st.button(t("suggest_route"), key="suggest_route"):
        return
    history = _my_case_history(db_key(), cells)
    shift = pd.Timestamp.combine(day, shift_start).tz_localize(TIMEZONE)
    a = pd.DataFrame(
        {
            "inspector_id": inspector_id,
            "cell": cells,
            "valid_from": shift.tz_convert("UTC"),
            "valid_to": pd.NaT,
        }
    )
    last_visit = None if neglect is None else neglect[["cell", "last_visit"]]
    try:
        past = history[history["reported_at"] < shift.tz_convert("UTC")]
        # the quick moving-average forecast: the route's default ("auto") backtests every model first
        risk = forecast_cells(past, cells, period="week", model="baseline_ma4", as_of=shift)
        route = suggest_route(
            inspector_id,
            day,
            assignments=a,
            cases=history,
            budget_s=float(hours) * 3600,
            forecast=risk,
            last_visit=last_visit,
            options=RouteOptions(shift_start=f"{shift_start:%H:%M}"),
        )
    except ValueError as exc:  # no history, no cells …: say it, no traceback
        st.warning(t("action_failed", error=str(exc)))
        return
    stops = route.stops[route.stops["kind"] == "stop"]
    st.caption(
        t(
            "route_totals",
            stops=len(stops),
            km=route.totals["distance_m"] / 1000,
            minutes=route.totals["duration_s"] / 60,
        )
    )
    shown = stops[["order", "h3", "arrival", "case_ids", "why"]].assign(
        arrival=stops["arrival"].dt.tz_convert(TIMEZONE).dt.strftime("%H:%M")
    )
    st.dataframe(shown, hide_index=True, use_container_width=True)
    with tempfile.TemporaryDirectory() as folder:
        gpx = write_gpx(route, Path(folder) / "route.gpx").read_bytes()
    st.download_button("GPX", gpx, f"route-{inspector_id}-{day}.gpx", "application/gpx+xml")


def _action_form(case_id: str, status: str) -> None:
    """Verify (核实) or check (核查) ``case_id`` with a note and a photo, through the lifecycle."""
    with st.form("action", clear_on_submit=True):
        action = st.radio(
            t("action"),
            inspector_actions(status),
            format_func=lambda a: t(f"action_{a}"),
            horizontal=True,
        )
        note = st.text_area(t("note"), max_chars=2000)
        photo = st.file_uploader(t("photo"), type=["jpg", "jpeg", "png", "webp", "heic"])
        camera = st.camera_input(t("camera")) if st.session_state.get("use_camera") else None
        submitted = st.form_submit_button(t("submit"), type="primary")
    st.toggle(t("use_camera"), key="use_camera")
    if not submitted:
        return
    # The list is my cells only already; record_action checks the case's cell again when writing.
    if not case_in_cells(engine(), case_id, cells):
        st.error(t("case_refused", case=f"`{_safe(case_id)}`"))
        return
    picture = camera or photo
    text = note.strip()
    if picture is not None:
        text = f"{text} [photo: {_save_photo(case_id, picture)}]".strip()
    try:
        record_action(engine(), case_id, action, actor=inspector_id, cells=cells, note=text)
    except (FieldActionError, LifecycleError) as exc:
        st.error(t("action_failed", error=str(exc)))
    else:
        st.success(t("action_done", case=case_id, status=t(f"action_{action}")))


st.title(t("my_grid"))
inspector_id = _inspector_id()
root = tracks_root()
today = pd.Timestamp.now(tz=TIMEZONE).date()
last_track = _last_track_day(str(root)) if root is not None else None
# The demo city's data end before today: default to the last day with tracks, so the page shows something.
default_day = min(today, last_track) if last_track else today
day = st.date_input(t("as_of"), value=default_day, max_value=today)
day_start = pd.Timestamp(day, tz=TIMEZONE)
day_end = day_start + pd.Timedelta(days=1)
cells = inspector_cells(engine(), inspector_id, day_start.tz_convert("UTC"), day_end.tz_convert("UTC"))
if cells.size == 0:
    st.info(t("no_cells", day=day))
    st.stop()

tasks = _tasks(cells)
requested = st.query_params.get("case")
if requested and requested not in set(tasks["case_id"]):
    # Not one of my open tasks: say whether it is closed (mine) or refuse without telling whether it exists.
    if case_in_cells(engine(), requested, cells):
        with engine().connect() as conn:
            status = conn.execute(sa.select(Case.status).where(Case.case_id == requested)).scalar_one()
        st.info(t("case_not_open", case=f"`{_safe(requested)}`", status=status))
    else:
        st.error(t("case_refused", case=f"`{_safe(requested)}`"))
    requested = None

never_days = st.number_input(t("not_patrolled_days"), min_value=1, max_value=60, value=3, step=1)
neglect = None
if root is not None and last_track is not None:
    window_start = day - dt.timedelta(days=max(int(never_days), 14))
    fine = _fine(str(root), inspector_id, window_start, day)
    neglect = neglect_table(fine, cells, as_of=day_end.tz_convert("UTC"), never_days=int(never_days))

row1, row2 = st.columns(2), st.columns(2)
row1[0].metric(t("my_cells"), f"{cells.size:,}")
row1[1].metric(
    t("neglected", n=int(never_days)), "–" if neglect is None else f"{int(neglect['neglected'].sum()):,}"
)
row2[0].metric(t("to_verify"), f"{int((tasks['status'] == 'reported').sum()):,}")
row2[1].metric(t("to_check"), f"{int((tasks['status'] == 'resolved').sum()):,}")

tab_map, tab_tasks, tab_report = st.tabs([t("map"), t("tasks"), t("report_problem")])

with tab_map:
    if neglect is None:
        st.caption(t("no_tracks"))
    tiles = st.session_state.get("tiles", "osm")
    m = _map(cells, tasks, neglect, tiles, st.session_state.get("lang", "zh"))
    clicked = show_map(m, key=f"my-grid-map-{inspector_id}", height=420)
    centre = cells_to_polygons(cells[:1]).geometry.iloc[0].centroid

    with st.expander(t("route_today")):
        _route_section(inspector_id, day, cells, neglect)

with tab_tasks:
    if tasks.empty:
        st.info(t("no_tasks"))
    else:
        shown = tasks[
            [
                "case_id",
                "task",
                "category",
                "waiting_since",
                "deadline_at",
                "address",
                "description",
                "reporter_phone",
            ]
        ]
        st.dataframe(shown, hide_index=True, use_container_width=True)
        ids = tasks["case_id"].tolist()
        index = ids.index(requested) if requested in ids else 0
        case_id = st.selectbox(t("case"), ids, index=index)
        detail = tasks.loc[tasks["case_id"] == case_id].iloc[0]
        status = detail["status"]
        # st.text shows untrusted text as text (never markdown or HTML)
        st.text(f"{detail['task']} · {detail['category']} · {t('deadline')}: {detail['deadline_at']}")
        st.text(f"{t('description')}: {detail['description'] or ''}")
        if detail["address"]:
            st.text(f"{t('address')}: {detail['address']}")
        if not acting:
            st.caption(t("view_only"))
        else:
            _action_form(case_id, status)

with tab_report:
    if not acting:
        st.caption(t("view_only"))
        st.stop()
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
        problem = NewProblem(float(lat), float(lon), code, row["standard"], row["kind"], description.strip())
        try:
            new_id = report_problem(engine(), problem, inspector_id=inspector_id, allowed_cells=cells)
        except (FieldActionError, LifecycleError) as exc:
            st.error(t("action_failed", error=str(exc)))
        else:
            st.success(t("reported", case=new_id))
