"""Patrol beats for the whole demo city, a suggested route, and PySAL spopt on the same district.

The demo city at the defaults (80 inspectors, ~100 km², 8,966 res-10 cells in four districts; quick: 20
inspectors on 25 km²) is simulated for 28 days (not timed). Workload per cell = forecast cases
(``analytics.forecast.forecast_cells``, baseline mean) × 15 min + walking its streets weekly
(``patrol.deployment.cell_workload``). Timed: :func:`patrol.deployment.partition_beats` for every district
with as many beats as it has inspectors (after one warm-up call that compiles the numba kernels), then the
same on the smallest district against spopt's SKATER (same cells, workloads and number of regions, centre
coordinates as attributes), and one :func:`patrol.routes.suggest_route` (4 h, 1 s solver limit, streets).
"""

from __future__ import annotations

import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from benchmarks._measure import measure
from grid.config import DEFAULT_TIMEZONE

BENCHMARK = "deployment"


def _city(out: Path, quick: bool) -> None:
    from sim.config import DemoConfig
    from sim.run import simulate

    if quick:
        cfg = DemoConfig(
            days=28, n_inspectors=20, cases_per_day=200.0, area_km2=25.0, n_subdistricts=8, n_communities=30
        )
    else:
        cfg = DemoConfig(days=28)
    simulate(cfg, out)


def _beats_all(cells: pd.DataFrame, work: np.ndarray, per_district: pd.Series) -> list[Any]:
    from patrol.deployment import partition_beats

    plans = []
    for district, n in per_district.items():  # four districts
        sel = (cells["district"] == district).to_numpy()
        plans.append(partition_beats(cells["cell"].to_numpy()[sel], work[sel], int(n)))
    return plans


def _skater(cells: pd.DataFrame, work: np.ndarray, n: int) -> np.ndarray:
    from libpysal.weights import Queen
    from spopt.region import Skater

    from grid.cells import cell_centers, cells_to_polygons

    polygons = cells_to_polygons(cells["cell"].to_numpy()).reset_index(drop=True)
    lat, lon = cell_centers(cells["cell"].to_numpy())
    polygons["x"] = lon * np.cos(np.radians(lat.mean())) * 111_195.0
    polygons["y"] = lat * 111_195.0
    polygons["workload"] = work
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        weights = Queen.from_dataframe(polygons, use_index=False, silence_warnings=True)
        model = Skater(polygons, weights, ["x", "y"], n_clusters=n, floor=len(polygons) // (2 * n))
        model.solve()
    return np.asarray(model.labels_)


def run(quick: bool) -> list[dict[str, Any]]:
    """Rows for ``python -m benchmarks``: beats for every inspector of the city, spopt, one route."""
    from analytics.forecast import forecast_cells
    from grid.cells import strings_to_cells
    from patrol.deployment import beat_compactness, cell_workload, partition_beats
    from patrol.network import street_graph
    from patrol.routes import RouteOptions, suggest_route

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        city = Path(tmp)
        _city(city, quick)
        cells = gpd.read_parquet(city / "geo" / "cells.parquet")
        cases = pd.read_parquet(city / "cases" / "cases.parquet")
        people = pd.read_csv(city / "people" / "inspectors.csv", dtype=str)
        assignments = pd.read_csv(city / "people" / "assignments.csv", dtype=str)
        streets = gpd.read_parquet(city / "geo" / "streets.parquet")
    forecast = forecast_cells(cases, cells[["cell"]], model="baseline_mean")
    expected = forecast.set_index("cell")["expected"].reindex(cells["cell"]).to_numpy()
    work = cell_workload(cells, expected)["workload_min"].to_numpy()
    per_district = people["district"].value_counts()
    small = per_district.index[-1]
    sel = (cells["district"] == small).to_numpy()
    partition_beats(cells["cell"].to_numpy()[sel], work[sel], int(per_district[small]))  # warm-up: numba
    seconds, peak, plans = measure(lambda: _beats_all(cells, work, per_district), memory=True)
    dev = max(p.max_deviation for p in plans)
    rows.append(
        _row(
            f"partition_beats, {len(people)} beats in {len(per_district)} districts",
            len(cells),
            seconds,
            peak,
        )
        | {
            "max_deviation": dev,
            "contiguous": all(p.beats["contiguous"].all() for p in plans),
            "compactness": float(np.mean([p.beats["compactness"].mean() for p in plans])),
        }
    )
    # the same district, ours vs SKATER
    n_small = int(per_district[small])
    district = cells[sel].reset_index(drop=True)
    t0 = time.perf_counter()
    ours = partition_beats(district["cell"].to_numpy(), work[sel], n_small)
    ours_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    theirs = _skater(district, work[sel], n_small)
    theirs_s = time.perf_counter() - t0
    for name, labels, secs in (("partition_beats", ours.labels, ours_s), ("spopt Skater", theirs, theirs_s)):
        load = np.bincount(pd.factorize(labels)[0], weights=work[sel])
        pp = beat_compactness(district["cell"], pd.factorize(labels)[0])["compactness"].mean()
        rows.append(
            _row(f"{name}, district {small} ({n_small} beats)", int(sel.sum()), secs, float("nan"))
            | {
                "max_deviation": float(np.abs(load / load.mean() - 1).max()),
                "compactness": float(pp),
                "ratio": theirs_s / secs if name != "spopt Skater" else 1.0,
            }
        )
    # one suggested route on the streets
    assignments["cell"] = strings_to_cells(assignments["cell"].to_numpy())
    for column in ("valid_from", "valid_to"):
        assignments[column] = pd.to_datetime(assignments[column], utc=True)
    graph = street_graph(streets, source="streets.parquet")
    date = (
        pd.Timestamp(cases["reported_at"].max()).tz_convert(DEFAULT_TIMEZONE) + pd.Timedelta(days=1)
    ).date()
    inspector = people["inspector_id"].iloc[0]
    risk = forecast[["cell", "risk"]]
    options = RouteOptions(time_limit_s=1.0)

    def suggest() -> Any:
        return suggest_route(
            inspector,
            date,
            assignments=assignments,
            cases=cases,
            budget_s=4 * 3600,
            graph=graph,
            forecast=risk,
            options=options,
        )

    suggest()  # warm-up
    seconds, peak, route = measure(suggest, memory=True)
    rows.append(
        _row(
            f"suggest_route 4 h, {route.totals['n_candidates']} candidate cells",
            route.totals["n_candidates"],
            seconds,
            peak,
        )
        | {
            "value_share": route.totals["value"] / route.totals["value_available"],
            "n_stops": route.totals["n_stops"],
        }
    )
    return rows


def _row(subject: str, n: int, seconds: float, peak_mib: float) -> dict[str, Any]:
    return {
        "benchmark": BENCHMARK,
        "subject": subject,
        "n": n,
        "seconds": seconds,
        "per_s": n / seconds if seconds > 0 else float("nan"),
        "peak_mib": peak_mib,
    }
