"""Manager's coverage page: patrol coverage per inspector and the map of neglected cells.

Reads the track store (``<data dir>/tracks`` or the demo city's) one day at a time
(:func:`patrol.scale.fine_cube_from_store`), the assignments from the database, and reports
:func:`patrol.kpis.inspector_coverage` (share of assigned cells visited, per day or week) and
:func:`patrol.kpis.cell_neglect` (assigned cells not visited for N days before the end of the range).
"""

from __future__ import annotations

import datetime as dt

import folium
import numpy as np
import pandas as pd
import sqlalchemy as sa
import streamlit as st

from app.context import db_key, engine, require_role, tracks_root
from app.i18n import t
from app.maps import base_map, cells_layer, fit_to
from app.views._shared import TIMEZONE, downloads, neglect_table, show_map
from cases.models import Assignment
from grid.cells import cells_to_polygons, cells_to_strings
from patrol.kpis import inspector_coverage
from patrol.scale import fine_cube_from_store
from patrol.store import day_paths

require_role("manager", "admin")


@st.cache_data(ttl=300)
def _assignments(key: str) -> pd.DataFrame:
    del key  # the cache key: one entry per database
    a = Assignment.__table__.c
    with engine().connect() as conn:
        rows = conn.execute(sa.select(a.inspector_id, a.cell, a.valid_from, a.valid_to)).all()
    frame = pd.DataFrame(rows, columns=["inspector_id", "cell", "valid_from", "valid_to"])
    frame["cell"] = frame["cell"].astype("int64")
    for column in ("valid_from", "valid_to"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


@st.cache_data(ttl=300, max_entries=8)
def _fine(root: str, start: dt.date, end: dt.date) -> pd.DataFrame:
    return fine_cube_from_store(root, start, end, timezone=TIMEZONE)


@st.cache_data(ttl=300, max_entries=8)
def _report(
    key: str, root: str, start: dt.date, end: dt.date, freq: str, never_days: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    assignments = _assignments(key)
    fine = _fine(root, start, end)
    days = pd.date_range(start, end, freq="D", tz=TIMEZONE)
    kpis = inspector_coverage(fine, assignments, days, freq=freq)
    range_start = days[0].tz_convert("UTC")
    range_end = (days[-1] + pd.Timedelta(days=1)).tz_convert("UTC")
    valid_to = assignments["valid_to"].fillna(pd.Timestamp("2200-01-01", tz="UTC"))
    live = assignments[(assignments["valid_from"] < range_end) & (valid_to > range_start)]
    neglect = neglect_table(fine, live["cell"].to_numpy(), as_of=range_end, never_days=never_days)
    owners = live.groupby("cell")["inspector_id"].agg(lambda s: ", ".join(sorted(set(s))))
    neglect["inspector_id"] = neglect["cell"].map(owners)
    neglect.insert(1, "h3", cells_to_strings(neglect["cell"].to_numpy()))
    return kpis, neglect


def _cells_map(
    table: pd.DataFrame, fill: pd.Series, tooltip: dict[str, str], *, tiles: str, name: str
) -> folium.Map:
    """A folium map of ``table``'s cells (``cell`` plus the tooltip columns, shown as text) fitted to them."""
    polygons = cells_to_polygons(table["cell"].to_numpy()).drop(columns=["cell", "area_m2"])
    frame = polygons.join(table.drop(columns="cell").reset_index(drop=True))
    centre = frame.geometry.union_all().centroid
    m = base_map(centre.y, centre.x, zoom=13, tiles=tiles)
    cells_layer(frame, fill=fill.reset_index(drop=True), tooltip=tooltip, tiles=tiles, name=name).add_to(m)
    return fit_to(m, frame, tiles=tiles)


@st.cache_data(ttl=300, max_entries=8)
def _map(
    key: str, root: str, start: dt.date, end: dt.date, freq: str, never_days: int, tiles: str, lang: str
) -> folium.Map:
    """The neglect map of one choice, built once: reruns hand the browser a copy with the same HTML."""
    _, neglect = _report(key, root, start, end, freq, never_days)
    tooltip = {
        "h3": "H3",
        "inspector_id": t("inspector"),
        "days_since_visit": t("days_since_visit"),
        "visit_days": t("visited"),
    }
    return _cells_map(
        neglect.assign(days_since_visit=neglect["days_since_visit"].round(1).astype(str)),
        neglect["neglected"].map({True: "#e31a1c", False: "#a1d99b"}),
        tooltip,
        tiles=tiles,
        name="neglect",
    )


st.title(t("coverage"))
root = tracks_root()
stored = day_paths(root) if root is not None else []
if not stored:
    st.info(t("no_tracks"))
    st.stop()
if _assignments(db_key()).empty:
    st.info(t("no_assignments"))
    st.stop()
first, last = stored[0][0], stored[-1][0]
left, middle, right = st.columns(3)
span = left.date_input(
    t("date_range"), value=(max(first, last - dt.timedelta(days=6)), last), min_value=first, max_value=last
)
start, end = (span[0], span[-1]) if isinstance(span, tuple | list) and span else (first, last)
freq = middle.radio(t("frequency"), ["D", "W"], format_func=lambda f: t("day" if f == "D" else "week"))
never_days = right.number_input(t("not_patrolled_days"), min_value=1, max_value=60, value=3, step=1)

with st.spinner(t("coverage")):
    kpis, neglect = _report(db_key(), str(root), start, end, freq, int(never_days))
per_inspector = kpis.groupby("inspector_id", as_index=False).agg(
    coverage_share=("coverage_share", "mean"),
    assigned_cells=("assigned_cells", "max"),
    patrol_minutes=("patrol_minutes", "sum"),
)
row = st.columns(4)
row[0].metric(t("inspector"), f"{per_inspector['inspector_id'].nunique():,}")
row[1].metric(t("assigned_cells"), f"{len(neglect):,}")
row[2].metric(t("neglected", n=int(never_days)), f"{int(neglect['neglected'].sum()):,}")
row[3].metric(t("coverage"), f"{per_inspector['coverage_share'].mean():.0%}")

st.subheader(t("coverage_by_inspector"))
st.bar_chart(per_inspector, x="inspector_id", y="coverage_share", height=240)
st.dataframe(kpis, hide_index=True, use_container_width=True)
st.download_button("CSV", kpis.to_csv(index=False).encode("utf-8-sig"), "coverage.csv", "text/csv")

st.subheader(t("neglected_map"))
m = _map(
    db_key(),
    str(root),
    start,
    end,
    freq,
    int(never_days),
    st.session_state.get("tiles", "osm"),
    st.session_state.get("lang", "zh"),
)
show_map(m, key="coverage-map")
table = neglect.sort_values("days_since_visit", ascending=False)
st.dataframe(table[table["neglected"]], hide_index=True, use_container_width=True)
polygons = cells_to_polygons(table["cell"].to_numpy()).drop(columns=["cell", "area_m2"])
plain = table.reset_index(drop=True).assign(
    last_visit=table["last_visit"].astype(str).to_numpy(),
    days_since_visit=table["days_since_visit"].where(np.isfinite(table["days_since_visit"])).to_numpy(),
)
shown = polygons.join(plain)
downloads(table, shown, lambda: m, "neglected_cells")


@st.cache_data(ttl=300, max_entries=4)
def _effectiveness(key: str, root: str, start: dt.date, end: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per inspector :func:`patrol.effectiveness.effectiveness_table` and the per-cell allocation gap.

    Expected problems come from the forecast on the history before ``start``
    (:func:`patrol.effectiveness.expected_problems`), over the assigned cells.
    """
    from cases.lifecycle import load_events, load_lifecycle_frame
    from patrol.effectiveness import allocation_gap, effectiveness_table, expected_problems, visits_from_store

    every = load_lifecycle_frame(engine())
    every = every[every["cell"].notna().to_numpy()].reset_index(drop=True).astype({"cell": "int64"})
    local = pd.to_datetime(every["reported_at"], utc=True).dt.tz_convert(TIMEZONE).dt.date
    cases = every[((local >= start) & (local <= end)).to_numpy()].reset_index(drop=True)
    visits = visits_from_store(root, start, end, timezone=TIMEZONE)
    beats = _assignments(key).drop_duplicates("cell")[["cell", "inspector_id"]]
    table = effectiveness_table(cases, visits, "inspector", events=load_events(engine()), beats=beats)
    universe = np.unique(beats["cell"].to_numpy(dtype=np.int64))
    expected, source = expected_problems(every, universe, start, end, timezone=TIMEZONE)
    gap = allocation_gap(visits, expected, cells=universe)
    gap = pd.DataFrame(gap.drop(columns="geometry")).assign(expected_source=source)
    return table, gap


@st.cache_data(ttl=300, max_entries=4)
def _gap_map(key: str, root: str, start: dt.date, end: dt.date, tiles: str, lang: str) -> folium.Map:
    """The allocation-gap map (under / balanced / over-patrolled cells), built once per choice."""
    _, gap = _effectiveness(key, root, start, end)
    tooltip = {
        "h3": "H3",
        "status": t("gap_status"),
        "expected": t("expected"),
        "patrol_minutes": t("minutes"),
    }
    return _cells_map(
        gap.assign(
            expected=gap["expected"].round(2).astype(str),
            patrol_minutes=gap["patrol_minutes"].round(0).astype(str),
        ),
        gap["status"].map(GAP_COLOURS).fillna("#cccccc"),
        tooltip,
        tiles=tiles,
        name="allocation-gap",
    )


#: under-patrolled red, balanced grey, over-patrolled blue, nothing expected nor patrolled white
GAP_COLOURS = {"under": "#d7301f", "balanced": "#bdbdbd", "over": "#2b8cbe", "idle": "#ffffff"}

st.subheader(t("effectiveness"))
st.caption(t("effectiveness_help"))
try:
    with st.spinner(t("effectiveness")):
        effect, gap = _effectiveness(db_key(), str(root), start, end)
except ValueError as exc:  # no case in the range …: say it, no traceback
    st.info(t("too_few", error=str(exc)))
else:
    st.dataframe(effect, hide_index=True, use_container_width=True)
    st.download_button(
        "CSV", effect.to_csv(index=False).encode("utf-8-sig"), "effectiveness.csv", "text/csv", key="eff-csv"
    )
    st.subheader(t("allocation_gap"))
    st.caption(t("allocation_gap_help", source=gap["expected_source"].iloc[0] if len(gap) else "-"))
    counts = gap["status"].value_counts()
    cols = st.columns(3)
    for col, status in zip(cols, ("under", "balanced", "over"), strict=True):
        col.metric(t(f"gap_{status}"), f"{int(counts.get(status, 0)):,}")
    tiles, lang = st.session_state.get("tiles", "osm"), st.session_state.get("lang", "zh")
    gap_map = _gap_map(db_key(), str(root), start, end, tiles, lang)
    show_map(gap_map, key="gap-map")
    st.dataframe(gap.sort_values("gap", ascending=False), hide_index=True, use_container_width=True)
    shown_gap = cells_to_polygons(gap["cell"].to_numpy()).drop(columns=["cell", "area_m2"]).join(gap)
    downloads(gap.sort_values("gap", ascending=False), shown_gap, lambda: gap_map, "allocation_gap")
