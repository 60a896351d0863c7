"""Overview page: what the database holds and the latest imports."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
import streamlit as st

from app.context import current_user, db_key, engine
from app.i18n import TABLE_LABELS, label, t
from cases.models import ImportBatch
from cases.store import recent_activity, table_counts

#: Roles that see the whole city's cases (an inspector sees only their own cells: not on this page).
CITY_ROLES = ("planner", "manager", "admin")


@st.cache_data(ttl=30)
def _counts(key: str) -> dict[str, int]:
    del key  # the cache key: one entry per database
    return table_counts(engine())


@st.cache_data(ttl=30)
def _recent_imports(key: str) -> pd.DataFrame:
    columns = [
        ImportBatch.kind,
        ImportBatch.source_file,
        ImportBatch.finished_at,
        ImportBatch.rows_read,
        ImportBatch.rows_imported,
        ImportBatch.rows_duplicate,
        ImportBatch.rows_quarantined,
    ]
    del key
    query = sa.select(*columns).order_by(ImportBatch.batch_id.desc()).limit(20)
    with engine().connect() as conn:
        return pd.DataFrame(conn.execute(query).all(), columns=[c.key for c in columns])


@st.cache_data(ttl=60)
def _recent(key: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    del key
    return recent_activity(engine())


def _city_overview() -> None:
    """Where the last week's cases are (a cell map) and the cases per day of the last four weeks."""
    from app.hexmap import cell_deck
    from app.maps import sequential_fill
    from grid.cells import cells_to_strings

    cells, daily = _recent(db_key())
    if daily.empty:
        return
    st.subheader(t("recent_cases"))
    left, right = st.columns([3, 2])
    if len(cells):
        cells = cells.assign(h3=cells_to_strings(cells["cell"].to_numpy()))
        tiles = st.session_state.get("tiles", "osm")
        tooltip = {"h3": "H3", "count": t("cases")}
        deck = cell_deck(cells, fill=sequential_fill(cells["count"]), tooltip=tooltip, tiles=tiles)
        left.pydeck_chart(deck, height=360, use_container_width=True)
    chart = daily.rename(columns={"day": t("date"), "count": t("cases")})
    right.bar_chart(chart, x=t("date"), y=t("cases"), height=360)


st.title(t("app_title"))
st.caption(t("tagline"))
st.subheader(t("holds"))
counts = _counts(db_key())
items = list(counts.items())
for start in range(0, len(items), 4):  # 4 a row: seven in one row cut a million-row count off at 1400 px
    row = items[start : start + 4]
    for column, (table, count) in zip(st.columns(4)[: len(row)], row, strict=True):
        column.metric(label(TABLE_LABELS, table), f"{count:,}")
user = current_user()
if user is not None and user.role in CITY_ROLES:
    _city_overview()
st.subheader(t("imports"))
imports = _recent_imports(db_key())
if imports.empty:
    st.info(t("no_imports"))
else:
    st.dataframe(imports, hide_index=True, use_container_width=True)
shown = sa.engine.make_url(db_key()).render_as_string(hide_password=True)
st.caption(f"{t('database')}: {shown}")
