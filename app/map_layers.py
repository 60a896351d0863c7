"""The city's own geography and the legend on every map, for both builders (deck.gl and folium).

- The layers come from :func:`services.basemap.basemap_layers` (district / subdistrict / community outlines
  with names, streets, water, green, railway; EPSG:4326), fetched for the page's store by
  :func:`session_geography` (no SQL here); outside a Streamlit run (the CLI) a command passes them, or
  the map is drawn without them.
- They are drawn UNDER the cells (streets and water first, then the outlines: districts thick,
  subdistricts thin, communities thin and dotted), district names on top as labels. Nothing is fetched
  from the web: with tiles ``none`` a map is fully offline and still shows where the cells are.
- Over GCJ-02 tiles (Gaode) every geography vertex is shifted like the cells.
- The legend: the cell colour scale with its meaning, then the geography layers drawn. In folium it is a
  Leaflet control inside the map; deck.gl has no HTML overlay, so the deck carries its entries
  (``deck.legend``) and :func:`show_legend` draws them under the chart. Labels are HTML-escaped.
"""

from __future__ import annotations

import html
import json
from typing import Any

import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.template import Template

from app.i18n import t, word
from app.palette import GI_CLASS_COLOURS, PATTERN_COLOURS, SEQUENTIAL

#: Style of each geography layer: line colour, width (px), dash ("" solid), fill colour ("" none).
GEO_STYLE: dict[str, dict[str, Any]] = {
    "green": {"stroke": "#8fc98f", "width": 0.5, "dash": "", "fill": "#d9efd3"},
    "water": {"stroke": "#6baed6", "width": 1.0, "dash": "", "fill": "#b3d7f0"},
    "railway": {"stroke": "#6b6b6b", "width": 2.0, "dash": "6 4", "fill": ""},
    "streets": {"stroke": "#a8a8a8", "width": 1.2, "dash": "", "fill": ""},
    "communities": {"stroke": "#8c8c8c", "width": 0.7, "dash": "2 3", "fill": ""},
    "subdistricts": {"stroke": "#595959", "width": 1.5, "dash": "", "fill": ""},
    "districts": {"stroke": "#262626", "width": 3.0, "dash": "", "fill": ""},
}
#: Wider lines for the main streets (the OSM ``highway`` or the file's class).
MAIN_STREETS = {"arterial", "motorway", "trunk", "primary", "secondary", "collector"}
#: Drawing order, bottom first.
GEO_ORDER = ("green", "water", "railway", "streets", "communities", "subdistricts", "districts")
_OUTLINES = {"communities", "subdistricts", "districts"}
COORD_DECIMALS = 6


def session_geography() -> Any | None:
    """The geography layers of this page's store, or None outside a Streamlit run or when unreadable."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    if get_script_run_ctx() is None:
        return None
    from app.context import service_context
    from services.basemap import geography_or_none

    try:
        return geography_or_none(service_context())
    except (OSError, ValueError, RuntimeError):  # no store configured: a map without geography, no traceback
        return None


def resolve(geography: Any) -> Any | None:
    """``geography`` itself, or the session's layers for the default ``"session"``."""
    return session_geography() if isinstance(geography, str) and geography == "session" else geography


def _frames(geo: Any, crs: str) -> dict[str, Any]:
    """Each non-empty layer (in :data:`GEO_ORDER`), shifted to ``crs`` for drawing."""
    out = {}
    for name in GEO_ORDER:
        frame = getattr(geo, name, None)
        if frame is None or frame.empty:
            continue
        if crs != "wgs84":
            from grid.coords import transform_geometries

            frame = frame.set_geometry(transform_geometries(frame.geometry, "wgs84", crs))
        out[name] = frame
    return out


def _line_width(name: str, subkind: object) -> float:
    width = GEO_STYLE[name]["width"]
    return width * 2.2 if name == "streets" and str(subkind) in MAIN_STREETS else width


# --- deck.gl ----------------------------------------------------------------------------------------------


