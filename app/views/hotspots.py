"""Planner's hot-spot page: Getis-Ord Gi* classes of case counts on the H3 grid, with filters and exports.

The page parses the filter bar into a :class:`services.analysis.HotspotRequest`, calls
:func:`services.analysis.hotspots` (the same service as ``gridpatrol hotspots``) and draws the result.
Click a cell on the map (or pick it below) to see its history and its cases.
"""

from __future__ import annotations

import folium
import pandas as pd
import streamlit as st

from app.cell_maps import class_overview, downloads, html_cells_map, show_class_cells, with_polygons
from app.context import require_role
from app.i18n import t
from app.maps import GI_CLASS_COLOURS, cells_layer
from app.planner_widgets import (
    cell_history_panel,
    filter_bar,
    options_or_stop,
    run_or_stop,
    study_caption,
    target_select,
)
from app.tables import metric_label, show_table
from services.analysis import HotspotRequest, hotspots

require_role("planner", "manager", "admin")


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
options = options_or_stop()
filters = filter_bar(options)
rings = sorted({1, 2, 3, options.hotspot_k})
ring_column, target_column, _ = st.columns(3)
k = ring_column.selectbox(t("rings"), rings, index=rings.index(options.hotspot_k))
target = target_select(target_column, key="hotspots_target")
result = run_or_stop(hotspots, HotspotRequest(filters, k=int(k), target=target))

for column, (name, count) in zip(
    st.columns(len(GI_CLASS_COLOURS)), result.class_counts().items(), strict=True
):
    column.metric(metric_label(name), f"{count:,}")
study_caption(result)
shown = result.shown()
tiles = st.session_state.get("tiles", "osm")
clicked = show_class_cells(
    shown, "gi_class", "not_significant", _fill, _tooltip(), res=filters.resolution, layer_id="hotspots"
)

st.subheader(t("hotspot_areas"))
st.caption(t("hotspot_areas_help"))
areas = result.areas.drop(columns=["peak_cell", "cells"])
show_table(areas.round({"lat": 5, "lon": 5}))
table = result.to_frame()
show_table(table.head(200))
downloads(table, shown, lambda: _map(shown, filters.resolution, tiles), "hotspots")
cell_history_panel(table, clicked, filters, key="hotspots-cell")
