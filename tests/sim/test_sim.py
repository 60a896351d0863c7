"""The demo city shows what it was configured to show (each test can fail)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import shapely

from cases.workflow import STATUSES, history_problems
from sim.config import DemoConfig
from sim.geography import build_geography
from sim.run import simulate
from tests.sim.conftest import SMALL

UTM = "EPSG:32651"


def test_category_shares_match_the_configuration(city) -> None:
    obs = city.problems["cat"].value_counts(normalize=True).sort_index()
    exp = city.intensity.totals().sum(axis=0) / (1 - city.intensity.branching)  # background + episodes
    exp = exp / exp.sum()
    for k, share in obs.items():
        assert abs(share - exp[k]) < 0.02 + 0.15 * exp[k], city.config.category_codes[k]


def test_source_shares_match_the_configuration(city) -> None:
    obs = city.cases["source"].value_counts(normalize=True)
    for source, share in city.config.source_share_map.items():
        assert abs(obs.get(source, 0.0) - share) < 0.035, source


def test_weekly_and_daily_cycles(city) -> None:
    local = city.cases["reported_at"].dt.tz_convert("Asia/Shanghai")
    days = local.dt.date.value_counts()
    wd = pd.Series([d.weekday() for d in days.index], index=days.index)
    assert days[wd < 5].mean() / days[wd >= 5].mean() > 1.15
    hours = local.dt.hour.value_counts(normalize=True)
    assert hours.reindex(range(9, 17)).sum() > 0.5
    assert hours.reindex(range(0, 6), fill_value=0).sum() < 0.05


def test_rates_within_one_point(city) -> None:
    r, cfg = city.rates, city.config
    assert abs(r["on_time_rate"] - cfg.on_time_rate) < 0.01
    assert abs(r["closure_rate"] - cfg.closure_rate) < 0.01
    assert abs(r["satisfaction_rate"] - cfg.satisfaction_rate) < 0.01


def test_lifecycle_order_and_events(city) -> None:
    c = city.cases
    for a, b in (
        ("reported_at", "registered_at"),
        ("registered_at", "dispatched_at"),
        ("dispatched_at", "resolved_at"),
        ("resolved_at", "verified_at"),
        ("verified_at", "closed_at"),
    ):
        both = c[a].notna() & c[b].notna()
        assert (c.loc[both, a] <= c.loc[both, b]).all(), (a, b)
    ev = city.events
    last = ev.groupby("case_id")["to_status"].last()
    assert (last.reindex(c["case_id"]).to_numpy() == c["status"].to_numpy()).all()
    assert history_problems(ev, c).empty
    # the last day's open work (sim.present) adds the request statuses of the lifecycle
    assert set(c["status"]) <= set(STATUSES) - {"suspended"}


def test_patrol_finds_are_on_the_track(city, small_out: Path) -> None:
    pc = city.cases[city.cases["source"] == "patrol"].sample(300, random_state=0)
    tracks = pq.read_table(small_out / "tracks").to_pandas()
    tracks["inspector_id"] = tracks["inspector_id"].astype(str)
    fr = city.geography.frame
    tx, ty = fr.to_xy(tracks["lat"].to_numpy(), tracks["lon"].to_numpy())
    tracks["x"], tracks["y"], tracks["t"] = tx, ty, tracks["ts"].astype("int64") // 10**3
    cx, cy = fr.to_xy(pc["lat"].to_numpy(), pc["lon"].to_numpy())
    groups = dict(tuple(tracks.groupby("inspector_id")))
    for insp, t, x, y in zip(
        pc["reported_by"], pc["reported_at"].astype("int64") // 10**9, cx, cy, strict=True
    ):
        g = groups[insp]
        near = g[(g["t"] - t).abs() <= 90]
        assert len(near), insp
        assert np.hypot(near["x"] - x, near["y"] - y).min() < 50.0


def test_tracks_follow_the_streets(city, small_out: Path) -> None:
    day = sorted((small_out / "tracks").iterdir())[3]
    pts = pq.read_table(day / "part.parquet").to_pandas()
    assert str(pts["ts"].dtype) == "datetime64[ms, UTC]"
    pts = pts[pts["accuracy_m"] <= 15].sample(5000, random_state=0)
    streets = gpd.read_parquet(small_out / "geo" / "streets.parquet").to_crs(UTM)
    p = gpd.GeoSeries(gpd.points_from_xy(pts["lon"], pts["lat"]), crs=4326).to_crs(UTM)
    tree = shapely.STRtree(streets.geometry.values)
    _, dist = tree.query_nearest(p.values, return_distance=True, all_matches=False)
    assert np.median(dist) <= 10.0
    speeds = np.hypot(np.diff(p.x), np.diff(p.y))
    assert speeds.size


def _tiles_exactly(parts: gpd.GeoDataFrame, whole) -> None:
    """No overlaps or gaps above 1 m², measured in UTM 51N.

    Edges are densified (~5 m) before projecting: a straight lon/lat edge is slightly curved in UTM, and
    parts that split an edge with extra vertices would otherwise differ from the whole by that curvature.
    """
    parts = gpd.GeoSeries(np.asarray(parts.geometry.values), crs=4326).segmentize(5e-5).to_crs(UTM)
    whole = gpd.GeoSeries([whole], crs=4326).segmentize(5e-5).to_crs(UTM).iloc[0]
    union = shapely.union_all(parts.values)
    assert abs(parts.area.sum() - whole.area) < 1.0  # no overlaps
    assert union.symmetric_difference(whole).area < 1.0  # no gaps


@pytest.mark.parametrize("layer", ["districts", "subdistricts", "communities"])
def test_areas_tile_the_city(city, small_out: Path, layer: str) -> None:
    city_poly = gpd.read_file(small_out / "geo" / "city.geojson").geometry.iloc[0]
    _tiles_exactly(gpd.read_file(small_out / "geo" / f"{layer}.geojson"), city_poly)


def test_unit_grids_tile_the_city_with_15_digit_codes(city, small_out: Path) -> None:
    city_poly = gpd.read_file(small_out / "geo" / "city.geojson").geometry.iloc[0]
    units = gpd.read_parquet(small_out / "geo" / "unit_grids.parquet")
    _tiles_exactly(units, city_poly)
    assert units["unit_grid"].str.fullmatch(r"\d{15}").all()
    assert units["unit_grid"].is_unique
    assert units["unit_grid"].str[:6].isin(["320613", "320612", "320671", "320614"]).all()
    assert 5_000 < units.to_crs(UTM).area.median() < 15_000


@pytest.mark.slow
def test_default_size_geography() -> None:
    cfg = DemoConfig()
    geo = build_geography(cfg, np.random.default_rng(cfg.seed))
    assert len(geo.areas["district"]) == 4
    assert abs(len(geo.areas["subdistrict"]) - 20) <= 2
    assert abs(len(geo.areas["community"]) - 100) <= 5
    assert 95e6 < geo.city.area < 105e6
    _tiles_exactly(geo.areas["community"], geo.frame.geoms_to_wgs84([geo.city])[0])
    lengths = geo.edges["length_m"]
    assert lengths.min() >= 60
    assert lengths.max() <= 320


def test_truth_files(city, small_out: Path) -> None:
    truth = small_out / "truth"
    cfg = json.loads((truth / "config.json").read_text(encoding="utf-8"))
    assert cfg["seed"] == SMALL.seed
    hot = pd.read_csv(truth / "hotspot_periods.csv")
    assert {"persistent", "new", "intensifying", "diminishing", "sporadic", "oscillating"} <= set(
        hot["pattern"]
    )
    finds = pd.read_parquet(truth / "patrol_finds.parquet")
    assert len(finds) == (city.cases["source"] == "patrol").sum()
    inten = pd.read_parquet(truth / "intensity.parquet")
    codes = list(city.config.category_codes)
    assert list(inten.columns) == ["cell", "week", *codes]
    assert len(inten) == len(city.geography.cells) * inten["week"].nunique()
    assert abs(inten[codes].to_numpy(dtype=float).sum() / len(city.problems) - 1) < 0.05
    routes = gpd.read_parquet(truth / "routes.parquet")
    assert len(routes) == len(city.people.inspectors)


def test_beats_are_contiguous_within_one_subdistrict(city) -> None:
    from scipy.sparse.csgraph import connected_components

    from sim.people import cell_adjacency

    cells = city.geography.cells
    adj = cell_adjacency(cells["cell"].to_numpy())
    for i in range(len(city.people.inspectors)):
        idx = np.flatnonzero(city.people.beat == i)
        assert cells["subdistrict"].to_numpy()[idx].tolist().count(
            cells["subdistrict"].to_numpy()[idx[0]]
        ) == len(idx)
        n, _ = connected_components(adj[idx][:, idx], directed=False)
        assert n == 1


def test_same_seed_same_bytes_other_seed_differs(small_out: Path, tmp_path: Path, city) -> None:
    cfg = DemoConfig(
        days=7, n_inspectors=6, cases_per_day=60.0, area_km2=9.0, n_subdistricts=3, n_communities=9
    )
    simulate(cfg, tmp_path / "a")
    simulate(cfg, tmp_path / "b")
    simulate(DemoConfig(**{**cfg.__dict__, "seed": 8}), tmp_path / "c")
    a = (tmp_path / "a" / "manifest.json").read_text()
    assert a == (tmp_path / "b" / "manifest.json").read_text()
    assert a != (tmp_path / "c" / "manifest.json").read_text()
