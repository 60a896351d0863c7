"""grid.assignments: cells without an inspector, cells with two inspectors at once."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from grid.assignments import assignment_gaps, assignment_overlaps, uncovered_days


def _utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="Asia/Shanghai").tz_convert("UTC")


def _assign(rows: list[tuple[str, int, str, str | None]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "inspector_id": [r[0] for r in rows],
            "cell": [r[1] for r in rows],
            "valid_from": pd.to_datetime([_utc(r[2]) for r in rows], utc=True),
            "valid_to": pd.to_datetime([_utc(r[3]) if r[3] else pd.NaT for r in rows], utc=True),
        }
    )


ROSTER = _assign(
    [
        ("A", 1, "2026-03-01", "2026-03-04"),  # cell 1: A until the 4th, B from the 5th -> gap on the 4th
        ("B", 1, "2026-03-05", None),
        ("A", 2, "2026-03-01", None),  # cell 2: A all along, C from 3rd to 6th -> overlap
        ("C", 2, "2026-03-03", "2026-03-06"),
        ("A", 3, "2026-03-02 12:00", "2026-03-06"),  # cell 3: starts late, ends early
        ("A", 3, "2026-03-01", "2026-03-02 12:00"),
        ("D", 9, "2026-03-01", None),  # not a managed cell: ignored by the gap check
    ]
)


def test_gaps_are_found_with_their_periods() -> None:
    gaps = assignment_gaps(ROSTER, [1, 2, 3, 4], start="2026-03-01", end="2026-03-08")
    got = [(r.cell, r.gap_from, r.gap_to) for r in gaps.itertuples()]
    assert got == [
        (1, _utc("2026-03-04"), _utc("2026-03-05")),
        (3, _utc("2026-03-06"), _utc("2026-03-08")),
        (4, _utc("2026-03-01"), _utc("2026-03-08")),
    ]
    days = uncovered_days(gaps)
    assert days[days["cell"] == 1]["day"].tolist() == [dt.date(2026, 3, 4)]
    assert days[days["cell"] == 3]["day"].tolist() == [dt.date(2026, 3, 6), dt.date(2026, 3, 7)]
    assert len(days[days["cell"] == 4]) == 7
    assert days["uncovered_h"].tolist() == pytest.approx([24.0] * len(days))


def test_no_gaps_when_always_covered() -> None:
    assert assignment_gaps(ROSTER, [2], start="2026-03-01", end="2026-03-08").empty


def test_overlaps_name_both_inspectors_and_the_period() -> None:
    overlaps = assignment_overlaps(ROSTER)
    assert len(overlaps) == 1
    row = overlaps.iloc[0]
    assert (row["cell"], row["inspector_a"], row["inspector_b"]) == (2, "A", "C")
    assert row["overlap_from"] == _utc("2026-03-03")
    assert row["overlap_to"] == _utc("2026-03-06")


def test_open_ended_overlap_has_no_end() -> None:
    both_open = _assign([("A", 5, "2026-03-01", None), ("B", 5, "2026-03-02", None)])
    row = assignment_overlaps(both_open).iloc[0]
    assert row["overlap_from"] == _utc("2026-03-02")
    assert pd.isna(row["overlap_to"])


def test_bad_rows_are_named() -> None:
    bad = _assign([("A", 1, "2026-03-05", "2026-03-01")])
    with pytest.raises(ValueError, match=r"row 0 .*inspector A, cell 1"):
        assignment_overlaps(bad)
    naive = ROSTER.assign(valid_from=ROSTER["valid_from"].dt.tz_localize(None))
    with pytest.raises(ValueError, match="tz-aware"):
        assignment_overlaps(naive)
