"""The city's own geography on the maps: the 60-day demo store (its streets and river loaded by the demo
loader) drawn under the cells by both builders, with a legend, offline (tiles ``none``: no tile credit)."""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from app.hexmap import cell_deck
from app.i18n import speaking, t
from app.maps import base_map, cells_layer, sequential_fill, set_legend, standalone_html
from cases.db import make_engine
from grid.cells import cells_to_strings, with_cell_polygons
from grid.config import load_city_config
from services.basemap import BasemapLayers, basemap_layers
from services.context import ServiceContext
from tests.conftest import use_data_copy

OSM_CREDIT = "OpenStreetMap contributors"  # "©" is escaped in the pages


@pytest.fixture
def demo_store(demo60_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ServiceContext:
    folder = use_data_copy(demo60_template, tmp_path / "data", monkeypatch)
    engine = make_engine(f"sqlite:///{(folder / 'gridpatrol.db').as_posix()}")
    yield ServiceContext(engine=engine, config=load_city_config(), data_dir=folder)
    engine.dispose()


def _cells(ctx: ServiceContext) -> pd.DataFrame:
    counts = pd.read_sql("SELECT cell, COUNT(*) AS count FROM cases GROUP BY cell ORDER BY cell", ctx.engine)
    counts = counts.head(300)
    return counts.assign(h3=cells_to_strings(counts["cell"].to_numpy()))


def test_the_demo_store_has_its_geography(demo_store: ServiceContext) -> None:
    layers = basemap_layers(demo_store)
    assert isinstance(layers, BasemapLayers)
    assert layers.layer_names() == ["water", "streets", "communities", "subdistricts", "districts"]
    assert layers.districts["name"].str.len().min() > 0
    assert layers.streets.crs.to_epsg() == 4326
    assert basemap_layers(demo_store) is layers  # cached until an import changes the store


@pytest.mark.parametrize("tiles", ["none", "osm"])
def test_deck_draws_geography_under_the_cells_with_a_legend(demo_store: ServiceContext, tiles: str) -> None:
    cells = _cells(demo_store)
    with speaking("zh"):
        deck = cell_deck(
            cells, fill=sequential_fill(cells["count"]), tiles=tiles, geography=basemap_layers(demo_store)
        )
    spec = json.loads(deck.to_json())
    ids = [layer["id"] for layer in spec["layers"]]
    for layer in ("geo-water", "geo-streets", "geo-communities", "geo-subdistricts", "geo-districts"):
        assert ids.index(layer) < ids.index("cells")  # under the cells
    assert ids[-1] == "geo-district-names"  # names on top
    names = next(layer for layer in spec["layers"] if layer["id"] == "geo-district-names")
    assert names["characterSet"] == "auto"  # Chinese glyphs
    assert names["sizeUnits"] == "pixels"
    labels = [entry["label"] for entry in deck.legend]
    assert labels[0].startswith("网格颜色")  # the cells' scale first, then the geography
    assert {"区界", "街道界", "社区界", "道路", "水系"} <= set(labels)
    assert "legend" not in spec
    style = spec["mapStyle"]  # a data: URL of the tile style, or the "no base map" sentinel
    text = (
        json.dumps(json.loads(urllib.parse.unquote(style.split(",", 1)[1])), ensure_ascii=False)
        if "," in style
        else ""
    )
    assert (OSM_CREDIT in text) == (tiles == "osm")  # the credit only with tiles


@pytest.mark.parametrize("tiles", ["none", "osm"])
def test_folium_map_draws_geography_under_the_cells_with_a_legend(
    demo_store: ServiceContext, tiles: str
) -> None:
    cells = with_cell_polygons(_cells(demo_store))
    with speaking("en"):
        m = base_map(32.0, 120.86, tiles=tiles, geography=basemap_layers(demo_store))
        cells_layer(cells, fill=sequential_fill(cells["count"]), tiles=tiles, name="cells").add_to(m)
        set_legend(
            m, [{"shape": "fill", "colour": "#de2d26", "stroke": "#777", "width": 1, "label": "Many cases"}]
        )
        page = standalone_html(m)
    order = [page.index(f'"layer": "geo-{name}"') for name in ("water", "streets", "districts")]
    assert order == sorted(order)
    assert max(order) < page.index('"fill_opacity"')  # geography before (under) the cells
    assert "gp-district-name" in page  # district names as labels
    for word in ("Legend", "Many cases", "District boundary", "Streets", "Water"):
        assert word in page
    assert (OSM_CREDIT in page) == (tiles == "osm")
    assert ("tile.openstreetmap.org" in page) == (tiles == "osm")


def _page_with_a_deck() -> None:
    import pandas as pd
    import streamlit as st

    from app.hexmap import cell_deck, show_cells
    from grid.cells import cells_to_strings

    cell = 0x8A309D573017FFF
    frame = pd.DataFrame({"cell": [cell], "h3": cells_to_strings(pd.Series([cell]).to_numpy()), "count": [3]})
    st.session_state["tiles"] = "none"
    show_cells(cell_deck(frame, fill="#fb6a4a", tiles="none"), key="m")


def test_pages_get_the_layers_through_the_session(demo_store: ServiceContext) -> None:
    at = AppTest.from_function(_page_with_a_deck, default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    deck = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    assert {"geo-districts", "geo-streets", "geo-district-names"} <= {layer["id"] for layer in deck["layers"]}
    legend = " ".join(str(m.value) for m in at.markdown)
    with speaking("zh"):
        assert t("map_legend") in legend
        assert t("map_layer_districts") in legend
