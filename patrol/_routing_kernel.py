"""Numba kernels of the orienteering solver: construction, local search and iterated local search.

Private module: :func:`patrol.routing.solve_orienteering` validates the inputs and drives these kernels.
It is one module because numba compiles the kernels together: they call each other in ``nopython``
mode and share the state layout below, and splitting them would only scatter one compiled unit over files.

State layout (``m`` routes, ``cap`` = number of candidates + 2):

- ``rt`` (m, cap) int64: route ``r`` is ``rt[r, :rl[r]]``, always ``start ... end``;
- ``rl`` (m,) int64: number of nodes on each route, depots included;
- ``rc`` (m,) float64: travel cost of each route, always the exact left-to-right sum of ``dm`` along it;
- ``wh`` (n,) int64: route of each node, ``-1`` for an unvisited candidate, ``-2`` for a non-candidate.

``dm`` may be asymmetric: 2-opt uses forward and backward prefix sums so a reversed segment is costed
exactly. Every move is accepted only if it improves the pair (prize, -total cost) lexicographically,
so the local search terminates. Randomness comes from a xorshift64 generator whose state is a
one-element uint64 array, so a run is reproducible for a given seed and number of iterations.
"""

from __future__ import annotations

import numpy as np
from numba import njit

TOL = 1e-10  # cost tolerance: a move must gain more than this; a route may exceed the budget by this
_U13 = np.uint64(13)
_U7 = np.uint64(7)
_U17 = np.uint64(17)
_U11 = np.uint64(11)


# ---------------------------------------------------------------- random numbers
@njit(cache=True)
def _rand(st):  # pragma: no cover - compiled
    x = st[0]
    x ^= x << _U13
    x ^= x >> _U7
    x ^= x << _U17
    st[0] = x
    return x


@njit(cache=True)
def _randint(st, k):  # pragma: no cover - compiled
    """Uniform integer in [0, k)."""
    return np.int64(_rand(st) % np.uint64(k))


@njit(cache=True)
def _randf(st):  # pragma: no cover - compiled
    """Uniform float in [0, 1)."""
    return np.float64(_rand(st) >> _U11) * (1.0 / 9007199254740992.0)


# ---------------------------------------------------------------- elementary route edits
@njit(cache=True)
def _recost(dm, rt, rl, rc, r):  # pragma: no cover - compiled
    c = 0.0
    for i in range(rl[r] - 1):
        c += dm[rt[r, i], rt[r, i + 1]]
    rc[r] = c


@njit(cache=True)
def _best_insert(dm, rt, rl, r, u):  # pragma: no cover - compiled
    """Cheapest position to insert node ``u`` into route ``r``: (added cost, position)."""
    best = np.inf
    pos = -1
    for i in range(rl[r] - 1):
        a = rt[r, i]
        b = rt[r, i + 1]
        d = dm[a, u] + dm[u, b] - dm[a, b]
        if d < best:
            best = d
            pos = i + 1
    return best, pos


@njit(cache=True)
def _insert(dm, rt, rl, rc, wh, r, pos, u):  # pragma: no cover - compiled
    for i in range(rl[r], pos, -1):
        rt[r, i] = rt[r, i - 1]
    rt[r, pos] = u
    rl[r] += 1
    wh[u] = r
    _recost(dm, rt, rl, rc, r)


@njit(cache=True)
def _remove(dm, rt, rl, rc, wh, r, pos):  # pragma: no cover - compiled
    u = rt[r, pos]
    for i in range(pos, rl[r] - 1):
        rt[r, i] = rt[r, i + 1]
    rl[r] -= 1
    wh[u] = -1
    _recost(dm, rt, rl, rc, r)


@njit(cache=True)
def _totals(pr, rt, rl, rc):  # pragma: no cover - compiled
    prize = 0.0
    cost = 0.0
    for r in range(rl.shape[0]):
        cost += rc[r]
        for i in range(1, rl[r] - 1):
            prize += pr[rt[r, i]]
    return prize, cost


