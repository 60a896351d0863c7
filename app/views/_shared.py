"""Pieces the planner pages share: cached case data, the filter bar, the clicked cell's history, downloads.

Not a page (no entry in ``PAGES``): the pages import it. Maps are built by a cached function of the page
(``st.cache_data`` keyed by the inputs), so a rerun that does not change the inputs hands ``st_folium`` a
copy of the same map — the same element ids, hence the same HTML — and the browser does not redraw it.
(Not ``st.cache_resource``: ``st_folium`` alters the map it renders, so a shared object breaks the next
session that renders it; ``st.cache_data`` hands each run its own unpickled copy.)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import sqlalchemy as sa
import streamlit as st

from analytics.cube import CaseCube, build_cube, universe_from_cases
from app.context import case_frame, db_key, engine
from app.hexmap import cell_deck, quiet_parents, show_cells
from app.i18n import speaking, t
from app.maps import (
    add_cells_with_overview,
    base_map,
    display_to_wgs84,
    fit_to,
    localize_assets,
    overview_layer,
    standalone_html,
)
from cases.categories import load_categories
from cases.models import CASE_SOURCES, Case
from grid.cells import cells_to_parents, cells_to_polygons, cells_to_strings, strings_to_cells

TIMEZONE = "Asia/Shanghai"


@st.cache_data(ttl=3600)
def category_table() -> pd.DataFrame:
    """The shipped standard category table (:func:`cases.categories.load_categories`)."""
    return load_categories()


@dataclasses.dataclass(frozen=True)
class Filters:
    """The planner's filter bar: resolution, period, category classes, sources and local date range."""

    res: int
    period: str
    classes: tuple[str, ...]
    sources: tuple[str, ...]
    start: dt.date
    end: dt.date


def filtered_cube(key: str, filters: Filters, *, ring: int) -> CaseCube:
    """The cell × period cube of the cached cases under ``filters``, over the cells with cases plus
    ``ring`` rings around them (:func:`analytics.cube.universe_from_cases`)."""
    cases = case_frame(key)
    return build_cube(
        cases,
        universe_from_cases(cases, filters.res, k=ring),
        period=filters.period,
        categories=list(filters.classes) or None,
        category_table=category_table(),
        sources=list(filters.sources) or None,
        start=filters.start,
        end=filters.end,
    )


def filter_bar(cases: pd.DataFrame, *, periods: tuple[str, ...] = ("week", "month", "day")) -> Filters:
    """Draw the filter widgets (three columns) and return the choice."""
    # The first and last local days from the extreme timestamps: ``.dt.date`` on every case would build a
    # Python date per row (a year of cases: ~0.3 s on every rerun).
    stamps = cases["reported_at"]
    first, last = (stamps.min().tz_convert(TIMEZONE).date(), stamps.max().tz_convert(TIMEZONE).date())
    categories = category_table()
    class_names = categories.drop_duplicates("class_code").set_index("class_code")["class_name_zh"].to_dict()
    left, middle, right = st.columns(3)
    res = left.selectbox(t("resolution"), [8, 9, 10], index=1)
    period = left.selectbox(t("period"), list(periods))
    picked = middle.multiselect(
        t("category_class"), sorted(class_names), format_func=lambda c: f"{c} {class_names.get(c, '')}"
    )
    seen = set(cases["source"].dropna().unique())  # once: a set per source took ~0.3 s per rerun (a year)
    present = [s for s in CASE_SOURCES if s in seen]
    sources = middle.multiselect(t("source"), present)
    span = right.date_input(t("date_range"), value=(first, last), min_value=first, max_value=last)
    start, end = (span[0], span[-1]) if isinstance(span, tuple | list) and span else (first, last)
    return Filters(int(res), str(period), tuple(picked), tuple(sources), start, end)


def class_overview(
    shown: gpd.GeoDataFrame, res: int, column: str, colours: dict[str, str], *, tiles: str, name: str
) -> folium.GeoJson | None:
    """Zoomed-out layer of a class map: each parent cell shows the ``column`` class holding most cases."""
    return overview_layer(
        shown,
        res,
        sums=("count",),
        dominant=column,
        weight="count",
        colours=colours,
        tooltip={"h3": "H3", "count": t("cases"), column: t(column), "children": t("cells")},
        tiles=tiles,
        name=name,
    )


