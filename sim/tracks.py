"""GPS tracks of inspectors walking their loops, and the problems they discover on the way.

Per working day and inspector: two shifts (default 08:00–12:00, 13:30–17:30 local) with a few minutes'
jitter; a walking speed of 4–5 km/h; idle stops; distance along the loop continues where yesterday ended.
Fixes every 5 s are interpolated along the loop's cumulative distance (``np.interp``), then get
autocorrelated GPS noise (σ = accuracy / 2 per axis, accuracy 5–15 m), a few urban-canyon outliers and
signal gaps. Each day is written at once as ``tracks/day=YYYY-MM-DD/part.parquet`` so the year is never in
memory. Discovery: a waiting patrol-channel problem is found at the first 30-s sample, after it arose,
where the inspector (true position, not the noisy fix) is in the problem's cell.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from sim.config import DemoConfig
from sim.geography import Geography
from sim.gpx import write_gpx_day
from sim.intensity import day_type
from sim.routes import Route
from sim.write import write_parquet

_NS = 1_000_000_000
TRACK_SCHEMA = pa.schema(
    [
        ("inspector_id", pa.dictionary(pa.int32(), pa.string())),
        ("ts", pa.timestamp("ms", tz="UTC")),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("accuracy_m", pa.float32()),
    ]
)


@dataclass
class TrackResult:
    """What the track generation hands back: patrol finds, daily point counts, the GPX sample day."""

    finds: pd.DataFrame  # problem_id, inspector, found_ns, x, y
    points_per_day: dict[str, int] = field(default_factory=dict)
    gpx_day: str | None = None


def _shift_bounds(cfg: DemoConfig, date) -> list[tuple[int, int]]:
    out = []
    for a, b in cfg.shift_hours:
        ts = pd.Timestamp(f"{date} {a}").tz_localize(cfg.timezone).tz_convert("UTC")
        te = pd.Timestamp(f"{date} {b}").tz_localize(cfg.timezone).tz_convert("UTC")
        out.append((ts.value, te.value))
    return out


def _walk(route: Route, s0: float, shifts, cfg: DemoConfig, rng: np.random.Generator):
    """Fix times (ns), distance along the loop, moving flag for one inspector-day."""
    dt = cfg.fix_interval_s
    times, moving = [], []
    for a, b in shifts:
        start = a + int(rng.integers(0, 10 * 60)) * _NS
        end = b - int(rng.integers(0, 10 * 60)) * _NS
        t = np.arange(start, end, dt * _NS, dtype=np.int64)
        mv = np.ones(len(t), dtype=bool)
        hours = (end - start) / 3600 / _NS
        for _ in range(int(rng.poisson(cfg.idle_stops_per_hour * hours))):
            k = int(rng.integers(0, max(len(t) - 1, 1)))
            mv[k : k + int(rng.uniform(2, 10) * 60 / dt)] = False
        times.append(t)
        moving.append(mv)
    t = np.concatenate(times)
    mv = np.concatenate(moving)
    speed = rng.uniform(*cfg.walk_speed_kmh) / 3.6
    s = s0 + np.cumsum(mv * speed * dt)
    return t, s, mv


_KNOT = 6  # one random knot every 6 fixes (30 s), linearly interpolated: correlated GPS error


def _smooth(n: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-variance noise correlated over ~30 s (interpolated knots plus a little white noise)."""
    knots = rng.normal(0, 1, n // _KNOT + 2)
    u = np.arange(n) / _KNOT
    return np.interp(u, np.arange(len(knots)), knots) * 1.15 + rng.normal(0, 0.3, n)


def _noise(n: int, cfg: DemoConfig, rng: np.random.Generator):
    lo, hi = cfg.gps_accuracy_m
    acc = np.clip(rng.uniform(lo, hi) + 2.0 * _smooth(n, rng), lo, hi)
    ex = _smooth(n, rng) * acc / 2
    ey = _smooth(n, rng) * acc / 2
    out = rng.random(n) < cfg.outlier_rate
    dist = rng.uniform(40, 150, out.sum())
    ang = rng.uniform(0, 2 * np.pi, out.sum())
    ex[out] += dist * np.cos(ang)
    ey[out] += dist * np.sin(ang)
    acc = acc.astype(np.float32)
    acc[out] = rng.uniform(30, 80, out.sum()).astype(np.float32)
    return ex, ey, acc, out


def _gaps(t: np.ndarray, cfg: DemoConfig, rng: np.random.Generator) -> np.ndarray:
    keep = np.ones(len(t), dtype=bool)
    hours = len(t) * cfg.fix_interval_s / 3600
    for _ in range(int(rng.poisson(cfg.gap_rate_per_hour * hours))):
        k = int(rng.integers(0, len(t)))
        keep[k : k + int(rng.uniform(30, 300) / cfg.fix_interval_s)] = False
    return keep


def _discover(pending: dict[str, np.ndarray], sample_t: np.ndarray, sample_cell: np.ndarray, day0_ns: int):
    """Index into ``pending`` of problems found (arisen before the sample) and the sample that found each."""
    if len(pending["problem_id"]) == 0 or len(sample_t) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    rel = ((sample_t - day0_ns) // _NS).astype(np.int64)
    key = sample_cell.astype(np.int64) * (1 << 20) + rel
    order = np.argsort(key, kind="stable")
    skey = key[order]
    prel = np.maximum((pending["occurred_ns"] - day0_ns) // _NS, -1) + 1
    pkey = pending["cell_idx"].astype(np.int64) * (1 << 20) + prel
    j = np.searchsorted(skey, pkey, side="left")
    ok = j < len(skey)
    ok[ok] = (skey[j[ok]] >> 20) == pending["cell_idx"][ok]
    return np.flatnonzero(ok), order[j[ok]]


def simulate_tracks(
    routes: list[Route],
    inspectors: pd.DataFrame,
    problems: pd.DataFrame,
    beat: npt.NDArray[np.int64],
    geo: Geography,
    cfg: DemoConfig,
    rng: np.random.Generator,
    out_dir: Path | None,
) -> TrackResult:
    """Walk every inspector every working day, write the day partitions, return the patrol finds."""
    days = day_type(cfg)
    ids = inspectors["inspector_id"].to_numpy()
    patrol = problems[problems["channel"] == "patrol"]
    owner = beat[patrol["cell_idx"].to_numpy()]
    queues = {
        i: {c: patrol[c].to_numpy()[owner == i] for c in ("problem_id", "occurred_ns", "cell_idx")}
        for i in range(len(ids))
    }
    s_pos = np.array([rng.uniform(0, r.length_m) for r in routes])
    finds, result = [], TrackResult(pd.DataFrame())
    work_days = [d for d, w in zip(days["date"], days["workday"], strict=True) if w]
    gpx_day = work_days[min(cfg.gpx_day_index, len(work_days) - 1)] if work_days else None
    pool = ThreadPoolExecutor(max_workers=1)  # writes day d while day d+1 is computed (pyarrow frees the GIL)
    pending_writes: list[Future] = []
    for date in work_days:
        shifts = _shift_bounds(cfg, date)
        day0 = shifts[0][0]
        cols = {"inspector": [], "ts": [], "lat": [], "lon": [], "acc": []}
        for i, route in enumerate(routes):
            t, s, _mv = _walk(route, s_pos[i], shifts, cfg, rng)
            s_pos[i] = s[-1]
            sm = np.mod(s, route.length_m)
            x, y = np.interp(sm, route.cum_m, route.x), np.interp(sm, route.cum_m, route.y)
            ex, ey, acc, outlier = _noise(len(t), cfg, rng)
            keep = _gaps(t, cfg, rng)
            samp = np.flatnonzero(keep & ~outlier)[::6]
            q = queues[i]
            hit, which = _discover(q, t[samp], route.cell_at(s[samp]), day0)
            if len(hit):
                k = samp[which]
                jx, jy = rng.normal(0, 6.0, len(k)), rng.normal(0, 6.0, len(k))
                finds.append(
                    (
                        q["problem_id"][hit],
                        np.full(len(k), i),
                        t[k] + rng.integers(0, 60, len(k)) * _NS,
                        x[k] + jx,
                        y[k] + jy,
                    )
                )
                left = np.ones(len(q["problem_id"]), dtype=bool)
                left[hit] = False
                queues[i] = {c: v[left] for c, v in q.items()}
            lat, lon = geo.frame.to_latlon(x[keep] + ex[keep], y[keep] + ey[keep])
            cols["inspector"].append(np.full(int(keep.sum()), i, dtype=np.int32))
            cols["ts"].append(t[keep] // 1_000_000)
            cols["lat"].append(np.round(lat, 7))
            cols["lon"].append(np.round(lon, 7))
            cols["acc"].append(np.round(acc[keep], 1))
        table = _day_table(cols, ids)
        result.points_per_day[date.isoformat()] = table.num_rows
        if out_dir is not None:
            while len(pending_writes) > 1:
                pending_writes.pop(0).result()
            pending_writes.append(
                pool.submit(
                    write_parquet,
                    table,
                    out_dir / "tracks" / f"day={date.isoformat()}" / "part.parquet",
                    row_group_size=cfg.row_group_size,
                )
            )
            if date == gpx_day:
                write_gpx_day(table, out_dir / "gpx", date.isoformat())
    for f in pending_writes:
        f.result()
    pool.shutdown()
    names = ("problem_id", "inspector", "found_ns", "x", "y")
    result.finds = pd.DataFrame(
        {n: (np.concatenate([f[j] for f in finds]) if finds else np.empty(0)) for j, n in enumerate(names)}
    )
    result.gpx_day = gpx_day.isoformat() if gpx_day else None
    return result


def _day_table(cols: dict[str, list[np.ndarray]], ids: np.ndarray) -> pa.Table:
    insp = pa.DictionaryArray.from_arrays(
        pa.array(np.concatenate(cols["inspector"]), pa.int32()), pa.array(ids.astype(str), pa.string())
    )
    return pa.Table.from_arrays(
        [
            insp,
            pa.array(np.concatenate(cols["ts"]), pa.timestamp("ms", tz="UTC")),
            pa.array(np.concatenate(cols["lat"]), pa.float64()),
            pa.array(np.concatenate(cols["lon"]), pa.float64()),
            pa.array(np.concatenate(cols["acc"]).astype(np.float32), pa.float32()),
        ],
        schema=TRACK_SCHEMA,
    )