# ---------------------------------------------------------------- insertion (construction and repair)
@njit(cache=True)
def _fill(dm, pr, budget, rt, rl, rc, wh, cand, tabu, use_tabu, noise, st):  # pragma: no cover - compiled
    """Greedy insertion by prize / added cost (optionally randomised) until nothing fits; returns count."""
    m = rl.shape[0]
    tiny = 1e-9 * (abs(budget) + 1.0)
    count = 0
    while True:
        best_score = -np.inf
        best_u = -1
        best_r = -1
        best_pos = -1
        for k in range(cand.shape[0]):
            u = cand[k]
            if wh[u] != -1 or (use_tabu and tabu[u]):
                continue
            for r in range(m):
                d, pos = _best_insert(dm, rt, rl, r, u)
                if rc[r] + d > budget + TOL:
                    continue
                score = pr[u] / max(d, tiny)
                if noise > 0.0:
                    score *= 1.0 + noise * _randf(st)
                if score > best_score:
                    best_score = score
                    best_u = u
                    best_r = r
                    best_pos = pos
        if best_u < 0:
            return count
        _insert(dm, rt, rl, rc, wh, best_r, best_pos, best_u)
        count += 1


# ---------------------------------------------------------------- intra-route: 2-opt and or-opt
@njit(cache=True)
def _prefix(dm, rt, rl, r, fw, bw):  # pragma: no cover - compiled
    fw[0] = 0.0
    bw[0] = 0.0
    for t in range(rl[r] - 1):
        fw[t + 1] = fw[t] + dm[rt[r, t], rt[r, t + 1]]
        bw[t + 1] = bw[t] + dm[rt[r, t + 1], rt[r, t]]


@njit(cache=True)
def _two_opt(dm, rt, rl, rc, r, fw, bw):  # pragma: no cover - compiled
    """Reverse segments of route ``r`` while that shortens it (first improvement); True if it changed."""
    n = rl[r]
    changed = False
    _prefix(dm, rt, rl, r, fw, bw)
    i = 1
    while i < n - 2:
        a = rt[r, i - 1]
        ri = rt[r, i]
        moved = False
        for j in range(i + 1, n - 1):
            rj = rt[r, j]
            b = rt[r, j + 1]
            delta = dm[a, rj] + dm[ri, b] - dm[a, ri] - dm[rj, b] + (bw[j] - bw[i]) - (fw[j] - fw[i])
            if delta < -TOL:
                lo = i
                hi = j
                while lo < hi:
                    t = rt[r, lo]
                    rt[r, lo] = rt[r, hi]
                    rt[r, hi] = t
                    lo += 1
                    hi -= 1
                _prefix(dm, rt, rl, r, fw, bw)
                changed = True
                moved = True
                break
        if not moved:
            i += 1
    if changed:
        _recost(dm, rt, rl, rc, r)
    return changed


@njit(cache=True)
def _or_opt(dm, rt, rl, rc, r, buf):  # pragma: no cover - compiled
    """Move segments of 1-3 consecutive stops elsewhere in route ``r`` while that shortens it."""
    changed = False
    improved = True
    while improved:
        improved = False
        n = rl[r]
        for k in range(1, 4):
            for i in range(1, n - k):
                p = rt[r, i - 1]
                s0 = rt[r, i]
                s1 = rt[r, i + k - 1]
                q = rt[r, i + k]
                gain = dm[p, s0] + dm[s1, q] - dm[p, q]
                for j in range(n - 1):
                    if i - 1 <= j <= i + k - 1:
                        continue
                    a = rt[r, j]
                    b = rt[r, j + 1]
                    if dm[a, s0] + dm[s1, b] - dm[a, b] - gain < -TOL:
                        # rebuild: route without the segment, with it inserted after node position j
                        t = 0
                        for x in range(n):
                            if i <= x < i + k:
                                continue
                            buf[t] = rt[r, x]
                            t += 1
                            if x == j:
                                for y in range(i, i + k):
                                    buf[t] = rt[r, y]
                                    t += 1
                        for x in range(n):
                            rt[r, x] = buf[x]
                        improved = True
                        changed = True
                        break  # next i: its neighbours are re-read from the updated route
    if changed:
        _recost(dm, rt, rl, rc, r)
    return changed


