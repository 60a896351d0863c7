"""Gi* on the fast weights path equals esda; the vectorised classes and BH q-values equal plain references."""

from __future__ import annotations

import warnings

import h3.api.basic_int as h3i
import numpy as np
import pytest

from analytics.hotspots import GI_CLASSES, benjamini_hochberg, gi_classes, gi_star
from analytics.weights import disk_weights
from grid.cells import latlng_to_cells


def _reference_classes(z: np.ndarray, p: np.ndarray) -> np.ndarray:
    """The ArcGIS rule spelled out: strictest level passed, hot when z > 0, cold when z < 0."""
    out = np.full(z.shape, "not_significant", dtype=object)
    for level, name in ((0.10, "90"), (0.05, "95"), (0.01, "99")):
        sig = p < level
        out[sig & (z > 0)] = f"hot_{name}"
        out[sig & (z < 0)] = f"cold_{name}"
    return out


def test_gi_classes_follow_the_arcgis_rule_at_the_edges() -> None:
    rng = np.random.default_rng(2)
    z = rng.normal(0, 2, (500, 8))
    p = rng.uniform(0, 0.15, (500, 8))
    p[0] = [0.01, 0.05, 0.10, 0.0099, 0.0499, 0.0999, 1.0, 0.0]  # thresholds are strict (p < level)
    z[1, :3] = 0.0  # z = 0 is neither hot nor cold
    p[2, :3] = np.nan
    z[3, :3] = np.nan
    got = gi_classes(z, p)
    assert got.dtype == object
    assert got.shape == z.shape
    assert (got == _reference_classes(z, p)).all()
    assert set(got.ravel()) == set(GI_CLASSES)


def test_benjamini_hochberg_equals_the_step_up_definition() -> None:
    rng = np.random.default_rng(3)
    p = np.concatenate([rng.uniform(0, 1, 300), rng.uniform(0, 0.001, 30), [0.5, 0.5, np.nan]])
    q = benjamini_hochberg(p)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    ranked = np.sort(p[ok])
    for value, qi in zip(p[ok], q[ok], strict=True):
        # q_i = min over ranks j >= rank(p_i) of p_(j) m / j, capped at 1
        rank = np.searchsorted(ranked, value, side="left") + 1
        expected = min(1.0, (ranked[rank - 1 :] * m / np.arange(rank, m + 1)).min())
        assert qi == pytest.approx(expected, rel=1e-12)
    assert np.isnan(q[~ok]).all()


def test_gi_star_on_the_fast_weights_equals_esda() -> None:
    """End to end from cell ids (fast CSR path) against esda.G_Local on a W from h3's own disks."""
    esda = pytest.importorskip("esda")
    libpysal = pytest.importorskip("libpysal")
    centre = int(np.int64(latlng_to_cells(32.0, 120.86, 10)).view(np.uint64))
    universe = np.sort(np.array(h3i.grid_disk(centre, 25), dtype=np.uint64).view(np.int64))
    rng = np.random.default_rng(6)
    universe = np.sort(rng.choice(universe, int(universe.size * 0.8), replace=False))  # with holes
    y = rng.poisson(np.where(rng.uniform(size=universe.size) < 0.05, 6.0, 1.0)).astype(float)
    result = gi_star(y, disk_weights(universe, 1))
    position = {int(c): i for i, c in enumerate(universe.tolist())}
    neighbours = {
        i: [position[n] for n in np.array(h3i.grid_disk(int(c), 1), dtype=np.uint64).view(np.int64).tolist()
            if n in position and n != c]
        for i, c in enumerate(universe.tolist())
    }  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = libpysal.weights.W(neighbours, silence_warnings=True)
        ref = esda.G_Local(y, w, transform="B", star=True, permutations=0)
    np.testing.assert_allclose(result.z, ref.Zs, rtol=0, atol=1e-9)
    np.testing.assert_allclose(result.g, ref.Gs, rtol=1e-12)
    np.testing.assert_allclose(result.p, 2 * ref.p_norm, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(
        result.n_neighbours, np.array([len(neighbours[i]) + 1 for i in range(y.size)])
    )
    assert (result.gi_class == _reference_classes(result.z, result.q)).all()
