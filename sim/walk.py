"""One working day of GPS fixes for every inspector at once: walking along the loops, idle stops, noise, gaps.

Everything is batched over all inspectors of the day: the fixes of all inspector-shifts are laid end to end
in flat arrays (inspector-major, then shift, then time) with segment offsets. Per-segment quantities (start
jitter, walking speed, idle stops, signal gaps, GPS noise knots) are drawn with numpy once per day, then one
numba pass (:func:`sim._kernels.track_day`) walks the loops, adds the GPS error, drops the gaps and picks
the discovery samples; there is no Python loop over inspectors or points. Random numbers are drawn in a
fixed order from the one generator, so the same seed gives the same fixes.

Distances along a loop are in metres (local frame of :class:`sim.geography.LocalFrame`); times are UTC
nanoseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sim._kernels import mark_runs, track_day
from sim.config import DemoConfig
from sim.geography import LocalFrame
from sim.routes import LOOKUP_STEP_M, Route

_NS = 1_000_000_000
#: One random knot every 6 fixes (30 s at 5 s), linearly interpolated: correlated GPS error.
KNOT_EVERY = 6
#: Loops are laid end to end with this gap (m) so the concatenated cumulative distance is strictly increasing.
_LOOP_GAP_M = 1.0

F64 = npt.NDArray[np.float64]
F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Loops:
    """All inspectors' loops concatenated: one polyline table and one cell-lookup table with offsets."""

    x: F64
    y: F64
    cum_m: F64  # global cumulative distance of each vertex (loop i starts at start_m[i])
    slope_x: F64  # change of x per metre along the segment after each vertex (joins are never sampled)
    slope_y: F64
    start_m: F64  # (n_loops,)
    length_m: F64  # (n_loops,)
    lookup: I64  # concatenated Route.lookup_cell
    lookup_start: I64  # (n_loops,)
    lookup_n: I64  # (n_loops,)

    @classmethod
    def from_routes(cls, routes: list[Route]) -> Loops:
        """Concatenate the loops of ``routes`` (in inspector order)."""
        length = np.array([r.length_m for r in routes], dtype=np.float64)
        start = np.concatenate([[0.0], np.cumsum(length + _LOOP_GAP_M)[:-1]])
        n_look = np.array([len(r.lookup_cell) for r in routes], dtype=np.int64)
        x = np.concatenate([r.x for r in routes])
        y = np.concatenate([r.y for r in routes])
        cum = np.concatenate([r.cum_m + s for r, s in zip(routes, start, strict=True)])
        seg = np.diff(cum)
        inv = np.divide(1.0, seg, out=np.zeros_like(seg), where=seg > 0)
        return cls(
            x=x,
            y=y,
            cum_m=cum,
            slope_x=np.append(np.diff(x) * inv, 0.0),
            slope_y=np.append(np.diff(y) * inv, 0.0),
            start_m=start,
            length_m=length,
            lookup=np.concatenate([r.lookup_cell for r in routes]),
            lookup_start=np.concatenate([[0], np.cumsum(n_look)[:-1]]).astype(np.int64),
            lookup_n=n_look,
        )


@dataclass(frozen=True)
class DayTrack:
    """One day of all inspectors: the recorded fixes and the discovery samples.

    Fixes (outside signal gaps, in inspector then time order): ``ts_ms`` UTC milliseconds, ``lat``/``lon``
    noisy WGS-84 degrees rounded to 7 decimals, ``accuracy_m`` reported accuracy (m, 0.1 m steps),
    ``inspector`` index. Samples (every ``KNOT_EVERY``-th valid fix: recorded and not an outlier):
    ``sample_t_ns`` UTC ns, ``sample_cell`` true cell row (``-1`` outside the study area),
    ``sample_inspector``, ``sample_x``/``sample_y`` true local metres.
    """

    ts_ms: I64
    lat: F64
    lon: F64
    accuracy_m: F32
    inspector: npt.NDArray[np.int32]
    sample_t_ns: I64
    sample_cell: I64
    sample_inspector: I64
    sample_x: F64
    sample_y: F64


def _segments(n: I64) -> tuple[I64, I64]:
    """(offsets, segment of each element) of segments with ``n`` elements."""
    off = np.zeros(len(n) + 1, dtype=np.int64)
    np.cumsum(n, out=off[1:])
    return off, np.repeat(np.arange(len(n)), n)


def _random_runs(
    off: I64, n: I64, counts: I64, length: I64, rng: np.random.Generator, *, last_start: I64
) -> tuple[I64, I64]:
    """``counts[g]`` runs per segment, starting uniformly in ``[0, last_start[g])``, clipped at its end."""
    g = np.repeat(np.arange(len(n)), counts)
    begin = off[g] + rng.integers(0, np.maximum(last_start[g], 1))
    return begin, np.minimum(begin + length, off[g] + n[g])


