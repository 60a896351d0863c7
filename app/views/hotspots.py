"""Planner's hot-spot page: Getis-Ord Gi* classes of case counts on the H3 grid, with filters and exports.

Click a cell on the map (or pick it below) to see its history and its cases.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import streamlit as st

from analytics.hotspots import cube_hotspots
from app.context import db_key, require_role
from app.i18n import t
from app.maps import GI_CLASS_COLOURS, add_cells_with_overview, base_map, cells_layer, fit_to
from app.views._shared import (
    Filters,
    case_frame,
    cell_history,
    class_overview,
    downloads,
    filter_bar,
    filtered_cube,
    pick_cell,
    show_map,
)
from grid.cells import cells_to_strings

require_role("planner", "manager", "admin")


@st.cache_data(ttl=300, max_entries=16)
def _hotspots(key: str, filters: Filters, k: int) -> gpd.GeoDataFrame:
    cube = filtered_cube(key, filters, ring=k)
    frame = cube_hotspots(cube, k=k).to_geodataframe()
    frame.insert(1, "h3", cells_to_strings(frame["cell"].to_numpy()))
    return frame[["cell", "h3", "count", "gi_z", "gi_p", "gi_q", "gi_class", "geometry"]]


@st.cache_data(ttl=300, max_entries=8)
def _map(key: str, filters: Filters, k: int, tiles: str, lang: str) -> folium.Map:
    """The map of one filter choice, built once: reruns hand the browser a copy with the same HTML."""
    result = _hotspots(key, filters, k)
    shown = result[(result["count"] > 0) | (result["gi_class"] != "not_significant")]
    centre = (shown if len(shown) else result).geometry.union_all().centroid
    m = base_map(centre.y, centre.x, zoom=12, tiles=tiles)
    fine = cells_layer(
        shown,
        fill=shown["gi_class"].astype(str).map(GI_CLASS_COLOURS),
        tooltip={"h3": "H3", "count": t("cases"), "gi_z": "Gi* z", "gi_class": t("class")},
        tiles=tiles,
        name="hotspots",
    )
    coarse = class_overview(
        shown, filters.res, "gi_class", GI_CLASS_COLOURS, tiles=tiles, name="hotspots-overview"
    )
    add_cells_with_overview(m, fine, coarse)
    return fit_to(m, shown if len(shown) else result, tiles=tiles)


st.title(t("hotspots"))
cases = case_frame(db_key())
if cases.empty:
    st.info(t("no_cases"))
    st.stop()
filters = filter_bar(cases)
k = st.columns(3)[0].selectbox(t("rings"), [1, 2, 3], index=0)

try:
    result = _hotspots(db_key(), filters, k)
except ValueError as exc:  # an empty selection, an unknown category …: say it, no traceback
    st.warning(str(exc))
    st.stop()

counts = result["gi_class"].value_counts()
for column, name in zip(st.columns(len(GI_CLASS_COLOURS)), GI_CLASS_COLOURS, strict=True):
    column.metric(name, f"{counts.get(name, 0):,}")
shown = result[(result["count"] > 0) | (result["gi_class"] != "not_significant")]
m = _map(db_key(), filters, k, st.session_state.get("tiles", "osm"), st.session_state.get("lang", "zh"))
clicked = show_map(m, key=f"hotspots-map-{filters.res}")

table = result.drop(columns="geometry").sort_values("gi_z", ascending=False)
st.dataframe(table.head(200), hide_index=True, use_container_width=True)
downloads(table, shown, m, "hotspots")
cell = pick_cell(table, clicked, filters.res, key="hotspots-cell")
if cell is not None:
    cell_history(cases, cell, filters.res, filters.period, filters)
