"""patrol.coverage, patrol.store, patrol.scale: known-answer walks, real files to coverage, pandas = Dask."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from grid.cells import cell_centers, grid_disk, latlng_to_cells
from patrol.coverage import cell_summary, coverage_cube, reduce_tracks, track_pieces
from patrol.readers import TrackMapping, read_tracks
from patrol.scale import fine_cube_dask, fine_cube_from_store
from patrol.store import iter_days, write_tracks
from patrol.tracks import clean_tracks, haversine_m
from tests.conftest import SHARED_DATASETS

DATASETS = SHARED_DATASETS


def _dataset(*parts: str) -> Path:
    path = DATASETS.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared dataset {path} not found (../shared/datasets absent)")
    return path


def _line_of_cells(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centres of n+1 res-10 cells in a straight row (each the previous plus the same neighbour step)."""
    c0 = int(latlng_to_cells(32.0, 120.86))
    ring = grid_disk([c0], 1, include_self=False)["neighbour"].to_numpy()
    lat0, lon0 = cell_centers(np.array([c0]))
    lat1, lon1 = cell_centers(ring[:1])
    k = np.arange(n + 1)
    lat, lon = lat0[0] + k * (lat1[0] - lat0[0]), lon0[0] + k * (lon1[0] - lon0[0])
    return lat, lon, latlng_to_cells(lat, lon)


def test_straight_walk_across_known_cells_gives_those_cells_and_times() -> None:
    lat_c, lon_c, expected = _line_of_cells(5)  # walk from centre of cell 0 to centre of cell 5
    assert len(set(expected.tolist())) == 6
    n_fixes = 121  # 600 s at one fix per 5 s
    f = np.linspace(0, 1, n_fixes)
    walk = pd.DataFrame(
        {
            "inspector_id": "I1",
            "ts": pd.Timestamp("2026-03-02 01:00", tz="UTC") + pd.to_timedelta(f * 600, unit="s"),
            "lat": lat_c[0] + f * (lat_c[-1] - lat_c[0]),
            "lon": lon_c[0] + f * (lon_c[-1] - lon_c[0]),
        }
    )
    fine = reduce_tracks(clean_tracks(walk))
    got = fine.set_index("cell")["seconds"]
    assert set(got.index) == set(expected.tolist())
    # half a cell at each end, four whole cells between: 60, 120, 120, 120, 120, 60 s (±1 piece of 20 m)
    want = pd.Series([60.0, 120, 120, 120, 120, 60], index=expected)
    piece_s = 600.0 / (haversine_m(lat_c[0], lon_c[0], lat_c[-1], lon_c[-1]) / 20.0)  # time of one 20 m piece
    np.testing.assert_allclose(got.reindex(want.index), want, atol=piece_s)
    assert got.sum() == pytest.approx(600.0)
    assert (fine["visits"] == 1).all()


def test_sparse_fixes_still_cover_the_cells_between() -> None:
    lat_c, lon_c, expected = _line_of_cells(6)
    walk = pd.DataFrame(
        {
            "inspector_id": "I1",
            "ts": pd.to_datetime(["2026-03-02 01:00", "2026-03-02 01:07"], utc=True),
            "lat": lat_c[[0, -1]],
            "lon": lon_c[[0, -1]],
        }
    )
    cleaned = clean_tracks(walk)
    pieces = track_pieces(cleaned)
    assert set(pieces["cell"]) == set(expected.tolist())
    assert pieces["seconds"].sum() == pytest.approx(420.0)


def test_visits_count_entries_and_cube_has_zeros() -> None:
    lat_c, lon_c, cells = _line_of_cells(2)
    lat = np.r_[lat_c, lat_c[::-1][1:]]  # there and back: cells 0,1,2,1,0
    lon = np.r_[lon_c, lon_c[::-1][1:]]
    walk = pd.DataFrame(
        {
            "inspector_id": "I1",
            "ts": pd.Timestamp("2026-03-02 01:00", tz="UTC") + pd.to_timedelta(np.arange(5) * 60, unit="s"),
            "lat": lat,
            "lon": lon,
        }
    )
    fine = reduce_tracks(clean_tracks(walk), step_m=5)
    visits = fine.set_index("cell")["visits"]
    assert visits[cells[0]] == 2  # start there, come back
    assert visits[cells[1]] == 2
    assert visits[cells[2]] == 1
    universe = np.r_[cells, 12345]  # not a real visited cell: a zero row
    period = pd.DatetimeIndex(pd.to_datetime(["2026-03-02", "2026-03-03"]).tz_localize("Asia/Shanghai"))
    cube = coverage_cube(fine, cells=universe, periods=period)
    assert len(cube) == 4 * 2
    assert cube["minutes"].sum() == pytest.approx(4.0)
    assert cube.loc[(12345, period[0]), "visits"] == 0
    summary = cell_summary(fine, cells=universe)
    assert summary.set_index("cell").loc[12345, "minutes"] == 0


