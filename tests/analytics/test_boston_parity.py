"""Same numbers as PySAL esda on Boston 311 (2015), default-geocode rows excluded, at H3 res 9 and 10.

Cases go through the shipped import pipeline (mapping ``boston311``) into a temporary SQLite database and
are read back with SQL, once per module. Gi* z-scores must equal ``esda.G_Local(star=True, transform="B")``
on a libpysal ``W`` built from the same grid_disk pairs (esda fills the unit self-weight itself) to 1e-9;
Local Moran's I, its moments and quadrants likewise; permutation p-values agree within Monte Carlo error.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from analytics.cube import build_cube
from analytics.hotspots import gi_star, local_moran
from analytics.weights import disk_weights
from cases.db import init_db, make_engine
from cases.importing import import_cases
from cases.mapping import load_mapping
from grid.cells import cells_to_parents, grid_disk
from tests.conftest import SHARED_DATASETS

esda = pytest.importorskip("esda")
libpysal = pytest.importorskip("libpysal")

BOSTON = SHARED_DATASETS / "boston311_2015"
pytestmark = [pytest.mark.shared_data, pytest.mark.slow]


@pytest.fixture(scope="module")
def boston_cases(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    path = BOSTON / "boston311_2015.csv.gz"
    if not path.exists():
        pytest.skip(f"Boston 311 dataset not found at {path} (the shared datasets are not on this machine)")
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('boston') / 'boston.db'}")
    init_db(engine)
    import_cases(path, engine, mapping=load_mapping("boston311"))
    query = sa.text("SELECT case_id, source, category_code, cell, reported_at, location_flag FROM cases")
    with engine.connect() as conn:
        frame = pd.read_sql(query, conn)
    engine.dispose()
    return frame.assign(reported_at=pd.to_datetime(frame["reported_at"], utc=True))


def _esda_w(weights) -> object:
    """A libpysal W over the same cells from the same pairs, without self-pairs (esda adds w_ii = 1)."""
    m = weights.without_self().tocoo()
    neighbours: dict[int, list[int]] = {i: [] for i in range(weights.n)}
    for i, j in zip(m.row.tolist(), m.col.tolist(), strict=True):
        neighbours[i].append(j)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return libpysal.weights.W(neighbours, silence_warnings=True)


@pytest.mark.parametrize("res", [9, 10])
def test_gi_star_and_local_moran_equal_esda(boston_cases: pd.DataFrame, res: int) -> None:
    flagged = boston_cases["location_flag"] == "suspicious_cluster"
    assert flagged.sum() > 17_000  # the City Hall default point
    located = boston_cases.loc[~flagged & boston_cases["cell"].notna()]
    universe = np.unique(cells_to_parents(located["cell"].to_numpy(np.int64), res))
    cube = build_cube(boston_cases, universe, period="month", timezone="America/New_York")
    assert cube.n_flagged == int(flagged.sum())
    assert cube.n_outside == 0
    y = cube.cell_totals().astype(float)
    weights = disk_weights(cube.cells, 1, pairs=grid_disk(cube.cells, 1))
    w = _esda_w(weights)

    ours = gi_star(y, weights, permutations=999, seed=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = esda.G_Local(y, w, transform="B", star=True, permutations=0)
    np.testing.assert_allclose(ours.z, ref.Zs, rtol=0, atol=1e-9)
    np.testing.assert_allclose(ours.g, ref.Gs, rtol=1e-12)
    np.testing.assert_allclose(ours.p, 2 * ref.p_norm, rtol=0, atol=1e-12)
    print(f"res {res}: {y.size} cells, max |z - z_esda| = {np.abs(ours.z - ref.Zs).max():.3e}")

    lm = local_moran(y, weights, permutations=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mref = esda.Moran_Local(y, _esda_w(weights), transformation="r", permutations=0)
    np.testing.assert_allclose(lm.i, mref.Is, rtol=0, atol=1e-9)
    np.testing.assert_allclose(lm.expected, mref.EI, rtol=0, atol=1e-12)
    np.testing.assert_allclose(lm.variance, mref.VI, rtol=0, atol=1e-9)
    quads = np.array(["HH", "LH", "LL", "HL"], dtype=object)[mref.q.astype(int) - 1]
    assert (lm.quadrant == quads).all()


def test_permutation_p_values_agree_within_monte_carlo_error(boston_cases: pd.DataFrame) -> None:
    """Pseudo p-values from independent draws of 999 permutations differ by sampling noise only.

    Res 9 (1,077 cells). Each p_sim has standard error sqrt(p (1 - p) / 1000) <= 0.016, so the difference
    of two independent estimates has SE sqrt(2 p (1 - p) / 1000): 99.5 % of cells must lie within 4 SE,
    none beyond 0.1, and the mean absolute difference must stay below 0.02.
    """
    located = boston_cases.loc[boston_cases["location_flag"] != "suspicious_cluster"]
    universe = np.unique(cells_to_parents(located["cell"].dropna().to_numpy(np.int64), 9))
    cube = build_cube(located, universe, period="month", timezone="America/New_York")
    y = cube.cell_totals().astype(float)
    weights = disk_weights(cube.cells, 1)
    ours = gi_star(y, weights, permutations=999, seed=11)
    lm = local_moran(y, weights, permutations=999, seed=11)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = esda.G_Local(y, _esda_w(weights), transform="B", star=True, permutations=999, seed=11, n_jobs=1)
        mref = esda.Moran_Local(y, _esda_w(weights), transformation="r", permutations=999, seed=11, n_jobs=1)
    for mine, theirs in ((ours.p_sim, ref.p_sim), (lm.p_sim, mref.p_sim)):
        diff = np.abs(mine - theirs)
        pbar = (mine + theirs) / 2
        se = np.sqrt(2 * pbar * (1 - pbar) / 1000) + 1e-3
        print(
            f"p_sim: max |diff| {diff.max():.4f}, mean {diff.mean():.4f}, "
            f"within 4 SE {(diff < 4 * se).mean():.4f}"
        )
        assert (diff < 4 * se).mean() > 0.995
        assert diff.max() < 0.1
        assert diff.mean() < 0.02
