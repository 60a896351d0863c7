"""Planner's recurring-problems page: cells where problems come back period after period.

A period is active for a cell when it has at least ``min_count`` cases (:mod:`analytics.recurrence`); the
map colours cells by the share of active periods, the table ranks the chronic ones. Click a cell (or pick
it) for its history and cases.
"""

from __future__ import annotations

import folium
import pandas as pd
import streamlit as st

from analytics.recurrence import recurrence
from app.context import db_key, require_role
from app.hexmap import cell_deck, show_cells
from app.i18n import t
from app.maps import cells_layer, sequential_fill
from app.views._shared import (
    Filters,
    case_frame,
    cell_history,
    downloads,
    filter_bar,
    filtered_cube,
    html_cells_map,
    pick_cell,
    sum_overview,
    with_polygons,
)
from grid.cells import cells_to_strings

require_role("planner", "manager", "admin")


@st.cache_data(ttl=300, max_entries=16)
def _recurring(key: str, filters: Filters, last: int, min_count: int) -> pd.DataFrame:
    """The recurrence table (no polygons: the map draws cells from their ids; a download adds them)."""
    cube = filtered_cube(key, filters, ring=0)
    last = min(last, cube.counts.shape[1])
    frame = recurrence(cube, last=last, min_count=min_count).to_frame()
    frame = frame[frame["active_periods"] > 0].drop(columns="category")
    frame.insert(1, "h3", cells_to_strings(frame["cell"].to_numpy()))
    return frame.reset_index(drop=True)


def _map(shown: pd.DataFrame, res: int, tiles: str) -> folium.Map:
    """The folium version of the map, for the standalone HTML download (built only when it is clicked)."""
    shown = with_polygons(shown)
    fine = cells_layer(
        shown.assign(share=shown["share"].round(2)),
        fill=sequential_fill(shown["share"]),
        tooltip=_tooltip(),
        tiles=tiles,
        name="recurring",
    )
    coarse = sum_overview(shown, res, "cases", tiles=tiles, name="recurring-overview") if len(shown) else None
    return html_cells_map(shown, fine, coarse, tiles=tiles)


def _tooltip() -> dict[str, str]:
    return {
        "h3": "H3",
        "cases": t("cases"),
        "share": t("share"),
        "current_run": t("current_run"),
        "longest_run": t("longest_run"),
    }


st.title(t("recurring"))
cases = case_frame(db_key())
if cases.empty:
    st.info(t("no_cases"))
    st.stop()
filters = filter_bar(cases)
left, middle, right = st.columns(3)
last = left.number_input(t("last_periods"), min_value=2, max_value=400, value=12, step=1)
min_count = middle.number_input(t("min_count"), min_value=1, max_value=50, value=1, step=1)
min_share = right.slider(t("min_share"), 0.0, 1.0, 0.5, 0.05)

try:
    result = _recurring(db_key(), filters, int(last), int(min_count))
except ValueError as exc:  # an empty selection …: say it, no traceback
    st.warning(str(exc))
    st.stop()

chronic = result[result["share"] >= min_share].sort_values(
    ["share", "current_run", "longest_run", "cases"], ascending=False
)
st.metric(t("chronic_cells"), f"{len(chronic):,}")
tiles = st.session_state.get("tiles", "osm")
deck = cell_deck(
    chronic, fill=sequential_fill(chronic["share"]), tooltip=_tooltip(), tiles=tiles, layer_id="recurring"
)
clicked = show_cells(deck, key="recurring-map", layer_id="recurring")
table = chronic
st.dataframe(table.head(200), hide_index=True, use_container_width=True)
downloads(table, chronic, lambda: _map(chronic, filters.res, tiles), "recurring")
cell = pick_cell(table, clicked, key="recurring-cell")
if cell is not None:
    cell_history(cases, cell, filters.res, filters.period, filters)
