"""The one map builder every page uses (folium / Leaflet), offline-safe and fast for many hexagons.

Design choices, each for a reason:
- The base map is a setting (``TILE_PROVIDERS``): OpenStreetMap, Gaode (GCJ-02: geometry is shifted from
  WGS-84 to GCJ-02 before drawing, or everything lands ~0.5 km off), Tianditu (CGCS2000 ≈ WGS-84, needs a
  key), or none. If tiles cannot load, the vector layers still draw.
- Leaflet is served from the app (``app/static/vendor``), never from a CDN, so maps work on an intranet;
  exported HTML inlines it. Folium's other default assets (jQuery, Bootstrap, Font Awesome) are not used by
  these maps and are dropped so the browser makes no outside requests.
- Cells are one GeoJSON layer on the canvas renderer, styled from each feature's own ``fill`` property by a
  small JavaScript function. Folium's Python ``style_function`` would emit a ``switch`` over every feature
  id, which grows with the square of the cell count.
- Many small cells: below a zoom threshold the map shows their parents instead (:class:`ZoomSwitch`,
  rolled up by :func:`grid.rollup.rollup_cells`), switched in the browser on ``zoomend`` without a rerun.
- Every string property is HTML-escaped before it reaches a tooltip or popup: case descriptions and names
  are untrusted text.
- Every map made by :func:`base_map` draws the city's own geography first (outlines, streets, water from
  the store: :mod:`app.map_layers`), so it lies under the cells, and carries a legend (:func:`set_legend`);
  the tile credit appears only with tiles.
"""

from __future__ import annotations

import html
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from app.palette import GI_CLASS_COLOURS as GI_CLASS_COLOURS  # re-exported for the pages
from app.palette import PATTERN_COLOURS as PATTERN_COLOURS
from app.palette import SEQUENTIAL
from grid.config import load_city_config

try:  # folium is in the [web] extra: the core install writes CSV, GeoJSON and Parquet but no HTML map
    import folium
    from branca.element import MacroElement
    from folium.template import Template
    from folium.utilities import JsCode
except ImportError as exc:
    raise ImportError("maps need folium: pip install 'gridpatrol[web]'", name=exc.name) from exc

STATIC_DIR = Path(__file__).with_name("static")
STATIC_URL = "/app/static"
VENDORED_JS = {"leaflet": "vendor/leaflet/leaflet.js"}
VENDORED_CSS = {"leaflet_css": "vendor/leaflet/leaflet.css"}

TILE_PROVIDERS: dict[str, dict[str, str] | None] = {
    "osm": {
        "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "attribution": "© OpenStreetMap contributors",
        "crs": "wgs84",
    },
    "gaode": {
        "url": "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
        "attribution": "© 高德地图 AutoNavi",
        "subdomains": "1234",
        "crs": "gcj02",
    },
    "tianditu": {
        "url": (
            "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec"
            "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}"
        ),
        "attribution": "© 天地图 Tianditu",
        "subdomains": "01234567",
        "crs": "wgs84",
    },
    "none": None,
}
TILES_ENV = "GRIDPATROL_TILES"

TIANDITU_KEY_ENV = "GRIDPATROL_TIANDITU_KEY"


_STYLE_FROM_PROPERTIES = JsCode(
    """
function(feature, layer) {
    var p = feature.properties || {};
    if (layer.setStyle) {
        layer.setStyle({
            fillColor: p.fill || "#3388ff",
            fillOpacity: p.fill_opacity === undefined ? 0.55 : p.fill_opacity,
            color: p.stroke || "#555555",
            weight: p.stroke_width === undefined ? 0.4 : p.stroke_width,
            opacity: 0.8
        });
    }
}
"""
)


def default_tiles() -> str:
    """The tile provider of the city configuration (``tiles`` in ``gridpatrol.toml``, overridden by
    ``GRIDPATROL_TILES``; default ``osm``); unknown names raise ValueError."""
    name = load_city_config().tiles
    _check_provider(name)
    return name


def _check_provider(name: str) -> None:
    if name not in TILE_PROVIDERS:
        msg = f"tile provider {name!r} is not one of {', '.join(TILE_PROVIDERS)}"
        raise ValueError(msg)


def display_crs(tiles: str) -> str:
    """Coordinate system geometry must be drawn in over ``tiles``: ``gcj02`` for Gaode, else ``wgs84``."""
    _check_provider(tiles)
    provider = TILE_PROVIDERS[tiles]
    return provider["crs"] if provider else "wgs84"


