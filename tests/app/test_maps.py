"""The map builder: offline assets, escaping, tile settings, GCJ-02 shift for Gaode."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pytest
import shapely

from app.maps import (
    base_map,
    cells_layer,
    display_crs,
    localize_assets,
    standalone_html,
)

XSS = "<img src=x onerror=alert(1)>"


def _cells() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": [XSS, "南通市崇川区"], "count": [3, 5]},
        geometry=[shapely.box(120.85, 32.00, 120.86, 32.01), shapely.box(120.86, 32.00, 120.87, 32.01)],
        crs="EPSG:4326",
    )


def _geojson_features(page: str) -> list[dict]:
    match = re.search(r"_add\((\{\"features\".*?\})\);", page)
    assert match, "no GeoJSON layer in the page"
    return json.loads(match.group(1))["features"]


def test_standalone_html_needs_no_network() -> None:
    m = base_map(32.0, 120.86, tiles="none")
    cells_layer(_cells(), tooltip={"name": "Name", "count": "Count"}).add_to(m)
    page = standalone_html(m)
    loaded = re.findall(r"""<(?:script[^>]*\ssrc|link[^>]*\shref)=["']([^"']+)""", page)
    external = [u for u in loaded if u.startswith(("http:", "https:", "//"))]
    assert external == []
    assert "L.map(" in page
    assert "Leaflet" in page  # inlined library


def test_localized_assets_point_at_the_app_static_folder() -> None:
    m = localize_assets(base_map(32.0, 120.86, tiles="osm"))
    page = m.get_root().render()
    assert '<script src="/app/static/vendor/leaflet/leaflet.js"></script>' in page
    assert "cdn.jsdelivr.net" not in page
    assert "code.jquery.com" not in page


def test_untrusted_text_is_escaped_in_feature_properties() -> None:
    m = base_map(32.0, 120.86, tiles="none")
    cells_layer(_cells(), tooltip={"name": "Name"}).add_to(m)
    features = _geojson_features(m.get_root().render())
    assert features[0]["properties"]["name"] == "&lt;img src=x onerror=alert(1)&gt;"
    assert features[1]["properties"]["name"] == "南通市崇川区"


def test_each_feature_carries_its_own_style() -> None:
    cells = _cells()
    m = base_map(32.0, 120.86, tiles="none")
    cells_layer(cells, fill=cells["count"].map({3: "#ff0000", 5: "#00ff00"})).add_to(m)
    page = m.get_root().render()
    assert [f["properties"]["fill"] for f in _geojson_features(page)] == ["#ff0000", "#00ff00"]
    assert "switch" not in page.split("geo_json")[-1]  # no per-feature JS switch


def test_gaode_draws_geometry_in_gcj02() -> None:
    from grid.coords import wgs84_to_gcj02

    m = base_map(32.0, 120.86, tiles="gaode")
    cells_layer(_cells(), tiles="gaode").add_to(m)
    ring = np.array(_geojson_features(m.get_root().render())[0]["geometry"]["coordinates"][0])
    expected_lat, expected_lon = wgs84_to_gcj02(np.array([32.0]), np.array([120.86]))
    assert np.isclose(ring[:, 0], expected_lon[0], atol=1e-9).any()
    assert np.isclose(ring[:, 1], expected_lat[0], atol=1e-9).any()
    assert display_crs("gaode") == "gcj02"
    assert display_crs("osm") == "wgs84"


def test_settings_errors() -> None:
    with pytest.raises(ValueError, match="not one of"):
        base_map(32.0, 120.86, tiles="bing")
    with pytest.raises(ValueError, match="needs a key"):
        base_map(32.0, 120.86, tiles="tianditu", tianditu_key="")
    with pytest.raises(ValueError, match="EPSG:4326"):
        cells_layer(_cells().to_crs("EPSG:32651"))


def _many_cells(n_parents: int) -> gpd.GeoDataFrame:
    """All res-10 children of ``n_parents`` res-9 cells around Nantong, counts 1 except one hot child each."""
    import h3

    from grid.cells import cells_to_polygons

    parents = sorted(h3.grid_disk(h3.latlng_to_cell(32.0, 120.86, 9), 30))[:n_parents]
    children = np.array(sorted(h3.str_to_int(c) for p in parents for c in h3.cell_to_children(p)), np.int64)
    frame = cells_to_polygons(children)
    frame["count"] = 1
    frame["gi_class"] = "not_significant"
    hot = frame.groupby(frame["cell"].map(lambda c: h3.cell_to_parent(h3.int_to_str(c), 9))).head(1).index
    frame.loc[hot, ["count", "gi_class"]] = [50, "hot_99"]
    return frame


def test_many_cells_get_a_parent_overview_switched_by_zoom() -> None:
    from app.maps import (
        FINE_MIN_ZOOM,
        GI_CLASS_COLOURS,
        OVERVIEW_MIN_CELLS,
        add_cells_with_overview,
        overview_layer,
    )

    few = _many_cells(10)
    assert overview_layer(few, 10, sums=("count",)) is None  # a small map draws its cells at every zoom
    many = _many_cells(OVERVIEW_MIN_CELLS // 7 + 10)
    coarse = overview_layer(
        many, 10, sums=("count",), dominant="gi_class", weight="count", colours=GI_CLASS_COLOURS, tooltip={}
    )
    assert coarse is not None
    features = coarse.data["features"]
    assert len(features) == len(many) // 7  # one hexagon per parent
    # each parent: 6 cells × 1 case + 1 hot cell × 50 cases → 56 cases, hot (where its cases are)
    assert {f["properties"]["fill"] for f in features} == {GI_CLASS_COLOURS["hot_99"]}
    m = base_map(32.0, 120.86, zoom=12, tiles="none")
    fine = cells_layer(many[["cell", "count", "geometry"]], name="fine")
    page = add_cells_with_overview(m, fine, coarse).get_root().render()
    script = page[page.index('map.on("zoomend", sync)') - 600 :]
    assert fine.get_name() in script
    assert coarse.get_name() in script
    assert f"map.getZoom() >= {FINE_MIN_ZOOM}" in script
