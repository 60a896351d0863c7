"""Patrol effectiveness: known answers, a brute-force reference for the interval join, the demo city's truth.

The demo city is simulated once per session with a recorder on the simulator's walking function, so the
test also holds the inspectors' *true* positions (the 30-s discovery samples the simulator finds problems
with, before GPS noise): the missed share the simulator implies is computed from them, independently of the
product's track cleaning, densification and interval join.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from grid.cells import cell_centers, latlng_to_cells
from patrol.coverage import reduce_tracks
from patrol.effectiveness import (
    allocation_gap,
    allocation_index,
    attribute_cases,
    cell_visits,
    discovery_rates,
    effectiveness_table,
    missed_problems,
    missed_summary,
    reporter_track_check,
    response_summary,
    response_times,
    visits_from_store,
)
from patrol.tracks import clean_tracks

#: 3 weeks, 12 inspectors on 12 km², 200 cases a day: ~4k cases, ~1.8k patrol finds; ~8 s to simulate.
CITY = dict(days=21, n_inspectors=12, cases_per_day=200.0, area_km2=12.0, n_subdistricts=4, n_communities=12)
T0 = pd.Timestamp("2026-03-02 01:00", tz="UTC")  # 09:00 in Shanghai, a Monday


# ------------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> dict:
    import sim.tracks as sim_tracks
    from sim.config import DemoConfig
    from sim.run import simulate

    out = tmp_path_factory.mktemp("effectiveness_city")
    samples: list[pd.DataFrame] = []
    real = sim_tracks.day_track

    def recording(*args, **kwargs):
        day, pos = real(*args, **kwargs)
        samples.append(pd.DataFrame({"t": day.sample_t_ns, "row": day.sample_cell}))
        return day, pos

    patch = pytest.MonkeyPatch()
    patch.setattr(sim_tracks, "day_track", recording)
    try:
        simulate(DemoConfig(**CITY), out)
    finally:
        patch.undo()
    cells = pd.read_parquet(out / "geo" / "cells.parquet")
    truth = pd.concat(samples, ignore_index=True)
    truth = truth[truth["row"] >= 0]
    truth = pd.DataFrame(
        {
            "ts": pd.to_datetime(truth["t"].to_numpy(), utc=True),
            "cell": cells["cell"].to_numpy()[truth["row"].to_numpy()],
        }
    )
    cases = pd.read_parquet(out / "cases" / "cases.parquet")
    visits = visits_from_store(out / "tracks")
    return {
        "dir": out,
        "cases": cases,
        "events": pd.read_parquet(out / "cases" / "case_events.parquet"),
        "cells": pd.DataFrame(cells[["cell", "district", "subdistrict", "inspector_id"]]),
        "visits": visits,
        "samples": truth.sort_values("ts", ignore_index=True),
        "finds": pd.read_parquet(out / "truth" / "patrol_finds.parquet"),
        "problems": pd.read_parquet(out / "truth" / "problems.parquet"),
    }


def _walk(inspector: str, start: pd.Timestamp, lat: float, lon0: float, metres: float) -> pd.DataFrame:
    """Fixes every 5 s walking east at 1.2 m/s from (lat, lon0) for ``metres``."""
    n = int(metres / 6.0) + 1
    lon = lon0 + np.arange(n) * 6.0 / (111_320.0 * np.cos(np.radians(lat)))
    return pd.DataFrame(
        {
            "inspector_id": inspector,
            "ts": start + pd.to_timedelta(np.arange(n) * 5, unit="s"),
            "lat": np.full(n, lat),
            "lon": lon,
            "accuracy_m": np.float32(5.0),
        }
    )


def _case(case_id: str, cell: int, at: pd.Timestamp, source: str = "hotline", by: str | None = None) -> dict:
    lat, lon = cell_centers(np.array([cell]))
    return {"case_id": case_id, "source": source, "category_code": "06010", "cell": cell, "reported_at": at,
            "reported_by": by, "lat": lat[0], "lon": lon[0]}  # fmt: skip


# ---------------------------------------------------------------------------------------- known answers
def test_a_pass_30_minutes_before_is_a_miss_5_hours_before_is_not() -> None:
    track = _walk("I1", T0, 32.0, 120.85, 600.0)
    visits = cell_visits(clean_tracks(track))
    middle = latlng_to_cells(np.array([32.0]), np.array([120.85 + 300 / 94_400]))[0]
    left = visits.loc[visits["cell"] == middle, "exit"].max()
    cases = pd.DataFrame(
        [
            _case("near", middle, left + pd.Timedelta(minutes=30)),
            _case("long_ago", middle, left + pd.Timedelta(hours=5)),
            _case("wechat", middle, left + pd.Timedelta(minutes=90), source="wechat"),
            _case("video", middle, left + pd.Timedelta(minutes=10), source="video"),  # not a citizen report
            _case("elsewhere", latlng_to_cells(np.array([32.01]), np.array([120.85]))[0], left),
        ]
    )
    cases["reported_at"] = pd.to_datetime(cases["reported_at"], utc=True)
    att = attribute_cases(cases, visits, window_h=2.0, k=1)
    missed = missed_problems(cases, att)
    assert list(missed["case_id"]) == ["near", "wechat"]
    assert missed["before_min"].round(6).tolist() == [30.0, 90.0]
    assert list(missed["inspector_id"]) == ["I1", "I1"]
    assert att.set_index("case_id").loc["long_ago", "cell_by"] is None
    assert att.set_index("case_id").loc["elsewhere", "near_ring"] == -1
    # a 1-hour window drops the 90-minute pass
    assert list(missed_problems(cases, att, window_h=1.0)["case_id"]) == ["near"]
    assert list(missed_problems(cases, attribute_cases(cases, visits, window_h=1.0))["case_id"]) == ["near"]


def test_overlapping_visits_pick_the_latest_presence_and_the_nearest_ring() -> None:
    cell = latlng_to_cells(np.array([32.0]), np.array([120.85]))[0]
    from grid.cells import grid_disk

    ring = grid_disk([cell], 1, include_self=False)["neighbour"].to_numpy()
    visits = pd.DataFrame(
        {
            "inspector_id": ["A", "B", "C", "D"],
            "cell": [cell, cell, ring[0], cell],
            "enter": T0 + pd.to_timedelta([0, 10, 55, 70], unit="min"),
            "exit": T0 + pd.to_timedelta([50, 12, 59, 80], unit="min"),
            "seconds": 0.0,
            "idle_s": 0.0,
            "length_m": 0.0,
        }
    )
    cases = pd.DataFrame([_case("x", cell, T0 + pd.Timedelta(minutes=60), "patrol", "C")])
    cases["reported_at"] = pd.to_datetime(cases["reported_at"], utc=True)
    att = attribute_cases(cases, visits, window_h=2.0, k=1).iloc[0]
    # B entered after A but left first; D entered after the report; C was only in the ring
    assert att["cell_by"] == "A"
    assert att["cell_before_min"] == pytest.approx(10.0)
    assert att["near_by"] == "A"
    assert att["near_ring"] == 0
    assert att["reporter_before_min"] == pytest.approx(1.0)
    assert not att["attributed"]


def test_interval_join_matches_brute_force() -> None:
    rng = np.random.default_rng(5)
    base = latlng_to_cells(np.array([32.0]), np.array([120.85]))[0]
    from grid.cells import grid_disk

    pool = grid_disk([base], 3)["neighbour"].to_numpy()
    n_v, n_c = 3000, 300
    enter = T0 + pd.to_timedelta(rng.uniform(0, 3 * 86_400, n_v), unit="s")
    visits = pd.DataFrame(
        {
            "inspector_id": rng.choice(["A", "B", "C", "D", "E"], n_v),
            "cell": rng.choice(pool, n_v),
            "enter": enter,
            "exit": enter + pd.to_timedelta(rng.exponential(600, n_v), unit="s"),
            "seconds": 1.0,
            "idle_s": 0.0,
            "length_m": 1.0,
        }
    )
    cases = pd.DataFrame(
        {
            "case_id": [f"c{i}" for i in range(n_c)],
            "source": rng.choice(["patrol", "hotline"], n_c),
            "cell": rng.choice(pool, n_c),
            "reported_at": T0 + pd.to_timedelta(rng.uniform(0, 3 * 86_400, n_c), unit="s"),
        }
    )
    cases["reported_by"] = np.where(cases["source"] == "patrol", rng.choice(["A", "B", "C"], n_c), None)
    att = attribute_cases(cases, visits, window_h=1.5, k=1)
    rings = grid_disk(pool, 1).groupby("cell")["neighbour"].apply(np.asarray)
    e, x = pd.DatetimeIndex(visits["enter"]).asi8, pd.DatetimeIndex(visits["exit"]).asi8
    minute = 60 * 10**9
    for i, case in cases.iterrows():  # the reference: a plain scan of every visit
        t = case["reported_at"].value
        when = np.minimum(x, t)
        ok = (e <= t) & (when >= t - 90 * minute)
        in_cell = ok & (visits["cell"].to_numpy() == case["cell"])
        if in_cell.any():
            j = np.flatnonzero(in_cell)[np.argmax(when[in_cell])]
            assert att.loc[i, "cell_before_min"] == pytest.approx((t - when[j]) / minute, abs=1e-3)
        else:
            assert np.isnan(att.loc[i, "cell_before_min"])
        near = np.isin(visits["cell"].to_numpy(), rings.loc[case["cell"]])
        assert (att.loc[i, "near_ring"] >= 0) == bool((ok & near).any())
        if case["source"] == "patrol":
            own = ok & near & (visits["inspector_id"].to_numpy() == case["reported_by"])
            assert np.isfinite(att.loc[i, "reporter_before_min"]) == bool(own.any())


def test_visits_sum_to_the_coverage_cube() -> None:
    track = pd.concat([_walk("I1", T0, 32.0, 120.85, 900.0), _walk("I2", T0, 32.001, 120.851, 500.0)])
    cleaned = clean_tracks(track)
    visits = cell_visits(cleaned)
    fine = reduce_tracks(cleaned, freq="D")
    day = visits["enter"].dt.tz_convert("Asia/Shanghai").dt.normalize()
    summed = visits.groupby(["inspector_id", "cell", day])[["seconds", "length_m"]].sum()
    fine = fine.set_index(["inspector_id", "cell", "period"])[["seconds", "length_m"]]
    np.testing.assert_allclose(summed.to_numpy(), fine.loc[summed.index].to_numpy(), rtol=1e-9)
    assert len(summed) == len(fine)
    assert (visits["exit"] > visits["enter"]).all()


# ------------------------------------------------------------------------------------------- demo city
def test_patrol_finds_are_attributed_to_the_simulated_finder(city: dict) -> None:
    cases, finds = city["cases"], city["finds"]
    att = attribute_cases(cases, city["visits"], window_h=2.0, k=1)
    joined = att.merge(finds[["case_id", "inspector_id"]], on="case_id")
    assert len(joined) == len(finds) > 1000
    share = (joined["near_by"] == joined["inspector_id"]).mean()
    assert share >= 0.99, share
    assert att.loc[cases["source"].eq("patrol").to_numpy(), "attributed"].mean() >= 0.99


@pytest.mark.parametrize("window_h", [1.0, 2.0])
def test_missed_share_recovers_the_simulators(city: dict, window_h: float) -> None:
    cases, samples = city["cases"], city["samples"]
    citizen = cases[cases["source"].isin(["hotline", "wechat"])]
    att = attribute_cases(cases, city["visits"], window_h=window_h, k=0)
    estimate = len(missed_problems(cases, att)) / len(citizen)
    # the simulator's answer: a true position sample in the problem's cell within the window
    problems = city["problems"][["case_id", "cell"]].rename(columns={"cell": "problem_cell"})
    q = citizen.merge(problems, on="case_id").sort_values("reported_at")
    last = pd.merge_asof(
        q, samples.rename(columns={"cell": "problem_cell", "ts": "seen"}).assign(t=lambda d: d["seen"]),
        left_on="reported_at", right_on="t", by="problem_cell", direction="backward",
    )  # fmt: skip
    truth = (last["seen"] >= last["reported_at"] - pd.Timedelta(hours=window_h)).mean()
    assert 0.05 < truth < 0.5
    assert abs(estimate - truth) <= 0.02, (estimate, truth)


def test_reports_far_from_the_reporters_track_are_flagged(city: dict) -> None:
    from patrol.store import read_days

    cases = city["cases"]
    check = reporter_track_check(cases, city["dir"] / "tracks")  # reads only what it needs
    points = read_days(city["dir"] / "tracks")
    pd.testing.assert_frame_equal(check, reporter_track_check(cases, points))
    assert len(check) == int((cases["source"] == "patrol").sum())
    assert check["far_from_track"].mean() < 0.01
    assert check["track_distance_m"].median() < 30
    # plant 20 reports 1 km north of where they were filed
    moved = cases.copy()
    planted = moved.index[moved["source"].eq("patrol")][:20]
    moved.loc[planted, "lat"] += 0.009
    flagged = reporter_track_check(moved, points).set_index("case_id")["far_from_track"]
    assert flagged.loc[moved.loc[planted, "case_id"]].all()
    # a report by someone whose track was elsewhere (another inspector's id) is flagged as well
    other = cases.copy()
    row = other.index[other["source"].eq("patrol")][0]
    ids = sorted(other["reported_by"].dropna().unique())
    other.loc[row, "reported_by"] = next(i for i in ids if i != other.loc[row, "reported_by"])
    swapped = reporter_track_check(other.loc[[row]], points)
    assert swapped["far_from_track"].iloc[0]


def test_discovery_rates_by_group(city: dict) -> None:
    cases, visits, cells = city["cases"], city["visits"], city["cells"]
    beats = cells[["cell", "inspector_id"]]
    sub = discovery_rates(cases, "subdistrict", visits=visits, cells=cells)
    in_grid = cases["cell"].isin(cells["cell"])  # a few finds are filed just outside the city's cells
    assert sub["cases"].sum() == int(in_grid.sum())
    assert sub["patrol"].sum() == int((cases["source"] == "patrol")[in_grid].sum())
    direct = cases.merge(cells[["cell", "subdistrict"]], on="cell").groupby("subdistrict")["source"]
    rate = direct.apply(lambda s: (s == "patrol").mean())
    np.testing.assert_allclose(sub.set_index("subdistrict")["discovery_rate"], rate.loc[sub["subdistrict"]])
    inside = visits["cell"].isin(cells["cell"])
    assert sub["patrol_hours"].sum() == pytest.approx(visits.loc[inside, "seconds"].sum() / 3600)
    insp = discovery_rates(cases, "inspector", visits=visits, beats=beats)
    finds = cases[cases["source"] == "patrol"].groupby("reported_by").size()
    own = insp.set_index("inspector").loc[finds.index]
    assert (own["patrol"] == finds).all()
    hours = visits.groupby("inspector_id", observed=True)["seconds"].sum() / 3600
    np.testing.assert_allclose(own["finds_per_hour"], finds / hours.loc[finds.index])
    assert (own["finds_per_km"] > 0).all()
    cat = discovery_rates(cases, "category")
    assert set(cat["category"]) == set(cases["category_code"])


def test_allocation_gap_planted() -> None:
    cells = latlng_to_cells(np.array([32.0, 32.01, 32.02]), np.array([120.85, 120.85, 120.85]))
    expected = pd.DataFrame({"cell": cells, "expected": [6.0, 3.0, 1.0]})
    visits = pd.DataFrame({"inspector_id": "A", "cell": cells, "seconds": [36_000.0, 18_000.0, 6_000.0]})
    balanced = allocation_gap(visits, expected)
    np.testing.assert_allclose(balanced["gap"], 0.0, atol=1e-12)
    assert allocation_index(balanced) == pytest.approx(0.0)
    assert set(balanced["status"]) == {"balanced"}
    skewed = allocation_gap(visits.assign(seconds=[0.0, 0.0, 6000.0]), expected).set_index("cell")
    assert skewed.loc[cells[0], "status"] == "under"
    assert skewed.loc[cells[2], "status"] == "over"
    assert allocation_index(skewed.reset_index()) == pytest.approx(0.9)
    assert skewed.crs.to_epsg() == 4326
    assert skewed["expected_share"].sum() == pytest.approx(1.0)


def test_response_times_recover_the_simulated_verification_delay(city: dict) -> None:
    cases, events = city["cases"], city["events"]
    resp = response_times(cases, events)
    verify = resp[resp["step"] == "verify"]
    public = cases[cases["source"] != "patrol"]
    assert len(verify) == int(
        events.loc[(events["to_status"] == "verified") & events["case_id"].isin(public["case_id"])].shape[0]
    )
    # the simulator verifies a public report after Exponential(mean 0.6) working hours
    assert verify["working_hours"].mean() == pytest.approx(0.6, abs=0.05)
    from analytics.kpi import load_scoring

    assert (verify["limit_h"] == load_scoring().verify_limit_hours).all()  # the KPI's 核实 limit by default
    np.testing.assert_array_equal(verify["on_time"], verify["working_hours"] <= verify["limit_h"])
    two = response_times(cases, events, verify_limit_h=2.0, check_limit_h=1.0)
    within_two = two.loc[two["step"] == "verify", "on_time"].mean()
    assert within_two == pytest.approx(1 - np.exp(-2.0 / 0.6), abs=0.02)
    check = resp[resp["step"] == "check"]
    n_checks = int((events["to_status"] == "checked").sum())
    n_rework = int(((events["from_status"] == "resolved") & (events["to_status"] == "dispatched")).sum())
    assert len(check) == n_checks + n_rework
    assert (check["working_hours"] >= 0).all()
    summary = response_summary(resp)
    beat_owners = set(city["cells"]["inspector_id"].dropna())
    assert set(summary["inspector_id"]) <= beat_owners | {"supervisor"}
    assert summary["n"].sum() == len(resp)


def test_effectiveness_table_by_inspector(city: dict) -> None:
    cases, cells = city["cases"], city["cells"]
    table = effectiveness_table(
        cases, city["visits"], "inspector", events=city["events"], beats=cells[["cell", "inspector_id"]],
        track_check=reporter_track_check(cases, city["dir"] / "tracks"),
    )  # fmt: skip
    assert table["inspector"].is_unique
    assert len(table) == CITY["n_inspectors"]
    assert table["attributed_share"].min() >= 0.95
    assert table["missed"].sum() == len(missed_problems(cases, attribute_cases(cases, city["visits"])))
    assert {"verify_on_time_rate", "check_median_h", "far_reports", "finds_per_km"} <= set(table.columns)
    by_hour = missed_summary(cases, attribute_cases(cases, city["visits"]), "hour")
    assert by_hour["missed"].sum() == table["missed"].sum()
    # nobody patrols at night: no citizen report between 01:00 and 06:59 is a miss
    assert by_hour.loc[by_hour["hour"].between(1, 6), "missed"].sum() == 0


# ------------------------------------------------------------------------------------------------ CLI
def test_cli_effectiveness(city: dict, tmp_path: Path) -> None:
    from cases.db import init_db, make_engine
    from sim.load import load_demo

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    engine = make_engine(url)
    init_db(engine)
    load_demo(city["dir"], engine)  # no users: nothing here needs a login
    engine.dispose()
    from app.cli import main

    first = city["cases"]["reported_at"].min().tz_convert("Asia/Shanghai").date() + dt.timedelta(days=7)
    last = first + dt.timedelta(days=3)
    out = tmp_path / "by_inspector.csv"
    gap = tmp_path / "gap.geojson"
    args = ["--db-url", url, "effectiveness", "--from", str(first), "--to", str(last), "--by", "inspector",
            "--tracks", str(city["dir"] / "tracks"), "--cache", str(tmp_path / "cache"),
            "--out", str(out), "--gap-out", str(gap)]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert len(table) == CITY["n_inspectors"]
    week = city["cases"][
        city["cases"]["reported_at"].dt.tz_convert("Asia/Shanghai").dt.date.between(first, last)
    ]
    assert table["patrol"].sum() == int((week["source"] == "patrol").sum())
    assert {"discovery_rate", "missed_share"} <= set(table.columns)
    import geopandas as gpd

    gdf = gpd.read_file(gap)
    assert {"h3", "expected", "patrol_minutes", "gap", "status"} <= set(gdf.columns)
    assert "forecast" in result.output or "window mean" in result.output
    sub = CliRunner().invoke(main, [*args[:8], "subdistrict", *args[9:-2]])
    assert sub.exit_code == 0, sub.output
    from patrol.store import day_paths

    stored = day_paths(city["dir"] / "tracks", first - dt.timedelta(days=1), last)  # working days only
    assert len(list((tmp_path / "cache").glob("visits-*.parquet"))) == len(stored) > 0
    bad = CliRunner().invoke(main, [*args[:-4], "--out", str(tmp_path / "x.txt")])
    assert bad.exit_code == 2
    assert "--out" in bad.output