def sum_overview(
    shown: gpd.GeoDataFrame, res: int, column: str, *, tiles: str, name: str
) -> folium.GeoJson | None:
    """Zoomed-out layer of a quantity map: ``column`` summed over each parent cell's shown cells."""
    return overview_layer(
        shown[["cell", column, "geometry"]],
        res,
        sums=(column,),
        tooltip={"h3": "H3", column: t(column), "children": t("cells")},
        tiles=tiles,
        name=name,
    )


def show_class_cells(
    shown: pd.DataFrame,
    column: str,
    quiet_value: str,
    fill: Callable[[pd.DataFrame], pd.Series],
    tooltip: dict[str, str],
    *,
    res: int,
    layer_id: str,
) -> str | None:
    """Draw a class map of ``shown`` with deck.gl; the H3 string of the clicked cell, if any.

    Over 2,500 cells those whose ``column`` is ``quiet_value`` (not significant, no pattern) are drawn as
    their parents (:func:`app.hexmap.quiet_parents`): a few thousand hexagons for the browser, not ~9,000.
    """
    fine, quiet = quiet_parents(shown, shown[column] == quiet_value, res)
    quiet = quiet.assign(**{column: quiet_value}) if quiet is not None else None
    tiles = st.session_state.get("tiles", "osm")
    deck = cell_deck(fine, fill=fill(fine), tooltip=tooltip, tiles=tiles, layer_id=layer_id, background=quiet)
    return show_cells(deck, key=f"{layer_id}-map", layer_id=layer_id)


def html_cells_map(
    shown: gpd.GeoDataFrame, fine: folium.GeoJson, coarse: folium.GeoJson | None, *, tiles: str
) -> folium.Map:
    """A folium map of a cell layer (and its zoomed-out parents) fitted to ``shown``: the HTML download."""
    west, south, east, north = shown.total_bounds if len(shown) else (0.0, 0.0, 0.0, 0.0)
    m = base_map((south + north) / 2, (west + east) / 2, zoom=12, tiles=tiles)
    add_cells_with_overview(m, fine, coarse)
    return fit_to(m, shown, tiles=tiles)


def show_map(m: folium.Map, *, key: str, height: int = 560) -> tuple[float, float] | None:
    """Draw ``m`` (assets served locally) and return the WGS-84 (lat, lon) of the last click, if any.

    Only ``last_clicked`` comes back from the browser, so panning and zooming do not rerun the page.
    """
    from streamlit_folium import st_folium  # here: the deck.gl pages need not import it (~0.2 s)

    state = st_folium(
        localize_assets(m),
        height=height,
        use_container_width=True,
        returned_objects=["last_clicked"],
        key=key,
    )
    clicked = (state or {}).get("last_clicked")
    if not clicked:
        return None
    return display_to_wgs84(clicked["lat"], clicked["lng"], st.session_state.get("tiles", "osm"))


def pick_cell(table: pd.DataFrame, clicked: str | None, *, key: str) -> int | None:
    """The cell whose history to show: the clicked one (an H3 string), else one picked from ``table.h3``."""
    options = list(table["h3"].head(200))
    if clicked is not None:
        if clicked not in options:
            options.insert(0, clicked)
        st.session_state[key] = clicked
    if not options:
        return None
    choice = st.selectbox(t("cell_history_pick"), options, key=key)
    return int(strings_to_cells([choice])[0]) if choice else None