@njit(cache=True)
def _opt_route(dm, rt, rl, rc, r, fw, bw, buf):  # pragma: no cover - compiled
    changed = False
    while True:
        a = _two_opt(dm, rt, rl, rc, r, fw, bw)
        b = _or_opt(dm, rt, rl, rc, r, buf)
        if not (a or b):
            return changed
        changed = True


# ---------------------------------------------------------------- inter-route moves (shorten total cost)
@njit(cache=True)
def _relocate(dm, budget, rt, rl, rc, wh):  # pragma: no cover - compiled
    m = rl.shape[0]
    for a in range(m):
        for i in range(1, rl[a] - 1):
            v = rt[a, i]
            gain = dm[rt[a, i - 1], v] + dm[v, rt[a, i + 1]] - dm[rt[a, i - 1], rt[a, i + 1]]
            for b in range(m):
                if b == a:
                    continue
                d, pos = _best_insert(dm, rt, rl, b, v)
                if rc[b] + d <= budget + TOL and d - gain < -TOL:
                    _remove(dm, rt, rl, rc, wh, a, i)
                    _insert(dm, rt, rl, rc, wh, b, pos, v)
                    return True
    return False


@njit(cache=True)
def _swap(dm, budget, rt, rl, rc, wh):  # pragma: no cover - compiled
    m = rl.shape[0]
    for a in range(m):
        for b in range(a + 1, m):
            for i in range(1, rl[a] - 1):
                pa = rt[a, i - 1]
                v = rt[a, i]
                qa = rt[a, i + 1]
                base_a = dm[pa, v] + dm[v, qa]
                for j in range(1, rl[b] - 1):
                    pb = rt[b, j - 1]
                    w = rt[b, j]
                    qb = rt[b, j + 1]
                    da = dm[pa, w] + dm[w, qa] - base_a
                    db = dm[pb, v] + dm[v, qb] - dm[pb, w] - dm[w, qb]
                    if da + db < -TOL and rc[a] + da <= budget + TOL and rc[b] + db <= budget + TOL:
                        rt[a, i] = w
                        rt[b, j] = v
                        wh[w] = a
                        wh[v] = b
                        _recost(dm, rt, rl, rc, a)
                        _recost(dm, rt, rl, rc, b)
                        return True
    return False


@njit(cache=True)
def _two_opt_star(dm, budget, rt, rl, rc, wh, fw, bw, fw2, bw2, buf):  # noqa: C901  # pragma: no cover - compiled
    """Exchange the tails of two routes (all routes share start and end) while that shortens the total."""
    m = rl.shape[0]
    for a in range(m):
        _prefix(dm, rt, rl, a, fw, bw)
        for b in range(a + 1, m):
            _prefix(dm, rt, rl, b, fw2, bw2)
            na = rl[a]
            nb = rl[b]
            for i in range(na - 1):
                x = rt[a, i]
                y = rt[a, i + 1]
                for j in range(nb - 1):
                    if i == na - 2 and j == nb - 2:
                        continue
                    if i == 0 and j == 0:
                        continue
                    p = rt[b, j]
                    q = rt[b, j + 1]
                    ca = fw[i] + dm[x, q] + (rc[b] - fw2[j + 1])
                    cb = fw2[j] + dm[p, y] + (rc[a] - fw[i + 1])
                    if ca + cb - rc[a] - rc[b] < -TOL and ca <= budget + TOL and cb <= budget + TOL:
                        t = 0
                        for s in range(i + 1):
                            buf[t] = rt[a, s]
                            t += 1
                        for s in range(j + 1, nb):
                            buf[t] = rt[b, s]
                            t += 1
                        ta = t
                        for s in range(j + 1):
                            buf[t] = rt[b, s]
                            t += 1
                        for s in range(i + 1, na):
                            buf[t] = rt[a, s]
                            t += 1
                        for s in range(ta):
                            rt[a, s] = buf[s]
                        for s in range(ta, t):
                            rt[b, s - ta] = buf[s]
                        rl[a] = ta
                        rl[b] = t - ta
                        for s in range(1, ta - 1):  # depots keep wh = -2
                            wh[rt[a, s]] = a
                        for s in range(1, t - ta - 1):
                            wh[rt[b, s]] = b
                        _recost(dm, rt, rl, rc, a)
                        _recost(dm, rt, rl, rc, b)
                        return True
    return False


