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
    match = re.search(r"_add\((\{\"bbox\".*?\})\);", page)
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
