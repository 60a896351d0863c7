"""Numba kernels for H3 ``gridDisk`` on the interior of icosahedron faces, checked cell by cell.

A cell's neighbours within ``k`` steps are the cells at the lattice positions ``ijk + offset`` of the
cell's own face (every offset with ``ijkDistance <= k``). A position is accepted only if it round-trips:
the index ``_faceIjkToH3`` gives for it has, as its own FaceIJK address (``_h3ToFaceIjk``), the same face
and the same coordinates, and is no pentagon. An origin whose every position round-trips (and which is
no pentagon itself) is *handled*: its neighbours provably lie on its face lattice at those offsets, which
is what H3's grid distance measures there (also inside a pentagon's base cell, away from the pentagon
itself: the check fails wherever the deleted k-axis sub-sequence distorts the lattice). Pentagons, and
origins with a neighbour across a face edge (overage), in a distorted sector or on a pentagon, are not
handled and the caller asks the h3 library for them: in most cities none or a handful of cells; in
Nantong, which lies in pentagon base cell 24, 0.7 % of a 100k-cell area at k = 1 (734 cells, ~3 ms).

Two kernels apply that rule:

* :func:`grid_disk_kernel` checks every position of every origin (two index conversions per position).
* :func:`disk_neighbours` (used by ``grid.cells.grid_disk`` and the spatial weights) converts each cell of
  the *universe* (the distinct origins) once: a universe cell ``c`` whose FaceIJK address ``a`` satisfies
  ``_faceIjkToH3(a) == c`` is filed under the key ``(res, face, a)``. A neighbour position whose key is
  filed is therefore that cell and round-trips without any conversion; only positions outside the
  universe (the rim of a contiguous area) are converted and checked as above. The keys are sorted once,
  and because the origins are swept in key order, the positions of each lattice row ``I + a`` are found
  by a forward-only pointer per row (amortised O(1) per position). Each row is then sorted in place
  into CSR arrays. For big universes the per-cell steps run multi-threaded (numba ``prange`` over
  cells and over blocks of the sweep); see :func:`use_threads`.

Both give identical ``handled`` flags and neighbours (tests/grid). Private module: the public,
validated entry point is :func:`grid.cells.grid_disk`.

Kept rather than replaced by h3ronpy (issue 18 item 6, rule: replace where the end-to-end loss is under
15 %). ``benchmarks/bench_h3ronpy.py``, 2026-12-07, 2 cores at load 6-12 (other jobs), h3ronpy 0.22.0,
the two arms interleaved in one process, best of 9: Gi* on 100k cells end to end (``gi_star(y,
disk_weights(cells, 1))``) takes 1.22-1.25x the CPU time and 1.23-1.50x the wall time with
``h3ronpy.grid_disk`` behind an exact adapter (CSR rows sorted, restricted to universe positions);
``grid_disk_csr`` k = 1 alone 1.37-1.39x CPU (1.37-1.68x wall). The raw ``h3ronpy.grid_disk`` call is ~25 %
faster than this whole kernel, but turning its unordered lists into sorted universe positions (a hash lookup
of 700k ids, a row sort) costs more than that. Only the pairs frame (``grid_disk``, no positions) is a
little faster with h3ronpy (0.88x CPU, 0.84-1.00x wall): not enough to carry a second implementation and a
dependency.

Derived from Uber's H3 (https://github.com/uber/h3, Apache-2.0, Copyright Uber Technologies, Inc.):
see NOTICE and LICENSES/Apache-2.0.txt.
"""

from __future__ import annotations

import h3.api.basic_int as h3i
import numba
import numpy as np
import numpy.typing as npt
from numba import njit, prange

from grid._h3_geometry import _h3_to_face_ijk, _overage_tail
from grid._h3_kernel import (
    _BC_IS_PENT,
    _face_ijk_to_h3,
    _ijk_normalize,
    _leading_nonzero_digit,
    _rotate_cw,
)
from grid._h3_tables import BASE_CELL_HOME_FIJK

Int64Array = npt.NDArray[np.int64]

