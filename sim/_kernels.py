"""numba kernel of the track simulation: one pass over a day's fixes of all inspectors.

The fixes of inspector ``i`` shift ``s`` are group ``g = i * n_shift + s``; groups are laid end to end
(inspector-major). All random numbers are drawn by the caller with numpy from the one generator in a fixed
order, so the kernel is deterministic. Compiled once and cached on disk (``cache=True``); the day kernel
releases the GIL so the writer threads run alongside it.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_SQRT12 = np.sqrt(12.0)
_U16 = 1.0 / 65536.0


@njit(cache=True)
def mark_runs(mask: np.ndarray, begin: np.ndarray, end: np.ndarray, value: bool) -> None:  # pragma: no cover
    """Set ``mask[begin[r]:end[r]] = value`` for every run ``r``."""
    for r in range(begin.shape[0]):
        for p in range(begin[r], end[r]):
            mask[p] = value


@njit(cache=True, nogil=True)
def track_day(
    t0_ns: np.ndarray,
    n_fix: np.ndarray,
    n_shift: int,
    step_ns: int,
    moving: np.ndarray,
    keep: np.ndarray,
    raw: np.ndarray,
    outlier_below: int,
    outlier_dx: np.ndarray,
    outlier_dy: np.ndarray,
    outlier_acc: np.ndarray,
    knots: np.ndarray,
    knot_every: int,
    acc_base: np.ndarray,
    acc_lo: float,
    acc_hi: float,
    s0: np.ndarray,
    speed_mps: np.ndarray,
    loops: tuple,
    frame: tuple,
    out_kept: tuple,
    out_samples: tuple,
) -> tuple:  # pragma: no cover - compiled
    """Walk, add GPS error, keep the fixes outside gaps and pick the discovery samples.

    ``loops`` = (start_m, length_m, cum_m, xs, ys, slope_x, slope_y, lookup, lookup_start, lookup_n,
    lookup_step_m) where ``slope_*`` is the change of x / y per metre along the segment after each vertex;
    ``frame`` = (lat0, lon0, m_per_deg_lat, m_per_deg_lon); ``out_kept`` = (ts_ms, lat, lon, acc,
    inspector) and ``out_samples`` = (t_ns, cell, inspector, x, y) are preallocated to the number of fixes.
    Returns (kept count, sample count, end position along each loop).
    """
    start_m, length_m, cum_m, xs, ys, slope_x, slope_y, lookup, lookup_start, lookup_n, step_m = loops
    lat0, lon0, my, mx = frame
    inv_my, inv_mx, inv_step = 1.0 / my, 1.0 / mx, 1.0 / step_m
    inv_knot = 1.0 / knot_every
    step_ms = step_ns // 1_000_000
    k_ts, k_lat, k_lon, k_acc, k_insp = out_kept
    s_t, s_cell, s_insp, s_x, s_y = out_samples
    n_insp = s0.shape[0]
    end_pos = np.empty(n_insp)
    m = cum_m.shape[0]
    dt_s = step_ns / 1e9
    p = 0
    kept = 0
    n_samp = 0
    n_out = 0
    k0 = 0
    for i in range(n_insp):
        length = length_m[i]
        base = start_m[i]
        s = s0[i] % length
        ds = speed_mps[i] * dt_s
        j = np.searchsorted(cum_m, base + s, side="right") - 1
        local = 0
        phase = 0
        knot = k0
        valid_rank = 0
        for g in range(i * n_shift, (i + 1) * n_shift):
            t_ms = t0_ns[g] // 1_000_000
            for q in range(n_fix[g]):
                if moving[p]:
                    s += ds
                    if s >= length:
                        s -= length * np.floor(s / length)
                        j = np.searchsorted(cum_m, base + s, side="right") - 1
                pos = base + s
                while j + 1 < m - 1 and cum_m[j + 1] <= pos:
                    j += 1
                along = pos - cum_m[j]
                x = xs[j] + along * slope_x[j]
                y = ys[j] + along * slope_y[j]
                bits = raw[p]
                is_out = (bits >> np.uint64(48)) < outlier_below
                if keep[p] and not is_out:
                    if valid_rank % knot_every == 0:
                        c = min(int(s * inv_step), lookup_n[i] - 1)
                        s_t[n_samp] = t0_ns[g] + q * step_ns
                        s_cell[n_samp] = lookup[lookup_start[i] + c]
                        s_insp[n_samp] = i
                        s_x[n_samp] = x
                        s_y[n_samp] = y
                        n_samp += 1
                    valid_rank += 1
                if is_out:
                    n_out += 1
                if keep[p]:
                    kn = knot
                    f = phase * inv_knot
                    w0 = ((bits & np.uint64(0xFFFF)) * _U16 + _U16 / 2 - 0.5) * _SQRT12
                    w1 = (((bits >> np.uint64(16)) & np.uint64(0xFFFF)) * _U16 + _U16 / 2 - 0.5) * _SQRT12
                    w2 = (((bits >> np.uint64(32)) & np.uint64(0xFFFF)) * _U16 + _U16 / 2 - 0.5) * _SQRT12
                    n0 = (knots[kn, 0] * (1 - f) + knots[kn + 1, 0] * f) * 1.15 + w0 * 0.3
                    n1 = (knots[kn, 1] * (1 - f) + knots[kn + 1, 1] * f) * 1.15 + w1 * 0.3
                    n2 = (knots[kn, 2] * (1 - f) + knots[kn + 1, 2] * f) * 1.15 + w2 * 0.3
                    acc = min(max(acc_base[i] + 2.0 * n0, acc_lo), acc_hi)
                    ex = n1 * acc * 0.5
                    ey = n2 * acc * 0.5
                    if is_out:
                        ex += outlier_dx[n_out - 1]
                        ey += outlier_dy[n_out - 1]
                        acc = outlier_acc[n_out - 1]
                    k_ts[kept] = t_ms + q * step_ms
                    k_lat[kept] = np.rint((lat0 + (y + ey) * inv_my) * 1e7) / 1e7
                    k_lon[kept] = np.rint((lon0 + (x + ex) * inv_mx) * 1e7) / 1e7
                    k_acc[kept] = np.rint(np.float32(acc) * np.float32(10.0)) / np.float32(10.0)
                    k_insp[kept] = i
                    kept += 1
                local += 1
                phase += 1
                if phase == knot_every:
                    phase = 0
                    knot += 1
                p += 1
        k0 += local // knot_every + 2
        end_pos[i] = s
    return kept, n_samp, end_pos
