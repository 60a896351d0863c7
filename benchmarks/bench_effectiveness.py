"""A year of the demo city's cases against all its tracks: attribution, misses, discovery, gap, response.

Full run: the one-year demo city (``GRIDPATROL_DEMO_DIR``, else ``data/geo/demo`` when it holds a year, else
simulated into a temporary folder with the default :class:`sim.config.DemoConfig`: ~216k cases, ~107M
fixes). Quick run: a 4-week, 20-inspector city. Two timed steps:

1. the one-off reduction of the raw fixes to cell visits (:func:`patrol.effectiveness.visits_from_store`,
   one day at a time; the analogue of building the coverage cube, cached per day in the CLI), timed once;
2. the analysis from the visits: :func:`attribute_cases` for every case (k = 1, 2 h), the missed problems,
   the integrity check of every patrol report against the reporter's raw fixes (read from the store, only
   the needed days and columns), the expected problems, the allocation gap and the per-inspector table
   with response times from the case events. This is the ≤ 60 s target; its peak memory is tracemalloc's
   (numpy and Python allocations; Arrow buffers of the Parquet reads are not seen), and ``rss_mib`` is the
   process's peak resident set after everything.

The reference is the textbook join: ``pandas.merge`` of cases with every visit of their cell, filtered to
the window, the latest presence kept — timed on a subset of cases, extrapolated per case, checked equal.
"""

from __future__ import annotations

import os
import resource
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks._measure import measure
from grid.config import DEFAULT_TIMEZONE

BENCHMARK = "effectiveness"
WINDOW_H = 2.0
CASE_COLUMNS = ("case_id", "source", "category_code", "lat", "lon", "cell", "reported_at", "reported_by")


def _city(quick: bool, tmp: Path) -> Path:
    from sim.config import DemoConfig
    from sim.run import simulate

    if not quick:
        for candidate in (os.environ.get("GRIDPATROL_DEMO_DIR"), "data/geo/demo"):
            if candidate and (Path(candidate) / "truth" / "config.json").exists():
                import json

                days = json.loads((Path(candidate) / "truth" / "config.json").read_text())["days"]
                if days >= 360:
                    return Path(candidate)
        cfg = DemoConfig()
    else:
        cfg = DemoConfig(days=28, n_inspectors=20, cases_per_day=300.0, area_km2=25.0, n_subdistricts=8,
                         n_communities=30)  # fmt: skip
    simulate(cfg, tmp / "city")
    return tmp / "city"


def _naive(cases: pd.DataFrame, visits: pd.DataFrame) -> pd.Series:
    """Minutes since the latest presence in the case's cell within the window (merge, filter, keep last)."""
    m = cases[["case_id", "cell", "reported_at"]].merge(
        visits[["inspector_id", "cell", "enter", "exit"]], on="cell", how="inner"
    )
    m = m[(m["enter"] <= m["reported_at"]) & (m["exit"] >= m["reported_at"] - pd.Timedelta(hours=WINDOW_H))]
    m = m.assign(when=m[["exit", "reported_at"]].min(axis=1))
    best = m.sort_values("when").drop_duplicates("case_id", keep="last").set_index("case_id")
    return (best["reported_at"] - best["when"]).dt.total_seconds() / 60.0