# Key layout (int64, bit 63 clear): (res * 20 + face) << 54 | (I + BIAS) << 27 | (J + BIAS), with the IJ
# coordinates I = i - k, J = j - k. |I|, |J| < 2**24 at every resolution (face coordinates are below
# 2 * 7**8), so a bias of 2**26 leaves room for disk offsets up to 2**25 steps.
_FIELD_BITS = 27
_FIELD_MASK = (1 << _FIELD_BITS) - 1
_BIAS = 1 << 26
_NO_KEY = -1
#: Table filler for "no neighbour here"; above every cell and position, so rows sort it last.
_PAD = np.iinfo(np.int64).max
#: Origins per block of the sweep (small enough to balance 2+ threads, large enough to amortise the
#: per-block binary searches).
_BLOCK = 2048
#: Smallest universe for which the kernels run multi-threaded (see :func:`use_threads`). On the 2-core
#: development machine, with the other core busy, 2 threads were *slower* than 1 at 100k cells (80 vs
#: 63 ms end to end), and 1 thread already takes ~30 ms there; so only much bigger universes use threads.
PARALLEL_MIN_CELLS = 200_000


def disk_offsets(k: int) -> npt.NDArray[np.int64]:
    """The normalised ijk offsets within ``k`` steps, self first, shape (3k(k+1)+1, 3).

    Enumerated in IJ coordinates (``k = 0`` axes), where the grid distance of (a, b) is
    ``max(|a|, |b|, |a - b|)``; normalised to ijk+ form as H3 stores coordinates.
    """
    span = np.arange(-k, k + 1, dtype=np.int64)
    a, b = (g.ravel() for g in np.meshgrid(span, span, indexing="ij"))
    keep = np.maximum(np.maximum(np.abs(a), np.abs(b)), np.abs(a - b)) <= k
    a, b = a[keep], b[keep]
    order = np.lexsort((b, a, np.maximum(np.maximum(np.abs(a), np.abs(b)), np.abs(a - b))))
    a, b = a[order], b[order]
    zero = np.zeros_like(a)
    # ijk+ normalisation of (a, b, 0): shift so every component is >= 0 and the smallest is 0
    low = np.minimum(np.minimum(a, b), zero)
    return np.stack([a - low, b - low, zero - low], axis=1)


@njit(cache=True, inline="always")
def _is_pentagon(h: int, res: int) -> bool:
    return _BC_IS_PENT[(h >> 45) & 127] == 1 and _leading_nonzero_digit(h, res) == 0


@njit(cache=True)
def _h3_to_face_ij(h: int) -> tuple[int, int, int, int]:
    """``_h3ToFaceIjk`` as (face, I, J, res) with IJ = (i - k, j - k): equal to ``_h3_to_face_ijk``.

    The digit walk runs in IJ coordinates, where ``_downAp7`` is linear ((2I + J, 3J - I), clockwise
    (3I - J, I + 2J)) and no ijk normalisation is needed per level; that walk is most of the cost of
    ``_h3_to_face_ijk``; the overage tail (``_overage_tail``) is shared. Tests: tests/grid/test_h3_disk.py.
    """
    res = (h >> 52) & 15
    base_cell = (h >> 45) & 127
    is_pent = _BC_IS_PENT[base_cell] == 1
    if is_pent and _leading_nonzero_digit(h, res) == 5:
        h = _rotate_cw(h, res)
    face = BASE_CELL_HOME_FIJK[base_cell, 0]
    i = BASE_CELL_HOME_FIJK[base_cell, 1]
    j = BASE_CELL_HOME_FIJK[base_cell, 2]
    k = BASE_CELL_HOME_FIJK[base_cell, 3]
    possible_overage = is_pent or not (res == 0 or (i == 0 and j == 0 and k == 0))
    ci = i - k
    cj = j - k
    for r in range(1, res + 1):
        if r % 2 == 0:
            ci, cj = 3 * ci - cj, ci + 2 * cj
        else:
            ci, cj = 2 * ci + cj, 3 * cj - ci
        digit = (h >> ((15 - r) * 3)) & 7  # bits (i, j, k) of the unit vector; valid cells have no 7 here
        ci += ((digit >> 2) & 1) - (digit & 1)
        cj += ((digit >> 1) & 1) - (digit & 1)
    if not possible_overage:
        return face, ci, cj, res
    i, j, k = _ijk_normalize(ci, cj, 0)
    face, i, j, k = _overage_tail(h, face, i, j, k, res, is_pent)
    return face, i - k, j - k, res


