"""Forecasters: baselines' known answers, no leakage, planted patterns, the demo city, Boston, the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from analytics._features import feature_matrix, ring_matrices
from analytics.cube import CaseCube, build_cube
from analytics.evaluation import backtest, summarise
from analytics.forecast import (
    FORECAST_COLUMNS,
    MODELS,
    KernelDensity,
    LastPeriod,
    LongRunMean,
    MovingAverage,
    PoissonGBM,
    competition_rank,
    complete_range,
    forecast_cells,
    make_model,
)
from cases.calendar import WorkingCalendar
from grid.cells import grid_disk, latlng_to_cells

CENTRE = (32.0, 120.86)


def _disk(k: int, res: int = 10) -> np.ndarray:
    centre = latlng_to_cells(np.array([CENTRE[0]]), np.array([CENTRE[1]]), res)
    return np.sort(grid_disk(centre, k)["neighbour"].to_numpy())


def _cube(counts: np.ndarray, cells: np.ndarray, start: str = "2025-01-06") -> CaseCube:
    counts = np.asarray(counts, dtype=np.int64)
    if counts.ndim == 2:
        counts = counts[:, :, None]
    periods = pd.period_range(pd.Period(start, "W-SUN"), periods=counts.shape[1], freq="W-SUN")
    cats = tuple(f"c{k}" for k in range(counts.shape[2]))
    return CaseCube(counts, cells, periods, cats, 10, "week", "Asia/Shanghai", int(counts.sum()))


# --- known answers of the baselines ---------------------------------------------------------------------


def test_baselines_known_answers_on_a_tiny_cube() -> None:
    cells = _disk(1)  # 7 cells
    y = np.zeros((7, 6), dtype=np.int64)
    y[0] = [1, 2, 3, 4, 5, 6]
    y[3] = [0, 0, 0, 0, 0, 8]
    y[5] = [4, 0, 0, 0, 0, 0]
    cube = _cube(y, cells)
    np.testing.assert_allclose(LastPeriod().fit(cube, 5).predict(), y[:, 4])
    np.testing.assert_allclose(LastPeriod().fit(cube).predict(), y[:, 5])
    np.testing.assert_allclose(MovingAverage(4).fit(cube, 5).predict(), y[:, 1:5].mean(axis=1))
    np.testing.assert_allclose(MovingAverage(4).fit(cube, 2).predict(), y[:, :2].mean(axis=1))  # short
    want = np.zeros(7)
    want[[0, 5]] = [15 / 5, 4 / 5]
    np.testing.assert_allclose(LongRunMean().fit(cube, 5).predict(), want)
    # categories are summed
    split = _cube(np.stack([y - y // 2, y // 2], axis=2), cells)
    np.testing.assert_allclose(LongRunMean().fit(split, 5).predict(), want)


def test_kde_spreads_a_case_by_grid_distance_and_decays_in_time() -> None:
    cells = _disk(3)  # 37 cells
    centre = latlng_to_cells(np.array([CENTRE[0]]), np.array([CENTRE[1]]), 10)[0]
    ring1 = np.isin(cells, grid_disk(np.array([centre]), 1)["neighbour"]) & (cells != centre)
    ring2 = np.isin(cells, grid_disk(np.array([centre]), 2)["neighbour"]) & ~ring1 & (cells != centre)
    i0 = int(np.flatnonzero(cells == centre)[0])
    y = np.zeros((cells.size, 4), dtype=np.int64)
    y[i0, 3] = 2  # two cases in the last period only
    risk = KernelDensity(window=4, bandwidth=2).fit(_cube(y, cells)).predict()
    # unscaled: centre 2, ring 1 -> 2/2 each (6 cells), ring 2 -> 2/3 each (12 cells); total 2 + 6 + 8 = 16
    # scaled to the mean city total of the window, 2 / 4 = 0.5
    scale = 0.5 / 16
    assert risk[i0] == pytest.approx(2 * scale)
    np.testing.assert_allclose(risk[ring1], 1.0 * scale)
    np.testing.assert_allclose(risk[ring2], 2 / 3 * scale)
    assert (risk[~ring1 & ~ring2 & (cells != centre)] == 0).all()
    # the same cases two periods earlier weigh 1/3 as much (lag 3) relative to a case at lag 1
    y2 = np.zeros_like(y)
    y2[i0, 3] = 1
    y2[0 if i0 else 1, 1] = 1  # a far cell, lag 3
    r2 = KernelDensity(window=4, bandwidth=0).fit(_cube(y2, cells)).predict()
    assert r2[0 if i0 else 1] / r2[i0] == pytest.approx(1 / 3)


def test_competition_rank_shares_ties() -> None:
    np.testing.assert_array_equal(competition_rank([0.5, 2.0, 0.5, 3.0, 0.0]), [3, 2, 3, 1, 5])


# --- leakage --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def planted() -> tuple[CaseCube, np.ndarray]:
    """400 cells × 30 weeks: Poisson background with fixed rates; 10 cells switch on (rate 6) at week 20."""
    rng = np.random.default_rng(3)
    cells = _disk(11)[:400]
    rate = rng.gamma(1.0, 0.4, cells.size)
    lam = np.repeat(rate[:, None], 30, axis=1)
    new = rng.choice(np.flatnonzero(rate < 0.4), 10, replace=False)
    lam[new, 20:] = 6.0
    counts = rng.poisson(np.stack([lam * 0.6, lam * 0.4], axis=2))
    return _cube(counts, cells), new


def test_features_never_read_the_target_or_later(planted: tuple[CaseCube, np.ndarray]) -> None:
    cube, _ = planted
    y = cube.total().astype(float)
    rings = ring_matrices(cube.cells)
    targets = np.arange(5, 25)
    x, _ = feature_matrix(y, targets, rings)
    rng = np.random.default_rng(0)
    for s in (5, 12, 24):
        altered = y.copy()
        altered[:, s:] = rng.poisson(5.0, altered[:, s:].shape)
        xa, _ = feature_matrix(altered, targets, rings)
        rows = slice((s - 5) * y.shape[0], (s - 4) * y.shape[0])
        np.testing.assert_array_equal(xa[rows], x[rows])


@pytest.mark.parametrize("name", list(MODELS))
def test_predictions_for_t_ignore_data_from_t_on(planted: tuple[CaseCube, np.ndarray], name: str) -> None:
    cube, _ = planted
    rings = ring_matrices(cube.cells)
    t = 22
    before = make_model(name).fit(cube, t, rings=rings).predict()
    rng = np.random.default_rng(1)
    counts = cube.counts.copy()
    counts[:, t:] = rng.permutation(counts[:, t:].reshape(-1)).reshape(counts[:, t:].shape) * 3 + 1
    shuffled = CaseCube(**{**cube.__dict__, "counts": counts})
    after = make_model(name).fit(shuffled, t, rings=rings).predict()
    np.testing.assert_array_equal(after, before)


def test_learned_model_catches_a_new_hotspot_the_long_run_mean_misses(
    planted: tuple[CaseCube, np.ndarray],
) -> None:
    cube, new = planted
    rings = ring_matrices(cube.cells)
    gbm = PoissonGBM().fit(cube, 26, rings=rings).predict()
    mean = LongRunMean().fit(cube, 26, rings=rings).predict()
    top = lambda p: set(np.argsort(-p, kind="stable")[:10].tolist())  # noqa: E731
    assert len(top(gbm) & set(new.tolist())) >= 8
    assert len(top(gbm) & set(new.tolist())) > len(top(mean) & set(new.tolist()))
    # the learned level is right: ~6 a week in the new cells
    assert gbm[new].mean() == pytest.approx(6.0, rel=0.25)


def test_ensemble_weight_comes_from_an_inner_validation_on_the_training_periods(
    planted: tuple[CaseCube, np.ndarray],
) -> None:
    """Where cells switched on 6 weeks before the origin the trees beat the long-run mean in the held-out
    training weeks, so the inner validation leans on the gbm; a fixed weight of 0 is the shrunk mean."""
    from analytics.forecast import Ensemble, shrunk_mean

    cube, _ = planted
    rings = ring_matrices(cube.cells)
    ens = Ensemble().fit(cube, 26, rings=rings)
    assert set(ens.validation_) == {0.0, 0.25, 0.5, 0.75, 1.0}
    assert ens.weight_ >= 0.75
    assert ens.validation_[ens.weight_] == max(ens.validation_.values())
    assert ens.validation_[ens.weight_] > ens.validation_[0.0]
    # the inner validation never reads the origin or later: same weight when the future is rewritten
    counts = cube.counts.copy()
    counts[:, 26:] = 0
    again = Ensemble().fit(CaseCube(**{**cube.__dict__, "counts": counts}), 26, rings=rings)
    assert again.validation_ == ens.validation_
    fixed = Ensemble(weight=0.0).fit(cube, 26, rings=rings).predict()
    shrunk = shrunk_mean(cube.total()[:, :26].astype(float), rings) + 1e-6  # the blend's log floor
    np.testing.assert_allclose(fixed / fixed.sum(), shrunk / shrunk.sum(), rtol=1e-9)


# --- the public function --------------------------------------------------------------------------------


def _cases_frame(cube: CaseCube, rng: np.random.Generator) -> pd.DataFrame:
    """Cases (one row per count) at random times inside each cube period, in Asia/Shanghai."""
    c_idx, t_idx, k_idx = np.nonzero(cube.counts)
    reps = cube.counts[c_idx, t_idx, k_idx]
    c_idx, t_idx, k_idx = (np.repeat(a, reps) for a in (c_idx, t_idx, k_idx))
    start = cube.periods.start_time.to_numpy()[t_idx]
    local = pd.DatetimeIndex(start) + pd.to_timedelta(rng.uniform(0, 7 * 86400 - 1, t_idx.size), unit="s")
    return pd.DataFrame(
        {
            "cell": cube.cells[c_idx],
            "reported_at": local.tz_localize("Asia/Shanghai").tz_convert("UTC"),
            "category_code": np.array(cube.categories)[k_idx],
        }
    )


def test_forecast_cells_contract(planted: tuple[CaseCube, np.ndarray]) -> None:
    cube, new = planted
    cases = _cases_frame(cube, np.random.default_rng(5))
    out = forecast_cells(cases, cube.cells, model="baseline_ma4")
    assert tuple(out.columns) == FORECAST_COLUMNS
    assert len(out) == cube.cells.size
    assert set(out["cell"]) == set(cube.cells.tolist())
    assert out["cell"].dtype == np.int64
    assert (out["period"] == "2025-W32").all()  # 30 weeks from 2025-W02, the next one
    assert (out["period_start"] == pd.Timestamp("2025-08-04")).all()
    want = cube.total()[:, -4:].mean(axis=1)
    got = out.set_index("cell").loc[cube.cells, "expected"].to_numpy()
    np.testing.assert_allclose(got, want)
    assert out["risk"].max() == 1.0
    assert (out["risk"] >= 0).all()
    assert (out["rank"].diff().dropna() >= 0).all()
    assert out["rank"].iloc[0] == 1
    tied = out[out["expected"] == out["expected"].min()]
    assert tied["rank"].nunique() == 1  # tied cells share a rank
    # the cells that switched on 10 weeks ago lead a 4-week moving average
    assert set(out.head(10)["cell"]) == set(cube.cells[new].tolist())
    # horizon 2 labels the week after
    h2 = forecast_cells(cases, cube.cells, model="baseline_mean", horizon=2)
    assert (h2["period"] == "2025-W33").all()


def test_forecast_cells_as_of_ignores_later_cases(planted: tuple[CaseCube, np.ndarray]) -> None:
    cube, _ = planted
    cases = _cases_frame(cube, np.random.default_rng(6))
    as_of = "2025-06-01"  # a Sunday: weeks up to 2025-W22 are complete
    a = forecast_cells(cases, cube.cells, model="poisson_gbm", as_of=as_of)
    local = cases["reported_at"].dt.tz_convert("Asia/Shanghai")
    later = (local >= pd.Timestamp("2025-06-02", tz="Asia/Shanghai")).to_numpy()
    changed = pd.concat([cases[~later], cases[later].sample(frac=0.3, random_state=1)], ignore_index=True)
    b = forecast_cells(changed, cube.cells, model="poisson_gbm", as_of=as_of)
    assert (a["period"] == "2025-W23").all()
    pd.testing.assert_frame_equal(a, b)


def test_complete_range_drops_partial_periods() -> None:
    times = pd.to_datetime(["2025-01-08 10:00", "2025-01-20 09:00", "2025-02-05 12:00"])
    cases = pd.DataFrame({"reported_at": times.tz_localize("Asia/Shanghai").tz_convert("UTC")})
    first, last, _ = complete_range(cases, "week", "Asia/Shanghai")
    # Wed 01-08 starts mid-week -> first full week starts Mon 01-13; Wed 02-05 -> last full week ends 02-02
    assert (str(first), str(last)) == ("2025-01-13", "2025-02-02")


def test_auto_picks_the_backtest_winner(planted: tuple[CaseCube, np.ndarray]) -> None:
    cube, _ = planted
    cases = _cases_frame(cube, np.random.default_rng(8))
    out = forecast_cells(cases, cube.cells, model="auto", auto_origins=4)
    assert out["model"].iloc[0] in MODELS
    table = backtest(cube, list(MODELS), n_origins=4)
    best = table.groupby("model")["pai_5"].mean().idxmax()
    assert out["model"].iloc[0] == best


# --- the demo city --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def city_cube(city_cases: pd.DataFrame, city_grid: pd.DataFrame) -> CaseCube:
    first, last, cases = complete_range(city_cases, "week", "Asia/Shanghai")
    return build_cube(cases, city_grid, period="week", start=first, end=last, by_category=True)


@pytest.fixture(scope="module")
def city_lambda(city_dir: Path, city_cube: CaseCube) -> pd.DataFrame:
    """True expected problems per cell (rows, cube order) and ISO week (columns), all categories."""
    truth = pd.read_parquet(city_dir / "truth" / "intensity.parquet")
    codes = [c for c in truth.columns if c not in ("cell", "week")]
    truth = truth.assign(total=truth[codes].sum(axis=1), week=truth["week"].astype(str))
    return truth.pivot_table(index="cell", columns="week", values="total").reindex(city_cube.cells)


@pytest.mark.slow
def test_demo_city_backtest_learned_model_vs_baselines_and_the_truth_ceiling(
    city_cube: CaseCube, city_lambda: pd.DataFrame
) -> None:
    """On the 19 complete weeks of the test city, 8 held-out weeks (11+ weeks of history each).

    The simulator has transient problem sites (``sim.episodes``: works sites, dumping spots, vending
    pitches, broken facilities; ≈ 14 % of this city's problems), so recency matters and the strongest
    baseline is the 4-week moving average. Measured (seed 7): the truth λ as the forecast 4.846 = ×1.291
    the best baseline (3.754); ``ensemble`` 3.944 (×1.051), ``poisson_gbm`` 4.015 (×1.070). The issue's
    +10 % is NOT reached on this short city (≤ 18 weeks of history per origin; the full-year demo in the
    README is where it is measured). Asserted: (1) the ceiling leaves room for +10 % (≥ ×1.20), so the target
    is attainable on this simulator; (2) the ensemble beats the strongest baseline by ≥ 3 % and
    ``poisson_gbm`` by ≥ 2 % (the measured gains less ~2 points of 8-week sampling noise), the ensemble
    beats every baseline individually and the long-run mean in deviance.
    """
    from analytics.evaluation import pai
    from analytics.forecast import period_label

    rings = ring_matrices(city_cube.cells)
    table = backtest(city_cube, list(MODELS), n_origins=8, rings=rings)
    summary = summarise(table).set_index("model")
    print(summary[["pai_1", "pai_5", "pai_10", "pei_5", "deviance"]].round(3))
    baselines = summary.loc[summary.index.str.startswith("baseline_"), "pai_5"]
    best = baselines.max()
    y = city_cube.total()
    n_t = y.shape[1]
    oracle = np.mean(
        [
            pai(city_lambda[period_label(city_cube.periods[t], "week")].to_numpy(), y[:, t], 0.05)
            for t in range(n_t - 8, n_t)
        ]
    )
    print(f"truth ceiling PAI@5 {oracle:.3f} vs best baseline {best:.3f} ({oracle / best:.3f}x)")
    assert oracle / best >= 1.20
    assert summary.loc["ensemble", "pai_5"] >= 1.03 * best
    assert summary.loc["poisson_gbm", "pai_5"] >= 1.02 * best
    for name in baselines.index:
        assert summary.loc["ensemble", "pai_5"] > summary.loc[name, "pai_5"]
    assert summary.loc["ensemble", "deviance"] < summary.loc["baseline_mean", "deviance"]


@pytest.mark.slow
def test_demo_city_forecast_tracks_the_true_intensity(
    city_cases: pd.DataFrame, city_grid: pd.DataFrame, city_lambda: pd.DataFrame
) -> None:
    """Spearman ρ between the forecast of the last complete week and the simulator's λ of that week.

    Floor 0.85: λ spans the 2,242 cells from 0 (no street) to tens of problems a week, and ~15 weeks of
    cases pin down its order well (0.888 measured with the ensemble, seed 7, with the transient episode
    sites, which no forecast can know before they start: 0.919 without them); the one-week count itself, a
    Poisson draw of λ, is a far noisier ranking (0.549 measured; asserted lower, so the floor is not met by
    a noisy copy of λ).
    """
    from scipy.stats import spearmanr

    _, last, _ = complete_range(city_cases, "week", "Asia/Shanghai")
    as_of = pd.Timestamp(last) - pd.Timedelta(days=7)
    out = forecast_cells(city_cases, city_grid, model="ensemble", as_of=as_of.date())
    lam = city_lambda[out["period"].iloc[0]].reindex(out["cell"]).to_numpy()
    rho = spearmanr(out["expected"], lam).statistic
    last_week = forecast_cells(city_cases, city_grid, model="baseline_last", as_of=as_of.date())
    lam_last = city_lambda[out["period"].iloc[0]].reindex(last_week["cell"]).to_numpy()
    rho_last = spearmanr(last_week["expected"], lam_last).statistic
    print(f"Spearman rho forecast vs truth {rho:.3f}; last week's counts {rho_last:.3f}")
    assert rho >= 0.85
    assert rho > rho_last


# --- Boston 311 -----------------------------------------------------------------------------------------


@pytest.mark.shared_data
@pytest.mark.slow
def test_boston_learned_model_does_not_lose_to_the_best_baseline(tmp_path: Path) -> None:
    """Boston 311, Aug–Dec 2015 through the shipped importer (default-point rows dropped), res 8, 6 weeks.

    Small on purpose (the full tables are in the README's forecasting section): the ensemble must keep
    within 3 % of the best baseline's mean PAI at 5 % (6 weeks of sampling noise) and beat last week.
    """
    from cases.db import init_db, make_engine
    from cases.importing import import_cases
    from cases.mapping import load_mapping
    from cases.store import load_case_frame
    from tests.conftest import shared_dataset

    path = shared_dataset("boston311_2015") / "boston311_2015.csv.gz"
    raw = pd.read_csv(path, dtype=str)
    opened = pd.to_datetime(raw["OPEN_DT"], format="%m/%d/%Y %I:%M:%S %p", errors="coerce")
    raw[(opened >= "2015-08-03") & (opened < "2015-12-28")].to_csv(tmp_path / "b.csv", index=False)
    engine = make_engine(f"sqlite:///{tmp_path / 'b.db'}")
    init_db(engine)
    import_cases(tmp_path / "b.csv", engine, mapping=load_mapping("boston311"))
    cases = load_case_frame(engine)
    engine.dispose()
    from analytics.cube import universe_from_cases

    universe = universe_from_cases(cases, 8, k=1)
    first, last, cases = complete_range(cases, "week", "America/New_York")
    us = WorkingCalendar(timezone="America/New_York", country="none")  # no US holiday table ships
    cube = build_cube(
        cases, universe, period="week", timezone="America/New_York", start=first, end=last, by_category=True,
        calendar=us,
    )  # fmt: skip
    assert cube.n_flagged > 1000  # the City Hall default point is left out
    names = ["baseline_last", "baseline_ma4", "baseline_mean", "baseline_kde", "ensemble"]
    summary = summarise(backtest(cube, names, n_origins=6)).set_index("model")
    print(summary[["pai_1", "pai_5", "pai_10", "pei_5", "deviance"]].round(3))
    best = summary.loc[summary.index.str.startswith("baseline_"), "pai_5"].max()
    assert summary.loc["ensemble", "pai_5"] >= 0.97 * best
    assert summary.loc["ensemble", "pai_5"] > summary.loc["baseline_last", "pai_5"]


# --- the command line -----------------------------------------------------------------------------------


def test_cli_backtest_and_forecast(tmp_path: Path) -> None:
    from app.cli import main
    from grid.cells import cell_centers, cells_to_parents, strings_to_cells

    rng = np.random.default_rng(11)
    n_weeks = 14
    start = pd.Timestamp("2026-01-05", tz="Asia/Shanghai")  # a Monday
    hot = _disk(0, res=9)
    hlat, hlon = cell_centers(hot)
    n_bg = 700
    frame = pd.DataFrame(
        {
            "lat": np.concatenate(
                [CENTRE[0] + rng.uniform(-0.012, 0.012, n_bg), hlat[0] + rng.uniform(-3e-4, 3e-4, 280)]
            ),
            "lon": np.concatenate(
                [CENTRE[1] + rng.uniform(-0.014, 0.014, n_bg), hlon[0] + rng.uniform(-3e-4, 3e-4, 280)]
            ),
            "offset_h": rng.uniform(0, n_weeks * 7 * 24, n_bg + 280),
        }
    )
    frame["category_code"] = rng.choice(["06010", "09001"], len(frame))
    frame["case_id"] = [f"C{i:05d}" for i in range(len(frame))]
    frame["source"] = "hotline"
    frame["reported_at"] = (start + pd.to_timedelta(frame.pop("offset_h"), unit="h")).map(
        lambda t: t.isoformat()
    )
    csv = tmp_path / "cases.csv"
    frame.to_csv(csv, index=False)
    runner = CliRunner()
    out = tmp_path / "bt.csv"
    base = ["--cases", str(csv), "--res", "9"]
    result = runner.invoke(
        main,
        [
            "backtest",
            *base,
            "--weeks",
            "4",
            "--models",
            "baseline_last,baseline_mean,baseline_kde",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert list(table.columns[:9]) == [
        "model", "origin", "hit_rate_1", "pai_1", "pai_2", "pai_5", "pai_10", "pei_5", "deviance"
    ]  # fmt: skip
    assert len(table) == 12
    assert set(table["origin"]) == {"2026-W12", "2026-W13", "2026-W14", "2026-W15"}
    assert (tmp_path / "bt_curve.svg").read_text().startswith("<svg")
    assert "baseline_mean" in result.output
    fc = tmp_path / "fc.csv"
    result = runner.invoke(main, ["forecast", *base, "--model", "baseline_mean", "--out", str(fc)])
    assert result.exit_code == 0, result.output
    got = pd.read_csv(fc)
    assert list(got.columns) == ["h3", "period", "period_start", "expected", "rank", "risk", "model"]
    assert (got["period"] == "2026-W16").all()
    top = strings_to_cells(got["h3"].to_numpy()[:1])
    assert cells_to_parents(top, 9)[0] == hot[0]
    assert got["rank"].iloc[0] == 1
    bad = runner.invoke(main, ["forecast", *base, "--model", "nope"])
    assert bad.exit_code == 1
    assert "unknown model" in bad.output
