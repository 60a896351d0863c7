"""The numba H3 ports (``grid/_h3_*.py``) against h3ronpy behind ``grid.cells``, end to end and per kernel.

Issue 18 item 6: each port is replaced by h3ronpy (h3o, Rust) wherever the end-to-end loss is under 15 %.
Two arms run in the same process, interleaved (port, h3ronpy, port, h3ronpy, …), and each row reports the
best wall and CPU time of each arm; ``ratio`` (wall) and ``cpu_ratio`` are the h3ronpy arm's time over the
port arm's (> 1: h3ronpy is slower); ``replace`` when both are under 1.15, the issue's threshold. The
h3ronpy arm changes only the kernel entry point that ``grid.cells`` calls (monkeypatched for the arm's
runs, restored after), through the adapters below, which give exactly what the port gives (checked on
every benchmark input, and in the tests):

* indexing: ``grid.cells.latlng_to_cells_kernel`` ← ``h3ronpy.vector.coordinates_to_cells`` (non-finite
  coordinates masked first: h3ronpy raises on them where the port writes H3_NULL);
* neighbourhoods: ``grid.cells.disk_neighbours`` ← ``h3ronpy.grid_disk(..., flatten=False)`` made CSR,
  sorted within each row and, for the weights, restricted to universe positions;
* polygons: ``grid.cells.cells_to_polygons`` ← ``h3ronpy.vector.cells_to_wkb_polygons`` +
  ``shapely.from_wkb`` + ``h3ronpy.cells_area_m2`` (the vertices agree to ~1e-11°, the areas to ~1e-6
  relative: h3o is not bit-identical to the C library there).

End to end: the coverage cube of 10M synthetic track points (``patrol.scale.fine_cube_from_store``, the
``bench_coverage`` store and path; quick: 300k), Gi* on a 100k-cell universe (``gi_star(y,
disk_weights(cells, 1))`` as in ``bench_hotspots``; quick: 10k), and the case import of 1M rows
(``cases.importing.import_cases`` into fresh SQLite files, the ``bench_import`` file; quick: 50k). Kernels:
the same calls alone (10M points, a 100k universe at k = 1, 100k polygons, 1M centres). Peak memory is
tracemalloc's on one extra traced run of each arm (it sees numpy allocations, not Arrow's or Rust's, so the
h3ronpy arm's is understated). Every row carries the 1-minute load average when its pair ran: the
development machine has 2 cores, and the figures only compare arms measured side by side.

Outcome on 2026-12-07 (load 6-12 on 2 cores): h3ronpy lost every end-to-end path but the import (coverage
1.64x CPU, Gi* 1.22-1.25x, polygons 1.34-2.24x; import 0.98x), so every port was kept and h3ronpy is not a
dependency; the figures are in the docstrings of ``grid/_h3_kernel.py``, ``_h3_disk.py``, ``_h3_geometry.py``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import shapely

import grid.cells as grid_cells

try:  # not a dependency (every port was kept): ``uv pip install h3ronpy==0.22.0`` to run this benchmark
    import h3ronpy
    import h3ronpy.vector as h3v
except ImportError:
    h3ronpy = h3v = None

BENCHMARK = "h3ronpy"
SEED = 20261207
THRESHOLD = 1.15
Int64Array = npt.NDArray[np.int64]
_PAD = np.iinfo(np.int64).max


# --- the h3ronpy arm: adapters with the ports' signatures ---------------------------------------------------


def h3ronpy_latlng_kernel(
    lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64], res: int, out: Int64Array
) -> int:
    """``latlng_to_cells_kernel`` by h3ronpy: fills ``out``, returns the number of non-finite points."""
    finite = np.isfinite(lat) & np.isfinite(lon)
    n_bad = int(finite.size - np.count_nonzero(finite))
    if n_bad == 0:
        out[:] = np.asarray(h3v.coordinates_to_cells(lat, lon, res)).view(np.int64)
    else:
        out[:] = 0
        out[finite] = np.asarray(h3v.coordinates_to_cells(lat[finite], lon[finite], res)).view(np.int64)
    return n_bad


def h3ronpy_disk_neighbours(
    universe: Int64Array, k: int, *, inside: bool = False
) -> tuple[Int64Array, Int64Array]:
    """``grid._h3_disk.disk_neighbours`` by h3ronpy: the same CSR (rows ascending, universe positions)."""
    n = universe.size
    if n == 0:
        return np.zeros(1, dtype=np.int64), np.empty(0, dtype=np.int64)
    m = 3 * k * (k + 1) + 1
    lists = pa.array(h3ronpy.grid_disk(universe.view(np.uint64), k, flatten=False))
    offsets = lists.offsets.to_numpy()
    values = lists.values.to_numpy()[offsets[0] : offsets[-1]].view(np.int64)
    if inside:
        values = pd.Index(universe).get_indexer(values).astype(np.int64)
        values[values < 0] = _PAD
    if values.size == n * m:  # no pentagon: every row is full
        table = values.reshape(n, m).copy()
    else:
        counts = np.diff(offsets)
        table = np.full((n, m), _PAD, dtype=np.int64)
        column = np.arange(values.size) - np.repeat(offsets[:-1] - offsets[0], counts)
        table[np.repeat(np.arange(n), counts), column] = values
    table.sort(axis=1)
    keep = table != _PAD
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(keep.sum(axis=1), out=indptr[1:])
    return indptr, table[keep]


def h3ronpy_cells_to_polygons(cells: npt.ArrayLike) -> Any:
    """``grid.cells.cells_to_polygons`` with the boundaries and areas from h3ronpy."""
    import geopandas as gpd

    flat = np.ascontiguousarray(grid_cells._as_cells(cells).reshape(-1))
    grid_cells._require_valid(flat)
    ids = flat.view(np.uint64)
    wkb = pa.array(h3v.cells_to_wkb_polygons(ids)).to_numpy(zero_copy_only=False)
    polygons = shapely.from_wkb(wkb)
    area = np.asarray(h3ronpy.cells_area_m2(ids))
    frame = pd.DataFrame({"cell": flat, "geometry": polygons, "area_m2": area})
    return gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:4326")


@contextlib.contextmanager
def h3ronpy_arm(*names: str) -> Iterator[None]:
    """Within the block ``grid.cells`` calls h3ronpy for ``names`` (index, disk, polygons)."""
    swaps = {
        "index": ("latlng_to_cells_kernel", h3ronpy_latlng_kernel),
        "disk": ("disk_neighbours", h3ronpy_disk_neighbours),
        "polygons": ("cells_to_polygons", h3ronpy_cells_to_polygons),
    }
    saved = {}
    try:
        for name in names:
            attr, fn = swaps[name]
            saved[attr] = getattr(grid_cells, attr)
            setattr(grid_cells, attr, fn)
            if name == "polygons":  # imported by name where it is used
                import analytics.hotspots

                analytics.hotspots.cells_to_polygons = fn
        yield
    finally:
        for attr, fn in saved.items():
            setattr(grid_cells, attr, fn)
            if attr == "cells_to_polygons":
                import analytics.hotspots

                analytics.hotspots.cells_to_polygons = fn


# --- measurement ------------------------------------------------------------------------------------------


def _interleaved(
    port: Callable[[], Any], theirs: Callable[[], Any], arm: tuple[str, ...], repeat: int
) -> dict[str, Any]:
    """Best wall and CPU seconds of each arm over ``repeat`` interleaved pairs, the last results, mean load.

    CPU time (``time.process_time``, all threads of this process) is reported beside wall time because on
    a machine with more runnable processes than cores the wall time mostly measures waiting.
    """
    best = {"a": float("inf"), "b": float("inf"), "a_cpu": float("inf"), "b_cpu": float("inf")}
    results: dict[str, Any] = {}
    loads = []
    for _ in range(repeat):
        loads.append(os.getloadavg()[0])
        for side, fn in (("a", port), ("b", theirs)):
            with h3ronpy_arm(*(arm if side == "b" else ())):
                t0, c0 = time.perf_counter(), time.process_time()
                results[side] = fn()
                best[side] = min(best[side], time.perf_counter() - t0)
                best[f"{side}_cpu"] = min(best[f"{side}_cpu"], time.process_time() - c0)
    return best | {"a_result": results["a"], "b_result": results["b"], "load": float(np.mean(loads))}


def _traced_peak(fn: Callable[[], Any], arm: tuple[str, ...] = ()) -> float:
    with h3ronpy_arm(*arm):
        tracemalloc.start()
        try:
            fn()
            return tracemalloc.get_traced_memory()[1] / 2**20
        finally:
            tracemalloc.stop()


def _pair(
    subject: str,
    level: str,
    n: int,
    port: Callable[[], Any],
    arm: tuple[str, ...],
    repeat: int,
    check: Callable[[Any, Any], None],
    theirs: Callable[[], Any] | None = None,
    memory: bool = True,
    warm: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    """One row: the port and the h3ronpy arm of ``subject`` interleaved, results checked equal."""
    theirs = theirs or port
    if warm:  # numba caches, imports
        port()
        with h3ronpy_arm(*arm):
            theirs()
    m = _interleaved(port, theirs, arm, repeat)
    check(m["a_result"], m["b_result"])
    row = {
        "benchmark": BENCHMARK,
        "subject": subject,
        "level": level,
        "n": n,
        "seconds": m["a"],
        "h3ronpy_seconds": m["b"],
        "per_s": n / m["a"],
        "ratio": m["b"] / m["a"],
        "cpu_s": m["a_cpu"],
        "h3ronpy_cpu_s": m["b_cpu"],
        "cpu_ratio": m["b_cpu"] / m["a_cpu"],
        "replace": bool(max(m["b"] / m["a"], m["b_cpu"] / m["a_cpu"]) < THRESHOLD)
        if level == "end to end"
        else None,
        "repeat": repeat,
        "load_1min": round(m["load"], 2),
    }
    if memory:
        row["peak_mib"] = _traced_peak(port)
        row["h3ronpy_peak_mib"] = _traced_peak(theirs, arm)
    return row | extra


def _equal(a: Any, b: Any) -> None:
    if isinstance(a, tuple):
        for x, y in zip(a, b, strict=True):
            _equal(x, y)
    elif isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    elif hasattr(a, "z"):  # GiStarResult
        np.testing.assert_array_equal(a.z, b.z)
        np.testing.assert_array_equal(a.p, b.p)
    else:
        np.testing.assert_array_equal(a, b)


def _polygons_close(a: Any, b: Any) -> None:
    np.testing.assert_array_equal(a["cell"].to_numpy(), b["cell"].to_numpy())
    assert shapely.equals_exact(a.geometry.to_numpy(), b.geometry.to_numpy(), tolerance=1e-9).all()
    np.testing.assert_allclose(a["area_m2"].to_numpy(), b["area_m2"].to_numpy(), rtol=1e-5)


# --- the paths --------------------------------------------------------------------------------------------


def _coverage_rows(n: int, repeat: int) -> list[dict[str, Any]]:
    from benchmarks.bench_coverage import _points
    from patrol.scale import fine_cube_from_store
    from patrol.store import write_tracks

    points = _points(n)
    lat, lon = points["lat"].to_numpy(), points["lon"].to_numpy()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        write_tracks(points, Path(tmp))
        del points
        rows.append(
            _pair(
                "coverage cube (patrol.scale.fine_cube_from_store)",
                "end to end",
                n,
                lambda: fine_cube_from_store(tmp),
                ("index",),
                repeat,
                _equal,
                memory=repeat > 1 and n <= 1_000_000,
                note="10 day files, 1 thread; every fix and every sub-segment midpoint indexed at res 10",
            )
        )

    def index() -> Int64Array:
        return grid_cells.latlng_to_cells(lat, lon, 10)

    rows.append(_pair("latlng_to_cells res 10", "kernel", n, index, ("index",), max(repeat, 3), _equal))
    return rows


def _hotspot_rows(n: int, repeat: int) -> list[dict[str, Any]]:
    from analytics.hotspots import gi_star
    from analytics.weights import disk_weights
    from benchmarks.bench_hotspots import _counts, _universe

    cells = _universe(n)
    y = _counts(n, np.random.default_rng(SEED)).astype(float)
    _check_disk_parity(cells)
    return [
        _pair(
            "gi_star analytic (weights + z + p + FDR)",
            "end to end",
            n,
            lambda: gi_star(y, disk_weights(cells, 1)),
            ("disk",),
            repeat,
            _equal,
            note="disk_weights -> grid_disk_csr -> disk_neighbours(inside=True)",
        ),
        _pair(
            "grid_disk_csr k=1",
            "kernel",
            n,
            lambda: grid_cells.grid_disk_csr(cells, 1),
            ("disk",),
            repeat,
            _equal,
        ),
        _pair(
            "grid_disk pairs k=1",
            "kernel",
            n,
            lambda: grid_cells.grid_disk(cells, 1),
            ("disk",),
            repeat,
            _equal,
        ),
    ]


def _check_disk_parity(cells: Int64Array) -> None:
    """The adapter equals the port on the benchmark universe and around all 12 pentagons."""
    import h3
    import h3.api.basic_int as h3i

    from grid._h3_disk import disk_neighbours

    pentagons = [h3.str_to_int(p) for p in h3.get_pentagons(9)]
    around = np.unique(
        np.array([c for p in pentagons for c in h3i.grid_disk(p, 4)], dtype=np.uint64).view(np.int64)
    )
    for universe in (cells, around):
        for k in (1, 2):
            for inside in (False, True):
                _equal(
                    disk_neighbours(universe, k, inside=inside),
                    h3ronpy_disk_neighbours(universe, k, inside=inside),
                )


def _polygon_rows(n: int, repeat: int) -> list[dict[str, Any]]:
    from benchmarks.bench_hotspots import _universe

    cells = _universe(n)
    return [
        _pair(
            "cells_to_polygons (GeoDataFrame)",
            "end to end",
            n,
            lambda: grid_cells.cells_to_polygons(cells),
            ("polygons",),
            repeat,
            _polygons_close,
            note="the map layers and the hot-spot output build their hexagons with it",
        ),
        _pair(
            "cell_centers",
            "kernel",
            n,
            lambda: grid_cells.cell_centers(cells),
            (),
            repeat,
            lambda a, b: np.testing.assert_allclose(np.stack(a), np.stack(b), rtol=0, atol=1e-12),
            theirs=lambda: _h3ronpy_centres(cells),
            memory=False,
        ),
    ]


def _h3ronpy_centres(cells: Int64Array) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    grid_cells._require_valid(cells)
    batch = pa.record_batch(h3v.cells_to_coordinates(cells.view(np.uint64)))
    return batch.column("lat").to_numpy(), batch.column("lng").to_numpy()


def _import_rows(n: int, repeat: int) -> list[dict[str, Any]]:
    from benchmarks.bench_import import MAPPING, _warm_up, synthetic_cases
    from cases.db import init_db, make_engine
    from cases.importing import import_cases
    from cases.mapping import load_mapping

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        csv = folder / "cases.csv"
        synthetic_cases(n).to_csv(csv, index=False)
        (folder / "city.toml").write_text(MAPPING, encoding="utf-8")
        mapping = load_mapping(folder / "city.toml")
        _warm_up(folder, mapping)
        runs = iter(range(10**6))

        def once() -> tuple[int, int]:
            path = folder / f"db{next(runs)}.db"
            engine = make_engine(f"sqlite:///{path}")
            init_db(engine)  # untimed would be nicer; it is the same for both arms (an empty schema)
            try:
                report = import_cases(csv, engine, mapping=mapping)
            finally:
                engine.dispose()
                path.unlink(missing_ok=True)
            return report.imported, report.quarantined

        return [
            _pair(
                "case import (cases.importing.import_cases, SQLite)",
                "end to end",
                n,
                once,
                ("index",),
                repeat,
                _equal,
                memory=False,
                warm=False,  # _warm_up imported a small file
                note="indexing runs in the read-ahead thread; includes creating the empty schema",
            )
        ]


def run(quick: bool) -> list[dict[str, Any]]:
    """Rows for ``python -m benchmarks``: end to end and kernel, port vs h3ronpy, by path."""
    if h3ronpy is None:
        note = "h3ronpy is not installed (pip install h3ronpy==0.22.0); the figures are in grid/_h3_*.py"
        return [{"benchmark": BENCHMARK, "subject": "skipped", "n": 0, "seconds": float("nan"), "note": note}]
    only = os.environ.get("BENCH_H3RONPY_ONLY", "coverage,hotspots,polygons,import").split(",")
    rows: list[dict[str, Any]] = []
    if "hotspots" in only:
        rows += _hotspot_rows(10_000 if quick else 100_000, 3 if quick else 9)
    if "polygons" in only:
        rows += _polygon_rows(10_000 if quick else 100_000, 3 if quick else 7)
    if "import" in only:
        rows += _import_rows(
            50_000 if quick else int(os.environ.get("BENCH_IMPORT_ROWS", 1_000_000)), 1 if quick else 3
        )
    if "coverage" in only:
        rows += _coverage_rows(300_000 if quick else 10_000_000, 1 if quick else 3)
    return rows
