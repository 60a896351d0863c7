"""The deck.gl cell map: base-map styles, the layer it sends, the fitted view, the Gaode shift."""

from __future__ import annotations

import json
import math
import urllib.parse

import h3
import numpy as np
import pandas as pd
import pytest
import shapely

from app.hexmap import CELL_COVERAGE, basemap_style, cell_deck, quiet_parents, rgba, view_of
from grid.cells import cell_centers, cells_to_polygons, cells_to_strings
from grid.coords import from_wgs84

CENTRE = h3.str_to_int(h3.latlng_to_cell(32.0, 120.86, 10))


def _frame(n_rings: int = 3) -> pd.DataFrame:
    cells = np.array(sorted(h3.str_to_int(c) for c in h3.grid_disk(h3.int_to_str(CENTRE), n_rings)), np.int64)
    return pd.DataFrame(
        {
            "cell": cells,
            "h3": cells_to_strings(cells),
            "count": np.arange(len(cells)),
            "gi_z": np.linspace(-1, 3, len(cells)),
            "note": ["<b>x</b>"] * len(cells),
        }
    )


def _style(url: str) -> dict:
    assert url.startswith("data:application/json,")
    return json.loads(urllib.parse.unquote(url.removeprefix("data:application/json,")))


def test_basemap_styles_are_raster_sources_of_the_tile_setting(monkeypatch) -> None:
    assert basemap_style("none") is None
    osm = _style(basemap_style("osm"))
    assert osm["version"] == 8
    assert osm["sources"]["base"]["tiles"] == ["https://tile.openstreetmap.org/{z}/{x}/{y}.png"]
    assert osm["layers"] == [{"id": "base", "type": "raster", "source": "base"}]
    gaode = _style(basemap_style("gaode"))["sources"]["base"]["tiles"]
    assert [url[: len("https://webrd01")] for url in gaode] == [f"https://webrd0{s}" for s in "1234"]
    monkeypatch.delenv("GRIDPATROL_TIANDITU_KEY", raising=False)
    with pytest.raises(ValueError, match="needs a key"):
        basemap_style("tianditu")
    tianditu = _style(basemap_style("tianditu", tianditu_key="K123"))["sources"]["base"]["tiles"]
    assert len(tianditu) == 8
    assert all("tk=K123" in url for url in tianditu)
    with pytest.raises(ValueError, match="not one of"):
        basemap_style("bing")


def test_the_deck_sends_cell_ids_and_colours_in_compact_json() -> None:
    frame = _frame()
    fill = pd.Series(["#d62f27"] * len(frame))
    deck = cell_deck(frame, fill=fill, tooltip={"h3": "H3", "count": "n", "note": "note"}, tiles="osm")
    text = deck.to_json()
    assert "\n" not in text  # not pydeck's indented JSON
    spec = json.loads(text)
    (layer,) = spec["layers"]
    assert layer["@@type"] == "H3HexagonLayer"
    assert layer["coverage"] == CELL_COVERAGE
    assert layer["getHexagon"] == "@@=h3"
    assert [row["h3"] for row in layer["data"]] == list(frame["h3"])
    assert all(row["fill"] == [214, 47, 39, 170] for row in layer["data"])
    assert [row["count"] for row in layer["data"]] == list(range(len(frame)))  # numbers stay numbers
    assert {row["note"] for row in layer["data"]} == {"&lt;b&gt;x&lt;/b&gt;"}  # text is escaped
    assert "coordinates" not in text  # ids, not polygons
    assert spec["mapProvider"] == "mapbox"
    assert _style(spec["mapStyle"])["sources"]["base"]["type"] == "raster"
    assert deck._tooltip == {"text": "H3: {h3}\nn: {count}\nnote: {note}"}


def test_no_tiles_means_no_base_map_at_all() -> None:
    spec = json.loads(cell_deck(_frame(), fill="#3388ff", tiles="none").to_json())
    # Streamlit draws its default (Carto, from the web) base map when mapStyle is missing or null; its
    # sentinel value means "none".
    assert spec["mapStyle"] == "__MAP_STYLE__"
    assert "mapProvider" not in spec or spec["mapProvider"] is None


