"""Manager's deployment page: balanced patrol beats on a map, and staffing what-ifs.

Thin over :mod:`patrol.deployment`: the cells are today's assigned cells (else the cells with cases), the
demand is next week's forecast (:func:`analytics.forecast.forecast_cells`, 4-week moving average), the
workload per cell :func:`~patrol.deployment.cell_workload`; beats come from
:func:`~patrol.deployment.partition_beats`, the roster from :func:`~patrol.staffing.staffing_plan` and
the what-if from :func:`~patrol.staffing.staffing_what_if`. The whole city is one district here.
"""

from __future__ import annotations

import folium
import numpy as np
import pandas as pd
import sqlalchemy as sa
import streamlit as st

from analytics.cube import universe_from_cases
from analytics.forecast import forecast_cells
from app.context import db_key, engine, require_role
from app.i18n import t
from app.maps import base_map, cells_layer, fit_to
from app.views._shared import case_frame, show_map
from cases.models import Assignment
from grid.cells import cells_to_polygons, cells_to_strings
from patrol.deployment import cell_workload, partition_beats
from patrol.staffing import hour_profile, staffing_plan, staffing_what_if

require_role("manager", "admin")
#: 12 distinct colours (ColorBrewer Paired), cycled over the beats.
BEAT_COLOURS = np.array(
    [
        "#a6cee3",
        "#1f78b4",
        "#b2df8a",
        "#33a02c",
        "#fb9a99",
        "#e31a1c",
        "#fdbf6f",
        "#ff7f00",
        "#cab2d6",
        "#6a3d9a",
        "#ffff99",
        "#b15928",
    ]
)


@st.cache_data(ttl=600, max_entries=2)
def _demand(key: str) -> tuple[pd.DataFrame, int]:
    """One row per cell: ``cell``, ``district``, ``area_m2``, ``expected`` (next week); and the number of
    inspectors with an assignment."""
    a = Assignment.__table__.c
    with engine().connect() as conn:
        rows = conn.execute(sa.select(a.inspector_id, a.cell).where(a.valid_to.is_(None))).all()
    cases = case_frame(key)
    cells = (
        np.unique(np.array([r[1] for r in rows], dtype=np.int64))
        if rows
        else universe_from_cases(cases, 10, k=0)
    )
    forecast = forecast_cells(cases, cells, period="week", model="baseline_ma4").set_index("cell")
    polygons = cells_to_polygons(cells)
    demand = pd.DataFrame({"cell": cells, "district": "all", "area_m2": polygons["area_m2"].to_numpy()})
    demand["expected"] = forecast["expected"].reindex(cells).fillna(0.0).to_numpy()
    return demand, len({r[0] for r in rows})


@st.cache_data(ttl=600, max_entries=8)
def _beats(key: str, n_beats: int) -> tuple[pd.DataFrame, pd.DataFrame, bool]:
    demand, _ = _demand(key)
    workload = cell_workload(demand, demand["expected"].to_numpy())
    plan = partition_beats(demand["cell"].to_numpy(), workload["workload_min"].to_numpy(), n_beats)
    cells = pd.DataFrame({"cell": plan.cells, "beat": plan.labels, "workload_min": plan.workload.round(1)})
    return cells, plan.beats, bool(plan.balanced)


@st.cache_data(ttl=600, max_entries=8)
def _map(key: str, n_beats: int, tiles: str, lang: str) -> folium.Map:
    """The beats map of one choice, built once: reruns hand the browser a copy with the same HTML."""
    cells, _, _ = _beats(key, n_beats)
    frame = cells_to_polygons(cells["cell"].to_numpy()).drop(columns=["cell", "area_m2"])
    frame["h3"] = cells_to_strings(cells["cell"].to_numpy())
    frame["beat"] = cells["beat"].to_numpy()
    frame["workload_min"] = cells["workload_min"].to_numpy()
    centre = frame.geometry.union_all().centroid
    m = base_map(centre.y, centre.x, zoom=13, tiles=tiles)
    cells_layer(
        frame,
        fill=pd.Series(BEAT_COLOURS[frame["beat"].to_numpy() % len(BEAT_COLOURS)], index=frame.index),
        tooltip={"h3": "H3", "beat": t("beat"), "workload_min": t("workload_min")},
        tiles=tiles,
        name="beats",
        fill_opacity=0.6,
    ).add_to(m)
    return fit_to(m, frame, tiles=tiles)


st.title(t("deployment"))
if case_frame(db_key()).empty:
    st.info(t("no_cases"))
    st.stop()
try:
    with st.spinner(t("deployment")):
        demand, n_inspectors = _demand(db_key())
except ValueError as exc:  # too little history to forecast …: say it, no traceback
    st.warning(t("too_few", error=str(exc)))
    st.stop()
left, right = st.columns(2)
n_beats = left.number_input(
    t("n_beats"), min_value=1, max_value=len(demand), value=int(min(max(n_inspectors, 2), len(demand)))
)
cells, beats, balanced = _beats(db_key(), int(n_beats))
row = st.columns(3)
row[0].metric(t("n_beats"), f"{len(beats):,}")
row[1].metric(t("max_deviation"), f"{beats['deviation'].abs().max():.0%}")
row[2].metric(t("expected_total"), f"{demand['expected'].sum():,.1f}")
if not balanced:
    st.caption(t("not_balanced"))
m = _map(db_key(), int(n_beats), st.session_state.get("tiles", "osm"), st.session_state.get("lang", "zh"))
show_map(m, key="deployment-map")
st.dataframe(beats, hide_index=True, use_container_width=True)
st.download_button("CSV", cells.to_csv(index=False).encode("utf-8-sig"), "beats.csv", "text/csv")

st.subheader(t("staffing"))
plan = staffing_plan(demand, hour_profile(case_frame(db_key())))
st.dataframe(plan.per_shift, hide_index=True, use_container_width=True)
n_now = right.number_input(t("inspectors_now"), min_value=1, max_value=500, value=max(n_inspectors, 1))
what_if = staffing_what_if(demand, plan, int(n_now), k=min(2, int(n_now) - 1))
st.dataframe(what_if, hide_index=True, use_container_width=True)
st.line_chart(what_if.set_index("inspectors")[["case_share", "weekly_share", "value_share"]], height=220)
