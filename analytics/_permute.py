"""Conditional randomisation (esda ``crand`` definition), vectorised with numba over cells.

For every permutation ``r`` one row of ``max_card`` distinct indices into the ``n - 1`` *other* cells is
drawn without replacement (shared by all cells, as esda's ``vec_permutations``); cell ``i`` uses the first
``card_i`` of them, mapped past itself (index ``m`` → ``m + (m >= i)``), so its own value stays fixed. The
pseudo p-value is esda's "directed" one: ``larger = #{sim >= observed}``, folded to the smaller tail,
``p_sim = (larger + 1) / (permutations + 1)`` (one-sided, toward the observed tail).
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

__all__ = ["conditional_randomisation", "draw_permutation_ids"]


def draw_permutation_ids(n: int, max_card: int, permutations: int, rng: np.random.Generator) -> np.ndarray:
    """(permutations, max_card) int64 indices in [0, n - 1), distinct within each row."""
    out = np.empty((permutations, max_card), dtype=np.int64)
    for r in range(permutations):
        out[r] = rng.choice(n - 1, size=max_card, replace=False)
    return out


@numba.njit(parallel=True, cache=True)
def _crand_kernel(
    values: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    perm: np.ndarray,
    factor: np.ndarray,
    offset: np.ndarray,
    observed: np.ndarray,
    keep: bool,
    sims: np.ndarray,
    larger: np.ndarray,
) -> None:
    n = values.shape[0]
    n_perm = perm.shape[0]
    for i in numba.prange(n):
        lo, hi = indptr[i], indptr[i + 1]
        count = 0
        for r in range(n_perm):
            acc = 0.0
            m = 0
            for p in range(lo, hi):
                if indices[p] == i:
                    continue
                idx = perm[r, m]
                if idx >= i:
                    idx += 1
                acc += data[p] * values[idx]
                m += 1
            stat = acc * factor[i] + offset[i]
            if keep:
                sims[i, r] = stat
            if stat >= observed[i]:
                count += 1
        larger[i] = count


def conditional_randomisation(
    values: npt.NDArray[np.float64],
    weights: sp.csr_matrix,
    observed: npt.NDArray[np.float64],
    factor: npt.NDArray[np.float64],
    offset: npt.NDArray[np.float64],
    *,
    permutations: int,
    rng: np.random.Generator,
    keep_simulations: bool = False,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64] | None]:
    """Pseudo p-values of a local statistic ``stat_i = factor_i * sum_j w_ij v_j + offset_i`` (j ≠ i).

    Parameters
    ----------
    values
        The values permuted among the other cells, shape (n,).
    weights
        CSR weights, shape (n, n); the diagonal is skipped (it is part of ``offset``).
    observed
        The observed statistic, shape (n,), on the same scale as ``factor``/``offset``.
    factor, offset
        Per-cell affine map from the random neighbour sum to the statistic, shape (n,).
    permutations
        Number of draws (>= 1).
    rng
        Source of the shared permutation table.
    keep_simulations
        Return the (n, permutations) simulated statistics (memory: 8 bytes × n × permutations).

    Returns
    -------
    p_sim : numpy.ndarray of float64, shape (n,)
        One-sided folded pseudo p-value (esda ``alternative="directed"``), in [1/(P+1), 0.5 + 1/(P+1)].
    sims : numpy.ndarray of float64, shape (n, permutations), or None
    """
    n = values.shape[0]
    off_diag = np.diff(weights.indptr) - (weights.diagonal() != 0)
    max_card = int(off_diag.max()) if n else 0
    perm = draw_permutation_ids(n, max(max_card, 1), permutations, rng)
    sims = np.empty((n, permutations) if keep_simulations else (1, 1), dtype=np.float64)
    larger = np.empty(n, dtype=np.int64)
    _crand_kernel(
        np.ascontiguousarray(values, dtype=np.float64),
        weights.indptr.astype(np.int64),
        weights.indices.astype(np.int64),
        weights.data.astype(np.float64),
        perm,
        np.ascontiguousarray(factor, dtype=np.float64),
        np.ascontiguousarray(offset, dtype=np.float64),
        np.ascontiguousarray(observed, dtype=np.float64),
        keep_simulations,
        sims,
        larger,
    )
    folded = np.minimum(larger, permutations - larger)
    p_sim = (folded + 1.0) / (permutations + 1.0)
    return p_sim, (sims if keep_simulations else None)
