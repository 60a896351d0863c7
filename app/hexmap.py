"""Maps of many H3 cells drawn by deck.gl (``st.pydeck_chart``): the browser gets cell ids, not polygons.

Why not the folium builder (:mod:`app.maps`) for the planner's cell maps: a year of a city's cases fills
~10k–40k res-10 cells, and as GeoJSON polygons that is ~4 MB for Leaflet to parse and draw on every filter
change (measured 7.5–8 s). deck.gl's ``H3HexagonLayer`` receives each cell as its 15-character H3 id with a
fill colour and builds the hexagons on the GPU (h3-js and deck.gl ship inside Streamlit's own frontend, so
nothing is fetched from a CDN and it works offline).

- The base map is the same setting as for folium (:data:`app.maps.TILE_PROVIDERS`): a raster style handed to
  Streamlit's map component as a ``data:`` URL (no style server, no token; with ``none`` there is no base map
  at all, not even Streamlit's default Carto one). If tiles cannot load, the cells still draw.
- Over Gaode tiles (GCJ-02) the cells are drawn as shifted polygons (``PolygonLayer``): an H3 id can only be
  drawn in WGS-84, and there the cells would land ~0.5 km off the streets.
- Tooltips are deck.gl ``text`` tooltips (set as ``innerText``: untrusted text cannot become markup); the
  values are also HTML-escaped, as everywhere.
- A click selects a cell (Streamlit's selection event) and the page shows that cell's history.
- The city's geography (outlines, streets, water: :mod:`app.map_layers`) is drawn under the cells, district
  names over them; the legend travels with the deck (``deck.legend``) and :func:`show_cells` draws it.
"""

from __future__ import annotations

import html
import json
import math
import os
import urllib.parse
from typing import Any

import numpy as np
import pandas as pd
import pydeck as pdk
import streamlit as st

from app.maps import OVERVIEW_MIN_CELLS, TIANDITU_KEY_ENV, TILE_PROVIDERS, _check_provider, display_crs

#: Height of a cell map in the page, pixels.
MAP_HEIGHT = 560
#: Width assumed when fitting the view to the cells (Streamlit's wide layout minus the sidebar), pixels.
FIT_WIDTH = 900
#: Opacity of the cell fills (0–255) and of their outlines.
FILL_ALPHA = 170
LINE_RGBA = [85, 85, 85, 90]
#: Fill of background cells (parents of the quiet cells), as the "not significant" class colour.
QUIET_FILL = "#eeeeee"
#: Share of a hexagon's radius drawn: the gap left shows the cell boundaries without outlines.
CELL_COVERAGE = 0.92


class CompactDeck(pdk.Deck):
    """A :class:`pydeck.Deck` whose JSON has no indentation: pydeck indents by 2, which for thousands of
    cells (each fill an ``[r, g, b, a]`` list) more than doubles what Streamlit sends to the browser."""

    legend: list[dict[str, Any]] | None = None  #: legend entries (:mod:`app.map_layers`), not sent as JSON

    def to_json(self) -> str:
        from pydeck.bindings.json_tools import default_serialize

        def serialize(o: Any) -> Any:
            out = default_serialize(o)
            if o is self and isinstance(out, dict):
                out.pop("legend", None)
            return out

        return json.dumps(self, sort_keys=True, default=serialize, separators=(",", ":"))


def basemap_style(tiles: str, *, tianditu_key: str | None = None) -> str | None:
    """A Mapbox-GL style for ``tiles`` as a ``data:`` URL (one raster source), or None for ``none``.

    Raises ValueError for an unknown provider, or Tianditu without a key.
    """
    _check_provider(tiles)
    provider = TILE_PROVIDERS[tiles]
    if provider is None:
        return None
    key = tianditu_key or os.environ.get(TIANDITU_KEY_ENV, "")
    if tiles == "tianditu" and not key:
        msg = f"the Tianditu base map needs a key: set {TIANDITU_KEY_ENV} or choose another provider"
        raise ValueError(msg)
    url = provider["url"].replace("{key}", key)
    subdomains = provider.get("subdomains", "")
    urls = [url.replace("{s}", s) for s in subdomains] if "{s}" in url else [url]
    style = {
        "version": 8,
        "sources": {
            "base": {"type": "raster", "tiles": urls, "tileSize": 256, "attribution": provider["attribution"]}
        },
        "layers": [{"id": "base", "type": "raster", "source": "base"}],
    }
    return "data:application/json," + urllib.parse.quote(json.dumps(style, separators=(",", ":")))


def rgba(colours: pd.Series | str, *, alpha: int = FILL_ALPHA) -> list[list[int]] | list[int]:
    """``#rrggbb`` colour(s) as deck.gl ``[r, g, b, a]`` lists (one per row for a Series)."""
    if isinstance(colours, str):
        return _rgba_one(colours, alpha)
    lookup = {c: _rgba_one(c, alpha) for c in pd.unique(colours.astype(str))}
    return [lookup[c] for c in colours.astype(str)]