def test_over_gaode_cells_are_polygons_shifted_to_gcj02() -> None:
    frame = _frame(1)
    spec = json.loads(cell_deck(frame, fill="#3388ff", tiles="gaode").to_json())
    (layer,) = spec["layers"]
    assert layer["@@type"] == "PolygonLayer"
    polygons = cells_to_polygons(frame["cell"].to_numpy())
    for row, polygon in zip(layer["data"], polygons.geometry, strict=True):
        ring = np.array(row["polygon"])
        lon, lat = np.array(polygon.exterior.coords).T
        want_lat, want_lon = from_wgs84(lat, lon, "gcj02")
        np.testing.assert_allclose(ring[:, 0], want_lon, atol=2e-6)
        np.testing.assert_allclose(ring[:, 1], want_lat, atol=2e-6)
        assert abs(ring[0, 0] - lon[0]) > 1e-3  # the shift is real (~0.5 km in Nantong)
    lat, lon = cell_centers(frame["cell"].to_numpy())
    view = spec["initialViewState"]
    shifted_lat, shifted_lon = from_wgs84(lat, lon, "gcj02")
    assert abs(view["longitude"] - shifted_lon.mean()) < 1e-3
    assert abs(view["latitude"] - shifted_lat.mean()) < 1e-3


@pytest.mark.parametrize(("span", "width", "height"), [(0.01, 900, 560), (0.2, 900, 560), (1.5, 400, 800)])
def test_the_view_fits_the_points(span: float, width: int, height: int) -> None:
    rng = np.random.default_rng(1)
    lat = 32.0 + rng.uniform(0, span, 50)
    lon = 120.8 + rng.uniform(0, span * 1.3, 50)
    view = view_of(lat, lon, width=width, height=height)

    def pixel(la: np.ndarray, lo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        scale = 512 * 2**view.zoom / 360
        y = np.degrees(np.log(np.tan(np.pi / 4 + np.radians(la) / 2)))
        y0 = math.degrees(math.log(math.tan(math.pi / 4 + math.radians(view.latitude) / 2)))
        return (lo - view.longitude) * scale, (y - y0) * scale

    x, y = pixel(lat, lon)
    assert np.abs(x).max() <= width / 2
    assert np.abs(y).max() <= height / 2
    # … and not by a wide margin: the points fill most of one side.
    assert max(np.ptp(x) / width, np.ptp(y) / height) > 0.7


def test_colours_must_be_hex_triplets() -> None:
    assert rgba("#0a0B0c", alpha=9) == [10, 11, 12, 9]
    assert rgba(pd.Series(["#000000", "#ffffff"])) == [[0, 0, 0, 170], [255, 255, 255, 170]]
    with pytest.raises(ValueError, match="#rrggbb"):
        rgba("red")


def test_quiet_cells_become_a_background_of_parents_and_the_counts_add_up() -> None:
    frame = _frame(40)  # 4,921 res-10 cells
    quiet = pd.Series(frame["gi_z"].to_numpy() < 2.0, index=frame.index)
    fine, background = quiet_parents(frame, quiet, 10)
    assert list(fine["h3"]) == list(frame.loc[~quiet, "h3"])
    assert background is not None
    assert background["count"].sum() == frame.loc[quiet, "count"].sum()
    assert background["children"].sum() == int(quiet.sum())
    assert {h3.get_resolution(c) for c in background["h3"]} == {9}
    parents = {h3.cell_to_parent(h3.int_to_str(int(c)), 9) for c in frame.loc[quiet, "cell"]}
    assert set(background["h3"]) == parents
    # Few cells, or nothing quiet: drawn as they are.
    assert quiet_parents(frame.head(100), quiet.head(100), 10)[1] is None
    assert quiet_parents(frame, pd.Series(False, index=frame.index), 10)[1] is None
    deck = json.loads(
        cell_deck(fine, fill="#d62f27", tooltip={"h3": "H3", "gi_z": "z"}, background=background).to_json()
    )
    back, front = deck["layers"]
    assert back["id"] == "cells-background"
    assert front["id"] == "cells"
    assert {row["gi_z"] for row in back["data"]} == {"–"}  # a column the parents lack
    assert len(back["data"]) == len(background)


def test_download_polygons_are_added_to_plain_tables_only() -> None:
    from app.cell_maps import with_polygons

    cells = np.array(sorted(h3.str_to_int(c) for c in h3.grid_disk(h3.int_to_str(CENTRE), 1)), np.int64)
    # rows in another order than the cells' and a non-default index: polygons must follow each row's cell
    frame = pd.DataFrame({"cell": cells[::-1], "count": np.arange(7)}, index=np.arange(10, 17))
    shaped = with_polygons(frame)
    assert shaped.crs.to_epsg() == 4326
    assert shaped["count"].tolist() == list(range(7))
    lat, lon = cell_centers(shaped["cell"].to_numpy())
    centroids = shapely.centroid(shaped.geometry.to_numpy())  # planar: ~1e-8 degrees off for 66-m hexagons
    np.testing.assert_allclose(shapely.get_y(centroids), lat, atol=1e-6)
    np.testing.assert_allclose(shapely.get_x(centroids), lon, atol=1e-6)
    assert with_polygons(shaped) is shaped
