"""KPI speed: a year of cases (220k, quick 22k) with their full event history, every grouping.

The year is made with the simulator's lifecycle (:func:`sim.lifecycle.simulate_lifecycle` and
:func:`~sim.lifecycle.case_events`, ~1.5M events) on synthetic cases: uniform over 2025 with the demo
category mix, 4 districts × 5 subdistricts, 80 inspectors' beats over ~9,000 res-10 cells. Timed: attaching
districts / inspectors (once), then :func:`analytics.kpi.kpi_table` for each grouping (cohort flags, event
scans for rework / extension / suspension, group sums, p90), the department scores, and the inspector KPIs
(working-time measurements of every verification and check). Target: ≤ 2 s per grouping.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.kpi import (
    GROUPINGS,
    attach_areas,
    attach_inspectors,
    department_scores,
    inspector_kpis,
    kpi_table,
)
from benchmarks._measure import measure
from grid.cells import grid_disk, latlng_to_cells
from grid.config import DEFAULT_TIMEZONE

BENCHMARK = "kpi"
SEED = 20251231


def _year(n: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(cases, events, cells table, assignments) of a synthetic year with ``n`` cases."""
    from sim.config import DemoConfig
    from sim.lifecycle import case_events, simulate_lifecycle

    cfg = DemoConfig()
    rng = np.random.default_rng(SEED)
    centre = np.array([int(latlng_to_cells(32.0, 120.86, 10))])
    cells = np.sort(grid_disk(centre, 55)["neighbour"].to_numpy())  # 9,241 cells ≈ 140 km²
    n_cells = len(cells)
    table = pd.DataFrame(
        {
            "cell": cells,
            "district": pd.array([f"D{k % 4}" for k in range(n_cells)], dtype="string"),
            "subdistrict": pd.array([f"D{k % 4}-S{(k // 4) % 5}" for k in range(n_cells)], dtype="string"),
        }
    )
    inspectors = np.array([f"I{k:03d}" for k in range(80)])
    beat = inspectors[np.arange(n_cells) * 80 // n_cells]
    assignments = pd.DataFrame(
        {
            "inspector_id": beat,
            "cell": cells,
            "valid_from": pd.Timestamp("2024-12-31", tz="UTC"),
            "valid_to": pd.NaT,
        }
    )
    mix = cfg.category_mix
    cat = rng.choice(len(mix), n, p=cfg.category_shares)
    where = rng.integers(0, n_cells, n)
    source = rng.choice(["patrol", "hotline", "wechat", "video", "other"], n, p=[0.45, 0.3, 0.15, 0.08, 0.02])
    start = pd.Timestamp("2025-01-01", tz=DEFAULT_TIMEZONE).tz_convert("UTC")
    reported = start + pd.to_timedelta(np.sort(rng.uniform(0, 365 * 86400, n)), unit="s")
    key = np.array([m[3] for m in mix], dtype=object)[cat]
    cases = pd.DataFrame(
        {
            "case_id": [f"Y{k:07d}" for k in range(n)],
            "source": source,
            "category_code": np.array([m[0] for m in mix], dtype=object)[cat],
            "reported_at": pd.Series(reported).dt.floor("s"),
            "cell": cells[where],
            "department": table["district"].to_numpy()[where].astype(object) + "-" + key,
            "reported_by": np.where(source == "patrol", beat[where], None),
            "beat_owner": beat[where],
        }
    )
    cases = simulate_lifecycle(cases, key, cfg, rng)
    events = case_events(cases)
    return cases.drop(columns=[c for c in cases if c.startswith("_")]), events, table, assignments


def run(quick: bool) -> list[dict]:
    n = 22_000 if quick else 220_000
    cases, events, table, assignments = _year(n)
    rows: list[dict] = []

    def row(subject: str, seconds: float, peak: float) -> None:
        rows.append(
            {"benchmark": BENCHMARK, "subject": subject, "n": n, "events": len(events),
             "seconds": round(seconds, 3), "per_s": round(n / seconds), "peak_mib": round(peak, 1)}
        )  # fmt: skip

    seconds, peak, ready = measure(
        lambda: attach_inspectors(attach_areas(cases, table), assignments), memory=True
    )
    row("attach district, subdistrict, inspector", seconds, peak)
    window = {"start": "2025-01-01", "end": "2025-12-31"}
    for by in GROUPINGS:
        seconds, peak, _ = measure(
            lambda b=by: kpi_table(ready, events, by=b, **window), repeat=2, memory=True
        )
        row(f"kpi_table by {by}", seconds, peak)
    seconds, peak, _ = measure(
        lambda: department_scores(kpi_table(ready, events, by="department", **window)), repeat=2, memory=True
    )
    row("kpi_table by department + 综合评价 scores", seconds, peak)
    seconds, peak, _ = measure(lambda: inspector_kpis(ready, events, **window), repeat=2, memory=True)
    row("inspector_kpis (核实/核查 in working hours)", seconds, peak)
    return rows