def run(quick: bool) -> list[dict[str, Any]]:
    """Rows for ``python -m benchmarks``: the reduction, the analysis and the naive join reference."""
    from patrol import effectiveness as eff

    with tempfile.TemporaryDirectory(prefix="bench-eff-") as tmp_name:
        tmp = Path(tmp_name)
        city = _city(quick, tmp)
        cache = Path(os.environ.get("GRIDPATROL_BENCH_VISITS_CACHE") or tmp / "visits")
        cached = len(list(cache.glob("visits-*.parquet"))) if cache.exists() else 0
        reduce_s, _, visits = measure(lambda: eff.visits_from_store(city / "tracks", cache_dir=cache))
        cases = pd.read_parquet(
            city / "cases" / "cases.parquet",
            columns=list(CASE_COLUMNS),
        )
        events = pd.read_parquet(city / "cases" / "case_events.parquet")
        cells = pd.read_parquet(city / "geo" / "cells.parquet",
                                columns=["cell", "district", "subdistrict", "inspector_id"])  # fmt: skip
        beats = cells[["cell", "inspector_id"]]
        local = cases["reported_at"].dt.tz_convert(DEFAULT_TIMEZONE).dt.date
        start, end = local.min(), local.max()

        def analysis() -> dict[str, Any]:
            att = eff.attribute_cases(cases, visits, window_h=WINDOW_H, k=1)
            missed = eff.missed_problems(cases, att)
            check = eff.reporter_track_check(cases, city / "tracks")
            expected, source = eff.expected_problems(cases, cells["cell"].to_numpy(), start, end)
            gap = eff.allocation_gap(visits, expected, cells=cells["cell"].to_numpy())
            table = eff.effectiveness_table(
                cases, visits, "inspector", attribution=att, events=events, cells=cells, beats=beats,
                expected=expected, track_check=check,
            )  # fmt: skip
            return dict(att=att, missed=missed, check=check, gap=gap, table=table, source=source)

        eff.attribute_cases(cases.iloc[:10], visits)  # warm-up: load the numba caches of the ring kernel
        seconds, peak_mib, out = measure(analysis, memory=True)
        att = out["att"]
        patrol = (cases["source"] == "patrol").to_numpy()
        citizen = cases["source"].isin(list(eff.CITIZEN_SOURCES)).to_numpy()
        finds = pd.read_parquet(city / "truth" / "patrol_finds.parquet", columns=["case_id", "inspector_id"])
        truth = att.merge(finds, on="case_id")
        n = len(cases)
        rows = [
            _row("cell visits from raw fixes (one-off, per day)", len(visits), reduce_s, float("nan"))
            | {
                "note": f"{len(visits):,} visits from {city}; "
                + (f"{cached} days read from a per-day cache" if cached else "reduced from raw")
            },
            _row("effectiveness analysis from visits", n, seconds, peak_mib)
            | {
                "target_s": 60.0,
                "visits": len(visits),
                "attributed_to_finder": float((truth["near_by"] == truth["inspector_id"]).mean()),
                "missed_share": float(len(out["missed"]) / max(int(citizen.sum()), 1)),
                "discovery_rate": float(patrol.mean()),
                "far_reports": int(out["check"]["far_from_track"].sum()),
                "allocation_index": eff.allocation_index(out["gap"]),
                "expected_from": out["source"],
            },
        ]
        n_ref = 2_000 if quick else 10_000
        rng = np.random.default_rng(1)
        subset = cases.iloc[np.sort(rng.choice(n, size=min(n_ref, n), replace=False))].reset_index(drop=True)
        ours_s, _, ours = measure(lambda: eff.attribute_cases(cases, visits, window_h=WINDOW_H, k=0))
        ref_s, _, ref = measure(lambda: _naive(subset, visits))
        mine = ours.set_index("case_id")["cell_before_min"].reindex(subset["case_id"]).dropna()
        pd.testing.assert_series_equal(
            mine.sort_index(), ref.reindex(mine.index).sort_index(), check_names=False, atol=1e-4
        )
        assert len(ref) == len(mine)
        rows.append(_row("attribute_cases (k=0), every case", n, ours_s, float("nan")))
        rows.append(
            _row("pandas merge on cell + filter (reference)", n, ref_s * n / len(subset), float("nan"))
            | {"note": f"extrapolated: timed on {len(subset):,} cases, same answers on them"}
        )
        for row in rows[2:]:  # the same join, ours vs the textbook one
            row["ratio"] = row["per_s"] / rows[-1]["per_s"]
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        rows[1]["rss_mib"] = rss
        rows[1]["period"] = f"{start} … {end}"
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
