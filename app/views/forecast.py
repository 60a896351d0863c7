"""Planner's forecast page: expected cases per cell next period (:func:`analytics.forecast.forecast_cells`).

The model is a choice: default the 4-period moving average; the learned models and ``auto`` (which
backtests every model on the city's own history and keeps the best PAI at 5 % area) take minutes. The
forecast is made as of the end of the chosen date range, so later cases are never used. Click a cell (or
pick it) for its history and cases.
"""

from __future__ import annotations

import folium
import pandas as pd
import streamlit as st

from analytics.cube import universe_from_cases
from analytics.forecast import MODELS, forecast_cells
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
    html_cells_map,
    local_day_bounds,
    pick_cell,
    sum_overview,
    with_polygons,
)
from grid.cells import cells_to_strings

require_role("planner", "manager", "admin")
# Baselines answer in a fraction of a second; the learned models (and "auto", which backtests all of them)
# take a minute or more on a city, so they are offered but never the default.
SLOW_MODELS = ("poisson_gbm", "ensemble", "auto")
MODEL_CHOICES = [*(m for m in MODELS if m not in SLOW_MODELS), *SLOW_MODELS]
DEFAULT_MODEL = "baseline_ma4"


@st.cache_data(ttl=600, max_entries=16)
def _forecast(key: str, filters: Filters, model: str, horizon: int) -> pd.DataFrame:
    """The forecast table (no polygons: the map draws cells from their ids; a download adds them)."""
    cases = case_frame(key)
    if filters.sources:
        cases = cases[cases["source"].isin(filters.sources)]
    cases = cases[(cases["reported_at"] >= local_day_bounds(filters.start, filters.end)[0]).to_numpy()]
    frame = forecast_cells(
        cases,
        universe_from_cases(cases, filters.res, k=1),
        period=filters.period,
        horizon=horizon,
        model=model,
        as_of=filters.end,
        categories=list(filters.classes) or None,
    )
    frame.insert(1, "h3", cells_to_strings(frame["cell"].to_numpy()))
    frame["period_start"] = frame["period_start"].dt.strftime("%Y-%m-%d")  # plain text for GeoJSON
    return frame


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
cases = case_frame(db_key())
if cases.empty:
    st.info(t("no_cases"))
    st.stop()
filters = filter_bar(cases)
left, middle, right = st.columns(3)
model = left.selectbox(t("model"), MODEL_CHOICES, index=MODEL_CHOICES.index(DEFAULT_MODEL))
if model in SLOW_MODELS:
    left.caption(t("slow_model"))
horizon = middle.selectbox(t("horizon"), [1, 2, 3, 4])
top = right.number_input(t("top_cells"), min_value=10, max_value=5000, value=200, step=10)
try:
    with st.spinner(t("forecasting")):
        result = _forecast(db_key(), filters, model, int(horizon))
except ValueError as exc:  # too few periods, empty selection …: say it, no traceback
    st.warning(t("too_few", error=str(exc)))
    st.stop()

row = st.columns(3)
row[0].metric(t("period"), str(result["period"].iloc[0]))
row[1].metric(t("model"), str(result["model"].iloc[0]))
row[2].metric(t("expected_total"), f"{result['expected'].sum():,.1f}")
shown = result.head(int(top))
tiles = st.session_state.get("tiles", "osm")
fill = sequential_fill(shown["risk"])
deck = cell_deck(shown, fill=fill, tooltip=_tooltip(), tiles=tiles, layer_id="forecast")
clicked = show_cells(deck, key="forecast-map", layer_id="forecast")
table = result
st.dataframe(table.head(int(top)), hide_index=True, use_container_width=True)
downloads(table, shown, lambda: _map(shown, filters.res, tiles), "forecast")
cell = pick_cell(table, clicked, key="forecast-cell")
if cell is not None:
    cell_history(cases, cell, filters.res, filters.period, filters)
