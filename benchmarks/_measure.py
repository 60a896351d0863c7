"""Timing and peak-memory helpers shared by the benchmarks."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from typing import Any


def measure(fn: Callable[[], Any], *, repeat: int = 1, memory: bool = False) -> tuple[float, float, Any]:
    """Run ``fn`` and return (best wall seconds, peak traced MiB or NaN, result).

    Timing runs are untraced. With ``memory=True`` one extra traced run measures the peak of memory
    allocated through Python's and numpy's allocators (numpy reports to tracemalloc); memory held by
    extension code that bypasses those hooks is not seen, and benchmarks that need RSS say so.
    """
    best = float("inf")
    result: Any = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    peak_mib = float("nan")
    if memory:
        tracemalloc.start()
        fn()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        peak_mib = peak / 2**20
    return best, peak_mib, result
