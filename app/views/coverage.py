"""Manager's coverage page: patrol coverage per inspector, the map of neglected cells, effectiveness.

Parses the widgets into a :class:`services.coverage.CoverageRequest` and an
:class:`~services.coverage.EffectivenessRequest`, calls the two services and draws their results
(:mod:`app.patrol_maps`). The default week is read from ``gridpatrol refresh``'s cache; other choices are
computed with a progress bar (:mod:`app.progress_widgets`). The defaults (days without a visit, the
forecast model, the zone) are the city configuration's.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import streamlit as st

from app.cell_maps import downloads, show_map
from app.context import require_role, service_context
from app.i18n import t, word, worded
from app.patrol_maps import with_polygons
from app.patrol_widgets import cached_map, message
from app.progress_widgets import run_or_stop, run_with_progress
from app.safe_text import safe_t
from app.tables import percent, show_table
from cases.csv_safe import csv_bytes
from services.coverage import (
    CoverageRequest,
    EffectivenessRequest,
    coverage_report,
    effectiveness,
    track_span,
)
from services.errors import ServiceError

require_role("manager", "admin")
ctx = service_context()
tiles = st.session_state.get("tiles", "osm")

st.title(t("coverage"))
span = track_span(ctx)
if span is None:
    st.info(t("no_tracks"))
    st.stop()
first, last = span
left, middle, right = st.columns(3)
chosen = left.date_input(
    t("date_range"), value=(max(first, last - dt.timedelta(days=6)), last), min_value=first, max_value=last
)
left.caption(safe_t("data_end", last=last))
start, end = (chosen[0], chosen[-1]) if isinstance(chosen, tuple | list) and chosen else (first, last)
per = worded(lambda f: t("day" if f == "D" else "week"))
freq = middle.radio(t("frequency"), ["D", "W"], format_func=per)
never_days = right.number_input(
    t("not_patrolled_days"), min_value=1, max_value=60, value=ctx.config.patrol.never_visited_days, step=1
)

report = run_or_stop(coverage_report, CoverageRequest(start, end, freq=freq, never_days=int(never_days)))
kpis, neglect = report.kpis, report.neglect
if neglect.empty:
    st.info(t("no_assignments"))
    st.stop()
per_inspector = report.per_inspector()
row = st.columns(4)
row[0].metric(t("inspector"), f"{per_inspector['inspector_id'].nunique():,}")
row[1].metric(t("assigned_cells"), f"{len(neglect):,}")
row[2].metric(t("neglected", n=report.never_days), f"{int(neglect['neglected'].sum()):,}")
row[3].metric(t("coverage"), percent(float(per_inspector["coverage_share"].mean()), 0))

st.subheader(t("coverage_by_inspector"))
chart = per_inspector.rename(columns={"inspector_id": t("inspector"), "coverage_share": t("coverage")})
st.bar_chart(chart, x=t("inspector"), y=t("coverage"), height=240)
show_table(kpis, timezone=ctx.timezone)
st.download_button("CSV", csv_bytes(kpis), "coverage.csv", "text/csv")

st.subheader(t("neglected_map"))
tooltip = {
    "h3": "H3",
    "inspector_id": t("inspector"),
    "days_since_visit": t("days_since_visit"),
    "visit_days": t("visited"),
}
m = cached_map("neglect_map", neglect, tooltip, tiles)
show_map(m, key="coverage-map")
table = neglect.sort_values("days_since_visit", ascending=False)
show_table(table[table["neglected"]], timezone=ctx.timezone)
plain = table.assign(
    last_visit=table["last_visit"].astype(str),
    days_since_visit=table["days_since_visit"].where(np.isfinite(table["days_since_visit"])),
)
downloads(table, with_polygons(plain), lambda: m, "neglected_cells")

st.subheader(t("effectiveness"))
st.caption(t("effectiveness_help"))
try:
    result = run_with_progress(effectiveness, EffectivenessRequest(start, end))
except ServiceError as exc:  # no case in the range …: say it, no traceback
    st.info(message(exc))
    st.stop()
if not result.tracks_found:
    st.warning(t("no_tracks"))
effect, gap = result.table, result.gap.drop(columns="geometry")
show_table(effect, timezone=ctx.timezone)
st.download_button(
    "CSV", csv_bytes(effect), "effectiveness.csv", "text/csv", key="eff-csv"
)
st.subheader(t("allocation_gap"))
st.caption(t("allocation_gap_help", source=word(result.expected_source)))
counts = gap["status"].value_counts()
for col, status in zip(st.columns(3), ("under", "balanced", "over"), strict=True):
    col.metric(t(f"gap_{status}"), f"{int(counts.get(status, 0)):,}")
labels = {"h3": "H3", "status_words": t("gap_status"), "expected": t("expected")}
labels["patrol_minutes"] = t("minutes")
shown_map = cached_map("gap_map", gap.assign(status_words=gap["status"].map(word)), labels, tiles)
show_map(shown_map, key="gap-map")
ranked = gap.sort_values("gap", ascending=False)
show_table(ranked, timezone=ctx.timezone)
downloads(ranked, with_polygons(ranked), lambda: shown_map, "allocation_gap")