def deck_layers(geo: Any, crs: str) -> tuple[list[Any], list[Any]]:
    """(layers under the cells, label layers over them) of ``geo`` drawn in ``crs``."""
    import pydeck as pdk

    from app.hexmap import rgba

    under, over = [], []
    for name, frame in _frames(geo, crs).items():
        style = GEO_STYLE[name]
        line = rgba(style["stroke"], alpha=230)
        if style["fill"] and name not in _OUTLINES:
            polygonal = np.isin(shapely.get_type_id(frame.geometry.to_numpy()), (3, 6))
            rings = _rings(frame.geometry.to_numpy()[polygonal])
            if rings:
                data = pd.DataFrame({"polygon": rings})
                under.append(
                    pdk.Layer(
                        "PolygonLayer", id=f"geo-{name}", data=data, get_polygon="polygon", filled=True,
                        stroked=True, get_fill_color=rgba(style["fill"], alpha=200), get_line_color=line,
                        line_width_min_pixels=style["width"], pickable=False,
                    )
                )  # fmt: skip
            frame = frame[~polygonal]
            if frame.empty:
                continue
            name_id = f"geo-{name}-lines"
        else:
            name_id = f"geo-{name}"
        paths, widths = _paths(frame, name)
        data = pd.DataFrame({"path": paths, "width": widths})
        dashed = {  # deck.gl's PathStyleExtension (in Streamlit's deck.gl bundle)
            "extensions": [{"@@type": "PathStyleExtension", "dash": True}],
            "get_dash_array": [int(v) for v in style["dash"].split()], "dash_justified": True,
        } if style["dash"] else {}  # fmt: skip
        under.append(
            pdk.Layer(
                "PathLayer", id=name_id, data=data, get_path="path", get_width="width",
                width_units="'pixels'", width_min_pixels=0.5, get_color=line, pickable=False,
                joint_rounded=True, **dashed,
            )
        )  # fmt: skip
        if name == "districts":
            labels = pd.DataFrame(
                {"name": frame["name"].astype(str).to_numpy(), "position": _label_points(frame, crs)}
            )
            over.append(
                pdk.Layer(
                    "TextLayer", id="geo-district-names", data=labels, get_position="position",
                    get_text="name", character_set="'auto'", get_size=15, size_units="'pixels'",
                    get_color=[20, 20, 20, 235], font_weight=700, background=True,
                    get_background_color=[255, 255, 255, 190], pickable=False,
                )
            )  # fmt: skip
    return under, over


def _paths(frame: Any, name: str) -> tuple[list[list[list[float]]], list[float]]:
    geoms = frame.geometry.to_numpy()
    if name in _OUTLINES or np.isin(shapely.get_type_id(geoms), (3, 6)).any():
        geoms = shapely.boundary(geoms)
    parts, index = shapely.get_parts(geoms, return_index=True)
    xy, owner = shapely.get_coordinates(parts, return_index=True)
    bounds = np.flatnonzero(np.diff(owner)) + 1
    paths = [p.tolist() for p in np.split(np.round(xy, COORD_DECIMALS), bounds)] if len(xy) else []
    subkind = frame["subkind"].to_numpy() if "subkind" in frame else np.full(len(frame), None)
    return paths, [_line_width(name, subkind[i]) for i in index[np.unique(owner)]]


def _rings(polygons: np.ndarray) -> list[list[list[float]]]:
    if not len(polygons):
        return []
    rings = shapely.get_exterior_ring(shapely.get_parts(polygons))
    xy, owner = shapely.get_coordinates(rings, return_index=True)
    bounds = np.flatnonzero(np.diff(owner)) + 1
    return [r.tolist() for r in np.split(np.round(xy, COORD_DECIMALS), bounds)]


def _label_points(frame: Any, crs: str) -> list[list[float]]:
    lat, lon = frame["label_lat"].to_numpy(), frame["label_lon"].to_numpy()
    if crs != "wgs84":
        from grid.coords import from_wgs84

        lat, lon = from_wgs84(lat, lon, crs)
    return [
        [round(float(x), COORD_DECIMALS), round(float(y), COORD_DECIMALS)]
        for x, y in zip(lon, lat, strict=True)
    ]


# --- folium -----------------------------------------------------------------------------------------------

_STYLE_JS = """
function(feature, layer) {
    var p = feature.properties || {};
    if (layer.setStyle) {
        layer.setStyle({color: p.stroke, weight: p.weight, dashArray: p.dash || null, opacity: 0.9,
                        fill: !!p.fill, fillColor: p.fill || null, fillOpacity: p.fill ? 0.8 : 0});
    }
}
"""


def add_folium_geography(m: Any, geo: Any, crs: str) -> None:
    """Add ``geo``'s layers to folium map ``m`` (call before the cells: drawn under them) and the district
    names as labels."""
    import folium
    import geopandas as gpd
    from folium.utilities import JsCode

    from app.maps import feature_collection

    for name, frame in _frames(geo, crs).items():
        style = GEO_STYLE[name]
        geoms = frame.geometry.to_numpy()
        if name in _OUTLINES:
            geoms = shapely.boundary(geoms)
        subkind = frame["subkind"].to_numpy() if "subkind" in frame else np.full(len(frame), None)
        polygonal = np.isin(shapely.get_type_id(geoms), (3, 6))
        shown = gpd.GeoDataFrame(
            {
                "layer": f"geo-{name}",
                "stroke": style["stroke"],
                "weight": [_line_width(name, s) for s in subkind],
                "dash": style["dash"],
                "fill": np.where(polygonal, style["fill"], ""),
            },
            geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"),
            crs="EPSG:4326",
        )
        folium.GeoJson(
            feature_collection(shown, decimals=COORD_DECIMALS),
            name=f"geo-{name}",
            on_each_feature=JsCode(_STYLE_JS),
            control=False,
        ).add_to(m)
        if name == "districts":
            for label, (lon, lat) in zip(frame["name"].astype(str), _label_points(frame, crs), strict=True):
                folium.Marker(
                    [lat, lon],
                    icon=folium.DivIcon(
                        html=(
                            '<div class="gp-district-name" style="text-align:center;white-space:nowrap;'
                            'font:bold 14px sans-serif;color:#141414;text-shadow:0 0 3px #fff,0 0 3px #fff">'
                            f"{html.escape(label)}</div>"
                        ),
                        icon_size=(160, 20),
                        icon_anchor=(80, 10),
                        class_name="gp-district-label",
                    ),
                ).add_to(m)


