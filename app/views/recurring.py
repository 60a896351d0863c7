"""Planner's recurring-problems page: cells where problems come back period after period.

A period is active for a cell when it has at least ``min_count`` cases; the page parses its widgets into a
:class:`services.analysis.RecurringRequest`, calls :func:`services.analysis.recurring` (the service behind
``gridpatrol recurring``) and draws the ranked cells: the map colours them by the share of active periods.
Click a cell (or pick it) for its history and cases.
"""

from __future__ import annotations

import folium
import pandas as pd
import streamlit as st

from app.cell_maps import downloads, html_cells_map, sum_overview, with_polygons
from app.context import require_role
from app.hexmap import cell_deck, show_cells
from app.i18n import t
from app.maps import cells_layer, sequential_fill
from app.planner_widgets import cell_history_panel, filter_bar, options_or_stop, run_or_stop, study_caption
from app.tables import show_table
from services.analysis import RecurringRequest, recurring

require_role("planner", "manager", "admin")
DEFAULTS = RecurringRequest()


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
options = options_or_stop()
filters = filter_bar(options)
left, middle, right = st.columns(3)
last = left.number_input(t("last_periods"), min_value=0, max_value=400, value=DEFAULTS.last or 0, step=1)
left.caption(t("last_periods_all"))
min_count = middle.number_input(t("min_count"), min_value=1, max_value=50, value=DEFAULTS.min_count, step=1)
min_share = right.slider(t("min_share"), 0.0, 1.0, DEFAULTS.min_share, 0.05)
request = RecurringRequest(
    filters, last=int(last) or None, min_count=int(min_count), min_share=float(min_share)
)
result = run_or_stop(recurring, request)

chronic = result.to_frame()
st.metric(t("chronic_cells"), f"{len(chronic):,}")
study_caption(result)
tiles = st.session_state.get("tiles", "osm")
deck = cell_deck(
    chronic, fill=sequential_fill(chronic["share"]), tooltip=_tooltip(), tiles=tiles, layer_id="recurring"
)
clicked = show_cells(deck, key="recurring-map", layer_id="recurring")
show_table(chronic.head(200))
downloads(chronic, chronic, lambda: _map(chronic, filters.resolution, tiles), "recurring")
cell_history_panel(chronic, clicked, filters, key="recurring-cell")