def base_map(
    lat: float,
    lon: float,
    *,
    zoom: int = 13,
    tiles: str = "osm",
    tianditu_key: str | None = None,
    geography: Any = "session",
) -> folium.Map:
    """A map centred on WGS-84 (``lat``, ``lon``) with the chosen tiles, the canvas renderer, the city's
    geography (``geography``: :class:`services.basemap.BasemapLayers`, None for none, ``"session"`` for
    the page's store; :mod:`app.map_layers`) drawn first, under anything added later, and a legend
    (:func:`set_legend` puts the cells' colour scale in front of the geography's entries)."""
    _check_provider(tiles)
    lat, lon = _to_display(np.array([lat]), np.array([lon]), tiles)
    m = folium.Map(location=[float(lat[0]), float(lon[0])], zoom_start=zoom, tiles=None, prefer_canvas=True)
    provider = TILE_PROVIDERS[tiles]
    if provider is not None:
        key = tianditu_key or os.environ.get(TIANDITU_KEY_ENV, "")
        if tiles == "tianditu" and not key:
            msg = f"the Tianditu base map needs a key: set {TIANDITU_KEY_ENV} or choose another provider"
            raise ValueError(msg)
        folium.TileLayer(
            tiles=provider["url"].replace("{key}", key),
            attr=provider["attribution"],
            name=tiles,
            subdomains=provider.get("subdomains", "abc"),
            max_zoom=19,
        ).add_to(m)
    else:  # no tiles: a paper-like background instead of Leaflet's grey
        m.get_root().header.add_child(folium.Element("<style>.leaflet-container{background:#f8f8f5}</style>"))
    from app.map_layers import Legend, add_folium_geography, geography_entries, resolve

    geo = resolve(geography)
    if geo is not None:
        add_folium_geography(m, geo, display_crs(tiles))
    m.gp_geography_entries = geography_entries(geo)
    m.gp_legend = Legend(m.gp_geography_entries)
    m.gp_legend.add_to(m)
    return m


def set_legend(m: folium.Map, cells: list[dict[str, Any]]) -> folium.Map:
    """Put the legend entries ``cells`` (the cell colours' meaning: :mod:`app.map_layers`) at the top of
    ``m``'s legend (a map not made by :func:`base_map` gets a legend of its own)."""
    from app.map_layers import Legend

    legend = getattr(m, "gp_legend", None)
    if legend is None:
        m.gp_legend = Legend(cells)
        m.gp_legend.add_to(m)
        return m
    legend.entries = [*cells, *getattr(m, "gp_geography_entries", [])]
    return m


def _to_display(lat: np.ndarray, lon: np.ndarray, tiles: str) -> tuple[np.ndarray, np.ndarray]:
    if display_crs(tiles) == "wgs84":
        return lat, lon
    from grid.coords import from_wgs84

    return from_wgs84(lat, lon, "gcj02")


#: Decimal places of drawn coordinates: 1e-6° ≈ 0.1 m, far below a pixel at any useful zoom.
COORD_DECIMALS = 6


def feature_collection(frame: gpd.GeoDataFrame, *, decimals: int = COORD_DECIMALS) -> dict:
    """``frame`` as a GeoJSON FeatureCollection dict, built in C where it counts.

    Geometries go through ``shapely.to_geojson`` (vectorised) with coordinates rounded to ``decimals``,
    properties through pandas' JSON writer; Python only joins the strings. GeoPandas'
    ``__geo_interface__`` builds a dict per coordinate pair in Python: ~10× slower for thousands of cells,
    and the rounding halves the page the browser has to parse.
    """
    import json

    import shapely

    geometry = shapely.transform(frame.geometry.to_numpy(), lambda xy: np.round(xy, decimals))
    shapes = shapely.to_geojson(geometry)
    properties = frame.drop(columns=frame.geometry.name)
    lines = (
        properties.to_json(orient="records", lines=True, force_ascii=False).splitlines() if len(frame) else []
    )
    features = ",".join(
        f'{{"type":"Feature","properties":{props},"geometry":{shape}}}'
        for props, shape in zip(lines, shapes, strict=True)
    )
    return json.loads(f'{{"type":"FeatureCollection","features":[{features}]}}')