@njit(cache=True)
def _verified_neighbour(face: int, i: int, j: int, k: int, res: int) -> int:
    """The cell at FaceIJK (face, ijk) if it round-trips to exactly that address and is no pentagon, else 0.

    ``ijk`` need not be normalised (both conversions work on the IJ coordinates ``i - k, j - k``).
    """
    nh = _face_ijk_to_h3(face, i, j, k, res)
    if nh == 0 or _is_pentagon(nh, res):
        return 0
    f2, ci2, cj2, _ = _h3_to_face_ij(nh)
    if f2 != face or ci2 != i - k or cj2 != j - k:
        return 0
    return nh


@njit(cache=True, nogil=True)
def grid_disk_kernel(
    cells: npt.NDArray[np.int64],
    offsets: npt.NDArray[np.int64],
    out: npt.NDArray[np.int64],
    handled: npt.NDArray[np.bool_],
) -> None:
    """Fill ``out[r, m]``, the neighbour of ``cells[r]`` at ``offsets[m]``; ``handled[r]``: row is valid.

    The plain per-position check (two conversions per neighbour); :func:`disk_neighbours` is the fast one.
    """
    m_count = offsets.shape[0]
    for r in range(cells.shape[0]):
        h = cells[r]
        res = (h >> 52) & 15
        handled[r] = False
        if _is_pentagon(h, res):
            continue
        face, i, j, k = _h3_to_face_ijk(h)
        ok = True
        for m in range(m_count):
            ni, nj, nk = _ijk_normalize(i + offsets[m, 0], j + offsets[m, 1], k + offsets[m, 2])
            nh = _verified_neighbour(face, ni, nj, nk, res)
            if nh == 0:
                ok = False
                break
            out[r, m] = nh
        handled[r] = ok


@njit(cache=True, inline="always")
def _pack(group: int, ci: int, cj: int) -> int:
    return (group << (2 * _FIELD_BITS)) | ((ci + _BIAS) << _FIELD_BITS) | (cj + _BIAS)


@njit(cache=True)
def _face_key(h: int) -> int:
    """The lattice key of cell ``h``; -1 for a pentagon or a cell that does not round-trip."""
    res = (h >> 52) & 15
    if _is_pentagon(h, res):
        return _NO_KEY
    face, ci, cj, _ = _h3_to_face_ij(h)
    if _face_ijk_to_h3(face, ci, cj, 0, res) != h:  # never seen; such a cell just is not filed
        return _NO_KEY
    return _pack(res * 20 + face, ci, cj)


@njit(cache=True, nogil=True)
def face_keys_kernel(cells: npt.NDArray[np.int64], keys: npt.NDArray[np.int64]) -> None:
    """``keys[r]``: the lattice key of ``cells[r]``; -1 for a pentagon or a cell that does not round-trip."""
    for r in range(cells.shape[0]):
        keys[r] = _face_key(cells[r])


@njit(cache=True, nogil=True, parallel=True)
def _face_keys_parallel(cells: npt.NDArray[np.int64], keys: npt.NDArray[np.int64]) -> None:
    for r in prange(cells.shape[0]):
        keys[r] = _face_key(cells[r])


@njit(cache=True, inline="always")
def _lower_bound(sorted_keys: npt.NDArray[np.int64], target: int) -> int:
    lo, hi = 0, sorted_keys.shape[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        if sorted_keys[mid] < target:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, inline="always")
def _sort_row(row: npt.NDArray[np.int64]) -> None:
    """Sort a short row in place: a 16-comparator network for the 7 cells of k = 1, else insertion sort."""
    if row.shape[0] == 7:
        v0, v1, v2, v3, v4, v5, v6 = row[0], row[1], row[2], row[3], row[4], row[5], row[6]
        v0, v6 = min(v0, v6), max(v0, v6)
        v2, v3 = min(v2, v3), max(v2, v3)
        v4, v5 = min(v4, v5), max(v4, v5)
        v0, v2 = min(v0, v2), max(v0, v2)
        v1, v4 = min(v1, v4), max(v1, v4)
        v3, v6 = min(v3, v6), max(v3, v6)
        v0, v1 = min(v0, v1), max(v0, v1)
        v2, v5 = min(v2, v5), max(v2, v5)
        v3, v4 = min(v3, v4), max(v3, v4)
        v1, v2 = min(v1, v2), max(v1, v2)
        v4, v6 = min(v4, v6), max(v4, v6)
        v2, v3 = min(v2, v3), max(v2, v3)
        v4, v5 = min(v4, v5), max(v4, v5)
        v1, v2 = min(v1, v2), max(v1, v2)
        v3, v4 = min(v3, v4), max(v3, v4)
        v5, v6 = min(v5, v6), max(v5, v6)
        row[0], row[1], row[2], row[3], row[4], row[5], row[6] = v0, v1, v2, v3, v4, v5, v6
        return
    for p in range(1, row.shape[0]):
        v = row[p]
        q = p - 1
        while q >= 0 and row[q] > v:
            row[q + 1] = row[q]
            q -= 1
        row[q + 1] = v