def local_day_bounds(start: dt.date, end: dt.date) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The city's local days ``start``…``end`` (inclusive) as the half-open interval [start, stop) of
    tz-aware timestamps: comparing timestamps is vectorised, ``.dt.date`` is one Python object per row."""
    return pd.Timestamp(start, tz=TIMEZONE), pd.Timestamp(end, tz=TIMEZONE) + pd.Timedelta(days=1)


def cell_history(cases: pd.DataFrame, cell: int, res: int, period: str, filters: Filters) -> None:
    """Draw the history of ``cell`` (at ``res``): cases per ``period`` over the date range, and its cases."""
    parents = cells_to_parents(cases["cell"].to_numpy(dtype=np.int64), res)
    local = cases["reported_at"].dt.tz_convert(TIMEZONE)
    start, stop = local_day_bounds(filters.start, filters.end)
    inside = (parents == cell) & (local >= start).to_numpy() & (local < stop).to_numpy()
    freq = {"day": "D", "week": "W-SUN", "month": "M"}[period]
    stamps = local[inside].dt.tz_localize(None).dt.to_period(freq)
    span = pd.period_range(pd.Period(filters.start, freq), pd.Period(filters.end, freq), freq=freq)
    counts = stamps.value_counts().reindex(span, fill_value=0)
    history = pd.DataFrame({t("period"): span.start_time, t("cases"): counts.to_numpy()})
    st.subheader(t("cell_history", cell=cells_to_strings(np.array([cell]))[0]))
    st.bar_chart(history, x=t("period"), y=t("cases"), height=220)
    ids = cases.loc[inside, "case_id"].astype(str).tolist()
    st.dataframe(case_rows(ids), hide_index=True, use_container_width=True)


def case_rows(case_ids: list[str], *, limit: int = 500) -> pd.DataFrame:
    """Case table for display (newest first, at most ``limit``); the phone column is left out on purpose.

    ``st.dataframe`` draws cell text as text, never as HTML, so descriptions need no escaping here.
    """
    columns = [Case.case_id, Case.reported_at, Case.category_code, Case.source, Case.status, Case.description]
    rows: list[tuple] = []
    with engine().connect() as conn:
        for i in range(0, min(len(case_ids), 20_000), 900):  # stay under SQLite's bound-parameter limit
            chunk = case_ids[i : i + 900]
            rows.extend(conn.execute(sa.select(*columns).where(Case.case_id.in_(chunk))).all())
    frame = pd.DataFrame(rows, columns=[c.key for c in columns])
    if frame.empty:
        return frame
    frame["reported_at"] = pd.to_datetime(frame["reported_at"], utc=True).dt.tz_convert(TIMEZONE)
    names = category_table().set_index("code")["name_zh"]
    frame.insert(3, "category", frame["category_code"].map(names))
    return frame.sort_values("reported_at", ascending=False).head(limit)


def with_polygons(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    """``frame`` with its ``cell`` polygons (EPSG:4326) as geometry; a GeoDataFrame is returned as it is.

    The planner pages cache and draw plain frames (deck.gl draws cells from their ids): polygons are built
    only for a download.
    """
    if isinstance(frame, gpd.GeoDataFrame):
        return frame
    polygons = cells_to_polygons(frame["cell"].to_numpy(dtype=np.int64))
    return gpd.GeoDataFrame(frame.reset_index(drop=True), geometry=polygons.geometry.to_numpy(), crs=4326)


def downloads(
    table: pd.DataFrame, shown: pd.DataFrame, html_map: Callable[[], folium.Map], name: str
) -> None:
    """CSV of ``table``, GeoJSON of ``shown`` (polygons added if it has none) and the map as standalone HTML.

    Each file is built only when its button is clicked (deferred downloads: they run outside the script run;
    ``html_map`` in the session's language) — not on every rerun; the HTML is a folium map that opens offline.
    """
    lang = st.session_state.get("lang", "zh")

    def html_page() -> bytes:
        with speaking(lang):
            return standalone_html(html_map()).encode("utf-8")

    def csv() -> bytes:
        return table.to_csv(index=False).encode("utf-8-sig")

    def geojson() -> bytes:
        return with_polygons(shown).drop(columns="cell", errors="ignore").to_json().encode("utf-8")

    down1, down2, down3 = st.columns(3)
    down1.download_button("CSV", csv, f"{name}.csv", "text/csv")
    down2.download_button("GeoJSON", geojson, f"{name}.geojson", "application/geo+json")
    down3.download_button("HTML", html_page, f"{name}.html", "text/html")


def current_db() -> str:
    """The cache key of the configured database."""
    return db_key()


def neglect_table(
    fine: pd.DataFrame, cells: np.ndarray, *, as_of: pd.Timestamp, never_days: int
) -> pd.DataFrame:
    """:func:`patrol.kpis.cell_neglect` in the city's zone (all never visited if ``fine`` is empty)."""
    from patrol.kpis import cell_neglect

    return cell_neglect(fine, cells, as_of=as_of, never_days=never_days, timezone=TIMEZONE)
