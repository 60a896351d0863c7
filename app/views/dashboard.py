"""Manager's dashboard: KPI tiles, monthly trends, districts, and the department ranking with grades.

One call of :func:`services.kpi.dashboard` for the chosen filing range (the cases filed in it, evaluated
as of its end, in the city's time zone); the department ranking is the same table ``gridpatrol kpi --by
department`` writes for that range. Scores and grades follow the city's KPI scoring table.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from app.context import db_key, require_role, service_context
from app.i18n import error_text, t
from app.safe_text import safe_t
from app.tables import percent, show_table
from cases.csv_safe import csv_bytes
from services.errors import ServiceError
from services.kpi import TILES, DashboardRequest, DashboardResult, dashboard, filed_range

require_role("manager", "admin")


@st.cache_data(ttl=300, max_entries=2)
def _span(key: str, timezone: str) -> tuple[dt.date, dt.date] | None:
    del key, timezone  # the cache key: one entry per database and zone
    return filed_range(service_context())


@st.cache_data(ttl=300, max_entries=8)
def _dashboard(key: str, timezone: str, scoring: str, start: dt.date, end: dt.date) -> DashboardResult:
    del key, timezone, scoring  # the cache key
    return dashboard(service_context(), DashboardRequest(start=start, end=end))


st.title(t("dashboard"))
config = service_context().config
span = _span(db_key(), config.timezone)
if span is None:
    st.info(t("no_cases"))
    st.stop()
first, last = span
chosen = st.date_input(
    t("filed_range"), value=(max(first, last - dt.timedelta(days=89)), last), min_value=first, max_value=last
)
st.caption(safe_t("data_end", last=last))
start, end = (chosen[0], chosen[-1]) if isinstance(chosen, tuple | list) and chosen else (first, last)
try:
    with st.spinner(t("dashboard")):
        result = _dashboard(db_key(), config.timezone, config.kpi_scoring, start, end)
except ServiceError as exc:  # no case filed in the range …: say it, no traceback
    st.info(error_text(exc))
    st.stop()

overall = result.overall.iloc[0]
for column, name in zip(st.columns(len(TILES)), TILES, strict=True):
    column.metric(t(name), percent(None if pd.isna(overall[name]) else float(overall[name])))
cases, due = int(overall["cases"]), int(overall["should_close"])
st.caption(t("cohort", cases=f"{cases:,}", should_close=f"{due:,}"))

st.subheader(t("trend"))
trend = result.to_frame().set_index("month")[list(TILES)].rename(columns=t)
st.line_chart(trend, height=260)

st.subheader(t("department_ranking"))
ranking = result.departments.to_frame()
show_table(ranking)
st.download_button("CSV", csv_bytes(ranking), "departments.csv", "text/csv")

st.subheader(t("by_district"))
if result.districts is not None:
    show_table(result.districts.to_frame())
else:
    st.info(t("no_districts"))
