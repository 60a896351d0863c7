"""Patrol beats (contiguity, balance, compactness vs PySAL spopt) and staffing (known answers)."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from grid.cells import cell_centers, cells_to_polygons, grid_disk, latlng_to_cells
from patrol.deployment import beat_compactness, cell_workload, partition_beats
from patrol.staffing import _shift_of_hour, hour_profile, staffing_plan, staffing_what_if
from sim.config import DemoConfig
from sim.run import simulate

CITY = DemoConfig(
    days=21, n_inspectors=8, cases_per_day=80.0, area_km2=8.0, n_subdistricts=4, n_communities=12
)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("deploy_city")
    simulate(CITY, out)
    return out


def _disk(lat: float, lon: float, k: int) -> np.ndarray:
    centre = latlng_to_cells(np.array([lat]), np.array([lon]), 10)
    return np.unique(grid_disk(centre, k)["neighbour"].to_numpy())


def _check_contiguous(cells: np.ndarray, labels: np.ndarray) -> None:
    """Every beat is one connected piece of the H3 neighbour graph (checked with networkx)."""
    pairs = grid_disk(cells, 1, include_self=False)
    pairs = pairs[pairs["neighbour"].isin(cells)]
    beat = pd.Series(labels, index=cells)
    graph = nx.Graph()
    graph.add_nodes_from(cells.tolist())
    same = beat.loc[pairs["cell"]].to_numpy() == beat.loc[pairs["neighbour"]].to_numpy()
    graph.add_edges_from(zip(pairs["cell"][same].tolist(), pairs["neighbour"][same].tolist(), strict=True))
    for b in np.unique(labels):
        assert nx.is_connected(graph.subgraph(cells[labels == b].tolist())), f"beat {b} is not contiguous"


def _deviation(labels: np.ndarray, work: np.ndarray) -> float:
    load = np.bincount(pd.factorize(labels)[0], weights=work)
    return float(np.abs(load / load.mean() - 1).max())


def test_compactness_known_answers() -> None:
    one = _disk(32.0, 120.86, 0)
    assert beat_compactness(one, [0])["compactness"].iloc[0] == pytest.approx(
        np.pi * np.sqrt(3) / 6
    )  # hexagon
    seven = _disk(32.0, 120.86, 1)  # a flower of 7 cells: 18 boundary edges
    table = beat_compactness(seven, np.zeros(7, dtype=int))
    assert table["boundary_edges"].iloc[0] == 18
    assert table["compactness"].iloc[0] == pytest.approx(6 * np.sqrt(3) * np.pi * 7 / 18**2)


@pytest.mark.parametrize(("n_beats", "seed"), [(3, 0), (7, 1), (12, 2)])
def test_beats_are_contiguous_and_balanced(n_beats: int, seed: int) -> None:
    cells = _disk(32.0, 120.86, 12)  # 469 cells
    rng = np.random.default_rng(seed)
    work = rng.gamma(0.7, 10.0, cells.size)
    work[rng.integers(cells.size, size=3)] += 60.0  # a few hotspot cells
    order = rng.permutation(cells.size)  # the caller's order is kept
    plan = partition_beats(cells[order], work[order], n_beats, seed=seed)
    assert plan.balanced
    assert _deviation(plan.labels, work[order]) <= 0.10 + 1e-12
    assert plan.max_deviation == pytest.approx(_deviation(plan.labels, work[order]))
    assert sorted(np.unique(plan.labels)) == list(range(n_beats))
    assert plan.beats["contiguous"].all()
    _check_contiguous(cells[order], plan.labels)
    assert plan.beats["compactness"].min() > 0.2
    assert (plan.to_frame()["cell"].to_numpy() == cells[order]).all()


def test_a_district_in_two_pieces_is_linked() -> None:
    cells = np.concatenate([_disk(32.0, 120.86, 5), _disk(32.0, 120.90, 3)])  # ~4 km apart
    plan = partition_beats(cells, np.ones(cells.size), 4)
    assert plan.links == 1
    assert plan.balanced


def test_bad_arguments_are_refused() -> None:
    cells = _disk(32.0, 120.86, 1)
    with pytest.raises(ValueError, match="n_beats"):
        partition_beats(cells, np.ones(7), 8)
    with pytest.raises(ValueError, match="workload"):
        partition_beats(cells, -np.ones(7), 2)


@pytest.mark.slow
def test_demo_district_beats_against_spopt(city: Path) -> None:
    """Our beats vs PySAL spopt's SKATER (same cells, same workloads, same number of regions)."""
    from libpysal.weights import Queen
    from spopt.region import Skater

    from analytics.forecast import forecast_cells

    cells = gpd.read_parquet(city / "geo" / "cells.parquet")
    cases = pd.read_parquet(city / "cases" / "cases.parquet")
    district = cells["district"].value_counts().index[-1]  # the smallest district (~100 cells)
    sel = cells[cells["district"] == district].sort_values("cell").reset_index(drop=True)
    forecast = forecast_cells(cases, cells[["cell"]], model="baseline_mean")
    expected = forecast.set_index("cell")["expected"].reindex(sel["cell"]).to_numpy()
    work = cell_workload(sel, expected)["workload_min"].to_numpy()
    n = 4
    ours = partition_beats(sel["cell"].to_numpy(), work, n)
    _check_contiguous(sel["cell"].to_numpy(), ours.labels)
    polygons = cells_to_polygons(sel["cell"].to_numpy()).reset_index(drop=True)
    lat, lon = cell_centers(sel["cell"].to_numpy())
    xy = np.column_stack([lon * np.cos(np.radians(lat.mean())), lat]) * 111_195.0  # metres, local
    polygons["x"], polygons["y"], polygons["workload"] = xy[:, 0], xy[:, 1], work
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        weights = Queen.from_dataframe(polygons, use_index=False, silence_warnings=True)
        skater = Skater(polygons, weights, ["x", "y"], n_clusters=n, floor=len(polygons) // (2 * n))
        skater.solve()
    theirs = np.asarray(skater.labels_)
    _check_contiguous(sel["cell"].to_numpy(), theirs)
    table = pd.DataFrame(
        {
            "method": ["gridpatrol", "spopt Skater"],
            "max_deviation": [_deviation(ours.labels, work), _deviation(theirs, work)],
            "compactness": [
                beat_compactness(sel["cell"], ours.labels)["compactness"].mean(),
                beat_compactness(sel["cell"], pd.factorize(theirs)[0])["compactness"].mean(),
            ],
        }
    )
    print(table.to_string(index=False))  # side by side, in the test log (-s)
    ours_row, theirs_row = table.iloc[0], table.iloc[1]
    assert ours_row["max_deviation"] <= 0.10
    assert ours_row["max_deviation"] < theirs_row["max_deviation"]  # SKATER does not balance workloads
    assert ours_row["compactness"] >= 0.8 * theirs_row["compactness"]


# --- staffing ---------------------------------------------------------------------------------------------


def test_hours_outside_shifts_wait_for_the_next_shift() -> None:
    shifts = (("08:00", "12:00"), ("13:30", "17:30"))
    slot = _shift_of_hour(shifts, (0, 1, 2, 3, 4))
    monday, friday, sunday = 0, 4 * 24, 6 * 24
    assert slot[monday + 9] == 0  # Monday 09:00: Monday morning
    assert slot[monday + 12] == 1  # Monday 12:00 (lunch): Monday afternoon
    assert slot[monday + 13] == 1  # 13:00 starts before 13:30: waits for it
    assert slot[monday + 17] == 1  # 17:00 is inside 13:30-17:30
    assert slot[monday + 18] == 2  # Monday evening: Tuesday morning
    assert slot[friday + 18] == 0  # Friday evening: next Monday morning
    assert slot[sunday + 23] == 0
    assert slot[monday + 3] == 0  # Monday 03:00: Monday morning


def test_hour_profile_counts_local_hours() -> None:
    cases = pd.DataFrame(
        {"reported_at": pd.to_datetime(["2025-03-03 01:30Z", "2025-03-03 01:50Z", "2025-03-09 15:00Z"])}
    )
    profile = hour_profile(cases, timezone="Asia/Shanghai")
    assert profile.to_numpy().sum() == pytest.approx(1.0)
    assert profile.loc[0, 9] == pytest.approx(2 / 3)  # Monday 09:xx local
    assert profile.loc[6, 23] == pytest.approx(1 / 3)  # Sunday 23:00 local


def _tiny(minutes_per_case: float) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    # A: 2 cases a week, 720 m of streets (10 min at 1.2 m/s), the hotspot; B: 1 case, 360 m (5 min)
    demand = pd.DataFrame(
        {"cell": [1, 2], "district": ["D", "D"], "expected": [2.0, 1.0], "street_m": [720.0, 360.0]}
    )
    profile = pd.DataFrame(np.zeros((7, 24)))
    profile.loc[0, 9] = 1.0  # every case on Monday at 09:00
    knobs = {
        "shifts": (("08:00", "10:00"),),
        "working_days": (0,),
        "minutes_per_case": minutes_per_case,
        "dwell_min": 0.0,
        "utilisation": 1.0,
    }
    return demand, profile, knobs


def test_staffing_known_answer() -> None:
    demand, profile, knobs = _tiny(36.0)
    plan = staffing_plan(demand, profile, hot_share=0.5, **knobs)
    row = plan.table.iloc[0]
    assert list(plan.hot_cells) == [1]
    assert row["expected_cases"] == pytest.approx(3.0)
    assert row["case_min"] == pytest.approx(108.0)
    assert row["patrol_min"] == pytest.approx(15.0)  # A daily (10) + B weekly over one working day (5)
    assert row["inspectors"] == 2  # ceil(123 / 120)
    what_if = staffing_what_if(demand, plan, 1, k=1, **knobs).set_index("inspectors")
    # 0 inspectors: nothing; 1: 120 min = the cases (108) + A's walk (10), B's 5 min do not fit; 2: all
    assert what_if.loc[0, "case_share"] == 0
    assert what_if.loc[0, "value"] == 0
    assert what_if.loc[1, "case_share"] == pytest.approx(1.0)
    assert what_if.loc[1, "hot_daily_share"] == pytest.approx(1.0)
    assert what_if.loc[1, "weekly_share"] == pytest.approx(0.5)
    assert what_if.loc[1, "value"] == pytest.approx(2.0)
    assert what_if.loc[2, "weekly_share"] == pytest.approx(1.0)
    assert what_if.loc[2, "value"] == pytest.approx(3.0)
    assert what_if.loc[2, "value_change"] == pytest.approx(1.0)
    assert what_if.loc[0, "value_change"] == pytest.approx(-2.0)
    # 35 min per case: 105 + 10 + 5 = 120 fits one inspector exactly
    demand, profile, knobs = _tiny(35.0)
    plan = staffing_plan(demand, profile, hot_share=0.5, **knobs)
    assert plan.table["inspectors"].iloc[0] == 1
    assert staffing_what_if(demand, plan, 1, k=0, **knobs)["value_share"].iloc[0] == pytest.approx(1.0)


def test_what_if_never_loses_value_with_more_inspectors(city: Path) -> None:
    cells = gpd.read_parquet(city / "geo" / "cells.parquet")
    rng = np.random.default_rng(3)
    demand = pd.DataFrame(
        {
            "cell": cells["cell"],
            "district": cells["district"],
            "expected": rng.gamma(0.5, 1.0, len(cells)),
            "street_m": cells["street_m"],
        }
    )
    cases = pd.read_parquet(city / "cases" / "cases.parquet")
    plan = staffing_plan(demand, hour_profile(cases))
    what_if = staffing_what_if(demand, plan, 6, k=5)
    assert (np.diff(what_if["value"]) >= -1e-9).all()
    assert (np.diff(what_if["weekly_share"]) >= -1e-9).all()
    assert what_if["value_share"].between(0, 1).all()
    assert set(plan.per_shift["district"]) == set(cells["district"])


def test_beats_and_staffing_cli(tmp_path: Path, city: Path) -> None:
    from app.cli import main

    cells = gpd.read_parquet(city / "geo" / "cells.parquet")
    district = cells["district"].value_counts().index[0]
    runner = CliRunner()
    out = tmp_path / "beats.geojson"
    args = ["beats", "--district", district, "--inspectors", "3", "--city", str(city), "--out", str(out)]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "within ±10%" in result.output
    beats = gpd.read_file(out)
    assert sorted(beats["beat"].unique()) == [0, 1, 2]
    assert len(beats) == int((cells["district"] == district).sum())
    out = tmp_path / "staffing.csv"
    result = runner.invoke(main, ["staffing", "--city", str(city), "--k", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert {"district", "day_of_week", "shift", "inspectors"} <= set(table.columns)
    assert len(pd.read_csv(tmp_path / "staffing-what-if.csv")) == 3
