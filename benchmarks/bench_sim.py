"""Demo-city simulator: one year at the defaults (quick: 14 days), wall time and peak RSS.

The run happens in a subprocess so its peak resident memory can be read with
``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` (tracemalloc would miss pyarrow's buffers). ``seconds``
is the simulation itself as timed inside the child (imports excluded); ``wall_s`` includes the interpreter
start and imports; ``cpu_s`` is the child's user + system CPU time (all threads, imports included), and
``load_1m`` the machine's one-minute load average at the end: on a shared machine wall time follows the
load, CPU time much less.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time

_CHILD = """
import json, sys, time
from pathlib import Path
from sim.config import DemoConfig
from sim.run import simulate
cfg = DemoConfig(days=int(sys.argv[1]))
t0 = time.perf_counter()
city = simulate(cfg, Path(sys.argv[2]))
print(json.dumps({"seconds": time.perf_counter() - t0, "cases": len(city.cases),
                  "points": sum(city.tracks.points_per_day.values()), "timings": city.timings,
                  "rates": city.rates}))
"""


def run(quick: bool) -> list[dict]:
    """One row: the default city for 365 days (14 when ``quick``)."""
    days = 14 if quick else 365
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, str(days), f"{tmp}/demo"],
            check=True,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_mib = after.ru_maxrss / 1024
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return [
        {
            "benchmark": "sim",
            "subject": f"demo-data {days} days",
            "n": out["cases"],
            "seconds": out["seconds"],
            "per_s": out["points"] / out["seconds"],
            "wall_s": wall,
            "cpu_s": cpu,
            "load_1m": os.getloadavg()[0],
            "peak_mib": peak_mib,
            "points": out["points"],
            "on_time_rate": round(out["rates"]["on_time_rate"], 4),
            "closure_rate": round(out["rates"]["closure_rate"], 4),
        }
    ]
