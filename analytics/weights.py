"""Binary k-ring spatial weights over a cell universe, as a scipy CSR matrix (from grid_disk_csr or pairs)."""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from numpy.typing import ArrayLike

from analytics._validate import check_int
from grid.cells import CELL_COL_NAME, NEIGHBOUR_COL_NAME, cell_resolution, grid_disk_csr

__all__ = ["DiskWeights", "disk_weights"]


@dataclasses.dataclass(frozen=True)
class DiskWeights:
    """Binary weights: ``w_ij = 1`` when cell j is within ``k`` grid steps of cell i (self included).

    Attributes
    ----------
    cells : numpy.ndarray of int64, shape (n,)
        The universe, sorted ascending; row/column order of ``matrix``.
    matrix : scipy.sparse.csr_matrix of float64, shape (n, n)
        Symmetric 0/1 matrix with a unit diagonal; neighbours outside the universe are left out.
    k : int
        Ring distance.
    res : int
        H3 resolution of ``cells``.
    """

    cells: npt.NDArray[np.int64]
    matrix: sp.csr_matrix
    k: int
    res: int

    @property
    def n(self) -> int:
        """Number of cells."""
        return int(self.cells.size)

    @property
    def cardinalities(self) -> npt.NDArray[np.int64]:
        """Neighbours per cell *excluding* itself, shape (n,)."""
        return np.diff(self.matrix.indptr).astype(np.int64) - 1

    def without_self(self) -> sp.csr_matrix:
        """The matrix with a zero diagonal (for Local Moran's I), CSR, explicit zeros removed."""
        out = self.matrix.copy()
        out.setdiag(0)  # the diagonal is stored, so this does not change the sparsity structure
        out.eliminate_zeros()
        return out


def disk_weights(cells: ArrayLike, k: int = 1, *, pairs: pd.DataFrame | None = None) -> DiskWeights:
    """Binary k-ring weights (self included, as Getis-Ord Gi* needs) over the universe ``cells``.

    Parameters
    ----------
    cells
        The cell universe (int64 H3, one resolution); sorted and de-duplicated here.
    k
        Rings, >= 1 (k = 1: the cell and its 6 neighbours, 5 at pentagons).
    pairs
        Precomputed ``grid.cells.grid_disk(cells, k)`` output (columns ``cell``, ``neighbour``), to reuse
        a neighbour table; when omitted the rows come straight from the lattice kernel (faster).

    Returns
    -------
    DiskWeights

    Notes
    -----
    Without ``pairs`` the CSR arrays come from :func:`grid.cells.grid_disk_csr` (the numba kernels behind
    ``grid_disk``: every cell converted once, neighbours found by a sorted sweep, rows sorted in place),
    with no pair table, no lexsort and no duplicate summing; the result is the same matrix as from
    ``grid_disk`` pairs (tests/analytics/test_weights.py).
    """
    k = check_int(k, "k", low=1)
    if pairs is None:
        # fast path: CSR rows straight from the lattice sweep over the universe (validated, columns sorted)
        universe, indptr, indices = grid_disk_csr(cells, k)
        resolution = (universe >> 52) & 15  # valid cells (checked by grid_disk_csr)
    else:
        universe = np.sort(np.asarray(cells, dtype=np.int64).reshape(-1))
        universe = universe[np.r_[True, universe[1:] != universe[:-1]][: universe.size]]
        resolution = cell_resolution(universe)
    if resolution.size == 0:
        msg = "resolution mismatch: `cells` is empty, so it has no H3 resolution (an empty universe)"
        raise ValueError(msg)
    # min/max rather than np.unique, whose hash path (numpy 2.4) is slow on 100k H3 ids
    if resolution.min() != resolution.max():
        msg = f"resolution mismatch: `cells` mixes H3 resolutions {sorted(set(resolution.tolist()))}"
        raise ValueError(msg)
    res = int(resolution[0])
    n = universe.size
    if pairs is None:
        matrix = sp.csr_matrix((np.ones(indices.size), indices, indptr), shape=(n, n))
        matrix.has_sorted_indices = True
        return DiskWeights(universe, matrix, k, res)
    origin = pairs[CELL_COL_NAME].to_numpy(dtype=np.int64)
    other = pairs[NEIGHBOUR_COL_NAME].to_numpy(dtype=np.int64)
    i = np.searchsorted(universe, origin)
    j = np.searchsorted(universe, other)
    ok = (i < n) & (j < n)
    ok[ok] &= (universe[i[ok]] == origin[ok]) & (universe[j[ok]] == other[ok])
    i, j = i[ok], j[ok]
    off = i != j  # the diagonal is set once below, whether or not `pairs` carried it
    diag = np.arange(n)
    i, j = np.concatenate([i[off], diag]), np.concatenate([j[off], diag])
    matrix = sp.csr_matrix((np.ones(i.size), (i, j)), shape=(n, n))
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return DiskWeights(universe, matrix, k, res)
