"""cases.parsing: times (formats, offsets, zones, the DST rule), numbers, booleans."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from cases.parsing import parse_bools, parse_numbers, parse_times


def _s(*values: str) -> pd.Series:
    return pd.Series(pa.array(list(values)), dtype=pd.ArrowDtype(pa.string()))


def _utc(*texts: str) -> list:
    return [np.datetime64(t, "us") if t else np.datetime64("NaT") for t in texts]


def test_naive_times_are_local_and_offsets_win() -> None:
    parsed = parse_times(
        _s("2024-03-05 08:00:00", "2024-03-05T08:00:00+08:00", "2024-03-05T00:00:00Z", "", "NULL", "soon"),
        fmt=None,
        timezone="Asia/Shanghai",
    )
    expected = _utc("2024-03-05T00:00", "2024-03-05T00:00", "2024-03-05T00:00", "", "", "")
    np.testing.assert_array_equal(parsed.utc, expected)
    np.testing.assert_array_equal(parsed.present, [True, True, True, False, False, True])
    np.testing.assert_array_equal(parsed.bad, [False, False, False, False, False, True])


def test_format_then_iso_fallback_and_impossible_dates() -> None:
    parsed = parse_times(
        _s("03/05/2024 08:00:00 PM", "2024-03-05 20:00:00", "02/30/2024 01:00:00 PM", "3/5/2024 8:00:00 PM"),
        fmt="%m/%d/%Y %I:%M:%S %p",
        timezone="UTC",
    )
    np.testing.assert_array_equal(
        parsed.utc, _utc("2024-03-05T20:00", "2024-03-05T20:00", "", "2024-03-05T20:00")
    )
    np.testing.assert_array_equal(parsed.bad, [False, False, True, False])  # no 30 February


def test_chinese_formats_and_full_width_digits() -> None:
    parsed = parse_times(
        _s("2024/03/05 08:00", "2024年3月5日 08:00", "２０２４－０３－０５ ０８：００：００", "20240305"),
        fmt=None,
        timezone="Asia/Shanghai",
    )
    np.testing.assert_array_equal(
        parsed.utc, _utc("2024-03-05T00:00", "2024-03-05T00:00", "2024-03-05T00:00", "2024-03-04T16:00")
    )


def test_dst_overlap_takes_the_first_occurrence_and_gap_shifts_forward() -> None:
    parsed = parse_times(
        _s("2015-11-01 01:30:00", "2015-03-08 02:30:00", "2015-07-01 12:00:00"),
        fmt=None,
        timezone="America/New_York",
    )
    # 01:30 happens twice on 1 Nov 2015: the first is EDT (UTC-4). 02:30 on 8 Mar does not exist: 03:00 EDT.
    np.testing.assert_array_equal(
        parsed.utc, _utc("2015-11-01T05:30", "2015-03-08T07:00", "2015-07-01T16:00")
    )
    assert (parsed.ambiguous, parsed.nonexistent) == (1, 1)
    assert not parsed.bad.any()


def test_numbers() -> None:
    numbers, present, bad = parse_numbers(
        _s("32.5", " 120.25 ", "１２０．５", "", "N/A", "nan", "1,5", "-", "inf")
    )
    np.testing.assert_array_equal(numbers[:3], [32.5, 120.25, 120.5])
    np.testing.assert_array_equal(present, [True, True, True, False, False, False, True, False, True])
    np.testing.assert_array_equal(bad, [False, False, False, False, False, False, True, False, True])
    assert np.isnan(numbers[3:]).all()


def test_bools() -> None:
    values, present, bad = parse_bools(_s("true", "0", "是", "离岗", "", "maybe"))
    np.testing.assert_array_equal(values[:4], [True, False, True, False])
    np.testing.assert_array_equal(present, [True, True, True, True, False, True])
    np.testing.assert_array_equal(bad, [False, False, False, False, False, True])
