"""Grid inspector's page "My grid", phone first: my open tasks (核实 / 核查) as cards with a countdown to
each deadline, the on-site action with a photo, then the KPI tiles, the map and today's route, and the
report form ("use my position", the address, a duplicate warning, a photo).

Every read and write goes through :mod:`services.field`, which scopes it to the cells assigned to the
signed-in inspector on the chosen day — on the server, not by hiding widgets: the case list, the case an
action may touch, a case id passed in the URL (``?case=...``, refused when it is not in my cells) and the
place of a new report. An administrator may open the page for any inspector, read-only. The pieces are in
:mod:`app.field_widgets` and :mod:`app.field_report_widgets`, the map in :mod:`app.patrol_maps`.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.cell_maps import show_map
from app.context import require_role, service_context
from app.field_report_widgets import report_form
from app.field_widgets import (
    action_form,
    grid_map,
    pick_inspector,
    route_section,
    task_cards,
    task_details,
    task_frame,
    task_table,
)
from app.i18n import label, t
from app.labels import STATUS_LABELS
from app.patrol_widgets import run_or_stop
from app.safe_text import md, safe_t
from app.tables import show_table
from grid.cells import cells_to_polygons
from services.coverage import NeglectRequest, neglect
from services.field import FieldRequest, case_access, field_view, last_track_day, safe_id

require_role("inspector", "admin")
ctx = service_context()

st.title(t("my_grid"))
inspector_id = pick_inspector(ctx)
today = pd.Timestamp.now(tz=ctx.timezone).date()
last_track = last_track_day(ctx)
with st.expander(t("fp_settings")):
    # The demo city's data may end before today: default to the last day with tracks, and say so.
    day = st.date_input(t("as_of"), value=min(today, last_track) if last_track else today, max_value=today)
    view = field_view(ctx, FieldRequest(inspector_id, day, with_neglect=False))
    never_days = st.number_input(
        t("not_patrolled_days"), min_value=1, max_value=60, value=view.never_days, step=1
    )
if last_track is not None and last_track < today:
    st.caption(safe_t("data_day", last=last_track))
cells = view.cells
if cells.size == 0:
    st.info(safe_t("no_cells", day=day))
    st.stop()

tasks = task_table(view)
requested = st.query_params.get("case")
if requested and requested not in set(tasks["case_id"]):
    # Not one of my open tasks: say whether it is closed (mine) or refuse without telling whether it exists.
    status = case_access(ctx, requested, inspector_id=inspector_id, day=day)
    if status is not None:
        st.info(t("case_not_open", case=md(safe_id(requested)), status=label(STATUS_LABELS, status)))
    else:
        st.error(t("case_refused", case=md(safe_id(requested))))
    requested = None

# 1. Tasks first: a card per task, the current one's details and the on-site action.
st.subheader(t("fp_tasks_head", n=len(tasks)))
if tasks.empty:
    st.info(t("no_tasks"))
else:
    case_id = task_cards(tasks, view.as_of, requested)
    detail = tasks.loc[tasks["case_id"] == case_id].iloc[0]
    st.markdown(f"#### {safe_t('fp_act_head', case=safe_id(case_id))}")
    task_details(detail)  # as text: citizens' words never become markdown or HTML
    if view.can_act:
        action_form(ctx, case_id, detail["status"], day)
    else:
        st.caption(t("view_only"))
    with st.expander(t("fp_all_fields")):
        show_table(task_frame(tasks), timezone=ctx.timezone)

# 2. The KPI tiles, two a row (a phone shows them two by two).
table = None
if last_track is not None:
    request = NeglectRequest(as_of=day, never_days=int(never_days), inspector_id=inspector_id)
    table = run_or_stop(neglect, request).table
row1, row2 = st.columns(2), st.columns(2)
row1[0].metric(t("to_verify"), f"{int((tasks['status'] == 'reported').sum()):,}")
row1[1].metric(t("to_check"), f"{int((tasks['status'] == 'resolved').sum()):,}")
row2[0].metric(t("my_cells"), f"{cells.size:,}")
row2[1].metric(
    t("neglected", n=int(never_days)), "–" if table is None else f"{int(table['neglected'].sum()):,}"
)

# 3. The map and today's route.
st.subheader(t("fp_map_head"))
if table is None:
    st.caption(t("no_tracks"))
m = grid_map(cells, tasks, table, st.session_state.get("tiles", "osm"), st.session_state.get("lang", "zh"))
clicked = show_map(m, key=f"my-grid-map-{inspector_id}", height=360)
with st.expander(t("route_today")):
    route_section(inspector_id, day)

# 4. Report a problem found on the street.
st.subheader(t("report_problem"))
if not view.can_act:
    st.caption(t("view_only"))
    st.stop()
report_form(ctx, day, clicked, cells_to_polygons(cells[:1]).geometry.iloc[0].centroid)
