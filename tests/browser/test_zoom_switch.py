"""The parent-cell overview in Chromium: parents drawn when zoomed out, the cells themselves when zoomed in.

A standalone map (Leaflet inlined, no network) of ~3,500 res-10 cells with their res-9 parents is opened from
a file; the test reads which layers Leaflet holds at each zoom.
"""

from __future__ import annotations

from pathlib import Path

import h3
import numpy as np
import pytest

from app.maps import (
    FINE_MIN_ZOOM,
    add_cells_with_overview,
    base_map,
    cells_layer,
    overview_layer,
    standalone_html,
)
from grid.cells import cells_to_polygons

pytestmark = pytest.mark.browser

#: Names of the GeoJSON layers on the page's Leaflet map (folium keeps them as globals ``geo_json_*``).
_LAYERS_ON_MAP = """
const map = Object.keys(window).filter(k => k.startsWith('map_')).map(k => window[k])[0];
const names = Object.keys(window).filter(k => k.startsWith('geo_json_') && window[k] instanceof L.Layer);
return {zoom: map.getZoom(), on: names.filter(n => map.hasLayer(window[n]))};
"""


def _page(tmp_path: Path) -> tuple[Path, str, str]:
    centre = h3.latlng_to_cell(32.0, 120.86, 9)
    parents = sorted(h3.grid_disk(centre, 12))[:520]
    children = np.array(sorted(h3.str_to_int(c) for p in parents for c in h3.cell_to_children(p)), np.int64)
    cells = cells_to_polygons(children)
    cells["count"] = 1
    fine = cells_layer(cells[["cell", "count", "geometry"]], name="fine")
    coarse = overview_layer(cells[["cell", "count", "geometry"]], 10, sums=("count",), name="coarse")
    assert coarse is not None
    m = base_map(32.0, 120.86, zoom=12, tiles="none")
    add_cells_with_overview(m, fine, coarse)
    path = tmp_path / "overview.html"
    path.write_text(standalone_html(m), encoding="utf-8")
    return path, fine.get_name(), coarse.get_name()


def test_zoomed_out_shows_parents_and_zoomed_in_shows_cells(browser, tmp_path: Path, screenshot) -> None:
    path, fine, coarse = _page(tmp_path)
    browser.get(path.as_uri())
    state = browser.execute_script(_LAYERS_ON_MAP)
    assert state["zoom"] == 12
    assert state["on"] == [coarse]
    screenshot("overview-zoom12")
    browser.execute_script(
        "Object.keys(window).filter(k => k.startsWith('map_')).map(k => window[k])[0]"
        f".setZoom({FINE_MIN_ZOOM}, {{animate: false}})"
    )
    state = browser.execute_script(_LAYERS_ON_MAP)
    assert state["zoom"] == FINE_MIN_ZOOM
    assert state["on"] == [fine]
    screenshot(f"overview-zoom{FINE_MIN_ZOOM}")