@njit(cache=True)
def _sweep_block(
    sorted_keys: npt.NDArray[np.int64],
    sorted_values: npt.NDArray[np.int64],
    k: int,
    keep_outside: bool,
    s0: int,
    s1: int,
    order: npt.NDArray[np.int64],
    table: npt.NDArray[np.int64],
    handled: npt.NDArray[np.bool_],
) -> None:
    """The origins ``order[s0:s1]`` (keyed, in key order); see :func:`disk_sweep_kernel`."""
    n = sorted_keys.shape[0]
    ptr = np.empty(2 * k + 1, dtype=np.int64)  # per lattice row I + a: first key not below its targets
    key0 = sorted_keys[s0]
    group0 = key0 >> (2 * _FIELD_BITS)
    ci0 = ((key0 >> _FIELD_BITS) & _FIELD_MASK) - _BIAS
    cj0 = (key0 & _FIELD_MASK) - _BIAS
    for a in range(-k, k + 1):
        ptr[a + k] = _lower_bound(sorted_keys, _pack(group0, ci0 + a, cj0 + max(-k, a - k)))
    for s in range(s0, s1):
        key = sorted_keys[s]
        row = table[order[s]]
        group = key >> (2 * _FIELD_BITS)
        ci = ((key >> _FIELD_BITS) & _FIELD_MASK) - _BIAS
        cj = (key & _FIELD_MASK) - _BIAS
        res = group // 20
        face = group - res * 20
        col = 0
        ok = True
        for a in range(-k, k + 1):
            lo_b = max(-k, a - k)
            target = _pack(group, ci + a, cj + lo_b)
            q = ptr[a + k]
            while q < n and sorted_keys[q] < target:  # targets only grow along the sweep
                q += 1
            ptr[a + k] = q
            for bb in range(lo_b, min(k, a + k) + 1):
                if q < n and sorted_keys[q] == target:
                    row[col] = sorted_values[q]
                    q += 1
                else:  # not in the universe: convert and check this one position
                    nh = _verified_neighbour(face, ci + a, cj + bb, 0, res)
                    if nh == 0:
                        ok = False
                        break
                    row[col] = nh if keep_outside else _PAD
                target += 1
                col += 1
            if not ok:
                break
        if ok:
            _sort_row(row)
        handled[order[s]] = ok


