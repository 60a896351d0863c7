"""grid.build: polygons → cells (overlap / centre rule), shares, area tags; Nantong districts as reference."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from grid.areas import read_areas
from grid.build import CELL_COLUMNS, cells_from_polygons, utm_epsg
from grid.cells import cell_centers
from tests.conftest import SHARED_DATASETS

NANTONG_2021 = SHARED_DATASETS / "nantong_admin" / "nantong_320600_districts_datav2021.json"


@pytest.fixture(scope="module")
def nantong() -> gpd.GeoDataFrame:
    if not NANTONG_2021.exists():
        pytest.skip(f"Nantong 2021 district polygons not found at {NANTONG_2021} (../shared/datasets absent)")
    areas, quarantine = read_areas(NANTONG_2021, level="district", crs="gcj02")
    assert quarantine.empty
    return areas


@pytest.fixture(scope="module")
def nantong_cells(nantong: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return cells_from_polygons(nantong, res=8, rule="overlap")


def _areas(geoms: list[shapely.Geometry], ids: list[str], level: str = "district") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"area_id": ids, "level": [level] * len(ids), "parent_id": [None] * len(ids)},
        geometry=geoms,
        crs="EPSG:4326",
    )


def test_utm_epsg() -> None:
    assert utm_epsg(120.86, 32.0) == 32651
    assert utm_epsg(-77.0, 38.9) == 32618
    assert utm_epsg(151.2, -33.9) == 32756


def test_contract_columns_and_crs(nantong_cells: gpd.GeoDataFrame) -> None:
    assert tuple(nantong_cells.columns) == CELL_COLUMNS
    assert nantong_cells.crs.to_epsg() == 4326
    assert nantong_cells["cell"].dtype == np.int64
    assert nantong_cells["cell"].is_unique
    assert nantong_cells["cell"].is_monotonic_increasing
    assert ((nantong_cells["share"] > 0) & (nantong_cells["share"] <= 1)).all()
    assert nantong_cells["unit_grid"].isna().all()
    assert nantong_cells["subdistrict"].isna().all()


@pytest.mark.shared_data
def test_nantong_areas_add_up_within_one_percent(
    nantong: gpd.GeoDataFrame, nantong_cells: gpd.GeoDataFrame
) -> None:
    covered = float((nantong_cells["area_m2"] * nantong_cells["share"]).sum())
    assert covered == pytest.approx(float(nantong["area_m2"].sum()), rel=0.01)
    # per district too: cells tagged with a district cover about its area
    by_district = (nantong_cells["area_m2"] * nantong_cells["share"]).groupby(nantong_cells["district"]).sum()
    expected = nantong.set_index("area_id")["area_m2"]
    assert np.allclose(by_district.reindex(expected.index), expected, rtol=0.03)


@pytest.mark.shared_data
def test_nantong_tags_agree_with_a_centroid_sjoin(
    nantong: gpd.GeoDataFrame, nantong_cells: gpd.GeoDataFrame
) -> None:
    lat, lon = cell_centers(nantong_cells["cell"].to_numpy())
    centres = gpd.GeoDataFrame(
        {"cell": nantong_cells["cell"]}, geometry=gpd.points_from_xy(lon, lat), crs=4326
    )
    joined = gpd.sjoin(centres, nantong[["area_id", "geometry"]], predicate="within", how="inner")
    joined = joined[~joined.index.duplicated()]
    ours = nantong_cells.loc[joined.index, "district"].astype(str)
    agreement = float((ours.to_numpy() == joined["area_id"].to_numpy()).mean())
    assert agreement >= 0.99
    assert len(joined) >= 0.9 * len(nantong_cells)


@pytest.mark.shared_data
def test_center_rule_is_h3_polyfill_and_a_subset_of_overlap(
    nantong: gpd.GeoDataFrame, nantong_cells: gpd.GeoDataFrame
) -> None:
    centre = cells_from_polygons(nantong, res=8, rule="center")
    assert set(centre["cell"]) <= set(nantong_cells["cell"])
    assert len(centre) < len(nantong_cells)
    covered = float((centre["area_m2"] * centre["share"]).sum())
    assert covered == pytest.approx(float(nantong["area_m2"].sum()), rel=0.02)


@pytest.mark.shared_data
def test_res10_on_a_clipped_district(nantong: gpd.GeoDataFrame) -> None:
    box = shapely.box(120.84, 31.98, 120.90, 32.03)  # central Chongchuan, ~30 km²
    clipped = nantong.assign(geometry=nantong.geometry.intersection(box))
    clipped = clipped[~clipped.geometry.is_empty].reset_index(drop=True)
    clipped["area_m2"] = clipped.to_crs(32651).area
    cells = cells_from_polygons(clipped, res=10)
    assert float((cells["area_m2"] * cells["share"]).sum()) == pytest.approx(
        clipped["area_m2"].sum(), rel=0.01
    )
    assert cells["district"].notna().all()


def test_narrow_polygon_keeps_cells_with_overlap_rule() -> None:
    # a 20 m wide, 2 km long strip (lon/lat at 32 N): 20 m ≈ 0.00018° of latitude
    strip = shapely.box(120.86, 32.0, 120.86 + 2000 / 94_400, 32.0 + 20 / 111_000)
    areas = _areas([strip], ["S1"])
    overlap = cells_from_polygons(areas, res=10, rule="overlap")
    centre = cells_from_polygons(areas, res=10, rule="center")
    assert len(overlap) >= 20  # 2 km / ~110 m cell width, plus the neighbours the strip clips
    assert len(centre) < len(overlap) / 2
    strip_m2 = float(gpd.GeoSeries([strip], crs=4326).to_crs(32651).area.iloc[0])
    assert float((overlap["area_m2"] * overlap["share"]).sum()) == pytest.approx(strip_m2, rel=0.01)
    assert (overlap["district"] == "S1").all()


def test_largest_share_tags_and_levels() -> None:
    west = shapely.box(120.80, 32.00, 120.83, 32.03)
    east = shapely.box(120.83, 32.00, 120.86, 32.03)
    comm = shapely.box(120.80, 32.00, 120.815, 32.03)
    areas = _areas([west, east], ["W", "E"])
    areas = gpd.GeoDataFrame(
        [
            *areas.to_dict("records"),
            {"area_id": "C1", "level": "community", "parent_id": "W", "geometry": comm},
        ],
        crs=4326,
    )
    cells = cells_from_polygons(areas, res=9)
    lat, lon = cell_centers(cells["cell"].to_numpy())
    inner = (lat > 32.005) & (lat < 32.025)
    far_west, far_east = inner & (lon < 120.825), inner & (lon > 120.835)
    assert (cells.loc[far_west, "district"] == "W").all()
    assert (cells.loc[far_east, "district"] == "E").all()
    assert (cells.loc[inner & (lon < 120.81), "community"] == "C1").all()
    assert cells.loc[lon > 120.83, "community"].isna().all()


def test_unit_grid_tags() -> None:
    area = shapely.box(120.80, 32.00, 120.82, 32.02)
    units = gpd.GeoDataFrame(
        {"code": ["32060200100101", "32060200100102"]},
        geometry=[shapely.box(120.80, 32.00, 120.81, 32.02), shapely.box(120.81, 32.00, 120.82, 32.02)],
        crs=4326,
    )
    cells = cells_from_polygons(_areas([area], ["D"]), res=10, unit_grids=units)
    assert set(cells["unit_grid"].dropna()) == {"32060200100101", "32060200100102"}
    assert cells["unit_grid"].notna().all()


def test_bad_input_is_refused() -> None:
    area = _areas([shapely.box(0, 0, 0.01, 0.01)], ["A"])
    with pytest.raises(ValueError, match="rule"):
        cells_from_polygons(area, rule="centroid")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="EPSG:4326"):
        cells_from_polygons(area.to_crs(3857))
    with pytest.raises(ValueError, match="area_id"):
        cells_from_polygons(area.drop(columns="area_id"))
    with pytest.raises(TypeError, match="GeoDataFrame"):
        cells_from_polygons(area.drop(columns="geometry"))  # type: ignore[arg-type]
