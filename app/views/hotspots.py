"""Planner's hot-spot page: Getis-Ord Gi* classes of case counts on the H3 grid, with filters and exports.

Click a cell on the map (or pick it below) to see its history and its cases.
"""

from __future__ import annotations

import folium
import pandas as pd
import streamlit as st

from analytics.areas import MIN_TREND_PERIODS, area_trends, hotspot_areas
from analytics.hotspots import cube_hotspots
from app.context import db_key, require_role
from app.i18n import t
from app.maps import GI_CLASS_COLOURS, cells_layer
from app.views._shared import (
    Filters,
    case_frame,
    cell_history,
    class_overview,
    downloads,
    filter_bar,
    filtered_cube,
    html_cells_map,
    pick_cell,
    show_class_cells,
    with_polygons,
)
from grid.cells import cells_to_strings

require_role("planner", "manager", "admin")


@st.cache_data(ttl=300, max_entries=16)
def _hotspots(key: str, filters: Filters, k: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The Gi* table (no polygons: the map draws cells from their ids; a download adds them) and the
    hot-spot areas of 3 cells or more, with their trends when the range has enough periods."""
    cube = filtered_cube(key, filters, ring=k)
    result = cube_hotspots(cube, k=k)
    frame = result.to_frame()
    frame.insert(1, "h3", cells_to_strings(frame["cell"].to_numpy()))
    areas = hotspot_areas(result, min_cells=3)
    if cube.counts.shape[1] >= MIN_TREND_PERIODS:
        areas = area_trends(areas, cube)
    areas = areas.drop(columns=["peak_cell", "cells"])
    return frame[["cell", "h3", "count", "gi_z", "gi_p", "gi_q", "gi_class"]], areas


def _map(shown: pd.DataFrame, res: int, tiles: str) -> folium.Map:
    """The folium version of the map, for the standalone HTML download (built only when it is clicked)."""
    shown = with_polygons(shown)
    fine = cells_layer(shown, fill=_fill(shown), tooltip=_tooltip(), tiles=tiles, name="hotspots")
    coarse = class_overview(shown, res, "gi_class", GI_CLASS_COLOURS, tiles=tiles, name="hotspots-overview")
    return html_cells_map(shown, fine, coarse, tiles=tiles)


def _fill(shown: pd.DataFrame) -> pd.Series:
    return shown["gi_class"].astype(str).map(GI_CLASS_COLOURS).fillna("#eeeeee")


def _tooltip() -> dict[str, str]:
    return {"h3": "H3", "count": t("cases"), "gi_z": "Gi* z", "gi_class": t("class")}


st.title(t("hotspots"))
cases = case_frame(db_key())
if cases.empty:
    st.info(t("no_cases"))
    st.stop()
filters = filter_bar(cases)
k = st.columns(3)[0].selectbox(t("rings"), [1, 2, 3], index=0)

try:
    result, areas = _hotspots(db_key(), filters, k)
except ValueError as exc:  # an empty selection, an unknown category …: say it, no traceback
    st.warning(str(exc))
    st.stop()

counts = result["gi_class"].value_counts()
for column, name in zip(st.columns(len(GI_CLASS_COLOURS)), GI_CLASS_COLOURS, strict=True):
    column.metric(name, f"{counts.get(name, 0):,}")
shown = result[(result["count"] > 0) | (result["gi_class"] != "not_significant")]
tiles = st.session_state.get("tiles", "osm")
clicked = show_class_cells(
    shown, "gi_class", "not_significant", _fill, _tooltip(), res=filters.res, layer_id="hotspots"
)

st.subheader(t("hotspot_areas"))
st.caption(t("hotspot_areas_help"))
st.dataframe(
    areas.round({"peak_z": 2, "lat": 5, "lon": 5, "trend_tau": 2, "trend_p": 4}),
    hide_index=True,
    use_container_width=True,
)
table = result.sort_values("gi_z", ascending=False)
st.dataframe(table.head(200), hide_index=True, use_container_width=True)
downloads(table, shown, lambda: _map(shown, filters.res, tiles), "hotspots")
cell = pick_cell(table, clicked, key="hotspots-cell")
if cell is not None:
    cell_history(cases, cell, filters.res, filters.period, filters)
