"""Map pieces the planner (and manager) pages share: class and quantity overviews, the deck.gl cell map, the
folium map for the HTML download, polygons for a download, and the three download buttons.

Maps are built by a cached function of the page (``st.cache_data`` keyed by the inputs), so a rerun that
does not change the inputs hands ``st_folium`` a copy of the same map — the same element ids, hence the same
HTML — and the browser does not redraw it. (Not ``st.cache_resource``: ``st_folium`` alters the map it
renders, so a shared object breaks the next session that renders it; ``st.cache_data`` hands each run its
own unpickled copy.)
"""

from __future__ import annotations

from collections.abc import Callable

import folium
import geopandas as gpd
import pandas as pd
import streamlit as st

from app.hexmap import cell_deck, quiet_parents, show_cells
from app.i18n import speaking, t, word
from app.map_layers import infer_cell_entries
from app.maps import (
    add_cells_with_overview,
    base_map,
    display_to_wgs84,
    fit_to,
    localize_assets,
    overview_layer,
    set_legend,
    standalone_html,
)
from cases.csv_safe import csv_bytes
from grid.cells import with_cell_polygons as with_polygons


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
    # the tooltip says the class in words; the fill keeps reading the code
    words = f"{column}_words"
    fine = fine.assign(**{words: fine[column].map(word)})
    tooltip = {(words if key == column else key): text for key, text in tooltip.items()}
    deck = cell_deck(fine, fill=fill(fine), tooltip=tooltip, tiles=tiles, layer_id=layer_id, background=quiet)
    return show_cells(deck, key=f"{layer_id}-map", layer_id=layer_id)


def html_cells_map(
    shown: gpd.GeoDataFrame, fine: folium.GeoJson, coarse: folium.GeoJson | None, *, tiles: str
) -> folium.Map:
    """A folium map of a cell layer (and its zoomed-out parents) fitted to ``shown``: the HTML download."""
    west, south, east, north = shown.total_bounds if len(shown) else (0.0, 0.0, 0.0, 0.0)
    m = base_map((south + north) / 2, (west + east) / 2, zoom=12, tiles=tiles)
    add_cells_with_overview(m, fine, coarse)
    fills = [f.get("properties", {}).get("fill", "") for f in (fine.data or {}).get("features", [])]
    set_legend(m, infer_cell_entries(pd.Series(fills, dtype=object)))
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
        return csv_bytes(table)

    def geojson() -> bytes:
        return with_polygons(shown).drop(columns="cell", errors="ignore").to_json().encode("utf-8")

    down1, down2, down3 = st.columns(3)
    down1.download_button("CSV", csv, f"{name}.csv", "text/csv")
    down2.download_button("GeoJSON", geojson, f"{name}.geojson", "application/geo+json")
    down3.download_button("HTML", html_page, f"{name}.html", "text/html")
