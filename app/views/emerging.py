"""Planner's emerging hot spot page: space-time Gi* per period and the Esri pattern of every cell.

The page parses its widgets into a :class:`services.analysis.EmergingRequest` and calls
:func:`services.analysis.emerging` (the service behind ``gridpatrol emerging``): new, intensifying,
persistent, … hot and cold spots. Too few periods or cases is said plainly. Click a cell (or pick it) for
its history and cases.
"""

from __future__ import annotations

import folium
import pandas as pd
import streamlit as st

from app.cell_maps import class_overview, downloads, html_cells_map, show_class_cells, with_polygons
from app.context import require_role
from app.i18n import t
from app.maps import PATTERN_COLOURS, cells_layer
from app.planner_widgets import cell_history_panel, filter_bar, options_or_stop, run_or_stop, study_caption
from app.tables import metric_label, show_table
from services.analysis import EmergingRequest, emerging

require_role("planner", "manager", "admin")
DEFAULTS = EmergingRequest()


def _map(shown: pd.DataFrame, res: int, tiles: str) -> folium.Map:
    """The folium version of the map, for the standalone HTML download (built only when it is clicked)."""
    shown = with_polygons(shown)
    fine = cells_layer(
        shown.assign(trend_z=shown["trend_z"].round(2)),
        fill=_fill(shown),
        tooltip=_tooltip(),
        tiles=tiles,
        name="emerging",
    )
    coarse = class_overview(shown, res, "pattern", PATTERN_COLOURS, tiles=tiles, name="emerging-overview")
    return html_cells_map(shown, fine, coarse, tiles=tiles)


def _fill(shown: pd.DataFrame) -> pd.Series:
    return shown["pattern"].map(PATTERN_COLOURS).fillna("#eeeeee")


def _tooltip() -> dict[str, str]:
    names = ("pattern", "trend_z", "hot_periods")
    return {"h3": "H3", "count": t("cases"), **{name: t(name) for name in names}}


st.title(t("emerging"))
options = options_or_stop()
filters = filter_bar(options)
left, right = st.columns(2)
rings = sorted({1, 2, 3, options.hotspot_k})
k = left.selectbox(t("rings"), rings, index=rings.index(options.hotspot_k))
steps = sorted({0, 1, 2, 3, DEFAULTS.time_step})
time_step = right.selectbox(t("time_step"), steps, index=steps.index(DEFAULTS.time_step))
result = run_or_stop(emerging, EmergingRequest(filters, k=int(k), time_step=int(time_step)))

present = {name: count for name, count in result.pattern_counts().items() if name != "no_pattern"}
present = present or {"no_pattern": result.pattern_counts().get("no_pattern", 0)}
for column, (name, count) in zip(st.columns(len(present)), present.items(), strict=True):
    column.metric(metric_label(name), f"{count:,}")
study_caption(result)
shown = result.shown()
tiles = st.session_state.get("tiles", "osm")
clicked = show_class_cells(
    shown, "pattern", "no_pattern", _fill, _tooltip(), res=filters.resolution, layer_id="emerging"
)
table = result.to_frame()
show_table(table.head(200))
downloads(table, shown, lambda: _map(shown, filters.resolution, tiles), "emerging")
cell_history_panel(table, clicked, filters, key="emerging-cell")