# ---------------------------------------------------------------- replace a visited stop by a better one
@njit(cache=True)
def _replace(dm, pr, budget, rt, rl, rc, wh, cand, top_d, top_p):  # noqa: C901  # pragma: no cover - compiled
    """Best move ``visited v -> unvisited u`` in the same route that gains prize, or equal prize and cost."""
    m = rl.shape[0]
    best_gain = 0.0
    best_cost_gain = 0.0
    best_u = -1
    best_r = -1
    best_i = -1
    for k in range(cand.shape[0]):
        u = cand[k]
        if wh[u] != -1:
            continue
        for r in range(m):
            n = rl[r]
            # three cheapest insertion edges of u in route r (edge index e = position of its head)
            for t in range(3):
                top_d[t] = np.inf
                top_p[t] = -1
            for e in range(1, n):
                a = rt[r, e - 1]
                b = rt[r, e]
                d = dm[a, u] + dm[u, b] - dm[a, b]
                if d < top_d[2]:
                    if d < top_d[1]:
                        top_d[2] = top_d[1]
                        top_p[2] = top_p[1]
                        if d < top_d[0]:
                            top_d[1] = top_d[0]
                            top_p[1] = top_p[0]
                            top_d[0] = d
                            top_p[0] = e
                        else:
                            top_d[1] = d
                            top_p[1] = e
                    else:
                        top_d[2] = d
                        top_p[2] = e
            for i in range(1, n - 1):
                v = rt[r, i]
                gain = pr[u] - pr[v]
                if gain < best_gain - 1e-12 or gain < -1e-12:
                    continue
                p = rt[r, i - 1]
                q = rt[r, i + 1]
                ins = dm[p, u] + dm[u, q] - dm[p, q]
                for t in range(3):
                    if top_p[t] >= 0 and top_p[t] != i and top_p[t] != i + 1:
                        if top_d[t] < ins:
                            ins = top_d[t]
                        break
                new_c = rc[r] - (dm[p, v] + dm[v, q] - dm[p, q]) + ins
                if new_c > budget + TOL:
                    continue
                cost_gain = rc[r] - new_c
                if gain > 1e-12:
                    better = gain > best_gain + 1e-12 or (
                        abs(gain - best_gain) <= 1e-12 and cost_gain > best_cost_gain
                    )
                else:
                    better = best_gain <= 1e-12 and cost_gain > TOL and cost_gain > best_cost_gain
                if better:
                    best_gain = max(gain, 0.0)
                    best_cost_gain = cost_gain
                    best_u = u
                    best_r = r
                    best_i = i
    if best_u < 0:
        return False
    _remove(dm, rt, rl, rc, wh, best_r, best_i)
    d, pos = _best_insert(dm, rt, rl, best_r, best_u)
    _insert(dm, rt, rl, rc, wh, best_r, pos, best_u)
    return True


