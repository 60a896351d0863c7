"""Numba kernel for H3 ``gridDisk`` on the interior of icosahedron faces, checked cell by cell.

A cell's neighbours within ``k`` steps are the cells at the lattice positions ``ijk + offset`` of the
cell's own face (every offset with ``ijkDistance <= k``). The kernel converts each position back to an
index with ``_faceIjkToH3`` and accepts the origin only if *every* position round-trips: the neighbour's
own FaceIJK address (``_h3ToFaceIjk``) is the same face and the same coordinates. Then the neighbour
provably lies on the origin's face lattice at that offset, which is what H3's grid distance measures
there (also inside a pentagon's base cell, away from the pentagon itself: the check fails wherever the
deleted k-axis sub-sequence distorts the lattice). Pentagons, and origins with a neighbour across a face
edge (overage), in a distorted sector or on a pentagon, are reported as not handled and the caller asks
the h3 library for them; in a city that is none or a handful of cells.

Private module: the public, validated entry point is :func:`grid.cells.grid_disk`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

from grid._h3_geometry import _h3_to_face_ijk
from grid._h3_kernel import _BC_IS_PENT, _face_ijk_to_h3, _ijk_normalize, _leading_nonzero_digit


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


@njit(cache=True, nogil=True)
def grid_disk_kernel(
    cells: npt.NDArray[np.int64],
    offsets: npt.NDArray[np.int64],
    out: npt.NDArray[np.int64],
    handled: npt.NDArray[np.bool_],
) -> None:
    """Fill ``out[r, m]``, the neighbour of ``cells[r]`` at ``offsets[m]``; ``handled[r]``: row is valid."""
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
            nh = _face_ijk_to_h3(face, ni, nj, nk, res)
            if nh == 0 or _is_pentagon(nh, res):
                ok = False
                break
            f2, i2, j2, k2 = _h3_to_face_ijk(nh)
            if f2 != face or i2 != ni or j2 != nj or k2 != nk:
                ok = False
                break
            out[r, m] = nh
        handled[r] = ok
