"""Planner's emerging hot spot page: space-time Gi* per period and the Esri pattern of every cell.

Patterns come from :func:`analytics.emerging.emerging_hotspots` (new, intensifying, persistent, …; hot and
cold). Too few periods or cases is said plainly. Click a cell (or pick it) for its history and cases.
"""

from __future__ import annotations

import folium
import pandas as pd
import streamlit as st

from analytics._validate import TooFewPeriodsError
from analytics.emerging import PATTERNS, emerging_hotspots
from app.context import db_key, require_role
from app.i18n import t
from app.maps import PATTERN_COLOURS, cells_layer
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
def _emerging(key: str, filters: Filters, k: int, time_step: int) -> pd.DataFrame:
    """The pattern table (no polygons: the map draws cells from their ids; a download adds them)."""
    cube = filtered_cube(key, filters, ring=k)
    frame = emerging_hotspots(cube, k=k, time_step=time_step).to_frame()
    frame.insert(1, "h3", cells_to_strings(frame["cell"].to_numpy()))
    frame["pattern"] = frame["pattern"].astype(str)
    return frame


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
    labels = {"count": t("cases"), "pattern": t("pattern"), "trend_z": "trend z", "hot_periods": "hot"}
    return {"h3": "H3", **labels}


st.title(t("emerging"))
cases = case_frame(db_key())
if cases.empty:
    st.info(t("no_cases"))
    st.stop()
filters = filter_bar(cases, periods=("week", "day", "month"))
left, right = st.columns(2)
k = left.selectbox(t("rings"), [1, 2, 3], index=0)
time_step = right.selectbox(t("time_step"), [0, 1, 2, 3], index=1)

try:
    result = _emerging(db_key(), filters, int(k), int(time_step))
except TooFewPeriodsError as exc:
    st.warning(t("too_few", error=str(exc)))
    st.stop()
except ValueError as exc:  # an empty selection …: say it, no traceback
    st.warning(str(exc))
    st.stop()

counts = result["pattern"].value_counts()
present = [p for p in PATTERNS if counts.get(p, 0) and p != "no_pattern"]
for column, name in zip(st.columns(max(len(present), 1)), present or ["no_pattern"], strict=False):
    column.metric(name, f"{counts.get(name, 0):,}")
shown = result[(result["count"] > 0) | (result["pattern"] != "no_pattern")]
tiles = st.session_state.get("tiles", "osm")
clicked = show_class_cells(
    shown, "pattern", "no_pattern", _fill, _tooltip(), res=filters.res, layer_id="emerging"
)
table = result.sort_values(["pattern", "gi_z"], ascending=[True, False])
table = table[table["pattern"] != "no_pattern"]
st.dataframe(table.head(200), hide_index=True, use_container_width=True)
downloads(table, shown, lambda: _map(shown, filters.res, tiles), "emerging")
cell = pick_cell(table, clicked, key="emerging-cell")
if cell is not None:
    cell_history(cases, cell, filters.res, filters.period, filters)
