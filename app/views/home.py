"""Overview page: what the database holds and the latest imports (:func:`services.imports.store_status`);
for city-wide roles, where the last week's cases are and the cases per day (:func:`services.kpi.recent_cases`,
in the city's time zone)."""

from __future__ import annotations

import streamlit as st

from app.context import current_user, db_key, service_context
from app.i18n import TABLE_LABELS, label, t
from app.safe_text import md
from app.tables import show_table
from services.imports import StoreStatus, store_status
from services.kpi import KPI_ROLES, RecentCases, recent_cases

#: Roles that see the whole city's cases (an inspector sees only their own cells: not on this page).
CITY_ROLES = KPI_ROLES


@st.cache_data(ttl=30)
def _status(key: str) -> StoreStatus:
    del key  # the cache key: one entry per database
    return store_status(service_context())


@st.cache_data(ttl=60)
def _recent(key: str, timezone: str) -> RecentCases:
    del key, timezone  # the cache key: one entry per database and zone
    return recent_cases(service_context())


def _city_overview() -> None:
    """Where the last week's cases are (a cell map) and the cases per day of the last four weeks."""
    from app.charts import show_time_bars
    from app.hexmap import cell_deck
    from app.map_layers import show_legend
    from app.maps import sequential_fill
    from grid.cells import cells_to_strings

    recent = _recent(db_key(), service_context().timezone)
    cells, daily = recent.cells, recent.daily
    if daily.empty:
        return
    st.subheader(t("recent_cases"))
    left, right = st.columns([3, 2])
    if len(cells):
        cells = cells.assign(h3=cells_to_strings(cells["cell"].to_numpy()))
        tiles = st.session_state.get("tiles", "osm")
        tooltip = {"h3": "H3", "count": t("cases")}
        deck = cell_deck(cells, fill=sequential_fill(cells["count"]), tooltip=tooltip, tiles=tiles)
        with left:  # the map and its legend (the cells' scale, the city's geography)
            st.pydeck_chart(deck, height=360, width="stretch")
            show_legend(getattr(deck, "legend", None) or [])
    with right:  # dates in the page's language
        show_time_bars(daily, "day", "count", x_title=t("date"), y_title=t("cases"), height=360)


st.title(t("app_title"))
st.caption(t("tagline"))
st.subheader(t("holds"))
status = _status(db_key())
items = list(status.counts.items())
for start in range(0, len(items), 4):  # 4 a row: seven in one row cut a million-row count off at 1400 px
    row = items[start : start + 4]
    for column, (table, count) in zip(st.columns(4)[: len(row)], row, strict=True):
        column.metric(label(TABLE_LABELS, table), f"{count:,}")
user = current_user()
if user is not None and user.role in CITY_ROLES:
    _city_overview()
st.subheader(t("imports"))
if status.imports.empty:
    st.info(t("no_imports"))
else:
    show_table(status.imports, timezone=service_context().timezone)
st.caption(f"{t('database')}: {md(service_context().engine.url.render_as_string(hide_password=True))}")
