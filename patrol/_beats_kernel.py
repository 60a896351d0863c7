"""Numba kernels of the beat partition (:func:`patrol.deployment.partition_beats`): region growing from the
seeds (:func:`_grow`) and the boundary moves that balance workloads and then compactness while keeping every
beat connected (:func:`_refine`, with :func:`_move`, :func:`_candidates`, :func:`_stays_connected`).

Arrays in, arrays out, on the CSR cell graph :mod:`patrol.deployment` builds; compiled on first use and
cached (``cache=True``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

# --- numba kernels ----------------------------------------------------------------------------------------


@njit(cache=True)
def _grow(indptr, indices, x, y, w, seeds):  # pragma: no cover - compiled
    n, k = w.size, seeds.size
    label = np.full(n, -1, np.int64)
    nxt = np.full(n, -1, np.int64)  # linked member lists: head[b] -> nxt[...] -> -1
    head = seeds.copy()
    load = np.zeros(k)
    sx = np.zeros(k)
    sy = np.zeros(k)
    cnt = np.zeros(k)
    for b in range(k):
        s = seeds[b]
        label[s] = b
        load[b] += w[s]
        sx[b] += x[s]
        sy[b] += y[s]
        cnt[b] += 1
    active = np.ones(k, np.bool_)
    left = n - k
    while left > 0:
        b = -1
        for c in range(k):
            if active[c] and (b < 0 or load[c] < load[b]):
                b = c
        if b < 0:
            break
        cx, cy = sx[b] / cnt[b], sy[b] / cnt[b]
        best, best_d = -1, np.inf
        m = head[b]
        while m >= 0:
            for p in range(indptr[m], indptr[m + 1]):
                v = indices[p]
                if label[v] < 0:
                    d = (x[v] - cx) ** 2 + (y[v] - cy) ** 2
                    if d < best_d:
                        best, best_d = v, d
            m = nxt[m]
        if best < 0:
            active[b] = False
            continue
        label[best] = b
        nxt[best] = head[b]
        head[b] = best
        load[b] += w[best]
        sx[b] += x[best]
        sy[b] += y[best]
        cnt[b] += 1
        left -= 1
    return label


@njit(cache=True)
def _stays_connected(indptr, indices, label, i, queue, seen, stamp):  # pragma: no cover - compiled
    """Whether beat label[i] stays connected without cell i (BFS inside the beat)."""
    a = label[i]
    start, degree = -1, 0
    for p in range(indptr[i], indptr[i + 1]):
        if label[indices[p]] == a:
            degree += 1
            if start < 0:
                start = indices[p]
    if degree <= 1:
        return True  # a leaf (or isolated) cell never disconnects the rest
    size = 0
    for v in range(label.size):  # beat sizes are tracked by the caller; count here for exactness
        if label[v] == a:
            size += 1
    seen[i] = stamp
    seen[start] = stamp
    queue[0] = start
    head, tail = 0, 1
    while head < tail:
        u = queue[head]
        head += 1
        for p in range(indptr[u], indptr[u + 1]):
            v = indices[p]
            if label[v] == a and seen[v] != stamp:
                seen[v] = stamp
                queue[tail] = v
                tail += 1
    return tail == size - 1


@njit(cache=True)
def _move(phase, v, a, b, x, y, w, load, cnt, sx, sy, target, tol):  # pragma: no cover - compiled
    """(allowed, change in moment of inertia) of moving cell v from beat a to beat b."""
    da = (x[v] - sx[a] / cnt[a]) ** 2 + (y[v] - sy[a] / cnt[a]) ** 2
    db = (x[v] - sx[b] / cnt[b]) ** 2 + (y[v] - sy[b] / cnt[b]) ** 2
    inertia = cnt[b] / (cnt[b] + 1) * db - cnt[a] / (cnt[a] - 1) * da
    if phase == 0:  # the sum of squared workload deviations drops iff load_a - load_b > w_v
        return load[a] - load[b] > w[v] + 1e-12, inertia
    within = load[a] - w[v] >= (1 - tol) * target and load[b] + w[v] <= (1 + tol) * target
    return inertia < -1e-9 and within, inertia


@njit(cache=True)
def _candidates(
    phase, indptr, indices, x, y, w, label, load, cnt, sx, sy, target, tol, ci, cb, cs
):  # pragma: no cover
    """Fill (cell, beat, inertia change) of every allowed boundary move; returns how many."""
    m = 0
    for v in range(w.size):
        a = label[v]
        if cnt[a] <= 1:
            continue
        for p in range(indptr[v], indptr[v + 1]):
            b = label[indices[p]]
            if b == a:
                continue
            ok, inertia = _move(phase, v, a, b, x, y, w, load, cnt, sx, sy, target, tol)
            if ok:
                ci[m], cb[m], cs[m] = v, b, inertia
                m += 1
    return m


@njit(cache=True)
def _refine(indptr, indices, x, y, w, label, k, target, tol, max_sweeps):  # pragma: no cover - compiled
    n = w.size
    load, cnt, sx, sy = np.zeros(k), np.zeros(k), np.zeros(k), np.zeros(k)
    for v in range(n):
        load[label[v]] += w[v]
        cnt[label[v]] += 1
        sx[label[v]] += x[v]
        sy[label[v]] += y[v]
    queue, seen = np.empty(n, np.int64), np.zeros(n, np.int64)
    ci, cb, cs = np.empty(n * 6, np.int64), np.empty(n * 6, np.int64), np.empty(n * 6)
    stamp = 0
    for phase in range(2):  # 0: balance (sum of squared deviations), 1: compactness within the tolerance
        for _ in range(max_sweeps):
            m = _candidates(
                phase, indptr, indices, x, y, w, label, load, cnt, sx, sy, target, tol, ci, cb, cs
            )
            moved = 0
            for q in np.argsort(cs[:m]):  # least harm to compactness first
                v, b = ci[q], cb[q]
                a = label[v]
                if a == b or cnt[a] <= 1:
                    continue
                touches = False
                for p in range(indptr[v], indptr[v + 1]):
                    touches = touches or label[indices[p]] == b
                if not touches or not _move(phase, v, a, b, x, y, w, load, cnt, sx, sy, target, tol)[0]:
                    continue
                stamp += 1
                if not _stays_connected(indptr, indices, label, v, queue, seen, stamp):
                    continue
                label[v] = b
                load[a] -= w[v]
                load[b] += w[v]
                cnt[a] -= 1
                cnt[b] += 1
                sx[a] -= x[v]
                sy[a] -= y[v]
                sx[b] += x[v]
                sy[b] += y[v]
                moved += 1
            if moved == 0:
                break
    return label