@pytest.mark.shared_data
def test_real_files_import_and_reduce_to_coverage(tmp_path: Path) -> None:
    gpx, _ = read_tracks(_dataset("gpx_run_dc", "run.gpx"), inspector="R1")
    assert len(gpx) == 206
    plt_files = sorted(_dataset("geolife_raw_plt", "geolife_modes").rglob("*.plt"))
    plt = pd.concat([read_tracks(f)[0] for f in plt_files], ignore_index=True)
    assert len(plt) == 3418 + 715 + 84
    assert set(plt["inspector_id"]) == {"010", "020", "178"}
    mapping = TrackMapping(
        columns={"inspector_id": "tracker", "ts": "t", "lat": "Y", "lon": "X"}, delimiter=";"
    )
    csv, _ = read_tracks(_dataset("geolife_small", "geolife_small.csv"), mapping=mapping)
    gpkg, _ = read_tracks(
        _dataset("geolife_small", "geolife_small.gpkg"),
        mapping=TrackMapping(columns={"inspector_id": "tracker"}),
    )
    pd.testing.assert_frame_equal(csv, gpkg)
    for points in (gpx, plt, csv):
        cleaned = clean_tracks(points)
        assert cleaned["valid"].sum() + cleaned["reason"].notna().sum() == len(points)
        fine = reduce_tracks(cleaned)
        assert len(fine) > 10
        assert (fine["seconds"] >= 0).all()
    gpx_fine = reduce_tracks(clean_tracks(gpx))
    assert 500 < gpx_fine["length_m"].sum() < 3200  # ~3.1 km run, some steps dropped or split


def test_store_is_idempotent_and_partitioned_by_local_day(tmp_path: Path) -> None:
    walk = pd.DataFrame(
        {
            "inspector_id": ["A", "A", "B"],
            "ts": pd.to_datetime(
                ["2026-03-01 15:59:59", "2026-03-01 16:00:00", "2026-03-01 16:00:00"], utc=True
            ),
            "lat": [32.0, 32.0001, 32.0],
            "lon": [120.86, 120.86, 120.86],
            "accuracy_m": [5.0, 5.0, 5.0],
        }
    )
    first = write_tracks(walk, tmp_path)
    assert (first.added, first.duplicates, first.days) == (3, 0, ["2026-03-01", "2026-03-02"])
    again = write_tracks(walk, tmp_path)
    assert (again.added, again.duplicates, again.days) == (0, 3, [])
    more = write_tracks(pd.concat([walk, walk.assign(inspector_id="C")]), tmp_path)
    assert (more.added, more.duplicates) == (2, 4)  # C's two rows at 16:00 are one point
    days = {date.isoformat(): len(frame) for date, frame in iter_days(tmp_path)}
    assert days == {"2026-03-01": 2, "2026-03-02": 3}
    assert sorted((tmp_path / "day=2026-03-02").iterdir()) == [tmp_path / "day=2026-03-02" / "part.parquet"]


@pytest.mark.shared_data
def test_pandas_and_dask_paths_give_identical_cubes(tmp_path: Path) -> None:
    files = sorted(_dataset("geolife_raw_plt", "geolife_long_10_MB").rglob("*.plt"))[:40]
    points = pd.concat([read_tracks(f)[0] for f in files], ignore_index=True)
    write_tracks(points, tmp_path)
    chunked = fine_cube_from_store(tmp_path)
    dask_cube = fine_cube_dask(tmp_path)
    pd.testing.assert_frame_equal(chunked, dask_cube)
    whole = reduce_tracks(clean_tracks(points))  # all at once in memory: same answer
    pd.testing.assert_frame_equal(
        chunked, whole.sort_values(["inspector_id", "cell", "period"], ignore_index=True)
    )
