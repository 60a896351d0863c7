"""The numba cleaning/coverage kernels give exactly what the plain numpy/pandas formulation gives.

References here are the straightforward vectorised versions the kernels replaced (numpy shifts for speeds
and spikes, a pandas groupby of the pieces, pandas time zone conversion per instant, h3-py per point), run
on messy synthetic tracks: GPS spikes, duplicates, missing times and coordinates, poor fixes, gaps,
dwells, several inspectors, shuffled rows and zones with DST changes inside the data.
"""

from __future__ import annotations

from pathlib import Path

import h3
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from grid.cells import latlng_to_cells
from patrol.coverage import reduce_tracks, track_pieces
from patrol.scale import fine_cube_dask, fine_cube_from_store, reduce_day
from patrol.store import TRACK_SCHEMA, _read_day, write_tracks
from patrol.tracks import REASONS, clean_tracks, haversine_m, utc_offsets_ns

_NS = 1_000_000_000


def _messy(n_walks: int, start: str, seed: int = 7, per_walk: int = 720) -> pd.DataFrame:
    """Random walks at 1.4 m/s, one fix per 5 s, with every kind of defect the cleaner handles."""
    rng = np.random.default_rng(seed)
    heading = np.cumsum(rng.normal(0, 0.3, (n_walks, per_walk)), axis=1)
    lat = 32.0 + rng.uniform(0, 0.05, (n_walks, 1)) + np.cumsum(np.cos(heading) * 7 / 111_195, axis=1)
    lon = 120.86 + rng.uniform(0, 0.05, (n_walks, 1)) + np.cumsum(np.sin(heading) * 7 / 94_300, axis=1)
    pos = np.arange(per_walk)
    dwell = (pos >= 300) & (pos < 360)  # a five-minute stop with metre-level jitter
    lat[:, dwell] = lat[:, [300]] + rng.normal(0, 2e-5, (n_walks, dwell.sum()))
    lon[:, dwell] = lon[:, [300]] + rng.normal(0, 2e-5, (n_walks, dwell.sum()))
    t0 = pd.Timestamp(start, tz="UTC").value + np.arange(n_walks)[:, None] * 3 * 3600 * _NS
    ts = t0 + pos[None, :] * 5 * _NS
    ts[:, 500:] += 700 * _NS  # a gap over 10 min: a new session
    frame = pd.DataFrame(
        {
            "inspector_id": np.repeat([f"I{w % 4}" for w in range(n_walks)], per_walk),
            "ts": pd.to_datetime(ts.reshape(-1), utc=True),
            "lat": lat.reshape(-1),
            "lon": lon.reshape(-1),
            "accuracy_m": np.float32(8.0),
        }
    )
    m = len(frame)
    pick = [rng.choice(m, m // k, replace=False) for k in (150, 400, 800, 800, 800)]
    frame.loc[pick[0], "lat"] += rng.normal(0, 0.01, len(pick[0]))  # GPS jumps
    frame.loc[pick[1], "accuracy_m"] = 90.0
    frame.loc[pick[2], "lat"] = np.nan
    frame.loc[pick[3], "lon"] = 200.0
    frame.loc[pick[4], "ts"] = pd.NaT
    frame = pd.concat([frame, frame.iloc[rng.choice(m, m // 300, replace=False)]], ignore_index=True)
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)  # unsorted input


def _numpy_speeds(lat, lon, t, new):  # the vectorised formulation the kernels replaced
    v = np.full(len(t), np.nan)
    if len(t) > 1:
        dist = haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:])
        dt = (t[1:] - t[:-1]) / _NS
        with np.errstate(divide="ignore", invalid="ignore"):
            v[1:] = np.where(dt > 0, dist / dt, np.where(dist > 0, np.inf, 0.0))
    v[new] = np.nan
    return v


def _numpy_breaks(key, day, t, gap_ns):
    out = np.ones(len(key), dtype=bool)
    out[1:] = (key[1:] != key[:-1]) | (day[1:] != day[:-1]) | (t[1:] - t[:-1] > gap_ns)
    return out


def _numpy_reference(points: pd.DataFrame, timezone: str, max_speed: float = 8.0, gap_s: float = 600.0):
    """Reasons, sessions and speeds as the numpy version of clean_tracks computed them."""
    out = points.assign(inspector_id=points["inspector_id"].astype(str))
    out = out.sort_values(["inspector_id", "ts"], kind="stable", ignore_index=True)
    t = pd.DatetimeIndex(out["ts"]).as_unit("ns").asi8
    lat, lon = out["lat"].to_numpy(), out["lon"].to_numpy()
    key = pd.factorize(out["inspector_id"])[0]
    bad_time = out["ts"].isna().to_numpy()
    bad_xy = ~(np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180))
    dup = out.duplicated(["inspector_id", "ts"], keep="first").to_numpy() & ~bad_time
    poor = out["accuracy_m"].to_numpy(dtype=np.float64) > 50.0
    local = pd.DatetimeIndex(np.where(bad_time, 0, t), tz="UTC").tz_convert(timezone).tz_localize(None)
    day = np.where(bad_time, 0, local.as_unit("ns").asi8 // (86_400 * _NS))
    gap_ns = int(gap_s * _NS)
    ok = ~(bad_time | bad_xy | dup | poor)
    spikes = np.zeros(len(ok), dtype=bool)
    for _ in range(5):
        idx = np.flatnonzero(ok & ~spikes)
        v_in = _numpy_speeds(lat[idx], lon[idx], t[idx], _numpy_breaks(key[idx], day[idx], t[idx], gap_ns))
        found = (v_in > max_speed) & (np.append(v_in[1:], np.nan) > max_speed)
        if not found.any():
            break
        spikes[idx[found]] = True
    reason = np.select([bad_time, bad_xy, dup, poor, spikes], list(REASONS), default="")
    idx = np.flatnonzero(reason == "")
    new = _numpy_breaks(key[idx], day[idx], t[idx], gap_ns)
    speed = _numpy_speeds(lat[idx], lon[idx], t[idx], new)
    new |= speed > max_speed
    speed[new] = np.nan
    return reason, idx, np.cumsum(new) - 1, speed


@pytest.mark.parametrize(
    ("timezone", "start"), [("Asia/Shanghai", "2026-03-01 22:00"), ("Europe/Berlin", "2026-03-28 20:00")]
)
def test_cleaning_kernels_equal_the_numpy_formulation(timezone: str, start: str) -> None:
    points = _messy(12, start)
    cleaned = clean_tracks(points, timezone=timezone)
    reason, idx, session, speed = _numpy_reference(points, timezone)
    assert (cleaned["reason"].fillna("").to_numpy() == reason).all()
    assert set(reason) == {"", *REASONS}  # every defect is present, so every branch ran
    np.testing.assert_array_equal(cleaned["session_id"].to_numpy()[idx], session)
    # numpy may use SIMD sin/cos (AVX-512) that differ from libm in the last bit: equal to 1e-12, NaN too
    np.testing.assert_allclose(cleaned["speed_mps"].to_numpy()[idx], speed, rtol=1e-12)
    assert (cleaned["stop_id"] >= 0).any()


def _pandas_fine(pieces: pd.DataFrame, freq: str, timezone: str) -> pd.DataFrame:
    """reduce_tracks as a pandas groupby of the pieces (the formulation the kernels replaced)."""
    sess, cell = pieces["session_id"].to_numpy(), pieces["cell"].to_numpy()
    entry = np.ones(len(pieces), dtype=bool)
    entry[1:] = (sess[1:] != sess[:-1]) | (cell[1:] != cell[:-1])
    local = pd.DatetimeIndex(pieces["start_ns"], tz="UTC").tz_convert(timezone).tz_localize(None)
    step = {"D": 86_400 * _NS, "h": 3_600 * _NS}[freq]
    floored = local.as_unit("ns").asi8 // step * step
    period = pd.DatetimeIndex(floored).tz_localize(timezone, ambiguous="NaT", nonexistent="shift_forward")
    seconds = pieces["seconds"].to_numpy()
    frame = pd.DataFrame(
        {
            "inspector_id": pieces["inspector_id"].array,
            "cell": cell,
            "period": period,
            "seconds": seconds,
            "idle_s": np.where(pieces["idle"].to_numpy(), seconds, 0.0),
            "length_m": pieces["length_m"].to_numpy(),
            "visits": entry.astype(np.int64),
            "end_ns": pieces["start_ns"].to_numpy() + (seconds * 1e9).astype(np.int64),
        }
    )
    fine = frame.groupby(["inspector_id", "cell", "period"], sort=True, observed=True).agg(
        seconds=("seconds", "sum"),
        idle_s=("idle_s", "sum"),
        length_m=("length_m", "sum"),
        visits=("visits", "sum"),
        end_ns=("end_ns", "max"),
    )
    fine = fine.reset_index()
    fine["inspector_id"] = fine["inspector_id"].astype(str)
    fine["last_visit"] = pd.to_datetime(fine.pop("end_ns"), unit="ns", utc=True)
    return fine


@pytest.mark.parametrize("freq", ["D", "h"])
@pytest.mark.parametrize(
    ("timezone", "start"), [("America/New_York", "2026-11-01 02:00"), ("Asia/Shanghai", "2026-03-01 12:00")]
)
def test_fine_cube_sums_equal_the_pandas_groupby_bit_for_bit(timezone: str, start: str, freq: str) -> None:
    cleaned = clean_tracks(_messy(10, start), timezone=timezone)
    pieces = track_pieces(cleaned)
    assert (pieces["cell"] != cleaned["cell"].iloc[0]).any()
    assert pieces["idle"].any()
    got = reduce_tracks(cleaned, freq=freq, timezone=timezone)
    pd.testing.assert_frame_equal(got, _pandas_fine(pieces, freq, timezone), check_exact=True)


def test_utc_offsets_equal_pandas_through_dst_and_rule_changes() -> None:
    rng = np.random.default_rng(3)
    cases = {
        "Europe/Berlin": "2026-03-29 00:59",  # spring forward at 01:00 UTC
        "America/New_York": "2026-11-01 05:59",  # fall back at 06:00 UTC
        "Australia/Lord_Howe": "2026-04-04 14:59",  # a 30-minute DST change
        "Asia/Shanghai": "2026-03-01 00:00",
    }
    for timezone, around in cases.items():
        t = pd.Timestamp(around, tz="UTC").value + rng.integers(-3 * 3600, 3 * 3600, 5000) * _NS
        t = np.r_[t, np.iinfo(np.int64).min, pd.Timestamp(around, tz="UTC").value + 60 * _NS]
        known = t != np.iinfo(np.int64).min
        local = pd.DatetimeIndex(t[known], tz="UTC").tz_convert(timezone).tz_localize(None).as_unit("ns")
        got = utc_offsets_ns(t, timezone)
        np.testing.assert_array_equal(got[known], local.asi8 - t[known])
        assert got[~known].tolist() == [0]
    years = pd.Timestamp("2020-01-01", tz="UTC").value + rng.integers(0, 5 * 365 * 86_400, 2000) * _NS
    local = pd.DatetimeIndex(years, tz="UTC").tz_convert("Europe/Berlin").tz_localize(None).as_unit("ns")
    np.testing.assert_array_equal(utc_offsets_ns(years, "Europe/Berlin"), local.asi8 - years)


def test_a_day_file_in_any_order_reduces_like_clean_then_reduce(tmp_path: Path) -> None:
    points = _messy(8, "2026-03-02 01:00")
    points = points[points["ts"].notna() | (np.arange(len(points)) % 2 == 0)]  # keep some missing times
    path = tmp_path / "day=2026-03-02" / "part.parquet"
    path.parent.mkdir()
    frame = points.assign(ts=points["ts"].dt.as_unit("ms"))
    pq.write_table(pa_table(frame), path)  # written as is: unsorted, duplicates, nulls
    want = reduce_tracks(clean_tracks(_read_day(path, None)))
    pd.testing.assert_frame_equal(reduce_day(path), want, check_exact=True)
    one = reduce_day(path, inspector="I2", clean_options={"res": 9, "max_speed_mps": 5.0})
    cleaned = clean_tracks(_read_day(path, "I2"), res=9, max_speed_mps=5.0)
    pd.testing.assert_frame_equal(one, reduce_tracks(cleaned, res=9), check_exact=True)


def pa_table(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame, schema=TRACK_SCHEMA, preserve_index=False)


def test_dask_threaded_scheduler_gives_the_pandas_cube(tmp_path: Path) -> None:
    points = _messy(16, "2026-03-01 10:00")
    write_tracks(points[points["ts"].notna()], tmp_path)
    pandas_cube = fine_cube_from_store(tmp_path, freq="h")
    assert pandas_cube["period"].dt.date.nunique() >= 2
    pd.testing.assert_frame_equal(pandas_cube, fine_cube_dask(tmp_path, freq="h"), check_exact=True)


def test_fixes_walking_inside_one_cell_get_h3_py_cells() -> None:
    """latlng_to_cells reuses the previous fix's index when (face, i, j, k) repeat: still h3's answer."""
    rng = np.random.default_rng(11)
    lat = 32.0 + np.cumsum(rng.normal(0, 2e-5, 3000))
    lon = 120.86 + np.cumsum(rng.normal(0, 2e-5, 3000))
    lat[1500:1510] = np.nan  # a hole in the run of equal cells
    got = latlng_to_cells(lat, lon, 10, invalid="null")
    want = [
        0 if np.isnan(a) else h3.str_to_int(h3.latlng_to_cell(a, b, 10))
        for a, b in zip(lat, lon, strict=True)
    ]
    np.testing.assert_array_equal(got, np.array(want, dtype=np.int64))
    assert (np.diff(got) == 0).mean() > 0.8  # the reuse path is what ran
