"""Coverage KPIs on hand-built fine cubes with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from patrol.kpis import INSPECTOR_KPI_COLUMNS, cell_neglect, inspector_coverage

TZ = "Asia/Shanghai"


def _day(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=TZ)


def _fine(rows: list[tuple[str, int, str, float, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["inspector_id", "cell", "period", "seconds", "idle_s"])
    frame["period"] = pd.to_datetime(frame["period"]).dt.tz_localize(TZ)
    frame["last_visit"] = (frame["period"] + pd.Timedelta(hours=10)).dt.tz_convert("UTC")
    frame["visits"] = 1
    return frame


ASSIGNMENTS = pd.DataFrame(
    {
        "inspector_id": ["A", "A", "A", "A", "B"],
        "cell": [1, 2, 3, 4, 9],
        "valid_from": pd.to_datetime(["2025-03-01"] * 4 + ["2025-03-04"]).tz_localize(TZ),
        "valid_to": pd.to_datetime([None, None, None, "2025-03-03 12:00", None]).tz_localize(TZ),
    }
)


def test_daily_coverage_share_and_times() -> None:
    fine = _fine(
        [
            ("A", 1, "2025-03-03", 600, 60),
            ("A", 2, "2025-03-03", 300, 0),
            ("A", 7, "2025-03-03", 120, 0),  # not assigned
            ("A", 1, "2025-03-04", 900, 300),
        ]
    )
    days = pd.date_range("2025-03-03", "2025-03-04", freq="D", tz=TZ)
    kpi = inspector_coverage(fine, ASSIGNMENTS, days).set_index(["inspector_id", "period"])
    assert list(kpi.reset_index().columns) == list(INSPECTOR_KPI_COLUMNS)
    monday = kpi.loc[("A", _day("2025-03-03"))]
    assert monday["assigned_cells"] == 4  # cell 4 still valid until noon
    assert monday["visited_cells"] == 2
    assert monday["coverage_share"] == pytest.approx(0.5)
    assert monday["cells_outside_assignment"] == 1
    assert monday["patrol_minutes"] == pytest.approx(17.0)
    assert monday["idle_minutes"] == pytest.approx(1.0)
    assert monday["moving_share"] == pytest.approx(16 / 17)
    tuesday = kpi.loc[("A", _day("2025-03-04"))]
    assert (tuesday["assigned_cells"], tuesday["visited_cells"]) == (3, 1)
    b_tuesday = kpi.loc[("B", _day("2025-03-04"))]  # assigned, never walked: zeros, not a missing row
    assert (b_tuesday["assigned_cells"], b_tuesday["visited_cells"], b_tuesday["patrol_minutes"]) == (
        1,
        0,
        0.0,
    )
    assert b_tuesday["coverage_share"] == 0.0
    assert ("B", _day("2025-03-03")) not in kpi.index  # not assigned yet


def test_weekly_coverage_counts_distinct_cells_over_the_week() -> None:
    fine = _fine(
        [("A", 1, "2025-03-03", 60, 0), ("A", 2, "2025-03-05", 60, 0), ("A", 1, "2025-03-06", 60, 0)]
    )
    days = pd.date_range("2025-03-03", "2025-03-09", freq="D", tz=TZ)
    kpi = inspector_coverage(fine, ASSIGNMENTS, days, freq="W")
    a = kpi[kpi["inspector_id"] == "A"].iloc[0]
    assert a["period"] == _day("2025-03-03")
    assert (a["assigned_cells"], a["visited_cells"]) == (4, 2)
    assert a["patrol_minutes"] == pytest.approx(3.0)


def test_cell_neglect_known_answers() -> None:
    fine = _fine(
        [
            ("A", 1, "2025-03-01", 60, 0),
            ("A", 1, "2025-03-03", 60, 0),
            ("B", 1, "2025-03-07", 60, 0),
            ("A", 2, "2025-03-02", 60, 0),
        ]
    )
    as_of = pd.Timestamp("2025-03-10 10:00", tz=TZ)
    out = cell_neglect(fine, np.array([1, 2, 3]), as_of=as_of, never_days=7).set_index("cell")
    assert out.loc[1, "days_since_visit"] == pytest.approx(3.0)  # last visit 03-07 10:00 local
    assert out.loc[1, "visit_days"] == 3
    assert out.loc[1, "median_revisit_days"] == pytest.approx(3.0)  # gaps 2 and 4 days
    assert not out.loc[1, "neglected"]
    assert out.loc[2, "days_since_visit"] == pytest.approx(8.0)
    assert out.loc[2, "neglected"]
    assert np.isnan(out.loc[2, "median_revisit_days"])
    assert out.loc[3, "days_since_visit"] == np.inf
    assert out.loc[3, "neglected"]
    assert out.loc[3, "visit_days"] == 0


def test_input_errors() -> None:
    fine = _fine([("A", 1, "2025-03-03", 60, 0)])
    with pytest.raises(ValueError, match="'D' or 'W'"):
        inspector_coverage(fine, ASSIGNMENTS, pd.date_range("2025-03-03", periods=1, tz=TZ), freq="M")
    with pytest.raises(ValueError, match="tz-aware"):
        inspector_coverage(fine, ASSIGNMENTS, pd.date_range("2025-03-03", periods=1))
    with pytest.raises(ValueError, match="tz-aware"):
        cell_neglect(fine, np.array([1]), as_of=pd.Timestamp("2025-03-10"))


def test_cell_neglect_with_no_visit_at_all() -> None:
    """An inspector with no stored track: every assigned cell is never visited (and nothing crashes)."""
    from patrol.coverage import _empty_fine

    cells = np.array([622351903562694655, 622351903562727423], dtype=np.int64)
    out = cell_neglect(_empty_fine("Asia/Shanghai"), cells, as_of=pd.Timestamp("2025-01-01", tz="UTC"))
    assert out["cell"].tolist() == sorted(cells.tolist())
    assert out["neglected"].all()
    assert np.isinf(out["days_since_visit"]).all()
    assert (out["visit_days"] == 0).all()
