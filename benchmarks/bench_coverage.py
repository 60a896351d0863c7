"""Raw track points → cleaned → coverage cube: the pandas path, the Dask path, and a naive geopandas sjoin.

Synthetic inspectors walk random-direction legs at 1.4 m/s with one fix every 5 s (urban Nantong, WGS-84),
10M points (quick: 300k) over 10 days, written to a day-partitioned store first (not timed). Timed:
``patrol.scale.fine_cube_from_store`` (one day at a time in this process) and ``fine_cube_dask`` (a local
``distributed`` cluster of 2 single-threaded workers when available, else Dask's default scheduler), checked
equal. The reference is the textbook approach: ``geopandas.sjoin`` of the fixes into the res-10 hexagon
polygons of their area (no cleaning, no densification), timed on a subset and extrapolated per point.
Peak memory of the pandas path is tracemalloc's (numpy and Python allocations) on one extra run.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks._measure import measure
from patrol.scale import fine_cube_dask, fine_cube_from_store
from patrol.store import write_tracks

BENCHMARK = "coverage_cube"
SEED = 20260301
DAYS = 10


def _points(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(SEED)
    per_walk = 4 * 3600 // 5  # a four-hour shift at one fix per 5 s
    n_walks = max(1, n // per_walk)
    step = rng.normal(0, 1, (n_walks, per_walk, 2))
    heading = np.cumsum(step[..., 0] * 0.3, axis=1)
    dist = 1.4 * 5.0
    dlat = np.cumsum(np.cos(heading) * dist / 111_195.0, axis=1)
    dlon = np.cumsum(np.sin(heading) * dist / 94_300.0, axis=1)
    lat0 = rng.uniform(31.95, 32.10, n_walks)[:, None]
    lon0 = rng.uniform(120.75, 120.95, n_walks)[:, None]
    walk = np.arange(n_walks)
    day = walk % DAYS
    start = pd.Timestamp("2026-03-01 00:30", tz="UTC").value + day * 86_400 * 10**9
    ts = start[:, None] + np.arange(per_walk)[None, :] * 5 * 10**9
    frame = pd.DataFrame(
        {
            "inspector_id": np.repeat([f"I{w // DAYS:04d}" for w in walk], per_walk),
            "ts": pd.to_datetime(ts.reshape(-1), utc=True),
            "lat": (lat0 + dlat).reshape(-1),
            "lon": (lon0 + dlon).reshape(-1),
            "accuracy_m": np.float32(8.0),
        }
    )
    return frame.iloc[:n]


def _sjoin_reference(points: pd.DataFrame) -> pd.DataFrame:
    import geopandas as gpd

    from grid.cells import cells_to_polygons, latlng_to_cells

    hexes = cells_to_polygons(np.unique(latlng_to_cells(points["lat"], points["lon"])))
    gdf = gpd.GeoDataFrame(points, geometry=gpd.points_from_xy(points["lon"], points["lat"]), crs=4326)
    joined = gpd.sjoin(gdf, hexes[["cell", "geometry"]], predicate="within")
    return joined.groupby(["cell", joined["ts"].dt.tz_convert("Asia/Shanghai").dt.date]).size()


def _dask_client() -> Any:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        return None
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    return Client(cluster)


def run(quick: bool) -> list[dict[str, Any]]:
    """Rows for ``python -m benchmarks``: 10M points (quick: 300k); sjoin on 200k (quick: 50k)."""
    n = 300_000 if quick else 10_000_000
    n_ref = 50_000 if quick else 200_000
    points = _points(n)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_tracks(points, root)
        fine_cube_from_store(root)  # warm-up: numba caches
        seconds, peak_mib, cube = measure(lambda: fine_cube_from_store(root), memory=True)
        rows.append(_row("patrol.scale pandas (day by day)", n, seconds, peak_mib))
        client = _dask_client()
        try:
            fine_cube_dask(root)  # warm-up of the workers
            t0 = time.perf_counter()
            dask_cube = fine_cube_dask(root)
            dask_seconds = time.perf_counter() - t0
        finally:
            if client is not None:
                client.close()
        pd.testing.assert_frame_equal(cube, dask_cube)
        workers = "2 distributed workers" if client is not None else "default scheduler"
        rows.append(_row(f"patrol.scale dask ({workers})", n, dask_seconds, float("nan")))
    subset = points.iloc[:n_ref]
    ref_seconds, _, _ = measure(lambda: _sjoin_reference(subset))
    rows.append(
        _row("geopandas sjoin into hexagons", n, ref_seconds * n / n_ref, float("nan"))
        | {"note": f"extrapolated: timed on {n_ref:,} points; no cleaning, no densification"}
    )
    for row in rows:
        row["ratio"] = row["per_s"] / rows[-1]["per_s"]
    return rows


def _row(subject: str, n: int, seconds: float, peak_mib: float) -> dict[str, Any]:
    return {
        "benchmark": BENCHMARK,
        "subject": subject,
        "n": n,
        "seconds": seconds,
        "per_s": n / seconds,
        "peak_mib": peak_mib,
    }
