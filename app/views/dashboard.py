"""Manager's dashboard: KPI tiles, monthly trends, districts, and the department ranking with grades.

Everything is computed by :mod:`analytics.kpi` from the stored cases and their event history
(:func:`cases.lifecycle.load_lifecycle_frame`, :func:`cases.lifecycle.load_events`): the cohort is the
cases filed in the chosen date range, evaluated as of its end. Department scores (base score minus
deductions, grades A–E) follow ``analytics/data/kpi_scoring.toml``.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from analytics.kpi import department_scores, kpi_table
from app.context import db_key, engine, require_role
from app.i18n import t
from cases.lifecycle import load_events, load_lifecycle_frame

require_role("manager", "admin")
TIMEZONE = "Asia/Shanghai"
TILES = ("closure_rate", "on_time_closure_rate", "rework_rate", "satisfaction_rate")


@st.cache_data(ttl=300, max_entries=2)
def _data(key: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    del key  # the cache key: one entry per database
    return load_lifecycle_frame(engine()), load_events(engine())


@st.cache_data(ttl=300, max_entries=2)
def _with_districts(key: str) -> pd.DataFrame | None:
    """Cases with district/subdistrict from the stored area polygons, or None without areas."""
    from analytics.kpi import attach_areas_from_polygons
    from cases.areas import load_areas

    areas = load_areas(engine())
    if areas is None or len(areas) == 0:
        return None
    return attach_areas_from_polygons(_data(key)[0], areas)


@st.cache_data(ttl=300, max_entries=8)
def _tables(key: str, start: dt.date, end: dt.date) -> dict[str, pd.DataFrame]:
    cases, events = _data(key)
    out = {
        "all": kpi_table(cases, events, start=start, end=end),
        "department": department_scores(kpi_table(cases, events, by="department", start=start, end=end)),
    }
    months = pd.period_range(pd.Period(start, "M"), pd.Period(end, "M"), freq="M")
    trend = [
        kpi_table(
            cases, events, start=max(m.start_time.date(), start), end=min(m.end_time.date(), end)
        ).assign(month=m.start_time)
        for m in months
    ]
    out["trend"] = pd.concat(trend, ignore_index=True)
    with_districts = _with_districts(key)
    if with_districts is not None and with_districts["district"].notna().any():
        out["district"] = kpi_table(with_districts, events, by="district", start=start, end=end)
    return out


st.title(t("dashboard"))
cases, _ = _data(db_key())
if cases.empty:
    st.info(t("no_cases"))
    st.stop()
filed = pd.to_datetime(cases["registered_at"].fillna(cases["reported_at"]), utc=True).dt.tz_convert(TIMEZONE)
first, last = filed.min().date(), filed.max().date()
span = st.date_input(
    t("filed_range"), value=(max(first, last - dt.timedelta(days=89)), last), min_value=first, max_value=last
)
start, end = (span[0], span[-1]) if isinstance(span, tuple | list) and span else (first, last)
with st.spinner(t("dashboard")):
    tables = _tables(db_key(), start, end)

overall = tables["all"].iloc[0]
for column, name in zip(st.columns(len(TILES)), TILES, strict=True):
    value = overall[name]
    column.metric(t(name), "–" if pd.isna(value) else f"{value:.1%}")
st.caption(t("cohort", cases=int(overall["cases"]), should_close=int(overall["should_close"])))

st.subheader(t("trend"))
trend = tables["trend"].set_index("month")[list(TILES)].rename(columns=t)
st.line_chart(trend, height=260)

st.subheader(t("department_ranking"))
ranking = tables["department"].sort_values("score", ascending=False)
st.dataframe(ranking, hide_index=True, use_container_width=True)
st.download_button("CSV", ranking.to_csv(index=False).encode("utf-8-sig"), "departments.csv", "text/csv")

st.subheader(t("by_district"))
if "district" in tables:
    st.dataframe(tables["district"], hide_index=True, use_container_width=True)
else:
    st.info(t("no_districts"))
