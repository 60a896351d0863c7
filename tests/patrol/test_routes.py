"""Walking network and suggested routes: street vs straight-line times, budgets, deadlines, GPX round trip."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

from grid.cells import cell_centers, strings_to_cells
from patrol.network import read_osm_walk_network, street_graph, street_path, walking_times
from patrol.routes import RouteOptions, open_tasks, route_to_geojson, suggest_route, write_gpx
from patrol.tracks import haversine_m
from sim.config import DemoConfig
from sim.run import simulate
from tests.conftest import shared_dataset

#: Three weeks, 8 inspectors on 8 km² (~700 cells): ~3 s to simulate.
CITY = DemoConfig(
    days=21, n_inspectors=8, cases_per_day=80.0, area_km2=8.0, n_subdistricts=4, n_communities=12
)
DATE = "2025-01-22"  # the day after the simulated period
SHIFT = pd.Timestamp("2025-01-22 08:00", tz="Asia/Shanghai").tz_convert("UTC")


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("route_city")
    simulate(CITY, out)
    return out


@pytest.fixture(scope="module")
def graph(city: Path):
    return street_graph(gpd.read_parquet(city / "geo" / "streets.parquet"), source="streets.parquet")


@pytest.fixture(scope="module")
def assignments(city: Path) -> pd.DataFrame:
    frame = pd.read_csv(city / "people" / "assignments.csv", dtype=str)
    frame["cell"] = strings_to_cells(frame["cell"].to_numpy())
    for column in ("valid_from", "valid_to"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def _cells_of(assignments: pd.DataFrame, inspector: str) -> np.ndarray:
    return np.sort(assignments.loc[assignments["inspector_id"] == inspector, "cell"].to_numpy(dtype=np.int64))


def _no_cases() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "case_id": pd.Series(dtype=str),
            "cell": pd.Series(dtype=np.int64),
            "status": pd.Series(dtype=str),
            "reported_at": pd.Series(dtype="datetime64[ns, UTC]"),
            "deadline_at": pd.Series(dtype="datetime64[ns, UTC]"),
        }
    )


# --- network ----------------------------------------------------------------------------------------------


def test_tiny_graph_known_distances() -> None:
    # an L of two 100 m-ish legs and a separate street far away
    lines = gpd.GeoSeries(
        [
            shapely.LineString([(120.0, 32.0), (120.001, 32.0), (120.001, 32.001)]),
            shapely.LineString([(120.05, 32.05), (120.051, 32.05)]),
        ],
        crs=4326,
    )
    g = street_graph(lines, largest_component=False)
    assert (g.n_nodes, g.n_edges) == (5, 3)
    assert street_graph(lines).n_nodes == 3
    leg1 = haversine_m(32.0, 120.0, 32.0, 120.001)
    leg2 = haversine_m(32.0, 120.001, 32.001, 120.001)
    m = walking_times([32.0, 32.001, 32.05], [120.0, 120.001, 120.05], graph=g, speed_mps=1.0, circuity=1.5)
    assert m.metres[0, 1] == pytest.approx(leg1 + leg2)  # along the L, not the diagonal
    assert m.seconds[0, 1] == pytest.approx(leg1 + leg2)
    assert m.on_street[0, 1]
    assert not m.on_street[0, 2]
    assert m.metres[0, 2] == pytest.approx(1.5 * haversine_m(32.0, 120.0, 32.05, 120.05))
    path, legs = street_path(g, [32.0, 32.001], [120.0, 120.001])
    assert shapely.get_num_coordinates(path) == 5  # point, 3 nodes, point
    assert legs[0] == pytest.approx(m.metres[0, 1])


def test_street_times_never_beat_the_straight_line(graph, assignments: pd.DataFrame) -> None:
    cells = _cells_of(assignments, "NT0001")
    lat, lon = cell_centers(cells)
    m = walking_times(lat, lon, graph=graph)
    crow = haversine_m(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    assert (m.metres >= crow - 1e-6).all()
    assert (m.seconds == m.metres / 1.2).all()
    assert m.on_street.mean() > 0.95  # the demo city's streets reach every cell of a beat
    assert np.allclose(m.metres, m.metres.T)
    off = ~np.eye(len(cells), dtype=bool)
    assert np.median(m.metres[off] / crow[off]) > 1.05  # a grid of streets is not a straight line
    fallback = walking_times(lat, lon, graph=None, circuity=1.3)
    assert np.allclose(fallback.metres, 1.3 * crow)


@pytest.mark.shared_data
def test_osm_monaco_walk_network() -> None:
    path = shared_dataset("osm_monaco") / "monaco_highways.geojson"
    g = read_osm_walk_network(path)
    ways = gpd.read_file(path)
    everything = street_graph(ways, largest_component=False)
    assert 20_000 < g.n_nodes < everything.n_nodes  # motorways, foot=no etc. are left out
    assert g.length_m < everything.length_m
    # Monaco-Ville (the Rock) to the Casino: ~1.5 km as the crow flies, a longer walk on the streets
    lat, lon = np.array([43.7311, 43.7396]), np.array([7.4197, 7.4279])
    m = walking_times(lat, lon, graph=g)
    crow = haversine_m(lat[0], lon[0], lat[1], lon[1])
    assert m.on_street[0, 1]
    assert crow * 1.0 <= m.metres[0, 1] < crow * 2.5
    line, legs = street_path(g, lat, lon)
    assert legs[0] == pytest.approx(m.metres[0, 1], rel=1e-9)
    assert shapely.get_num_coordinates(line) > 10


# --- routes -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("budget_h", "seed"), [(0.5, 0), (1.5, 1), (4.0, 2)])
def test_route_respects_the_budget(
    city: Path, graph, assignments: pd.DataFrame, budget_h: float, seed: int
) -> None:
    cases = pd.read_parquet(city / "cases" / "cases.parquet")
    cells = _cells_of(assignments, "NT0002")
    forecast = pd.DataFrame({"cell": cells, "risk": np.random.default_rng(seed).random(cells.size)})
    options = RouteOptions(time_limit_s=0.3, seed=seed)
    route = suggest_route(
        "NT0002",
        DATE,
        assignments=assignments,
        cases=cases,
        budget_s=budget_h * 3600,
        graph=graph,
        forecast=forecast,
        options=options,
    )
    stops = route.stops
    assert stops.crs.to_epsg() == 4326
    assert list(stops["kind"].iloc[[0, -1]]) == ["start", "end"]
    assert route.totals["duration_s"] <= budget_h * 3600 + 1e-6
    elapsed = (stops["arrival"].iloc[-1] - stops["arrival"].iloc[0]).total_seconds()
    assert elapsed == pytest.approx(stops["walk_s"].sum() + stops["dwell_s"].iloc[:-1].sum())
    assert stops["arrival"].is_monotonic_increasing
    visited = stops.loc[stops["kind"] == "stop", "cell"].to_numpy(dtype=np.int64)
    assert np.isin(visited, cells).all()
    assert len(set(visited)) == len(visited)
    assert route.totals["value"] == pytest.approx(stops["value"].sum())
    assert route.totals["value"] <= route.totals["value_available"]
    assert (stops.loc[stops["kind"] == "stop", "why"].str.len() > 0).all()
    # the path follows the streets: at least as long as the straight legs between the stops
    straight = haversine_m(
        stops["lat"].iloc[:-1].to_numpy(),
        stops["lon"].iloc[:-1].to_numpy(),
        stops["lat"].iloc[1:].to_numpy(),
        stops["lon"].iloc[1:].to_numpy(),
    ).sum()
    assert route.totals["distance_m"] >= straight - 1e-6


def test_value_goes_where_the_forecast_says(graph, assignments: pd.DataFrame) -> None:
    cells = _cells_of(assignments, "NT0003")
    lat, lon = cell_centers(cells)
    target = int(np.argmax(np.hypot(lat - lat.mean(), lon - lon.mean())))  # the cell farthest out
    forecast = pd.DataFrame({"cell": cells, "risk": np.where(np.arange(cells.size) == target, 1.0, 0.0)})
    route = suggest_route(
        "NT0003",
        DATE,
        assignments=assignments,
        cases=_no_cases(),
        budget_s=2 * 3600,
        graph=graph,
        forecast=forecast,
        options=RouteOptions(time_limit_s=0.2),
    )
    stops = route.stops[route.stops["kind"] == "stop"]
    assert list(stops["cell"]) == [cells[target]]  # the only cell with value, nothing else
    assert "forecast risk 1.00" in stops["why"].iloc[0]


def test_must_visit_stops_are_on_time_or_explained(graph, assignments: pd.DataFrame) -> None:
    cells = _cells_of(assignments, "NT0004")
    lat, lon = cell_centers(cells)
    far = np.argsort(-np.hypot(lat - lat.mean(), lon - lon.mean()))
    hour = pd.Timedelta(hours=1)
    cases = pd.DataFrame(
        {
            "case_id": ["V1", "V2", "C1", "OLD", "TIGHT"],
            "cell": cells[[far[0], far[1], far[2], far[3], far[4]]],
            "status": ["reported", "reported", "resolved", "resolved", "resolved"],
            # verification due 2 h after the report; re-checks due at deadline_at
            "reported_at": [
                SHIFT - 0.5 * hour,
                SHIFT,
                SHIFT - 48 * hour,
                SHIFT - 72 * hour,
                SHIFT - 24 * hour,
            ],
            "deadline_at": [
                pd.NaT,
                pd.NaT,
                SHIFT + 3 * hour,
                SHIFT - 5 * hour,
                SHIFT + pd.Timedelta(seconds=30),
            ],
        }
    )
    tasks = open_tasks(cases, cells, SHIFT)
    assert list(tasks["case_id"]) == ["OLD", "TIGHT", "V1", "V2", "C1"]  # by deadline
    assert tasks.set_index("case_id").loc["V1", "deadline"] == SHIFT + 1.5 * hour
    forecast = pd.DataFrame({"cell": cells, "risk": np.full(cells.size, 0.5)})
    route = suggest_route(
        "NT0004",
        DATE,
        assignments=assignments,
        cases=cases,
        budget_s=4 * 3600,
        graph=graph,
        forecast=forecast,
        options=RouteOptions(time_limit_s=0.5),
    )
    stops = route.stops.set_index(route.stops["cell"].astype("Int64"))
    for case_id, cell in zip(cases["case_id"], cases["cell"], strict=True):
        assert cell in stops.index, case_id  # every must-visit cell is on the route (the budget allows it)
    on_time = {
        c: bool(stops.loc[cell, "on_time"]) for c, cell in zip(cases["case_id"], cases["cell"], strict=True)
    }
    assert on_time["V1"]
    assert on_time["V2"]
    assert on_time["C1"]
    assert stops.loc[cases["cell"][0], "arrival"] <= SHIFT + 1.5 * hour
    assert not on_time["OLD"]
    assert not on_time["TIGHT"]
    reasons = route.missed.set_index("case_ids")["reason"]
    assert set(reasons.index) == {"OLD", "TIGHT"}
    assert reasons["OLD"].startswith("already overdue at the shift start")
    assert "after the deadline" in reasons["TIGHT"]
    # a budget too short for all must-visit cells: the unvisited ones say why
    short = suggest_route(
        "NT0004",
        DATE,
        assignments=assignments,
        cases=cases,
        budget_s=900,
        graph=graph,
        forecast=forecast,
        options=RouteOptions(time_limit_s=0.3),
    )
    assert short.totals["duration_s"] <= 900
    on_short = set(short.stops["cell"].dropna().astype(np.int64))
    explained = set(short.missed["cell"])
    must = short.candidates.loc[short.candidates["must_visit"], "cell"]
    assert set(must) == set(cases["cell"][[3, 4]])  # only tasks due before 08:15 are forced
    for cell in must:
        assert cell in on_short or cell in explained
    assert (short.missed["reason"].str.len() > 10).all()


def test_gpx_and_geojson_round_trip(tmp_path: Path, graph, assignments: pd.DataFrame) -> None:
    cells = _cells_of(assignments, "NT0001")
    forecast = pd.DataFrame({"cell": cells, "risk": np.linspace(0, 1, cells.size)})
    route = suggest_route(
        "NT0001",
        DATE,
        assignments=assignments,
        cases=_no_cases(),
        budget_s=1.5 * 3600,
        graph=graph,
        forecast=forecast,
        options=RouteOptions(time_limit_s=0.2),
    )
    gpx = write_gpx(route, tmp_path / "route.gpx")
    # GDAL's GPX driver (an independent reader) parses it: a waypoint per stop, the route, the track
    n_stops = int((route.stops["kind"] == "stop").sum())
    assert len(pyogrio.read_dataframe(gpx, layer="waypoints")) == n_stops
    rtept = pyogrio.read_dataframe(gpx, layer="route_points")
    assert len(rtept) == len(route.stops)
    assert np.allclose(rtept.geometry.x, route.stops["lon"], atol=1e-7)
    track = pyogrio.read_dataframe(gpx, layer="track_points")
    assert len(track) == shapely.get_num_coordinates(route.path)
    text = gpx.read_text(encoding="utf-8")
    assert 'xmlns="http://www.topografix.com/GPX/1/1"' in text
    assert 'version="1.1"' in text
    collection = route_to_geojson(route)
    assert len(collection["features"]) == len(route.stops) + 1
    assert collection["features"][-1]["geometry"]["type"] == "LineString"
    assert collection["features"][-1]["properties"]["n_stops"] == n_stops


def test_route_cli(tmp_path: Path, city: Path) -> None:
    from app.cli import main

    runner = CliRunner()
    out = tmp_path / "route.html"
    args = ["route", "--inspector", "NT0001", "--date", DATE, "--budget", "2h", "--city", str(city)]
    result = runner.invoke(main, [*args, "--time-limit", "0.2", "--tiles", "none", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "network: streets.parquet" in result.output
    assert "leaflet" in out.read_text(encoding="utf-8").lower()
    bad = runner.invoke(main, [*args, "--out", str(tmp_path / "route.txt")])
    assert bad.exit_code == 1
    assert "--out must end in" in bad.output
