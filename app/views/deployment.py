"""Manager's deployment page: balanced patrol beats on a map, and staffing what-ifs.

Parses the widgets into a :class:`services.deployment.BeatsRequest` and a
:class:`~services.deployment.StaffingRequest` and draws the results: the planning cells (those assigned
now), the forecast model and the visit targets are the service's, from the city configuration.
"""

from __future__ import annotations

import streamlit as st

from app.cell_maps import show_map
from app.context import require_role
from app.i18n import t
from app.patrol_widgets import cached_map, run_or_stop
from app.tables import column_label, percent, show_table
from cases.csv_safe import csv_bytes
from services.deployment import BeatsRequest, StaffingRequest, beats_plan, staffing

require_role("manager", "admin")

st.title(t("deployment"))
left, right = st.columns(2)
chosen = st.session_state.get("n_beats")
with st.spinner(t("deployment")):
    plan = run_or_stop(beats_plan, BeatsRequest(n_beats=None if chosen is None else int(chosen)))
left.number_input(
    t("n_beats"), min_value=1, max_value=len(plan.cells), value=plan.n_beats, step=1, key="n_beats"
)
beats = plan.beats
row = st.columns(3)
row[0].metric(t("n_beats"), f"{len(beats):,}")
row[1].metric(t("max_deviation"), percent(float(beats["deviation"].abs().max()), 0))
row[2].metric(t("expected_total"), f"{plan.cells['expected_cases'].sum():,.1f}")
if not plan.balanced:
    st.caption(t("not_balanced"))
labels = {"h3": "H3", "beat": t("beat"), "workload_min": t("workload_min")}
m = cached_map("beats_map", plan.cells, labels, st.session_state.get("tiles", "osm"))
show_map(m, key="deployment-map")
show_table(beats)
cells = plan.to_frame()
with st.expander(t("beat_cells")):
    show_table(cells)
st.download_button("CSV", csv_bytes(cells), "beats.csv", "text/csv")

st.subheader(t("staffing"))
n_now = right.number_input(
    t("inspectors_now"), min_value=1, max_value=500, value=max(plan.n_inspectors, 1), key="inspectors_now"
)
result = run_or_stop(staffing, StaffingRequest(n_inspectors=int(n_now)))
show_table(result.per_shift)
show_table(result.what_if)
shares = result.what_if.set_index("inspectors")[["case_share", "weekly_share", "value_share"]]
shares = shares.rename(columns=column_label)
st.line_chart(shares, height=220)