# ---------------------------------------------------------------- local search
@njit(cache=True)
def _improve(dm, pr, budget, rt, rl, rc, wh, cand, tabu, use_tabu, work_f, work_i):  # pragma: no cover
    """Local search to a local optimum of (prize, -total cost)."""
    m = rl.shape[0]
    cap = rt.shape[1]
    fw = work_f[0]
    bw = work_f[1]
    fw2 = work_f[2]
    bw2 = work_f[3]
    top_d = work_f[4]
    buf = work_i[0]
    top_p = work_i[1]
    opt_c = work_f[5]  # cost and size of each route when it was last optimised: skip unchanged routes
    opt_n = work_i[2]
    st = np.zeros(1, dtype=np.uint64)  # unused: no noise in the local search
    _ = cap
    while True:
        _fill(dm, pr, budget, rt, rl, rc, wh, cand, tabu, use_tabu, 0.0, st)
        for r in range(m):
            if opt_n[r] == rl[r] and opt_c[r] == rc[r]:
                continue
            _opt_route(dm, rt, rl, rc, r, fw, bw, buf)
            opt_n[r] = rl[r]
            opt_c[r] = rc[r]
        if _fill(dm, pr, budget, rt, rl, rc, wh, cand, tabu, use_tabu, 0.0, st) > 0:
            continue
        if m > 1:
            if _relocate(dm, budget, rt, rl, rc, wh):
                continue
            if _swap(dm, budget, rt, rl, rc, wh):
                continue
            if _two_opt_star(dm, budget, rt, rl, rc, wh, fw, bw, fw2, bw2, buf):
                continue
        if _replace(dm, pr, budget, rt, rl, rc, wh, cand, top_d, top_p):
            continue
        return


# ---------------------------------------------------------------- perturbation
@njit(cache=True)
def _perturb(dm, rt, rl, rc, wh, tabu, strength, st, work):  # noqa: C901  # pragma: no cover - compiled
    """Remove about ``strength`` visited stops (random, a segment, a spatial cluster or a whole route)."""
    m = rl.shape[0]
    tabu[:] = False
    n_vis = 0
    for r in range(m):
        n_vis += rl[r] - 2
    if n_vis == 0:
        return
    kind = _randint(st, 10)
    if kind < 3:  # random stops
        for _ in range(min(strength, n_vis)):
            r = _randint(st, m)
            tries = 0
            while rl[r] <= 2 and tries < 4 * m:
                r = _randint(st, m)
                tries += 1
            if rl[r] <= 2:
                break
            pos = 1 + _randint(st, rl[r] - 2)
            tabu[rt[r, pos]] = True
            _remove(dm, rt, rl, rc, wh, r, pos)
    elif kind < 6:  # a segment of one route
        r = _randint(st, m)
        while rl[r] <= 2:
            r = _randint(st, m)
        k = min(strength, rl[r] - 2)
        pos = 1 + _randint(st, rl[r] - 1 - k)
        for _ in range(k):
            tabu[rt[r, pos]] = True
            _remove(dm, rt, rl, rc, wh, r, pos)
    elif kind < 9 or m == 1:  # a spatial cluster around a random visited stop
        t = _randint(st, n_vis)
        c = -1
        for r in range(m):
            if t < rl[r] - 2:
                c = rt[r, 1 + t]
                break
            t -= rl[r] - 2
        k = min(strength, n_vis)
        # the k visited stops nearest to c (c itself included), by round-trip cost
        nodes = work
        cnt = 0
        for r in range(m):
            for i in range(1, rl[r] - 1):
                nodes[cnt] = rt[r, i]
                cnt += 1
        for s in range(k):
            bi = s
            bd = dm[c, nodes[s]] + dm[nodes[s], c]
            for x in range(s + 1, cnt):
                dx = dm[c, nodes[x]] + dm[nodes[x], c]
                if dx < bd:
                    bd = dx
                    bi = x
            tmp = nodes[s]
            nodes[s] = nodes[bi]
            nodes[bi] = tmp
            tabu[nodes[s]] = True
        for s in range(k):
            v = nodes[s]
            r = wh[v]
            for i in range(1, rl[r] - 1):
                if rt[r, i] == v:
                    _remove(dm, rt, rl, rc, wh, r, i)
                    break
    else:  # empty a whole route
        r = _randint(st, m)
        while rl[r] <= 2:
            r = _randint(st, m)
        while rl[r] > 2:
            tabu[rt[r, 1]] = True
            _remove(dm, rt, rl, rc, wh, r, 1)