def _rgba_one(colour: str, alpha: int) -> list[int]:
    text = colour.lstrip("#")
    if len(text) != 6:
        msg = f"expected a colour as #rrggbb, got {colour!r}"
        raise ValueError(msg)
    return [int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16), int(alpha)]


def view_of(
    lat: np.ndarray, lon: np.ndarray, *, width: int = FIT_WIDTH, height: int = MAP_HEIGHT
) -> pdk.ViewState:
    """The view (centre, zoom) that fits points ``lat``/``lon`` (degrees) in a ``width`` × ``height`` map.

    Web-Mercator zoom z shows 512·2^z pixels per 360° of longitude (deck.gl's tile convention).
    """
    if len(lat) == 0:
        return pdk.ViewState(latitude=0.0, longitude=0.0, zoom=1)
    south, north = float(np.min(lat)), float(np.max(lat))
    west, east = float(np.min(lon)), float(np.max(lon))

    def mercator_y(phi: float) -> float:
        return math.degrees(math.log(math.tan(math.pi / 4 + math.radians(phi) / 2)))

    lon_span = max(east - west, 1e-4)
    lat_span = max(mercator_y(north) - mercator_y(south), 1e-4)
    zoom = min(math.log2(width * 360 / (512 * lon_span)), math.log2(height * 360 / (512 * lat_span)))
    mid_y = (mercator_y(north) + mercator_y(south)) / 2
    centre_lat = math.degrees(2 * math.atan(math.exp(math.radians(mid_y))) - math.pi / 2)
    return pdk.ViewState(
        latitude=centre_lat, longitude=(west + east) / 2, zoom=round(max(min(zoom - 0.15, 18), 1), 2)
    )


def cell_deck(
    frame: pd.DataFrame,
    *,
    fill: pd.Series | str,
    tooltip: dict[str, str] | None = None,
    tiles: str = "osm",
    layer_id: str = "cells",
    background: pd.DataFrame | None = None,
    background_fill: str = QUIET_FILL,
    decimals: int = 2,
    geography: Any = "session",
    legend: list[dict[str, Any]] | None = None,
) -> CompactDeck:
    """A deck of H3 cells filled per row, fitted to the cells (and the background's).

    Parameters
    ----------
    frame : DataFrame
        One row per cell: ``cell`` (int64 H3 id) and ``h3`` (its hex string), plus the ``tooltip`` columns.
    fill : Series or str
        ``#rrggbb`` fill per row (aligned with ``frame``) or one colour for all.
    tooltip : dict, optional
        Column → label shown on hover (text HTML-escaped; floats rounded to ``decimals``).
    tiles : str
        Base map provider (:data:`app.maps.TILE_PROVIDERS`); Gaode draws GCJ-02-shifted polygons.
    layer_id : str
        The layer's id: the key of the clicked cell in the selection event (:func:`show_cells`).
    background : DataFrame, optional
        Cells drawn under ``frame`` in ``background_fill`` (same columns; tooltip columns it lacks show
        "–"): e.g. the parents of the cells with nothing significant (:func:`quiet_parents`), so the
        browser draws a few thousand hexagons instead of every fine cell.
    geography : BasemapLayers, None or "session"
        The city's outlines, streets and water drawn under the cells and district names over them
        (:mod:`app.map_layers`); ``"session"``: the page's store.
    legend : list, optional
        Legend entries of the cell colours (:func:`app.map_layers.fill_entries`, ``ramp_entry``); default
        read from ``fill`` (sequential scale, Gi* classes, emerging patterns). The geography's entries
        follow; the deck keeps them in ``deck.legend`` and :func:`show_cells` draws them under the map.
    """
    from app.map_layers import deck_layers, geography_entries, infer_cell_entries, resolve

    geo = resolve(geography)
    under, over = deck_layers(geo, display_crs(tiles)) if geo is not None else ([], [])
    columns = list(tooltip or {})
    layers, lat, lon = list(under), [], []
    if background is not None and len(background):
        padded = background.assign(**{c: "–" for c in columns if c not in background.columns})
        layer, la, lo = _cell_layer(
            padded, background_fill, columns, tiles, f"{layer_id}-background", decimals
        )
        layers.append(layer)
        lat.append(la)
        lon.append(lo)
    layer, la, lo = _cell_layer(frame, fill, columns, tiles, layer_id, decimals)
    layers.append(layer)
    lat.append(la)
    lon.append(lo)
    layers.extend(over)
    if not len(frame) and geo is not None and len(geo.districts):
        west, south, east, north = geo.districts.total_bounds  # no cells: show the city
        lat.append(np.array([south, north]))
        lon.append(np.array([west, east]))
    style = basemap_style(tiles)
    text = "\n".join(f"{label}: {{{column}}}" for column, label in (tooltip or {}).items())
    # No style at all (not None, which means "Streamlit's default Carto base map", fetched from the web).
    base = {"map_provider": "mapbox", "map_style": style} if style else {"map_provider": None}
    tip = {"text": text} if text else False
    view = view_of(np.concatenate(lat), np.concatenate(lon))
    deck = CompactDeck(layers=layers, initial_view_state=view, tooltip=tip, **base)
    cells = legend if legend is not None else infer_cell_entries(fill)
    deck.legend = [*cells, *geography_entries(geo)]
    return deck


