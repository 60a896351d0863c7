"""Binary k-ring spatial weights over a cell universe, as a scipy CSR matrix built from grid_disk pairs."""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from numpy.typing import ArrayLike

from analytics._validate import check_int
from grid.cells import CELL_COL_NAME, NEIGHBOUR_COL_NAME, cell_resolution, grid_disk

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
        the neighbour table across calls; computed when omitted.

    Returns
    -------
    DiskWeights

    Notes
    -----
    ``grid_disk`` (a numba lattice kernel) and the CSR build (``searchsorted``) are both vectorised.
    """
    k = check_int(k, "k", low=1)
    universe = np.unique(np.asarray(cells, dtype=np.int64))
    resolutions = np.unique(cell_resolution(universe))
    if resolutions.size != 1:
        msg = f"resolution mismatch: `cells` mixes H3 resolutions {resolutions.tolist()}"
        raise ValueError(msg)
    if pairs is None:
        pairs = grid_disk(universe, k)
    origin = pairs[CELL_COL_NAME].to_numpy(dtype=np.int64)
    other = pairs[NEIGHBOUR_COL_NAME].to_numpy(dtype=np.int64)
    n = universe.size
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
    return DiskWeights(universe, matrix, k, int(resolutions[0]))