# ---------------------------------------------------------------- driver
@njit(cache=True)
def construct(dm, pr, budget, rt, rl, rc, wh, cand, tabu, work_f, work_i):  # pragma: no cover - compiled
    """Greedy insertion then local search, in place on an empty state."""
    _improve(dm, pr, budget, rt, rl, rc, wh, cand, tabu, False, work_f, work_i)


@njit(cache=True)
def _copy(rt_s, rl_s, rc_s, wh_s, rt_d, rl_d, rc_d, wh_d):  # pragma: no cover - compiled
    for r in range(rl_s.shape[0]):
        rl_d[r] = rl_s[r]
        rc_d[r] = rc_s[r]
        for i in range(rl_s[r]):
            rt_d[r, i] = rt_s[r, i]
    wh_d[:] = wh_s[:]


@njit(cache=True)
def ils(
    dm, pr, budget, cand, upper, n_iter, st, cur, saved, best, ctr, tabu, work_f, work_i, params
):  # pragma: no cover - compiled
    """Run ``n_iter`` iterations of iterated local search; returns True once ``best`` reaches ``upper``.

    ``params`` (float64): [acceptance deviation (fraction of the best prize), maximum perturbation
    strength, stagnating iterations per strength step, stagnating iterations before a restart from the
    best, noise of the randomised repair].

    ``cur``, ``saved`` and ``best`` are (rt, rl, rc, wh) tuples updated in place; ``ctr`` (int64 array) holds
    [iterations done, iterations since the last improvement of best].
    """
    rt, rl, rc, wh = cur
    rt_s, rl_s, rc_s, wh_s = saved
    rt_b, rl_b, rc_b, wh_b = best
    bp, bc = _totals(pr, rt_b, rl_b, rc_b)
    sp, sc = _totals(pr, rt_s, rl_s, rc_s)
    n_cand = cand.shape[0]
    accept_dev = params[0]
    max_k = max(2, min(n_cand // 3 + 1, int(params[1])))
    stale_step = int(params[2])
    reset = int(params[3])
    noise = params[4]
    for _ in range(n_iter):
        if bp >= upper - 1e-9:
            return True
        ctr[0] += 1
        stale = ctr[1]
        strength = 1 + (stale // stale_step) % max_k + _randint(st, 3)
        _perturb(dm, rt, rl, rc, wh, tabu, strength, st, work_i[0])
        _fill(dm, pr, budget, rt, rl, rc, wh, cand, tabu, True, noise, st)
        _improve(dm, pr, budget, rt, rl, rc, wh, cand, tabu, False, work_f, work_i)
        p, c = _totals(pr, rt, rl, rc)
        if p > bp + 1e-9 or (p >= bp - 1e-9 and c < bc - TOL):
            if p > bp + 1e-9:
                ctr[1] = 0
            else:
                ctr[1] += 1
            bp = p
            bc = c
            _copy(rt, rl, rc, wh, rt_b, rl_b, rc_b, wh_b)
        else:
            ctr[1] += 1
        # record-to-record acceptance: keep the new current if within accept_dev of the best prize
        if p >= sp - 1e-9 or p >= bp * (1.0 - accept_dev) - 1e-9:
            sp = p
            sc = c
            _copy(rt, rl, rc, wh, rt_s, rl_s, rc_s, wh_s)
        else:
            _copy(rt_s, rl_s, rc_s, wh_s, rt, rl, rc, wh)
        if ctr[1] > 0 and ctr[1] % reset == 0:  # long stagnation: restart from the best
            _copy(rt_b, rl_b, rc_b, wh_b, rt, rl, rc, wh)
            _copy(rt_b, rl_b, rc_b, wh_b, rt_s, rl_s, rc_s, wh_s)
            sp = bp
            sc = bc
    _ = sc
    return bp >= upper - 1e-9