def _cell_layer(
    frame: pd.DataFrame, fill: pd.Series | str, columns: list[str], tiles: str, layer_id: str, decimals: int
) -> tuple[pdk.Layer, np.ndarray, np.ndarray]:
    """One layer of ``frame``'s cells, and their centres (degrees, in the display CRS)."""
    from grid.cells import cell_centers

    data = pd.DataFrame({"h3": frame["h3"].astype(str).to_numpy()})
    for column in columns:
        if column == "h3":
            continue
        values = frame[column].reset_index(drop=True)
        if pd.api.types.is_float_dtype(values):
            data[column] = values.round(decimals).to_numpy()  # numbers stay numbers: a shorter page
        elif pd.api.types.is_integer_dtype(values):
            data[column] = values.to_numpy()
        else:
            data[column] = values.astype(str).map(html.escape).to_numpy()
    data["fill"] = rgba(fill) if not isinstance(fill, str) else [rgba(fill)] * len(frame)
    cells = frame["cell"].to_numpy(dtype=np.int64)
    lat, lon = cell_centers(cells) if len(cells) else (np.zeros(0), np.zeros(0))
    common = {"id": layer_id, "data": data, "get_fill_color": "fill", "filled": True, "pickable": True}
    if display_crs(tiles) == "wgs84":
        # No outlines: a stroked H3 layer is drawn as polygons instead of instanced hexagons (measured in
        # headless Chromium, 9k cells: +3.7 s). A coverage below 1 leaves a thin gap between cells instead.
        hexagons = {"get_hexagon": "h3", "extruded": False, "stroked": False, "coverage": CELL_COVERAGE}
        return pdk.Layer("H3HexagonLayer", **hexagons, **common), lat, lon
    from grid.coords import from_wgs84

    data["polygon"] = _shifted_rings(cells, display_crs(tiles))
    outlines = {"stroked": True, "get_line_color": LINE_RGBA, "line_width_min_pixels": 0.5}
    lat, lon = from_wgs84(lat, lon, display_crs(tiles))
    return pdk.Layer("PolygonLayer", get_polygon="polygon", **outlines, **common), lat, lon


def quiet_parents(
    shown: pd.DataFrame,
    quiet: pd.Series,
    res: int,
    *,
    count: str = "count",
    min_cells: int = OVERVIEW_MIN_CELLS,
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Split a map's cells into the ones drawn as they are and a background of parents for the quiet rest.

    With more than ``min_cells`` cells, the ``quiet`` ones (e.g. not significant: drawn in one neutral
    colour anyway) are replaced by their parents one resolution up (``count`` summed, ``children``
    counted; :func:`grid.rollup.rollup_cells`); the others stay as they are. A map of a year at res 10
    then draws ~2,000 hexagons instead of ~9,000 (deck.gl in a browser without a GPU: seconds saved).

    Returns
    -------
    (DataFrame, DataFrame or None)
        The cells drawn as they are, and the background parents (``cell``, ``h3``, ``children``,
        ``count``) or None when nothing was rolled up.
    """
    if len(shown) <= min_cells or res <= 0 or not quiet.any():
        return shown, None
    from grid.cells import cells_to_strings
    from grid.rollup import rollup_cells

    mask = quiet.to_numpy(dtype=bool)
    parents = rollup_cells(shown.loc[mask, ["cell", count]], res - 1, sums=(count,), geometry=False)
    parents.insert(1, "h3", cells_to_strings(parents["cell"].to_numpy()))
    return shown.loc[~mask], parents


def _shifted_rings(cells: np.ndarray, crs: str) -> list[list[list[float]]]:
    """Each cell's boundary ring as ``[[lon, lat], …]`` in ``crs`` (for drawing over GCJ-02 tiles)."""
    import shapely

    from grid.cells import cells_to_polygons
    from grid.coords import transform_geometries

    polygons = cells_to_polygons(cells)
    shifted = transform_geometries(polygons.geometry, "wgs84", crs)
    xy, index = shapely.get_coordinates(shapely.get_exterior_ring(shifted.to_numpy()), return_index=True)
    bounds = np.flatnonzero(np.diff(index)) + 1
    return [ring.tolist() for ring in np.split(np.round(xy, 6), bounds)]


def show_cells(deck: pdk.Deck, *, key: str, layer_id: str = "cells", height: int = MAP_HEIGHT) -> str | None:
    """Draw ``deck`` and return the H3 string of the clicked cell of ``layer_id``, if one is selected."""
    event = st.pydeck_chart(
        deck,
        height=height,
        use_container_width=True,
        on_select="rerun",
        selection_mode="single-object",
        key=key,
    )
    from app.map_layers import show_legend

    show_legend(getattr(deck, "legend", None) or [])
    objects = (event.selection.get("objects") or {}).get(layer_id) or [] if event else []
    return str(objects[0]["h3"]) if objects and "h3" in objects[0] else None
