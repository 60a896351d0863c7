"""Hot spot speed: Gi* end to end (CSR weights from the cell ids + z + p + FDR) and with 999 permutations,
against PySAL esda on the same weights; emerging hot spots on 20k cells × 104 weeks.

Cells: every res-10 cell of a disk around Nantong (``grid_disk`` of one cell; 100k cells = 183 rings; quick:
10k). Counts are Poisson with a few planted clusters. Ours runs end to end from the cell ids: CSR weights
straight from the numba lattice sweep (``analytics.weights.disk_weights`` → ``grid.cells.grid_disk_csr``)
+ z + p + FDR (single-threaded below 200k cells; also timed with the lattice kernels forced onto all
numba threads). The reference gets its neighbours for free: a libpysal ``W`` built from our pairs outside
the timing (esda imported outside it too) + ``esda.G_Local(star=True, transform="B")``. With permutations
esda runs on a subset (O(n) memory traffic per cell) and its time is extrapolated per cell; that row says
so. Rows carry the thread counts and the 1-minute load average at the start (timings on a busy machine are
not comparable).
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np

from analytics.cube import CaseCube
from analytics.emerging import emerging_hotspots
from analytics.hotspots import gi_star
from analytics.weights import disk_weights
from benchmarks._measure import measure
from grid.cells import grid_disk, grid_disk_csr, latlng_to_cells
from grid.config import DEFAULT_TIMEZONE

BENCHMARK = "hotspots"
SEED = 20240601


def _universe(n: int) -> np.ndarray:
    centre = np.array([int(latlng_to_cells(32.0, 120.86, 10))])
    k = int(np.ceil((-3 + np.sqrt(9 + 12 * (n - 1))) / 6))  # 3k(k+1)+1 >= n
    return np.sort(grid_disk(centre, k)["neighbour"].to_numpy())[:n]


def _counts(n: int, rng: np.random.Generator, *shape: int) -> np.ndarray:
    rate = np.ones((n, *shape))
    rate[rng.choice(n, n // 100, replace=False)] *= 6.0
    return rng.poisson(rate)


def _esda_w(weights) -> Any:
    import libpysal

    m = weights.without_self().tocoo()
    neighbours: dict[int, list[int]] = {i: [] for i in range(weights.n)}
    for i, j in zip(m.row.tolist(), m.col.tolist(), strict=True):
        neighbours[i].append(j)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return libpysal.weights.W(neighbours, silence_warnings=True)


def _esda(y: np.ndarray, w: Any, permutations: int) -> Any:
    import esda

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return esda.G_Local(y, w, transform="B", star=True, permutations=permutations, seed=1)


def _timed_threaded(fn: Any, **kwargs: Any) -> tuple[float, float, Any]:
    """``measure(fn)`` with the lattice kernels multi-threaded whatever the universe size."""
    from grid import _h3_disk

    before = _h3_disk.PARALLEL_MIN_CELLS
    _h3_disk.PARALLEL_MIN_CELLS = 0
    try:
        fn()  # load the (cached) threaded kernels outside the timing
        return measure(fn, **kwargs)
    finally:
        _h3_disk.PARALLEL_MIN_CELLS = before


def run(quick: bool) -> list[dict[str, Any]]:
    """Rows: CSR weights, neighbour pairs, Gi* analytic (ours, ours threaded, esda), 999 permutations (ours,
    esda subset), emerging hot spots."""
    import numba

    n = 10_000 if quick else 100_000
    n_sub = 2_000 if quick else 5_000
    rng = np.random.default_rng(SEED)
    cells = _universe(n)
    y = _counts(n, rng).astype(float)
    from grid._h3_disk import use_threads

    threads = numba.get_num_threads()
    setting = {"kernel_threads": threads if use_threads(n) else 1, "load_1min": round(os.getloadavg()[0], 2)}
    grid_disk_csr(cells, 1)  # load the cached kernels outside the timing
    csr_s, csr_peak, _ = measure(lambda: grid_disk_csr(cells, 1), repeat=3, memory=True)
    pair_s, _, pairs = measure(lambda: grid_disk(cells, 1), repeat=3)

    def ours() -> Any:
        return gi_star(y, disk_weights(cells, 1))

    ours()
    seconds, peak, result = measure(ours, repeat=5, memory=True)
    threaded_s, _, _ = _timed_threaded(ours, repeat=5)
    weights = disk_weights(cells, 1, pairs=pairs)
    w_ref = _esda_w(weights)  # outside the timing, as the W a PySAL user would already have
    _esda(y[:200], _esda_w(disk_weights(cells[:200], 1)), 0)  # import esda outside the timing
    ref_s, _, ref = measure(lambda: _esda(y, w_ref, 0), repeat=2)
    if not np.allclose(result.z, ref.Zs, atol=1e-9):
        msg = "gi_star and esda.G_Local disagree on the benchmark data"
        raise AssertionError(msg)
    rows = [
        _row("grid.cells.grid_disk_csr (part of ours)", n, csr_s, None, csr_peak, k=1, **setting),
        _row("grid.cells.grid_disk pairs frame (not in ours)", n, pair_s, None, float("nan"), k=1),
        _row("gi_star analytic (weights+z+p+FDR)", n, seconds, ref_s / seconds, peak, **setting),
        _row(
            "gi_star analytic, lattice kernels forced multi-threaded",
            n,
            threaded_s,
            ref_s / threaded_s,
            float("nan"),
            kernel_threads=threads,
        ),
        _row("esda.G_Local permutations=0 (W prebuilt)", n, ref_s, 1.0, float("nan")),
    ]
    gi_star(y[:1000], disk_weights(cells[:1000], 1), permutations=9, seed=1)  # compile / load the kernel
    perm_s, perm_peak, _ = measure(lambda: gi_star(y, weights, permutations=999, seed=1), memory=True)
    sub_cells = cells[:n_sub]
    sub_w = _esda_w(disk_weights(sub_cells, 1))
    _esda(y[:200], _esda_w(disk_weights(cells[:200], 1)), 9)  # compile esda's kernels outside the timing
    sub_s, _, _ = measure(lambda: _esda(y[:n_sub], sub_w, 999))
    esda_perm_s = sub_s * n / n_sub
    rows += [
        _row("gi_star 999 permutations", n, perm_s, esda_perm_s / perm_s, perm_peak, numba_threads=threads),
        _row(
            "esda.G_Local 999 permutations",
            n,
            esda_perm_s,
            1.0,
            float("nan"),
            note=f"extrapolated: timed on {n_sub:,} cells ({sub_s:.2f} s), scaled per cell to n (esda's "
            "per-cell cost grows with n, so this flatters esda)",
        ),
    ]
    n_em, n_weeks = (5_000, 52) if quick else (20_000, 104)
    em_cells = cells[:n_em]
    counts = _counts(n_em, rng, n_weeks)
    import pandas as pd

    periods = pd.period_range("2024-01-01", periods=n_weeks, freq="W-SUN")
    cube = CaseCube(
        counts[:, :, None], em_cells, periods, ("count",), 10, "week", DEFAULT_TIMEZONE, int(counts.sum())
    )
    em_w = disk_weights(em_cells, 1)
    em_s, em_peak, _ = measure(lambda: emerging_hotspots(cube, weights=em_w), repeat=2, memory=True)
    rows.append(_row(f"emerging_hotspots {n_weeks} weeks", n_em, em_s, None, em_peak))
    return rows


def _row(
    subject: str, n: int, seconds: float, ratio: float | None, peak: float, **extra: Any
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "benchmark": BENCHMARK,
        "subject": subject,
        "n": n,
        "seconds": seconds,
        "per_s": n / seconds,
        "ratio": ratio if ratio is not None else float("nan"),
        "peak_mib": peak,
    }
    row.update(extra)
    return row
