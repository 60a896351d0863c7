"""Numba kernels of :mod:`patrol.tracks`: one pass over points sorted by inspector then time.

Every kernel takes the points in that order (``key`` an int code per inspector, equal codes contiguous;
``t`` int64 UTC ns, ``NAT`` for a missing time; ``lat``/``lon`` WGS-84 degrees) and reproduces, point for
point, the numpy formulation it replaced: the same float expressions in the same order (haversine with
``x * (pi / 180)`` as ``numpy.radians``, ``float(dt_ns) / 1e9`` as numpy's true division), so speeds,
reasons, sessions and stops are unchanged. All are compiled with ``cache=True`` so a fresh process (a Dask
worker) loads them from ``__pycache__`` instead of compiling, and release the GIL (``nogil``) so Dask's
threaded scheduler can run two days at once.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import numpy.typing as npt

EARTH_RADIUS_M = 6_371_008.8
#: Missing time (``NaT`` as int64 ns).
NAT = np.iinfo(np.int64).min
#: Reason codes of :func:`flag_kernel`; ``REASONS[code - 1]`` in :mod:`patrol.tracks` (0 = valid).
OK, BAD_TIME, BAD_XY, DUPLICATE, POOR_ACCURACY, SPEED_JUMP = range(6)
_RAD = math.pi / 180.0
_NS = 1_000_000_000


@numba.njit(cache=True, inline="always")
def haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle metres between two (lat, lon) degree points; the expression of ``tracks.haversine_m``."""
    p1 = lat1 * _RAD
    l1 = lon1 * _RAD
    p2 = lat2 * _RAD
    l2 = lon2 * _RAD
    s1 = math.sin((p2 - p1) / 2)
    s2 = math.sin((l2 - l1) / 2)
    a = s1 * s1 + math.cos(p1) * math.cos(p2) * (s2 * s2)
    return (2 * EARTH_RADIUS_M) * math.asin(math.sqrt(min(a, 1.0)))


@numba.njit(cache=True, inline="always")
def _starts_run(key, day, t, a, b, gap_ns):  # pragma: no cover - compiled
    """Whether fix ``b`` (following fix ``a``) starts a run: new inspector, new local day or a long gap."""
    return key[b] != key[a] or day[b] != day[a] or t[b] - t[a] > gap_ns


@numba.njit(cache=True, nogil=True)
def is_sorted(key: npt.NDArray[np.int64], t: npt.NDArray[np.int64]) -> bool:  # pragma: no cover - compiled
    """Whether (key, t) is already in order, ``NAT`` last within a key (the stable sort keeps it)."""
    for i in range(1, len(key)):
        if key[i] < key[i - 1]:
            return False
        if key[i] == key[i - 1]:
            if t[i - 1] == NAT:
                if t[i] != NAT:
                    return False
            elif t[i] != NAT and t[i] < t[i - 1]:
                return False
    return True


@numba.njit(cache=True, nogil=True)
def flag_kernel(key, t, lat, lon, accuracy, max_accuracy_m, code):  # pragma: no cover - compiled
    """First failing check of each fix: bad time, bad coordinates, duplicate (inspector, time), accuracy.

    ``code`` (int8, filled) gets ``OK`` or the reason code; a duplicate is a fix with the same key and
    time as the fix before it (the first of equal fixes is kept), whatever that fix's own state.
    """
    for i in range(len(t)):
        if t[i] == NAT:
            code[i] = BAD_TIME
        elif not (
            math.isfinite(lat[i]) and math.isfinite(lon[i]) and abs(lat[i]) <= 90 and abs(lon[i]) <= 180
        ):
            code[i] = BAD_XY
        elif i > 0 and key[i] == key[i - 1] and t[i] == t[i - 1]:
            code[i] = DUPLICATE
        elif accuracy[i] > max_accuracy_m:
            code[i] = POOR_ACCURACY
        else:
            code[i] = OK


@numba.njit(cache=True, inline="always")
def _link(key, day, t, lat, lon, idx, q, gap_ns, start, dist, v):  # pragma: no cover - compiled
    """Fill ``start[q]``, ``dist[q]`` (m) and ``v[q]`` (m/s) of fix ``idx[q]`` from fix ``idx[q - 1]``."""
    start[q] = q == 0 or _starts_run(key, day, t, idx[q - 1], idx[q], gap_ns)
    dist[q] = np.nan
    v[q] = np.nan
    if not start[q]:
        a = idx[q - 1]
        b = idx[q]
        d = haversine(lat[a], lon[a], lat[b], lon[b])
        dt = (t[b] - t[a]) / _NS
        dist[q] = d
        if dt > 0:
            v[q] = d / dt
        else:
            v[q] = np.inf if d > 0 else 0.0