def day_track(
    loops: Loops,
    s_pos: F64,
    shifts: list[tuple[int, int]],
    frame: LocalFrame,
    cfg: DemoConfig,
    rng: np.random.Generator,
) -> tuple[DayTrack, F64]:
    """Simulate one working day for every inspector; returns the day and the new loop positions.

    Parameters
    ----------
    loops
        The concatenated loops (:meth:`Loops.from_routes`), one per inspector.
    s_pos
        Distance (m) along each inspector's loop where the day starts.
    shifts
        ``(start, end)`` UTC ns of each shift of the day.
    frame
        The local metric frame (positions are converted to WGS-84 with it).
    cfg, rng
        Configuration (fix interval, speeds, noise) and the generator.

    Notes
    -----
    Each shift starts and ends up to 10 min off the hour; idle stops (Poisson, ``idle_stops_per_hour``,
    2–10 min) pause the walk; signal gaps (``gap_rate_per_hour``, 30–300 s) drop fixes. GPS error is
    correlated noise (knots every 30 s, linearly interpolated, plus a little uniform white noise of unit
    variance) scaled by the reported accuracy; outliers jump 40–150 m and report 30–80 m.
    """
    n_insp, n_shift = len(s_pos), len(shifts)
    step = cfg.fix_interval_s * _NS
    a = np.tile(np.array([s for s, _ in shifts], dtype=np.int64), n_insp)
    b = np.tile(np.array([e for _, e in shifts], dtype=np.int64), n_insp)
    t0 = a + rng.integers(0, 10 * 60, len(a)) * _NS
    t1 = b - rng.integers(0, 10 * 60, len(b)) * _NS
    n_g = -(-(t1 - t0) // step)  # len(np.arange(t0, t1, step))
    off, _ = _segments(n_g)
    total = int(off[-1])
    moving = np.ones(total, dtype=np.bool_)
    n_idle = rng.poisson(cfg.idle_stops_per_hour * (t1 - t0) / (3600 * _NS))
    idle_len = (rng.uniform(2, 10, int(n_idle.sum())) * 60 / cfg.fix_interval_s).astype(np.int64)
    mark_runs(moving, *_random_runs(off[:-1], n_g, n_idle, idle_len, rng, last_start=n_g - 1), False)
    speed = rng.uniform(*cfg.walk_speed_kmh, n_insp) / 3.6
    i_start = off[::n_shift]
    n_i = np.diff(i_start)
    keep = np.ones(total, dtype=np.bool_)
    n_gap = rng.poisson(cfg.gap_rate_per_hour * n_i * cfg.fix_interval_s / 3600)
    gap_len = (rng.uniform(30, 300, int(n_gap.sum())) / cfg.fix_interval_s).astype(np.int64)
    mark_runs(keep, *_random_runs(i_start[:-1], n_i, n_gap, gap_len, rng, last_start=n_i), False)
    lo, hi = cfg.gps_accuracy_m
    knots = rng.standard_normal((int((n_i // KNOT_EVERY + 2).sum()), 3), dtype=np.float32)
    acc_base = rng.uniform(lo, hi, n_insp)
    raw = rng.bit_generator.random_raw(total)  # 3 × 16-bit white noise + 16-bit outlier draw per fix
    below = round(cfg.outlier_rate * 65536)
    n_out = int(np.count_nonzero((raw >> np.uint64(48)) < below))
    dist, ang = rng.uniform(40, 150, n_out), rng.uniform(0, 2 * np.pi, n_out)
    out_acc = rng.uniform(30, 80, n_out)
    kept_out = (np.empty(total, np.int64), np.empty(total), np.empty(total), np.empty(total, np.float32))
    kept_out = (*kept_out, np.empty(total, np.int32))
    samp_out = (np.empty(total, np.int64), np.empty(total, np.int64), np.empty(total, np.int64))
    samp_out = (*samp_out, np.empty(total), np.empty(total))
    my, mx = frame.m_per_deg
    n_kept, n_samp, new_pos = track_day(
        t0, n_g, n_shift, step, moving, keep, raw, below, dist * np.cos(ang), dist * np.sin(ang), out_acc,
        knots, KNOT_EVERY, acc_base, float(lo), float(hi), s_pos, speed,
        (loops.start_m, loops.length_m, loops.cum_m, loops.x, loops.y, loops.slope_x, loops.slope_y,
         loops.lookup, loops.lookup_start, loops.lookup_n, LOOKUP_STEP_M),
        (frame.lat0, frame.lon0, my, mx), kept_out, samp_out,
    )  # fmt: skip
    k = [v[:n_kept] for v in kept_out]
    sm = [v[:n_samp] for v in samp_out]
    return DayTrack(*k, *sm), new_pos
