"""patrol.tracks: cleaning with known answers (jumps, gaps, duplicates, accuracy), stops vs MovingPandas."""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from patrol.readers import TrackMapping, read_tracks
from patrol.tracks import REASONS, clean_tracks, haversine_m, stops_table
from tests.conftest import SHARED_DATASETS

DATASETS = SHARED_DATASETS
GEOLIFE_CSV = DATASETS / "geolife_small" / "geolife_small.csv"
GEOLIFE_MAPPING = TrackMapping(
    columns={"inspector_id": "trajectory_id", "ts": "t", "lat": "Y", "lon": "X"}, delimiter=";"
)


def _walk(
    n: int, *, step_s: float = 5.0, speed_mps: float = 1.4, start: str = "2026-03-02 01:00"
) -> pd.DataFrame:
    """A straight walk north from (32.0, 120.86), one fix every ``step_s``."""
    t = pd.Timestamp(start, tz="UTC") + pd.to_timedelta(np.arange(n) * step_s, unit="s")
    lat = 32.0 + np.arange(n) * step_s * speed_mps / 111_195.0
    return pd.DataFrame(
        {"inspector_id": "I1", "ts": t, "lat": lat, "lon": np.full(n, 120.86), "accuracy_m": 5.0}
    )


def test_haversine_known_value() -> None:
    assert float(haversine_m(0, 0, 1, 1)) == pytest.approx(157_249.6, rel=1e-4)


def test_clean_walk_is_all_valid_one_session() -> None:
    cleaned = clean_tracks(_walk(100))
    assert cleaned["valid"].all()
    assert cleaned["reason"].isna().all()
    assert (cleaned["session_id"] == 0).all()
    assert cleaned["speed_mps"].iloc[1:].to_numpy() == pytest.approx(1.4, rel=1e-3)
    assert np.isnan(cleaned["speed_mps"].iloc[0])
    assert cleaned["cell"].dtype == np.int64


def test_gps_jump_at_200_kmh_is_dropped_with_its_reason() -> None:
    walk = _walk(50)
    jump_m = 200 / 3.6 * 5.0  # 200 km/h over one 5 s step
    walk.loc[25, "lat"] += jump_m / 111_195.0
    cleaned = clean_tracks(walk)
    assert cleaned.loc[25, "reason"] == "speed_jump"
    assert not cleaned.loc[25, "valid"]
    assert cleaned["valid"].sum() == 49
    assert (cleaned.loc[cleaned["valid"], "session_id"] == 0).all()  # the walk goes on, one session
    assert cleaned["speed_mps"].max() < 3.0


def test_twenty_minute_gap_splits_the_session() -> None:
    first, second = _walk(20), _walk(20, start="2026-03-02 01:21:35")  # 20 min after the last fix
    cleaned = clean_tracks(pd.concat([first, second], ignore_index=True))
    assert cleaned["session_id"].tolist() == [0] * 20 + [1] * 20
    assert np.isnan(cleaned["speed_mps"].iloc[20])
    kept = clean_tracks(pd.concat([first, second], ignore_index=True), gap_s=1800)
    assert (kept["session_id"] == 0).all()


def test_sessions_split_at_local_midnight() -> None:
    walk = _walk(40, start="2026-03-02 15:58")  # 23:58 in Shanghai
    cleaned = clean_tracks(walk)
    local = cleaned["ts"].dt.tz_convert("Asia/Shanghai").dt.date
    assert cleaned.groupby("session_id")["ts"].size().size == 2
    assert (cleaned.groupby("session_id").apply(lambda g: local[g.index].nunique()) == 1).all()


def test_every_dropped_or_flagged_fix_keeps_its_reason() -> None:
    walk = _walk(30)
    walk = pd.concat([walk, walk.iloc[[3, 4]]], ignore_index=True)  # two duplicates
    walk.loc[7, "accuracy_m"] = 120.0
    walk.loc[9, "lat"] = np.nan
    cleaned = clean_tracks(walk, max_accuracy_m=50)
    counts = cleaned["reason"].value_counts()
    assert counts.to_dict() == {"duplicate": 2, "poor_accuracy": 1, "bad_coordinates": 1}
    assert cleaned["valid"].sum() + counts.sum() == len(walk)
    assert set(counts.index) <= set(REASONS)
    assert (cleaned.loc[~cleaned["valid"], "session_id"] == -1).all()
    assert cleaned["ts"].is_monotonic_increasing


