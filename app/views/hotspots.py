"""Planner's hot-spot page: Getis-Ord Gi* classes of case counts on the H3 grid, with filters and exports."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from analytics.cube import build_cube, universe_from_cases
from analytics.hotspots import cube_hotspots
from app.context import db_key, engine, require_role
from app.i18n import t
from app.maps import GI_CLASS_COLOURS, base_map, cells_layer, localize_assets, standalone_html
from cases.categories import load_categories
from cases.store import load_case_frame
from grid.cells import cells_to_strings

require_role("planner", "manager", "admin")


@st.cache_data(ttl=300, max_entries=4)
def _cases(key: str) -> pd.DataFrame:
    del key  # the cache key: one entry per database
    return load_case_frame(engine())


@st.cache_data(ttl=300, max_entries=16)
def _hotspots(
    key: str, res: int, period: str, k: int, classes: tuple[str, ...], start: dt.date, end: dt.date
) -> gpd.GeoDataFrame:
    cases = _cases(key)
    cube = build_cube(
        cases,
        universe_from_cases(cases, res, k=k),
        period=period,
        categories=list(classes) or None,
        category_table=load_categories(),
        start=start,
        end=end,
    )
    frame = cube_hotspots(cube, k=k).to_geodataframe()
    frame.insert(1, "h3", cells_to_strings(frame["cell"].to_numpy()))
    return frame[["cell", "h3", "count", "gi_z", "gi_p", "gi_q", "gi_class", "geometry"]]


st.title(t("hotspots"))
cases = _cases(db_key())
if cases.empty:
    st.info(t("no_cases"))
    st.stop()
local_days = cases["reported_at"].dt.tz_convert("Asia/Shanghai").dt.date
categories = load_categories()
class_names = categories.drop_duplicates("class_code").set_index("class_code")["class_name_zh"].to_dict()
left, middle, right = st.columns(3)
res = left.selectbox(t("resolution"), [8, 9, 10], index=1)
k = left.selectbox(t("rings"), [1, 2, 3], index=0)
period = middle.selectbox(t("period"), ["week", "month", "day"])
picked = middle.multiselect(
    t("category_class"), sorted(class_names), format_func=lambda c: f"{c} {class_names.get(c, '')}"
)
first, last = local_days.min(), local_days.max()
span = right.date_input(t("date_range"), value=(first, last), min_value=first, max_value=last)
start, end = (span[0], span[-1]) if isinstance(span, tuple | list) and span else (first, last)

try:
    result = _hotspots(db_key(), res, period, k, tuple(picked), start, end)
except ValueError as exc:  # an empty selection, an unknown category …: say it, no traceback
    st.warning(str(exc))
    st.stop()

counts = result["gi_class"].value_counts()
for column, name in zip(st.columns(len(GI_CLASS_COLOURS)), GI_CLASS_COLOURS, strict=True):
    column.metric(name, f"{counts.get(name, 0):,}")
shown = result[(result["count"] > 0) | (result["gi_class"] != "not_significant")]
tiles = st.session_state.get("tiles", "osm")
centre = shown.geometry.union_all().centroid if len(shown) else result.geometry.union_all().centroid
m = base_map(centre.y, centre.x, zoom=12, tiles=tiles)
cells_layer(
    shown,
    fill=shown["gi_class"].astype(str).map(GI_CLASS_COLOURS),
    tooltip={"h3": "H3", "count": t("cases"), "gi_z": "Gi* z", "gi_class": t("class")},
    tiles=tiles,
    name="hotspots",
).add_to(m)
st_folium(localize_assets(m), height=560, use_container_width=True, returned_objects=[], key=f"map-{res}")

table = result.drop(columns="geometry").sort_values("gi_z", ascending=False)
st.dataframe(table.head(200), hide_index=True, use_container_width=True)
down1, down2, down3 = st.columns(3)
down1.download_button("CSV", table.to_csv(index=False).encode("utf-8-sig"), "hotspots.csv", "text/csv")
down2.download_button(
    "GeoJSON",
    shown.drop(columns="cell").to_json().encode("utf-8"),
    "hotspots.geojson",
    "application/geo+json",
)
down3.download_button("HTML", standalone_html(m).encode("utf-8"), "hotspots.html", "text/html")
