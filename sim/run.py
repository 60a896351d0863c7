"""The whole simulation in order: geography → people → intensity → problems → tracks → cases → lifecycle.

:func:`simulate` returns a :class:`DemoCity` and, given an output folder, writes every file as it goes
(track partitions day by day) and the rest at the end (:mod:`sim.outputs`). One ``np.random.Generator``
seeded from the configuration is passed down; the same seed gives the same bytes.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from sim import _h3
from sim.cases import latent_problems, public_reports
from sim.city import CASE_COLUMNS as CASE_COLUMNS  # re-exported (was defined here)
from sim.city import DemoCity
from sim.config import DemoConfig
from sim.geography import Geography, build_geography
from sim.intensity import build_intensity
from sim.lifecycle import case_events, period_end, rates, simulate_lifecycle
from sim.outputs import write_all
from sim.people import People, build_people
from sim.present import plant_present
from sim.routes import build_routes
from sim.tracks import TrackResult, simulate_tracks


def simulate(cfg: DemoConfig, out_dir: Path | None = None) -> DemoCity:
    """Run the simulator; with ``out_dir`` write all files there (see ``data/geo/README.md``)."""
    rng = np.random.default_rng(cfg.seed)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t0
        now = time.perf_counter()
        timings[name] = now - t0
        t0 = now

    geo = build_geography(cfg, rng)
    people = build_people(geo, cfg, rng)
    lap("geography+people")
    intensity = build_intensity(geo, cfg, rng)
    problems = latent_problems(intensity, geo, people.beat, cfg, rng)
    lap("problems")
    routes = build_routes(geo, people.beat, len(people.inspectors), cfg, rng)
    lap("routes")
    tracks = simulate_tracks(routes, people.inspectors, problems, people.beat, geo, cfg, rng, out_dir)
    lap("tracks")
    cases = assemble_cases(problems, tracks, geo, people, cfg, rng)
    dept_key = cases.pop("_dept_key").to_numpy()
    cases = simulate_lifecycle(cases, dept_key, cfg, rng)
    for col in (
        "reported_at",
        "registered_at",
        "dispatched_at",
        "deadline_at",
        "resolved_at",
        "verified_at",
        "closed_at",
        "_verify_at",
        "_rework_at",
        "_first_resolved_at",
    ):
        cases[col] = cases[col].dt.floor("s")
    # public reports of problems near the end may fall after it: they belong to no simulated day
    cases = cases[cases["reported_at"] < period_end(cfg)].reset_index(drop=True)
    cases = plant_present(cases, cfg, own_cells(people, geo))
    events = case_events(cases)
    lap("cases+lifecycle")
    city = DemoCity(
        cfg,
        geo,
        people,
        intensity,
        routes,
        problems,
        tracks,
        cases,
        events,
        rates(cases, period_end(cfg)),
        timings,
    )
    if out_dir is not None:
        write_all(city, out_dir)
        lap("write")
    return city


def own_cells(people: People, geo: Geography) -> np.ndarray:
    """The cells of the first inspector's beat (the demo inspector's account is bound to them)."""
    return geo.cells["cell"].to_numpy()[people.beat == 0].astype(np.int64)


def assemble_cases(
    problems: pd.DataFrame,
    tracks: TrackResult,
    geo: Geography,
    people: People,
    cfg: DemoConfig,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Cases from public reports and patrol finds, with ids, locations, cells, categories and departments."""
    pub = public_reports(problems, cfg, rng)
    ids = people.inspectors["inspector_id"].to_numpy()
    finds = tracks.finds
    pat = pd.DataFrame(
        {
            "problem_id": finds["problem_id"].to_numpy().astype(np.int64),
            "reported_ns": finds["found_ns"].to_numpy().astype(np.int64),
            "source": "patrol",
            "reported_by": ids[finds["inspector"].to_numpy().astype(np.int64)],
            "_fx": finds["x"].to_numpy(),
            "_fy": finds["y"].to_numpy(),
        }
    )
    cases = pd.concat([pub, pat], ignore_index=True).merge(
        problems[["problem_id", "cat", "cell_idx", "x", "y"]], on="problem_id", how="left"
    )
    patrol = cases["source"].to_numpy() == "patrol"
    x = np.where(patrol, cases["_fx"].to_numpy(dtype=float), cases["x"].to_numpy())
    y = np.where(patrol, cases["_fy"].to_numpy(dtype=float), cases["y"].to_numpy())
    lat, lon = geo.frame.to_latlon(x, y)
    cases["lat"], cases["lon"] = np.round(lat, 7), np.round(lon, 7)
    cases["cell"] = _h3.latlng_to_cells(cases["lat"].to_numpy(), cases["lon"].to_numpy(), cfg.h3_res)
    cells = geo.cells["cell"].to_numpy()
    pos = np.clip(np.searchsorted(cells, cases["cell"].to_numpy()), 0, len(cells) - 1)
    row = np.where(cells[pos] == cases["cell"].to_numpy(), pos, cases["cell_idx"].to_numpy())
    cases["reported_at"] = pd.to_datetime(cases["reported_ns"].to_numpy(), utc=True)
    cases = cases.assign(_row=row).sort_values(["reported_ns", "problem_id"], kind="stable")
    cases = cases.reset_index(drop=True)
    local_day = cases["reported_at"].dt.tz_convert(cfg.timezone).dt.strftime("%Y%m%d")
    seq = local_day.groupby(local_day).cumcount() + 1
    cases["case_id"] = "NT" + local_day + seq.astype(str).str.zfill(5)
    mix = cfg.category_mix
    cat = cases["cat"].to_numpy()
    cases["category_code"] = np.array([m[0] for m in mix], dtype=object)[cat]
    cases["category_standard"] = cfg.category_standard
    cases["kind"] = np.array([m[2] for m in mix], dtype=object)[cat]
    key = np.array([m[3] for m in mix], dtype=object)[cat]
    district = geo.cells["district"].to_numpy()[cases["_row"].to_numpy()]
    cases["department"] = district.astype(object) + "-" + key
    cases["_dept_key"] = key
    owner = people.beat[cases["_row"].to_numpy()]
    cases["beat_owner"] = np.where(owner >= 0, ids[np.maximum(owner, 0)], None)
    hotline = cases["source"].to_numpy() == "hotline"
    phone = rng.integers(0, 10_000, len(cases))
    prefix = np.array(["138", "139", "150", "151", "186", "189"])[rng.integers(0, 6, len(cases))]
    masked = pd.Series(prefix).str.cat(pd.Series(phone).astype(str).str.zfill(4), sep="****")
    cases["reporter_phone"] = np.where(hotline, masked.to_numpy(), None)
    names = np.array([m[1] for m in mix], dtype=object)[cat]
    community = geo.cells["community"].to_numpy()[cases["_row"].to_numpy()]
    cases["description"] = names + "（社区 " + community.astype(object) + "）"
    return cases.drop(columns=["_fx", "_fy", "x", "y", "reported_ns"])