@numba.njit(cache=True, nogil=True)
def spike_kernel(key, day, t, lat, lon, code, gap_ns, max_speed, passes):  # pragma: no cover - compiled
    """Mark ``SPEED_JUMP`` in ``code`` on fixes reached and left faster than ``max_speed`` (m/s).

    Each pass looks at the fixes still ``OK``, finds every spike at once (speed in and speed out of the
    fix both above the limit, within one run) and removes them; ``passes`` passes at most. A fix's speed
    depends only on the fix before it, so after a pass only the fixes that lost their predecessor are
    measured again. Returns, for the fixes left valid (shape (m,) each): ``idx`` (positions, ascending),
    ``start`` (bool: starts a run: new inspector, local day or a gap over ``gap_ns``), ``dist`` (m from
    the previous valid fix, NaN at a run start) and ``v`` (m/s, NaN at a run start).
    """
    idx = np.flatnonzero(code == OK)
    m = len(idx)
    start = np.empty(m, dtype=np.bool_)
    dist = np.empty(m, dtype=np.float64)
    v = np.empty(m, dtype=np.float64)
    for q in range(m):
        _link(key, day, t, lat, lon, idx, q, gap_ns, start, dist, v)
    keep = np.ones(m, dtype=np.bool_)
    for _ in range(passes):
        found = 0
        for q in range(m - 1):
            if v[q] > max_speed and v[q + 1] > max_speed:
                keep[q] = False
                code[idx[q]] = SPEED_JUMP
                found += 1
        if found == 0:
            break
        w = 0
        lost_previous = False
        for q in range(m):
            if not keep[q]:
                lost_previous = True
                continue
            idx[w] = idx[q]
            start[w] = start[q]
            dist[w] = dist[q]
            v[w] = v[q]
            if lost_previous:
                _link(key, day, t, lat, lon, idx, w, gap_ns, start, dist, v)
            lost_previous = False
            keep[w] = True
            w += 1
        m = w
    return idx[:m], start[:m], dist[:m], v[:m]  # views: no copy of the usual spike-free day


@numba.njit(cache=True, nogil=True)
def session_kernel(start, v, max_speed, session, speed):  # pragma: no cover - compiled
    """Sessions and speeds of the valid fixes (in order), filling ``session`` and ``speed``.

    A session starts at a new run (``start``) or after a step faster than ``max_speed`` (a teleport that
    spike removal left); its first fix has speed NaN.
    """
    current = -1
    for q in range(len(start)):
        new = start[q] or v[q] > max_speed
        if new:
            current += 1
        session[q] = current
        speed[q] = np.nan if new else v[q]


@numba.njit(cache=True, nogil=True)
def prev_distance_kernel(session, lat, lon, dist):  # pragma: no cover - compiled
    """Metres from the previous fix of the same session (NaN at a session's first fix)."""
    for q in range(len(session)):
        if q > 0 and session[q] == session[q - 1]:
            dist[q] = haversine(lat[q - 1], lon[q - 1], lat[q], lon[q])
        else:
            dist[q] = np.nan


@numba.njit(cache=True, nogil=True)
def stop_xy_kernel(lat, lon, session, x, y):  # pragma: no cover - compiled
    """Local equirectangular metres of each fix about its session's first fix (error << 1 % over km)."""
    first = 0
    for i in range(len(lat)):
        if i == 0 or session[i] != session[i - 1]:
            first = i
        coslat = math.cos(lat[first] * _RAD)
        x[i] = (lon[i] - lon[first]) * _RAD * EARTH_RADIUS_M * coslat
        y[i] = (lat[i] - lat[first]) * _RAD * EARTH_RADIUS_M


@numba.njit(cache=True, nogil=True)
def stop_kernel(x, y, t, session, max_d, min_ns, out):  # pragma: no cover - compiled
    """MovingPandas' TrajectoryStopDetector window rules with a bounding-box diagonal, per session."""
    n = len(t)
    next_id = 0
    i = 0
    while i < n:
        j_end = i
        while j_end < n and session[j_end] == session[i]:
            j_end += 1
        lo = i
        stopped = False
        previously = False
        for k in range(i, j_end):
            if not stopped:
                while k - lo + 1 > 2 and t[k] - t[lo] >= min_ns:
                    lo += 1
            minx = x[lo]
            maxx = x[lo]
            miny = y[lo]
            maxy = y[lo]
            for m in range(lo + 1, k + 1):
                minx = min(minx, x[m])
                maxx = max(maxx, x[m])
                miny = min(miny, y[m])
                maxy = max(maxy, y[m])
            stopped = False
            if k > lo and ((maxx - minx) ** 2 + (maxy - miny) ** 2) ** 0.5 < max_d:
                stopped = True
            if not stopped and previously and k > lo and t[k - 1] - t[lo] >= min_ns:
                out[lo:k] = next_id
                next_id += 1
                lo = k
            previously = stopped
        if stopped and t[j_end - 1] - t[lo] >= min_ns:
            out[lo:j_end] = next_id
            next_id += 1
        i = j_end
    return next_id
