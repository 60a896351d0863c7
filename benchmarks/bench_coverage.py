"""Raw track points → cleaned → coverage cube: the pandas path, the Dask path, and a naive geopandas sjoin.

Synthetic inspectors walk random-direction legs at 1.4 m/s with one fix every 5 s (urban Nantong, WGS-84),
10M points (quick: 300k) over 10 days, written to a day-partitioned store first (not timed). Timed, best
of two runs each, alternating: ``patrol.scale.fine_cube_from_store`` (one day at a time in this process,
single-threaded: numba kernels, pyarrow without threads) and ``fine_cube_dask`` (a local ``distributed``
cluster of 2 worker processes × 1 thread when available, else Dask's default scheduler; the workers are
warmed by one untimed run so they load the numba caches outside the timing), checked equal. The
reference is the textbook approach: ``geopandas.sjoin`` of the fixes into the res-10 hexagon polygons of
their area (no cleaning, no densification), timed on a subset and extrapolated per point.

Memory: ``peak_mib`` of the pandas path is tracemalloc's (numpy and Python allocations) on one extra run
(it does not see arrays that numba kernels or Arrow allocate); ``peak_rss_mib`` is the peak resident memory
of a fresh process running it (imports included, sampled every 2 ms). For the Dask path ``peak_mib`` is the
largest peak resident memory of a worker process during the timed runs, sampled the same way. Every row
notes the 1-minute load average when it was measured: the machine has 2 cores, and other work on it slows
the Dask path (which needs both) far more than the single-process one.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks._measure import measure
from grid.config import DEFAULT_TIMEZONE
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
    return joined.groupby(["cell", joined["ts"].dt.tz_convert(DEFAULT_TIMEZONE).dt.date]).size()


def _dask_client() -> Any:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        return None
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    return Client(cluster)


def _rss_mib() -> float:
    """Resident memory of this process (MiB, Linux ``/proc/self/statm``)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class _RssSampler:
    """Samples this process's resident memory every 2 ms in a thread; ``peak`` is the largest seen.

    (``ru_maxrss`` is no use here: a process started by fork + exec inherits its parent's peak, and the
    parent holds the 10M generated points.)
    """

    current: _RssSampler | None = None

    def __init__(self) -> None:
        self.base = self.peak = _rss_mib()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._done.wait(0.002):
            self.peak = max(self.peak, _rss_mib())

    def stop(self) -> float:
        self._done.set()
        self._thread.join()
        return max(self.peak, _rss_mib())


def _start_sampler() -> None:
    _RssSampler.current = _RssSampler()


def _stop_sampler() -> float:
    sampler, _RssSampler.current = _RssSampler.current, None
    return sampler.stop() if sampler is not None else float("nan")


def _fresh_process_peak_mib(root: str) -> tuple[float, float]:
    """(RSS after imports, peak RSS) of ``fine_cube_from_store(root)`` in this process (MiB)."""
    fine_cube_from_store(root)  # the numba caches load here, as in the warmed workers
    sampler = _RssSampler()
    fine_cube_from_store(root)
    return sampler.base, sampler.stop()


def _timed(fn: Any) -> tuple[float, float, Any]:
    """(wall s, CPU s of this process, result) of one call."""
    w0, c0 = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - w0, time.process_time() - c0, result


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
        client = _dask_client()
        try:
            fine_cube_dask(root)  # warm-up of the workers (numba caches), untimed
            if client is not None:
                client.run(_start_sampler)
            pandas_runs, dask_runs = [], []
            for _ in range(2):  # alternate, so a burst of load on the machine hits both paths
                pandas_runs.append((*_timed(lambda: fine_cube_from_store(root)), os.getloadavg()[0]))
                dask_runs.append((*_timed(lambda: fine_cube_dask(root)), os.getloadavg()[0]))
            dask_peak = max(client.run(_stop_sampler).values()) if client is not None else float("nan")
        finally:
            if client is not None:
                client.close()
        import dask

        with dask.config.set(scheduler="threads", num_workers=2):  # the kernels release the GIL
            fine_cube_dask(root)
            thread_runs = [(*_timed(lambda: fine_cube_dask(root)), os.getloadavg()[0]) for _ in range(2)]
        seconds, cpu_s, cube, load = min(pandas_runs, key=lambda r: r[0])
        thread_seconds, _, thread_cube, thread_load = min(thread_runs, key=lambda r: r[0])
        pd.testing.assert_frame_equal(cube, thread_cube, check_exact=True)
        dask_seconds, _, dask_cube, dask_load = min(dask_runs, key=lambda r: r[0])
        pd.testing.assert_frame_equal(cube, dask_cube, check_exact=True)
        _, peak_mib, _ = measure(lambda: fine_cube_from_store(root), memory=True)
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
            rss_base, rss_peak = pool.submit(_fresh_process_peak_mib, str(root)).result()
    workers = "2 distributed workers x 1 thread" if client is not None else "default scheduler"
    rows.append(
        _row("patrol.scale pandas (day by day, 1 thread)", n, seconds, peak_mib)
        | {
            "cpu_s": cpu_s,
            "load1": load,
            "peak_rss_mib": rss_peak,
            "note": f"{len(cube):,} fine rows; peak_mib = tracemalloc (misses numba and Arrow buffers); "
            f"peak_rss_mib = peak RSS of a fresh process running it ({rss_base:.0f} MiB after imports)",
        }
    )
    rows.append(
        _row(f"patrol.scale dask ({workers})", n, dask_seconds, dask_peak)
        | {
            "load1": dask_load,
            "vs_pandas": seconds / dask_seconds,
            "note": "identical cube (checked exactly); peak_mib = largest peak RSS of a worker",
        }
    )
    rows.append(
        _row("patrol.scale dask (threaded scheduler, 2 workers)", n, thread_seconds, float("nan"))
        | {
            "load1": thread_load,
            "vs_pandas": seconds / thread_seconds,
            "note": "identical cube (checked exactly); one process, the numba kernels run without the GIL",
        }
    )
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