# --- legend -----------------------------------------------------------------------------------------------


def geography_entries(geo: Any) -> list[dict[str, Any]]:
    """Legend entries of the geography layers ``geo`` has, top (districts) first."""
    entries = []
    for name in reversed(GEO_ORDER):
        frame = getattr(geo, name, None) if geo is not None else None
        if frame is None or frame.empty:
            continue
        style = GEO_STYLE[name]
        shape = "fill" if style["fill"] and name not in _OUTLINES else ("dash" if style["dash"] else "line")
        entries.append(
            {"shape": shape, "colour": style["fill"] or style["stroke"], "stroke": style["stroke"],
             "width": style["width"], "label": t(f"map_layer_{name}")}
        )  # fmt: skip
    return entries


def fill_entries(colours: dict[str, str]) -> list[dict[str, Any]]:
    """Legend entries of a class map: colour → label."""
    return [
        {"shape": "fill", "colour": c, "stroke": "#777777", "width": 1, "label": s}
        for s, c in colours.items()
    ]


def ramp_entry(what: str, palette: tuple[str, ...] = SEQUENTIAL) -> dict[str, Any]:
    """A legend entry of a light-to-dark scale of ``what`` (few → many)."""
    return {
        "shape": "ramp", "colour": list(palette), "stroke": "#777777", "width": 1,
        "label": t("map_scale_cells", what=what), "low": t("map_scale_few"), "high": t("map_scale_many"),
    }  # fmt: skip


def infer_cell_entries(fill: Any, what: str | None = None) -> list[dict[str, Any]]:
    """Legend entries read from the cells' fill colours: a sequential scale, Gi* classes or emerging
    patterns in words; nothing when the colours have no known meaning."""
    colours = {str(fill)} if isinstance(fill, str) else set(pd.Series(fill).astype(str).unique())
    if not colours:
        return []
    if colours <= set(SEQUENTIAL):
        return [ramp_entry(what or t("map_scale_cases"))]
    for table in (GI_CLASS_COLOURS, PATTERN_COLOURS):
        if colours <= set(table.values()):
            return fill_entries({word(code): c for code, c in table.items() if c in colours})
    return []


def legend_html(entries: list[dict[str, Any]]) -> str:
    """The legend as a small HTML block (labels escaped)."""
    rows = []
    for e in entries:
        label = html.escape(str(e["label"]))
        if e["shape"] == "ramp":
            stops = "".join(
                f'<span style="display:inline-block;width:14px;height:10px;background:{c}"></span>'
                for c in e["colour"]
            )
            swatch = f"{html.escape(e['low'])} {stops} {html.escape(e['high'])}"
            rows.append(f'<div class="gp-legend-row">{label} {swatch}</div>')
            continue
        if e["shape"] == "fill":
            box = f"background:{e['colour']};border-style:solid;border-width:1px;border-color:{e['stroke']};"
            box += "height:10px"
        else:
            kind = "dashed" if e["shape"] == "dash" else "solid"
            width = max(float(e["width"]), 1)
            box = (  # no spaces: a style is not a phrase (the pages' words checks read the markdown)
                f"border-top-style:{kind};border-top-width:{width:.1f}px;border-top-color:{e['colour']};"
                "height:0;margin-bottom:3px"
            )
        swatch = f'<span style="display:inline-block;width:18px;{box}"></span>'
        rows.append(f'<div class="gp-legend-row">{swatch} {label}</div>')
    title = html.escape(t("map_legend"))
    return (
        '<div class="gp-legend" style="background:rgba(255,255,255,0.9);padding:4px 8px;font-size:12px;'
        f'line-height:1.5;border-radius:4px;color:#222"><b>{title}</b>{"".join(rows)}</div>'
    )


def show_legend(entries: list[dict[str, Any]]) -> None:
    """Draw a deck's legend under it (its labels are escaped)."""
    import streamlit as st

    if entries:
        st.markdown(legend_html(entries), unsafe_allow_html=True)


class Legend(MacroElement):
    """A Leaflet control (bottom right) showing legend ``entries``; they may change until it is rendered."""

    _template = Template(
        """
{% macro script(this, kwargs) %}
(function () {
    var legend = L.control({position: "bottomright"});
    legend.onAdd = function () {
        var div = L.DomUtil.create("div", "gp-legend-control");
        div.innerHTML = {{ this.html_json }};
        return div;
    };
    legend.addTo({{ this._parent.get_name() }});
})();
{% endmacro %}
"""
    )

    def __init__(self, entries: list[dict[str, Any]]) -> None:
        super().__init__()
        self._name = "Legend"
        self.entries = list(entries)

    @property
    def html_json(self) -> str:
        """The legend's HTML as a JavaScript string literal (``</`` escaped)."""
        return json.dumps(legend_html(self.entries)).replace("</", "<\\/")