@njit(cache=True, nogil=True)
def disk_sweep_kernel(
    sorted_keys: npt.NDArray[np.int64],
    sorted_values: npt.NDArray[np.int64],
    k: int,
    keep_outside: bool,
    order: npt.NDArray[np.int64],
    table: npt.NDArray[np.int64],
    handled: npt.NDArray[np.bool_],
) -> None:
    """The k-disk of every keyed origin, by a forward sweep over the sorted keys, into ``table``.

    ``sorted_keys = keys[order]`` (ascending, -1 first), ``order`` a permutation of the universe, and
    ``sorted_values[s]`` what to write for the universe cell ``order[s]`` when it is a neighbour (the cell,
    or its universe position). Row ``order[s]`` of ``table`` (shape (n, 3k(k+1)+1)) gets, for a handled
    origin, its neighbours' values ascending; a neighbour outside the universe gives its cell when
    ``keep_outside`` and ``_PAD`` (sorted last) otherwise. ``handled`` must start False; rows of unhandled
    origins are undefined.
    """
    n = sorted_keys.shape[0]
    first = _lower_bound(sorted_keys, 0)
    for b in range((n - first + _BLOCK - 1) // _BLOCK):
        s0 = first + b * _BLOCK
        s1 = min(s0 + _BLOCK, n)
        _sweep_block(sorted_keys, sorted_values, k, keep_outside, s0, s1, order, table, handled)


@njit(cache=True, nogil=True, parallel=True)
def _disk_sweep_parallel(
    sorted_keys: npt.NDArray[np.int64],
    sorted_values: npt.NDArray[np.int64],
    k: int,
    keep_outside: bool,
    order: npt.NDArray[np.int64],
    table: npt.NDArray[np.int64],
    handled: npt.NDArray[np.bool_],
) -> None:
    n = sorted_keys.shape[0]
    first = _lower_bound(sorted_keys, 0)
    for b in prange((n - first + _BLOCK - 1) // _BLOCK):
        s0 = first + b * _BLOCK
        s1 = min(s0 + _BLOCK, n)
        _sweep_block(sorted_keys, sorted_values, k, keep_outside, s0, s1, order, table, handled)


def use_threads(n: int) -> bool:
    """Whether the kernels run multi-threaded for ``n`` cells.

    Only for big universes (>= :data:`PARALLEL_MIN_CELLS`) and when numba has more than one thread: below
    that, or on a machine whose cores are busy, the thread start-up and barriers cost more than they save.
    ``NUMBA_NUM_THREADS=1`` (or ``numba.set_num_threads(1)``) keeps everything on one core.
    """
    return n >= PARALLEL_MIN_CELLS and numba.get_num_threads() > 1


def disk_neighbours(universe: Int64Array, k: int, *, inside: bool = False) -> tuple[Int64Array, Int64Array]:
    """The k-disk of every cell of ``universe`` (valid, sorted, distinct int64 cells), in CSR form.

    Parameters
    ----------
    universe
        Valid, sorted, distinct int64 cells, shape (n,).
    k
        Grid distance, >= 0.
    inside
        False: the disks' cells (h3 ``grid_disk`` sets, self included). True: only the disk cells that are
        in the universe, as positions in ``universe`` (spatial weights).

    Returns
    -------
    indptr : int64, shape (n + 1,)
        Row ``r`` (the disk of ``universe[r]``) is ``values[indptr[r]:indptr[r + 1]]``.
    values : int64, shape (nnz,)
        Cells, or universe positions with ``inside``; ascending within each row.

    Notes
    -----
    The lattice sweep answers nearly every cell; the rest (:func:`fallback_count`) go to the h3 library one
    by one. Multi-threaded for big universes (:func:`use_threads`).
    """
    n = universe.size
    m = 3 * k * (k + 1) + 1
    parallel = use_threads(n)
    keys = np.empty(n, dtype=np.int64)
    (_face_keys_parallel if parallel else face_keys_kernel)(universe, keys)
    order = np.argsort(keys)
    sorted_keys = keys[order]
    sorted_values = order if inside else universe[order]
    table = np.empty((n, m), dtype=np.int64)
    handled = np.zeros(n, dtype=np.bool_)
    if n:
        sweep = _disk_sweep_parallel if parallel else disk_sweep_kernel
        sweep(sorted_keys, sorted_values, k, not inside, order, table, handled)
    rest = np.flatnonzero(~handled)
    if rest.size:
        disks = [h3i.grid_disk(c, k) for c in universe[rest].view(np.uint64).tolist()]
        sizes = np.fromiter((len(d) for d in disks), dtype=np.int64, count=len(disks))
        flat = np.fromiter((c for d in disks for c in d), dtype=np.uint64, count=int(sizes.sum()))
        cells = flat.view(np.int64)
        row = np.repeat(np.arange(rest.size), sizes)
        if inside:
            pos = np.minimum(np.searchsorted(universe, cells), n - 1)
            member = universe[pos] == cells
            cells, row = pos[member], row[member]
        order_in_rows = np.lexsort((cells, row))
        cells, row = cells[order_in_rows], row[order_in_rows]
        column = np.arange(row.size) - np.searchsorted(row, row)  # rank within its row
        block = np.full((rest.size, m), _PAD, dtype=np.int64)
        block[row, column] = cells
        table[rest] = block
    keep = table != _PAD
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(keep.sum(axis=1), out=indptr[1:])
    return indptr, table[keep]


def fallback_count(universe: Int64Array, k: int) -> int:
    """How many cells of ``universe`` the lattice sweep leaves to the h3 library (a diagnostic for tests)."""
    n = universe.size
    keys = np.empty(n, dtype=np.int64)
    face_keys_kernel(universe, keys)
    order = np.argsort(keys)
    table = np.empty((n, 3 * k * (k + 1) + 1), dtype=np.int64)
    handled = np.zeros(n, dtype=np.bool_)
    if n:
        disk_sweep_kernel(keys[order], universe[order], k, True, order, table, handled)
    return int(n - handled.sum())
