"""Planner's forecast page: expected cases per cell next period (:func:`services.forecasting.forecast`).

The same service as ``gridpatrol forecast``: the model choices and the default (the city's configured
model) come from :func:`services.forecasting.forecast_models`; the learned models and ``auto`` (which
backtests every model on the city's own history and keeps the best PAI at 5 % area) take minutes, so
``gridpatrol refresh`` precomputes them for the default filters; other choices show a progress bar. The
forecast is made as of the end of the chosen date range, so later cases are never used. Click a cell (or
pick it) for its history and cases.
"""

from __future__ import annotations

import folium
import pandas as pd
import streamlit as st

from app.cell_maps import downloads, html_cells_map, sum_overview, with_polygons
from app.context import require_role
from app.hexmap import cell_deck, show_cells
from app.i18n import t, word, worded
from app.maps import cells_layer, sequential_fill
from app.planner_widgets import (
    cell_history_panel,
    filter_bar,
    options_or_stop,
    run,
    study_caption,
    target_select,
)
from app.progress_widgets import run_or_stop
from app.tables import show_table
from services.forecasting import FAST_MODELS, ForecastRequest, forecast, forecast_models

require_role("planner", "manager", "admin")


def _map(shown: pd.DataFrame, res: int, tiles: str) -> folium.Map:
    """The folium version of the map, for the standalone HTML download (built only when it is clicked)."""
    shown = with_polygons(shown)
    fine = cells_layer(
        shown.assign(expected=shown["expected"].round(2), risk=shown["risk"].round(2)),
        fill=sequential_fill(shown["risk"]),
        tooltip=_tooltip(),
        tiles=tiles,
        name="forecast",
    )
    coarse = sum_overview(shown, res, "expected", tiles=tiles, name="forecast-overview")
    return html_cells_map(shown, fine, coarse, tiles=tiles)


def _tooltip() -> dict[str, str]:
    return {"h3": "H3", "expected": t("expected"), "risk": t("risk"), "rank": t("rank")}


st.title(t("forecast"))
options = options_or_stop()
filters = filter_bar(options)
choices, default_model = run(forecast_models)
left, middle, right = st.columns(3)
model = left.selectbox(
    t("model"), list(choices), index=list(choices).index(default_model), format_func=worded()
)
if model not in FAST_MODELS:
    left.caption(f"{t('slow_model')} {t('precomputed_note')}")
horizon = middle.selectbox(t("horizon"), [1, 2, 3, 4])
top = right.number_input(t("top_cells"), min_value=10, max_value=5000, value=200, step=10)
target = target_select(middle, key="forecast_target")
result = run_or_stop(forecast, ForecastRequest(filters, model=model, horizon=int(horizon), target=target))

table = result.to_frame()
row = st.columns(3)
row[0].metric(t("period"), result.period)
row[1].metric(t("model"), word(result.model))
row[2].metric(t("expected_total"), f"{table['expected'].sum():,.1f}")
study_caption(result)
shown = table.head(int(top))
tiles = st.session_state.get("tiles", "osm")
deck = cell_deck(
    shown, fill=sequential_fill(shown["risk"]), tooltip=_tooltip(), tiles=tiles, layer_id="forecast"
)
clicked = show_cells(deck, key="forecast-map", layer_id="forecast")
show_table(shown)
downloads(table, shown, lambda: _map(shown, filters.resolution, tiles), "forecast")
cell_history_panel(table, clicked, filters, key="forecast-cell")
