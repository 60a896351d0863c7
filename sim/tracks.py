"""GPS tracks of inspectors walking their loops, and the problems they discover on the way.

Per working day and inspector: two shifts (default 08:00–12:00, 13:30–17:30 local) with a few minutes'
jitter; a walking speed of 4–5 km/h; idle stops; distance along the loop continues where yesterday ended.
Fixes every 5 s are interpolated along the loop's cumulative distance (``np.interp``), then get
autocorrelated GPS noise (σ = accuracy / 2 per axis, accuracy 5–15 m), a few urban-canyon outliers and
signal gaps; all inspectors of a day are generated together in flat arrays (:mod:`sim.walk`). Each day is
written at once as ``tracks/day=YYYY-MM-DD/part.parquet`` (in a writer thread while the next day is
computed) so the year is never in memory. Discovery: a waiting patrol-channel problem is found at the first
30-s sample, after it arose, where its beat's inspector (true position, not the noisy fix) is in the
problem's cell; one sorted search per day for all inspectors.
"""

from __future__ import annotations

import datetime as dt
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
from sim.walk import DayTrack, Loops, day_track
from sim.write import write_parquet_hashed

_NS = 1_000_000_000
#: zstd level of the track partitions: level 1 costs ~30 % less CPU than 3 for ~2.5 % more bytes.
TRACK_ZSTD_LEVEL = 1
#: Columns with row-group min/max statistics in the track partitions (for inspector / time filters).
TRACK_STATISTICS = ["inspector_id", "ts"]
_WRITERS = 2
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
    sha256: dict[str, str] = field(default_factory=dict)  # relative path of each day file → sha256


def _shift_bounds(cfg: DemoConfig, date: dt.date) -> list[tuple[int, int]]:
    """UTC ns (start, end) of each shift of a local date."""
    out = []
    for a, b in cfg.shift_hours:
        ts = pd.Timestamp(f"{date} {a}").tz_localize(cfg.timezone).tz_convert("UTC")
        te = pd.Timestamp(f"{date} {b}").tz_localize(cfg.timezone).tz_convert("UTC")
        out.append((ts.value, te.value))
    return out


class _PatrolQueue:
    """Patrol-channel problems waiting to be found, in occurrence order, with their beat's inspector."""

    def __init__(self, problems: pd.DataFrame, beat: npt.NDArray[np.int64]) -> None:
        patrol = problems[problems["channel"] == "patrol"].sort_values("occurred_ns", kind="stable")
        self.problem_id = patrol["problem_id"].to_numpy(dtype=np.int64)
        self.occurred_ns = patrol["occurred_ns"].to_numpy(dtype=np.int64)
        self.cell = patrol["cell_idx"].to_numpy(dtype=np.int64)
        self.owner = beat[self.cell]
        self.pending = np.empty(0, dtype=np.int64)
        self._next = 0

    def arisen_before(self, t_ns: int) -> npt.NDArray[np.int64]:
        """Indices of problems still waiting that arose before ``t_ns`` (adds the newly arisen ones)."""
        upto = int(np.searchsorted(self.occurred_ns, t_ns, side="left"))
        if upto > self._next:
            self.pending = np.concatenate([self.pending, np.arange(self._next, upto)])
            self._next = upto
        return self.pending

    def remove(self, found: npt.NDArray[np.int64]) -> None:
        """Drop found problems (indices into the queue) from the waiting list."""
        self.pending = np.setdiff1d(self.pending, found, assume_unique=True)


