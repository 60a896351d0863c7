"""Times (issue #25): strict fixed-width fallbacks, explicit epoch/Excel formats, Chinese forms, windows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cases.importing import import_cases
from cases.mapping import Mapping
from cases.parsing import outside_window, parse_times, plausible_window

ZONE = "Asia/Shanghai"


def _utc(texts: list[str], fmt: str | None = None) -> list[str]:
    parsed = parse_times(pd.Series(texts, dtype="string"), fmt=fmt, timezone=ZONE)
    return [str(t)[:19] if not np.isnat(t) else "NaT" for t in parsed.utc]


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("1735689600", "NaT"),  # epoch seconds: not %Y%m%d%H%M%S with single-digit fields (year 1735)
        ("1735689600000", "NaT"),
        ("202512314", "NaT"),  # 9 digits fit no fixed-width form
        ("2025123", "NaT"),
        ("1/2/25", "NaT"),  # US short date: never the year 1
        ("1/2/2025", "NaT"),
        ("20250102143000", "2025-01-02T06:30:00"),
        ("20250102", "2025-01-01T16:00:00"),
        ("2025/1/2 8:05", "2025-01-02T00:05:00"),
        ("2025年1月2日 14时30分", "2025-01-02T06:30:00"),
        ("2025年1月2日 14时30分15秒", "2025-01-02T06:30:15"),
        ("2025年1月2日 14:30", "2025-01-02T06:30:00"),
        ("２０２５年１月２日 １４：３０", "2025-01-02T06:30:00"),
        ("2025年1月2日 下午2点30分", "2025-01-02T06:30:00"),
        ("2025年1月2日 上午9点", "2025-01-02T01:00:00"),
        ("2025年1月2日 凌晨12点5分", "2025-01-01T16:05:00"),
        ("2025年1月2日", "2025-01-01T16:00:00"),
        ("2025年2月30日", "NaT"),
    ],
)
def test_known_answers(text: str, utc: str) -> None:
    assert _utc([text]) == [utc]


def test_epoch_and_excel_only_by_explicit_format() -> None:
    assert _utc(["1735689600", "1735689600.5"], "epoch_s") == ["2025-01-01T00:00:00", "2025-01-01T00:00:00"]
    assert _utc(["1735689600000"], "epoch_ms") == ["2025-01-01T00:00:00"]
    # Excel serial day 45659.5 = 2025-01-02 12:00 local (Asia/Shanghai) = 04:00 UTC
    assert _utc(["45659.5", "abc", "1e20"], "excel") == ["2025-01-02T04:00:00", "NaT", "NaT"]
    assert _utc(["45659.5"]) == ["NaT"]


def test_window() -> None:
    low, high = plausible_window(np.datetime64("2026-12-07T00:00:00"))
    assert (str(low)[:10], str(high)[:10]) == ("2000-01-01", "2026-12-08")
    times = np.array(["1999-12-31T23:59", "2000-01-01T00:00", "2026-12-09", "NaT"], dtype="datetime64[us]")
    assert outside_window(times, (low, high)).tolist() == [True, False, True, False]


HEADER = "case_id,reported_at,category_code,closed_at\n"


def _stored(engine: Engine) -> dict[str, tuple]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT case_id, reported_at, closed_at FROM cases")).all()
    return {r[0]: (str(r[1])[:16], None if r[2] is None else str(r[2])[:16]) for r in rows}


def test_implausible_report_times_are_quarantined(tmp_path: Path, sqlite_engine: Engine) -> None:
    rows = [
        "A1,2025-01-02 08:00,road,2025-01-03 08:00",
        "A2,2099-01-01 08:00,road,",
        "A3,1900-01-01 08:00,road,",
        "A4,1970-01-01 08:00,road,",
        "A5,2025-01-02 08:00,road,2099-01-01 00:00",  # optional time: a field defect
        "A6,2025年1月2日 下午2点30分,road,",
    ]
    path = tmp_path / "times.csv"
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    report = import_cases(path, sqlite_engine)
    assert (report.read, report.imported, report.quarantined, report.defective) == (6, 3, 3, 1)
    assert report.quarantine[["line", "reason"]].values.tolist() == [
        [3, "implausible_time"],
        [4, "implausible_time"],
        [5, "implausible_time"],
    ]
    defect = report.defects.iloc[0]
    assert (defect["line"], defect["field"], defect["reason"]) == (6, "closed_at", "implausible_time")
    stored = _stored(sqlite_engine)
    assert stored["A5"] == ("2025-01-02 00:00", None)
    assert stored["A6"][0] == "2025-01-02 06:30"


def test_the_window_is_configurable_and_epoch_ms_by_mapping(tmp_path: Path, sqlite_engine: Engine) -> None:
    path = tmp_path / "epoch.csv"
    path.write_text(HEADER + "A1,1735689600000,road,\nA2,946684800000,road,\n", encoding="utf-8")
    mapping = Mapping(date_formats={"reported_at": "epoch_ms"})
    window = (dt.datetime(2020, 1, 1, tzinfo=dt.UTC), dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    report = import_cases(path, sqlite_engine, mapping=mapping, time_window=window)
    assert (report.imported, report.quarantined) == (1, 1)  # 2000-01-01 is before 2020
    assert _stored(sqlite_engine) == {"A1": ("2025-01-01 00:00", None)}