def test_input_checks() -> None:
    walk = _walk(3)
    with pytest.raises(ValueError, match="tz-aware"):
        clean_tracks(walk.assign(ts=walk["ts"].dt.tz_localize(None)))
    with pytest.raises(ValueError, match="lacks column"):
        clean_tracks(walk.drop(columns="lat"))
    with pytest.raises(ValueError, match="derived"):
        clean_tracks(clean_tracks(walk))


def test_stop_is_found_on_a_synthetic_dwell() -> None:
    walk = _walk(30)
    dwell = walk.iloc[[-1] * 40].copy()
    dwell["ts"] = walk["ts"].iloc[-1] + pd.to_timedelta(np.arange(1, 41) * 5, unit="s")
    dwell["lat"] += np.random.default_rng(1).normal(0, 2e-5, 40)  # ±2 m of jitter
    cleaned = clean_tracks(pd.concat([walk, dwell], ignore_index=True))
    stops = stops_table(cleaned)
    assert len(stops) == 1
    assert stops["duration_s"].iloc[0] >= 180


def _geolife_points() -> pd.DataFrame:
    if not GEOLIFE_CSV.exists():
        pytest.skip(f"geolife_small not found at {GEOLIFE_CSV} (../shared/datasets absent)")
    points, problems = read_tracks(GEOLIFE_CSV, mapping=GEOLIFE_MAPPING)
    assert problems.empty
    return points


def _movingpandas_stops(points: pd.DataFrame, max_diameter: float, min_duration_s: float) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import geopandas as gpd
        import movingpandas as mpd

        gdf = gpd.GeoDataFrame(points, geometry=gpd.points_from_xy(points["lon"], points["lat"]), crs=4326)
        gdf["t"] = gdf["ts"].dt.tz_localize(None)
        trajs = mpd.TrajectoryCollection(gdf.drop(columns="ts").set_index("t"), "inspector_id")
        detector = mpd.TrajectoryStopDetector(trajs)
        return detector.get_stop_points(
            max_diameter=max_diameter, min_duration=dt.timedelta(seconds=min_duration_s)
        )


@pytest.mark.shared_data
@pytest.mark.parametrize(("max_diameter", "min_duration_s"), [(30, 120), (50, 60), (100, 300)])
def test_stops_match_movingpandas_on_geolife(max_diameter: float, min_duration_s: float) -> None:
    points = _geolife_points()
    cleaned = clean_tracks(
        points,
        max_speed_mps=1e9,
        gap_s=1e9,
        timezone="UTC",
        stop_max_diameter_m=max_diameter,
        stop_min_duration_s=min_duration_s,
    )
    ours = stops_table(cleaned)
    theirs = _movingpandas_stops(points, max_diameter, min_duration_s)
    assert abs(len(ours) - len(theirs)) <= max(1, 0.1 * len(theirs))
    # most MovingPandas stops have one of ours with start and end within 30 s
    starts = ours["start_time"].dt.tz_localize(None).to_numpy()
    ends = ours["end_time"].dt.tz_localize(None).to_numpy()
    matched = 0
    for start, end in zip(theirs["start_time"].to_numpy(), theirs["end_time"].to_numpy(), strict=True):
        close = (np.abs(starts - start) <= np.timedelta64(30, "s")) & (
            np.abs(ends - end) <= np.timedelta64(30, "s")
        )
        matched += bool(close.any())
    # ours measures the bounding-box diagonal, MovingPandas the minimum rotated rectangle's diagonal
    assert matched >= 0.8 * len(theirs)


def test_gpx_point_without_time_is_quarantined_not_a_crash(tmp_path: Path) -> None:
    """Route GPX files (and some exports) carry points with no <time>: that row is a problem, not a crash."""
    gpx = tmp_path / "I1.gpx"
    gpx.write_text(
        '<?xml version="1.0"?><gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1">'
        '<trk><trkseg><trkpt lat="32.0" lon="120.9"></trkpt>'
        '<trkpt lat="32.001" lon="120.9"><time>2025-01-01T01:00:00Z</time></trkpt></trkseg></trk></gpx>',
        encoding="utf-8",
    )
    points, problems = read_tracks(gpx)
    assert len(points) == 1
    assert problems[["line", "field", "reason"]].to_dict("records") == [
        {"line": 1, "field": "ts", "reason": "bad_time"}
    ]
    assert problems["raw"].iloc[0] == "32.0,120.9,"