def _discover(
    queue: _PatrolQueue, day: DayTrack, day0_ns: int, day_end_ns: int, n_cells: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(queue index of each problem found today, index of the sample that found it).

    A problem is found at the first sample of its beat's inspector in its cell from the second after it
    arose on; one sorted search over (inspector, cell, second of the day) keys for all inspectors.
    """
    wait = queue.arisen_before(day_end_ns)
    if len(wait) == 0 or len(day.sample_t_ns) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    rel = (day.sample_t_ns - day0_ns) // _NS
    skey = ((day.sample_inspector * (n_cells + 1) + day.sample_cell + 1) << 20) | rel
    order = np.argsort(skey, kind="stable")
    skey = skey[order]
    prel = np.clip((queue.occurred_ns[wait] - day0_ns) // _NS + 1, 0, (1 << 20) - 1)
    pkey = ((queue.owner[wait] * (n_cells + 1) + queue.cell[wait] + 1) << 20) | prel
    j = np.searchsorted(skey, pkey, side="left")
    ok = j < len(skey)
    ok[ok] = (skey[j[ok]] >> 20) == (pkey[ok] >> 20)
    return wait[ok], order[j[ok]]


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
    loops = Loops.from_routes(routes)
    queue = _PatrolQueue(problems, beat)
    n_cells = len(geo.cells)
    s_pos = rng.uniform(0, loops.length_m)
    finds: list[tuple[np.ndarray, ...]] = []
    result = TrackResult(pd.DataFrame())
    work_days = [d for d, w in zip(days["date"], days["workday"], strict=True) if w]
    gpx_day = work_days[min(cfg.gpx_day_index, len(work_days) - 1)] if work_days else None
    # two writer threads compress days d-1 and d while d+1 is computed (pyarrow and the kernel free the GIL)
    pool = ThreadPoolExecutor(max_workers=_WRITERS)
    pending_writes: list[tuple[str, Future]] = []
    for date in work_days:
        shifts = _shift_bounds(cfg, date)
        day, s_pos = day_track(loops, s_pos, shifts, geo.frame, cfg, rng)
        hit, k = _discover(queue, day, shifts[0][0], shifts[-1][1], n_cells)
        if len(hit):
            queue.remove(hit)
            jx, jy = rng.normal(0, 6.0, len(k)), rng.normal(0, 6.0, len(k))
            found_ns = day.sample_t_ns[k] + rng.integers(0, 60, len(k)) * _NS
            finds.append(
                (
                    queue.problem_id[hit],
                    day.sample_inspector[k],
                    found_ns,
                    day.sample_x[k] + jx,
                    day.sample_y[k] + jy,
                )
            )
        table = _day_table(day, ids)
        del day
        result.points_per_day[date.isoformat()] = table.num_rows
        if out_dir is not None:
            while len(pending_writes) > _WRITERS:
                _collect(result, pending_writes.pop(0))
            rel = f"tracks/day={date.isoformat()}/part.parquet"
            future = pool.submit(
                write_parquet_hashed,
                table,
                out_dir / rel,
                row_group_size=cfg.row_group_size,
                compression_level=TRACK_ZSTD_LEVEL,
                statistics=TRACK_STATISTICS,
            )
            pending_writes.append((rel, future))
            if date == gpx_day:
                write_gpx_day(table, out_dir / "gpx", date.isoformat())
    for item in pending_writes:
        _collect(result, item)
    pool.shutdown()
    names = ("problem_id", "inspector", "found_ns", "x", "y")
    result.finds = pd.DataFrame(
        {n: (np.concatenate([f[j] for f in finds]) if finds else np.empty(0)) for j, n in enumerate(names)}
    )
    result.gpx_day = gpx_day.isoformat() if gpx_day else None
    return result


def _collect(result: TrackResult, item: tuple[str, Future]) -> None:
    rel, future = item
    result.sha256[rel] = future.result()


def _day_table(day: DayTrack, ids: np.ndarray) -> pa.Table:
    """The day's track table (``TRACK_SCHEMA``), zero-copy from the day's arrays where possible."""
    insp = pa.DictionaryArray.from_arrays(pa.array(day.inspector, pa.int32()), pa.array(ids.astype(str)))
    return pa.Table.from_arrays(
        [
            insp,
            pa.array(day.ts_ms, pa.timestamp("ms", tz="UTC")),
            pa.array(day.lat, pa.float64()),
            pa.array(day.lon, pa.float64()),
            pa.array(day.accuracy_m, pa.float32()),
        ],
        schema=TRACK_SCHEMA,
    )
