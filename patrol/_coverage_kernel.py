"""Numba kernels of :mod:`patrol.coverage`: segments → pieces → sums per (inspector, cell, period).

The kernels take the valid fixes of cleaned tracks in walking order (sessions contiguous) and reproduce
the numpy formulation they replaced expression for expression (``float(dt_ns) / n`` per piece, start
``t + int(j * duration)``, midpoint ``lat_a + f * (lat_b - lat_a)`` with ``f = (j + 0.5) / n``).
:func:`group_sums_kernel` adds in row order with pandas' compensated (Kahan) summation, the algorithm of
``groupby(...).sum()``, so the sums are bit-identical to the pandas groupby they replace. Compiled with
``cache=True`` and ``nogil``. The ``fused_*`` kernels generate the pieces on the fly (the loop of
:func:`piece_kernel`) instead of reading stored ones, for days with a single UTC offset.
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def segment_kernel(session, prev_dist, cell, step_m, n_sub, length):  # pragma: no cover - compiled
    """Pieces per segment: ``n_sub[i]`` for the segment from fix i to i + 1 (0 when fix i ends a session).

    A segment between two fixes in one cell is one piece (hexagons are convex); one that crosses cells is
    cut into ``max(1, ceil(length / step_m))`` pieces. ``length[i]`` gets the segment's haversine metres,
    ``prev_dist[i + 1]`` (the distance the cleaning measured, or ``prev_distance_kernel``'s).
    Returns the number of pieces of cell-crossing segments (their midpoints need indexing).
    """
    m = len(session)
    crossing = 0
    for i in range(m):
        n_sub[i] = 0
        length[i] = 0.0
    for i in range(m - 1):
        if session[i + 1] != session[i]:
            continue
        d = prev_dist[i + 1]
        length[i] = d
        if cell[i] != cell[i + 1]:
            n = max(1, math.ceil(d / step_m))
            n_sub[i] = n
            crossing += n
        else:
            n_sub[i] = 1
    return crossing


@numba.njit(cache=True, nogil=True)
def midpoint_kernel(lat, lon, cell, n_sub, mid_lat, mid_lon):  # pragma: no cover - compiled
    """Midpoints (degrees) of the pieces of cell-crossing segments, in walking order."""
    p = 0
    for i in range(len(n_sub)):
        n = n_sub[i]
        if n == 0 or cell[i] == cell[i + 1]:
            continue
        for j in range(n):
            f = (j + 0.5) / n
            mid_lat[p] = lat[i] + f * (lat[i + 1] - lat[i])
            mid_lon[p] = lon[i] + f * (lon[i + 1] - lon[i])
            p += 1


@numba.njit(cache=True, nogil=True)
def piece_kernel(t, cell, stop, n_sub, length, mid_cell, src, piece_cell, start_ns, seconds, length_m, idle):
    """Fill the piece arrays (one row per piece, walking order) from the segments.

    ``src`` is the piece's first fix; ``piece_cell`` the cell of its midpoint (``mid_cell`` in order for
    crossing segments, else the fixes' common cell); ``start_ns`` when it starts (int64 UTC ns);
    ``seconds`` and ``length_m`` its share of the segment; ``idle`` whether both fixes are in one stop.
    """
    p = 0
    q = 0
    for i in range(len(n_sub)):
        n = n_sub[i]
        if n == 0:
            continue
        crosses = cell[i] != cell[i + 1]
        duration = np.float64(t[i + 1] - t[i]) / n
        still = stop[i] >= 0 and stop[i] == stop[i + 1]
        for j in range(n):
            src[p] = i
            if crosses:
                piece_cell[p] = mid_cell[q]
                q += 1
            else:
                piece_cell[p] = cell[i]
            start_ns[p] = t[i] + np.int64(j * duration)
            seconds[p] = duration / 1e9
            length_m[p] = length[i] / n
            idle[p] = still
            p += 1


@numba.njit(cache=True, inline="always")
def _kahan_add(total, comp, g, value):  # pragma: no cover - compiled
    """pandas' ``group_sum`` step: compensated add of ``value`` into group ``g`` (NaN compensation → 0)."""
    y = value - comp[g]
    s = total[g] + y
    comp[g] = s - total[g] - y
    if comp[g] != comp[g]:
        comp[g] = 0.0
    total[g] = s


@numba.njit(cache=True, nogil=True)
def run_kernel(src, key, cell, start_ns, offsets, freq_ns, run_of_piece):  # pragma: no cover - compiled
    """Runs of consecutive pieces with one (inspector, cell, period) and their keys.

    A piece's inspector is ``key[src[p]]``; its period is the start of the local ``freq_ns`` period of
    ``start_ns + offset`` (``offsets`` of shape (1,) for one offset, else one per piece), floored as a
    local wall-clock ns value. Fills ``run_of_piece``; returns the runs' (key, cell, period floor).
    """
    n = len(src)
    run_key = np.empty(n, dtype=np.int64)
    run_cell = np.empty(n, dtype=np.int64)
    run_floor = np.empty(n, dtype=np.int64)
    one_offset = len(offsets) == 1
    r = -1
    for p in range(n):
        k = key[src[p]]
        local = start_ns[p] + (offsets[0] if one_offset else offsets[p])
        floor = local - local % freq_ns
        if r < 0 or k != run_key[r] or cell[p] != run_cell[r] or floor != run_floor[r]:
            r += 1
            run_key[r] = k
            run_cell[r] = cell[p]
            run_floor[r] = floor
        run_of_piece[p] = r
    return run_key[: r + 1].copy(), run_cell[: r + 1].copy(), run_floor[: r + 1].copy()


@numba.njit(cache=True, nogil=True)
def group_sums_kernel(
    run_of_piece, group_of_run, n_groups, src, session, cell, start_ns, seconds, idle, length_m
):  # pragma: no cover - compiled
    """Per group: sums of seconds, idle seconds and length (compensated, in row order), entries, last end.

    A piece's group is ``group_of_run[run_of_piece[p]]``; it is an entry (a visit) when it starts its
    session (``session[src[p]]``) or changes cell; it ends at ``start_ns + int(seconds * 1e9)``.
    Returns (seconds, idle_s, length_m, visits, end_ns), each of shape (n_groups,).
    """
    sec = np.zeros(n_groups)
    sec_c = np.zeros(n_groups)
    idle_s = np.zeros(n_groups)
    idle_c = np.zeros(n_groups)
    metres = np.zeros(n_groups)
    metres_c = np.zeros(n_groups)
    visits = np.zeros(n_groups, dtype=np.int64)
    last = np.full(n_groups, np.iinfo(np.int64).min, dtype=np.int64)
    for p in range(len(src)):
        g = group_of_run[run_of_piece[p]]
        _kahan_add(sec, sec_c, g, seconds[p])
        _kahan_add(idle_s, idle_c, g, seconds[p] if idle[p] else 0.0)
        _kahan_add(metres, metres_c, g, length_m[p])
        if p == 0 or session[src[p]] != session[src[p - 1]] or cell[p] != cell[p - 1]:
            visits[g] += 1
        last[g] = max(last[g], start_ns[p] + np.int64(seconds[p] * 1e9))
    return sec, idle_s, metres, visits, last


@numba.njit(cache=True, nogil=True)
def fused_runs_kernel(key, t, cell, n_sub, mid_cell, offset, freq_ns):  # pragma: no cover - compiled
    """:func:`run_kernel` with the pieces generated on the fly (as ``piece_kernel`` does) and one UTC
    ``offset`` (ns) for all of them. Returns the runs' (key, cell, period floor)."""
    n = 0
    for i in range(len(n_sub)):
        n += n_sub[i]
    run_key = np.empty(n, dtype=np.int64)
    run_cell = np.empty(n, dtype=np.int64)
    run_floor = np.empty(n, dtype=np.int64)
    r = -1
    q = 0
    for i in range(len(n_sub)):
        m = n_sub[i]
        if m == 0:
            continue
        crosses = cell[i] != cell[i + 1]
        duration = np.float64(t[i + 1] - t[i]) / m
        k = key[i]
        for j in range(m):
            c = cell[i]
            if crosses:
                c = mid_cell[q]
                q += 1
            local = t[i] + np.int64(j * duration) + offset
            floor = local - local % freq_ns
            if r < 0 or k != run_key[r] or c != run_cell[r] or floor != run_floor[r]:
                r += 1
                run_key[r] = k
                run_cell[r] = c
                run_floor[r] = floor
    return run_key[: r + 1].copy(), run_cell[: r + 1].copy(), run_floor[: r + 1].copy()


@numba.njit(cache=True, nogil=True)
def fused_sums_kernel(
    key, session, t, cell, stop, n_sub, length, mid_cell, offset, freq_ns, group_of_run, n_groups
):  # pragma: no cover - compiled
    """:func:`group_sums_kernel` with the pieces generated on the fly, their runs numbered exactly as
    :func:`fused_runs_kernel` numbers them. Returns (seconds, idle_s, length_m, visits, end_ns)."""
    sec = np.zeros(n_groups)
    sec_c = np.zeros(n_groups)
    idle_s = np.zeros(n_groups)
    idle_c = np.zeros(n_groups)
    metres = np.zeros(n_groups)
    metres_c = np.zeros(n_groups)
    visits = np.zeros(n_groups, dtype=np.int64)
    last = np.full(n_groups, np.iinfo(np.int64).min, dtype=np.int64)
    r = -1
    q = 0
    rk = rc = rf = 0
    prev_session = prev_cell = 0
    first = True
    for i in range(len(n_sub)):
        m = n_sub[i]
        if m == 0:
            continue
        crosses = cell[i] != cell[i + 1]
        duration = np.float64(t[i + 1] - t[i]) / m
        still = stop[i] >= 0 and stop[i] == stop[i + 1]
        k = key[i]
        piece_m = length[i] / m
        seconds = duration / 1e9
        for j in range(m):
            c = cell[i]
            if crosses:
                c = mid_cell[q]
                q += 1
            start = t[i] + np.int64(j * duration)
            local = start + offset
            floor = local - local % freq_ns
            if r < 0 or k != rk or c != rc or floor != rf:
                r += 1
                rk = k
                rc = c
                rf = floor
            g = group_of_run[r]
            _kahan_add(sec, sec_c, g, seconds)
            _kahan_add(idle_s, idle_c, g, seconds if still else 0.0)
            _kahan_add(metres, metres_c, g, piece_m)
            if first or session[i] != prev_session or c != prev_cell:  # an entry: a visit
                visits[g] += 1
            last[g] = max(last[g], start + np.int64(seconds * 1e9))
            prev_session = session[i]
            prev_cell = c
            first = False
    return sec, idle_s, metres, visits, last
