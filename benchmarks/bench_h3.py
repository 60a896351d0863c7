"""H3 indexing speed: ``grid.cells.latlng_to_cells`` (numba) against a plain h3-py loop, at res 10.

Points are uniform in a 0.4° × 0.5° box over urban Nantong (WGS-84). Ours is timed on all of them (best of
3, after a warm-up call that loads the numba cache), with a traced run for peak memory. The h3-py loop
``[h3.str_to_int(h3.latlng_to_cell(lat, lon, 10)) for ...]`` is timed on a subset and its time is
extrapolated per point to the full size; its row says so. Both produce the same int64 ids (checked).
"""

from __future__ import annotations

from typing import Any

import h3
import numpy as np
import numpy.typing as npt

from benchmarks._measure import measure
from grid.cells import latlng_to_cells

BENCHMARK = "h3_indexing"
RES = 10
SEED = 20240601
BOX_LAT = (31.85, 32.25)  # urban Nantong, WGS-84 degrees
BOX_LON = (120.60, 121.10)


def _points(n: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    rng = np.random.default_rng(SEED)
    return rng.uniform(*BOX_LAT, n), rng.uniform(*BOX_LON, n)


def _h3_loop(lat: list[float], lon: list[float]) -> npt.NDArray[np.int64]:
    ids = [h3.str_to_int(h3.latlng_to_cell(a, b, RES)) for a, b in zip(lat, lon, strict=True)]
    return np.array(ids, dtype=np.uint64).view(np.int64)


def run(quick: bool) -> list[dict[str, Any]]:
    """Rows for ``python -m benchmarks``: ours on 10M points (quick: 200k), the h3 loop on 1M (quick: 50k)."""
    n = 200_000 if quick else 10_000_000
    n_loop = 50_000 if quick else 1_000_000
    lat, lon = _points(n)
    latlng_to_cells(lat[:1000], lon[:1000], RES)  # warm-up: load (or compile) the numba kernel

    seconds, peak_mib, cells = measure(lambda: latlng_to_cells(lat, lon, RES), repeat=3, memory=True)
    loop_lat, loop_lon = lat[:n_loop].tolist(), lon[:n_loop].tolist()
    loop_seconds, _, loop_cells = measure(lambda: _h3_loop(loop_lat, loop_lon))
    if not np.array_equal(cells[:n_loop], loop_cells):
        msg = "latlng_to_cells and the h3-py loop disagree on the benchmark points"
        raise AssertionError(msg)

    per_s = n / seconds
    loop_per_s = n_loop / loop_seconds
    return [
        {
            "benchmark": BENCHMARK,
            "subject": "gridpatrol.latlng_to_cells",
            "n": n,
            "seconds": seconds,
            "per_s": per_s,
            "ratio": per_s / loop_per_s,
            "peak_mib": peak_mib,
            "res": RES,
        },
        {
            "benchmark": BENCHMARK,
            "subject": "h3.latlng_to_cell loop",
            "n": n,
            "seconds": loop_seconds * n / n_loop,
            "per_s": loop_per_s,
            "ratio": 1.0,
            "peak_mib": float("nan"),
            "res": RES,
            "note": f"extrapolated: timed on {n_loop:,} points, seconds scaled per point to n",
        },
    ]