def escape_text(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Copy of ``frame`` with every string value in ``columns`` HTML-escaped (untrusted text)."""
    out = frame.copy()
    for column in columns:
        values = out[column]
        mask = values.map(lambda v: isinstance(v, str))
        out[column] = values.where(~mask, values[mask].map(html.escape))
    return out


def cells_layer(
    cells: gpd.GeoDataFrame,
    *,
    fill: pd.Series | str = "#3388ff",
    tooltip: dict[str, str] | None = None,
    tiles: str = "osm",
    name: str = "cells",
    fill_opacity: float = 0.55,
) -> folium.GeoJson:
    """One GeoJSON layer of polygons (EPSG:4326) styled per feature, with an escaped tooltip.

    Parameters
    ----------
    cells : GeoDataFrame
        Polygons in EPSG:4326 (raises ValueError for another or no CRS).
    fill : Series or str
        Fill colour per row (``#rrggbb``), aligned with ``cells``, or one colour for all.
    tooltip : dict, optional
        Column → label to show on hover; values are HTML-escaped.
    tiles : str
        Tile provider the layer is drawn over; Gaode shifts geometry to GCJ-02.
    """
    _check_wgs84(cells)
    columns = list(tooltip or {})
    frame = escape_text(cells[[*columns, "geometry"]], columns)
    frame["fill"] = fill if isinstance(fill, str) else fill.to_numpy()
    frame["fill_opacity"] = fill_opacity
    if display_crs(tiles) != "wgs84":
        from grid.coords import transform_geometries

        frame = frame.set_geometry(transform_geometries(frame.geometry, "wgs84", display_crs(tiles)))
    tip = folium.GeoJsonTooltip(fields=columns, aliases=[tooltip[c] for c in columns]) if columns else None
    return folium.GeoJson(
        feature_collection(frame), name=name, on_each_feature=_STYLE_FROM_PROPERTIES, tooltip=tip
    )


#: Cell count above which a map also gets a parent-cell layer for zoomed-out views.
OVERVIEW_MIN_CELLS = 2_500
#: Zoom level from which the cells themselves are drawn (below it: the parents). At zoom 14 a res-10
#: hexagon (~75 m across) is ~10 px wide at China's latitudes.
FINE_MIN_ZOOM = 14


class ZoomSwitch(MacroElement):
    """Show ``coarse`` below zoom ``min_zoom`` and ``fine`` from it on (Leaflet ``zoomend``, no rerun).

    Both layers must already be children of the map; this element only adds/removes them on the map.
    """

    _template = Template(
        """
{% macro script(this, kwargs) %}
(function () {
    var map = {{ this._parent.get_name() }};
    var fine = {{ this.fine.get_name() }};
    var coarse = {{ this.coarse.get_name() }};
    function sync() {
        var zoomedIn = map.getZoom() >= {{ this.min_zoom }};
        var show = zoomedIn ? fine : coarse, hide = zoomedIn ? coarse : fine;
        if (map.hasLayer(hide)) { map.removeLayer(hide); }
        if (!map.hasLayer(show)) { map.addLayer(show); }
    }
    map.on("zoomend", sync);
    map.whenReady(sync);
})();
{% endmacro %}
"""
    )

    def __init__(
        self, fine: folium.GeoJson, coarse: folium.GeoJson, *, min_zoom: int = FINE_MIN_ZOOM
    ) -> None:
        super().__init__()
        self._name = "ZoomSwitch"
        self.fine = fine
        self.coarse = coarse
        self.min_zoom = int(min_zoom)


def overview_layer(
    cells: gpd.GeoDataFrame,
    res: int,
    *,
    sums: tuple[str, ...] = (),
    dominant: str | None = None,
    weight: str | None = None,
    colours: dict[str, str] | None = None,
    fill_column: str | None = None,
    tooltip: dict[str, str] | None = None,
    tiles: str = "osm",
    name: str = "overview",
) -> folium.GeoJson | None:
    """The parent cells (one resolution up) of ``cells`` as a layer, or None when there are few cells.

    Parents are rolled up by :func:`grid.rollup.rollup_cells` (``sums`` added, ``dominant`` class by
    ``weight``) and filled from ``colours`` by the dominant class, else on the sequential palette by
    ``fill_column``. ``tooltip`` may name ``h3``, ``children`` and the rolled-up columns.
    """
    if len(cells) <= OVERVIEW_MIN_CELLS or res <= 0:
        return None
    from grid.cells import cells_to_strings
    from grid.rollup import rollup_cells

    parents = rollup_cells(cells, res - 1, sums=sums, dominant=dominant, weight=weight)
    parents.insert(1, "h3", cells_to_strings(parents["cell"].to_numpy()))
    if colours is not None and dominant is not None:
        fill = parents[dominant].astype(str).map(colours).fillna("#eeeeee")
    else:
        fill = sequential_fill(parents[fill_column or sums[0]])
    return cells_layer(parents, fill=fill, tooltip=tooltip, tiles=tiles, name=name)


def add_cells_with_overview(
    m: folium.Map,
    fine: folium.GeoJson,
    coarse: folium.GeoJson | None,
    *,
    min_zoom: int = FINE_MIN_ZOOM,
) -> folium.Map:
    """Add ``fine`` to ``m``; with a ``coarse`` (parent-cell) layer, add it too and switch them by zoom."""
    fine.add_to(m)
    if coarse is not None:
        coarse.add_to(m)
        ZoomSwitch(fine, coarse, min_zoom=min_zoom).add_to(m)
    return m


def sequential_fill(values: pd.Series, *, palette: tuple[str, ...] = SEQUENTIAL) -> pd.Series:
    """Colour of each value on ``palette``: equal-width classes between 0 and the maximum (NaN → first)."""
    top = float(np.nanmax(values.to_numpy(dtype=np.float64))) if len(values) else 0.0
    level = values.to_numpy(dtype=np.float64) / top if top > 0 else np.zeros(len(values))
    index = np.clip(np.nan_to_num(level * len(palette)).astype(int), 0, len(palette) - 1)
    return pd.Series(np.asarray(palette, dtype=object)[index], index=values.index)


def points_layer(
    points: gpd.GeoDataFrame,
    *,
    fill: pd.Series | str = "#1f78b4",
    tooltip: dict[str, str] | None = None,
    tiles: str = "osm",
    name: str = "points",
    radius: int = 7,
) -> folium.GeoJson:
    """One GeoJSON layer of circle markers (points, EPSG:4326), styled per feature, escaped tooltip.

    Same contract as :func:`cells_layer`; circle markers need no icon images (nothing from a CDN).
    """
    _check_wgs84(points)
    columns = list(tooltip or {})
    frame = escape_text(points[[*columns, "geometry"]], columns)
    frame["fill"] = fill if isinstance(fill, str) else fill.to_numpy()
    frame["fill_opacity"] = 0.9
    frame["stroke"] = "#222222"
    frame["stroke_width"] = 1.5
    if display_crs(tiles) != "wgs84":
        from grid.coords import transform_geometries

        frame = frame.set_geometry(transform_geometries(frame.geometry, "wgs84", display_crs(tiles)))
    tip = folium.GeoJsonTooltip(fields=columns, aliases=[tooltip[c] for c in columns]) if columns else None
    return folium.GeoJson(
        feature_collection(frame),
        name=name,
        marker=folium.CircleMarker(radius=radius, fill=True),  # Leaflet circle markers are hollow by default
        on_each_feature=_STYLE_FROM_PROPERTIES,
        tooltip=tip,
    )


def fit_to(m: folium.Map, frame: gpd.GeoDataFrame, *, tiles: str = "osm") -> folium.Map:
    """Zoom ``m`` to the extent of ``frame`` (EPSG:4326); nothing happens for an empty frame."""
    if len(frame) == 0:
        return m
    west, south, east, north = frame.total_bounds
    lat, lon = _to_display(np.array([south, north]), np.array([west, east]), tiles)
    m.fit_bounds([[float(lat[0]), float(lon[0])], [float(lat[1]), float(lon[1])]])
    return m


def display_to_wgs84(lat: float, lon: float, tiles: str) -> tuple[float, float]:
    """A point clicked on a map drawn over ``tiles`` back in WGS-84 (Gaode maps are drawn in GCJ-02)."""
    if display_crs(tiles) == "wgs84":
        return float(lat), float(lon)
    from grid.coords import to_wgs84

    out_lat, out_lon = to_wgs84(np.array([lat]), np.array([lon]), display_crs(tiles))
    return float(out_lat[0]), float(out_lon[0])


def _check_wgs84(frame: gpd.GeoDataFrame) -> None:
    if frame.crs is None or frame.crs.to_epsg() != 4326:
        msg = f"expected a GeoDataFrame in EPSG:4326, got crs={frame.crs}; call .to_crs('EPSG:4326') first"
        raise ValueError(msg)


def localize_assets(m: folium.Map, *, base_url: str = STATIC_URL) -> folium.Map:
    """Point every element of ``m`` at the vendored Leaflet and drop the CDN assets the maps do not use."""
    for element in _walk(m):
        if hasattr(element, "default_js"):
            element.default_js = [
                (name, f"{base_url}/{VENDORED_JS[name]}")
                for name, _ in element.default_js
                if name in VENDORED_JS
            ]
        if hasattr(element, "default_css"):
            element.default_css = [
                (name, f"{base_url}/{VENDORED_CSS[name]}")
                for name, _ in element.default_css
                if name in VENDORED_CSS
            ]
    return m


def standalone_html(m: folium.Map) -> str:
    """The map as one self-contained HTML document (Leaflet inlined): opens offline from a file."""
    localize_assets(m, base_url="__local__")
    page = m.get_root().render()
    for files, tag in ((VENDORED_JS, "script"), (VENDORED_CSS, "style")):
        for relative in files.values():
            content = (STATIC_DIR / relative).read_text(encoding="utf-8")
            url = f"__local__/{relative}"
            if tag == "script":
                page = page.replace(f'<script src="{url}"></script>', f"<script>{content}</script>")
            else:
                page = page.replace(f'<link rel="stylesheet" href="{url}"/>', f"<style>{content}</style>")
    return page


def _walk(element: folium.Element) -> Iterator[folium.Element]:
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)
