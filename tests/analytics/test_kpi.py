"""analytics.kpi: published figures (Tianmen), the demo city against its configured rates, Boston's own flag.

* Tianmen, December 2016 (DOMAIN.md §3.3): 996 filed, 972 应结案, 911 结案, 737 按期结案 → 93.72 %, 75.82 %.
* The demo city (tests/analytics/conftest.py) is simulated with on-time 93.5 %, closure 99.5 %, satisfaction
  99.8 %, rework 3 %, cancellation 2 %; the KPIs computed from its files must be within ±1 point.
* Boston 311 (2015): the on-time flag computed from OPEN_DT / TARGET_DT / CLOSED_DT after the product's
  import must agree with the city's ``OnTime_Status`` on ≥ 99 % of closed cases, overall and per department.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics.kpi import (
    COUNT_COLUMNS,
    NO_GROUP,
    RATE_COLUMNS,
    Deduction,
    Scoring,
    attach_areas,
    attach_areas_from_polygons,
    attach_inspectors,
    case_flags,
    department_scores,
    grades,
    inspector_kpis,
    kpi_table,
    load_scoring,
)
from tests.conftest import shared_dataset

TZ = "Asia/Shanghai"
GROUPINGS = ("district", "subdistrict", "department", "inspector", "category")


def _ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=TZ).tz_convert("UTC")


def tianmen_month() -> pd.DataFrame:
    """December 2016 as published: 996 filed; 24 still within their limit on 1 January; 972 due, of which
    737 closed on time, 174 closed late and 61 still open past the deadline. Plus three cases that must not
    count: filed in November, cancelled (never filed), and one filed in December but parked (挂账)."""
    rng = np.random.default_rng(8)
    n = 996
    filed = pd.Series(
        _ts("2016-12-01 08:00") + pd.to_timedelta(rng.uniform(0, 20 * 24, n), unit="h")
    )  # closed by the 29th
    kind = np.repeat(["on_time", "late", "open_overdue", "open_in_time"], [737, 174, 61, 24])
    hours = np.where(kind == "open_in_time", 40 * 24, rng.uniform(4, 72, n))
    limit = pd.Series(pd.to_timedelta(hours, unit="h"))
    share = np.select(
        [kind == "on_time", kind == "late"], [rng.uniform(0.1, 1.0, n), rng.uniform(1.01, 3.0, n)]
    )
    closed_at = (filed + limit * share).where(np.isin(kind, ["on_time", "late"]))
    frame = pd.DataFrame(
        {
            "case_id": [f"TM{k:04d}" for k in range(n)],
            "source": "hotline",
            "category_code": "06010",
            "reported_at": filed - pd.Timedelta(minutes=30),
            "registered_at": filed,
            "dispatched_at": filed,
            "department": np.where(np.arange(n) % 2 == 0, "环卫", "城管"),
            "deadline_at": filed + limit,
            "resolved_at": closed_at - pd.Timedelta(seconds=1),
            "verified_at": closed_at,
            "closed_at": closed_at,
            "status": np.where(closed_at.notna(), "closed", "dispatched"),
            "satisfaction": np.nan,
            "suspended_at": pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns, UTC]"),
        }
    )
    others = frame.iloc[:3].copy()
    others["case_id"] = ["NOV1", "CANCEL1", "PARK1"]
    others.loc[others.index[0], ["registered_at", "dispatched_at"]] = _ts("2016-11-30 10:00")
    others.loc[others.index[1], ["registered_at", "dispatched_at", "deadline_at", "closed_at"]] = pd.NaT
    others.loc[others.index[1], "status"] = "cancelled"
    others.loc[others.index[2], ["closed_at", "resolved_at", "verified_at"]] = pd.NaT
    others.loc[others.index[2], ["status", "suspended_at"]] = ["suspended", _ts("2016-12-20 09:00")]
    return pd.concat([frame, others], ignore_index=True)


def test_tianmen_month_reproduces_the_published_rates() -> None:
    cases = tianmen_month()
    row = kpi_table(cases, start="2016-12-01", end="2016-12-31", timezone=TZ).iloc[0]
    assert (row["cases"], row["should_close"], row["closed"], row["closed_on_time"]) == (997, 972, 911, 737)
    assert round(100 * row["closure_rate"], 2) == 93.72
    assert round(100 * row["on_time_closure_rate"], 2) == 75.82
    assert row["suspended"] == 1  # PARK1: filed in December, parked, so out of 应结案
    # handled one second before closing: handling follows closure here
    assert (row["should_handle"], row["handled"], row["handled_on_time"]) == (972, 911, 737)
    assert row["overdue"] == 972 - 737
    by_dept = kpi_table(cases, by="department", start="2016-12-01", end="2016-12-31", timezone=TZ)
    assert by_dept["department"].tolist() == ["城管", "环卫"]
    assert by_dept[["should_close", "closed", "closed_on_time"]].sum().tolist() == [972, 911, 737]
    # a snapshot taken mid-month sees fewer closures and fewer due cases
    early = kpi_table(cases, start="2016-12-01", end="2016-12-31", as_of="2016-12-15", timezone=TZ).iloc[0]
    assert early["should_close"] < 972
    assert early["closed"] < 911
    # a resumed case with its history: once un-parked it is due again
    events = pd.DataFrame(
        {
            "case_id": ["PARK1", "PARK1"],
            "at": [_ts("2016-12-20 09:00"), _ts("2016-12-28 09:00")],
            "from_status": ["suspension_requested", "suspended"],
            "to_status": ["suspended", "dispatched"],
        }
    )
    resumed = kpi_table(cases, events, start="2016-12-01", end="2016-12-31", timezone=TZ).iloc[0]
    assert (resumed["suspended"], resumed["should_close"]) == (0, 973)


def test_rework_extension_and_satisfaction_from_the_history() -> None:
    cases = tianmen_month().iloc[:10].copy()
    cases["satisfaction"] = [1, 1, 0, np.nan, 1, 1, 1, 1, 1, 1]
    events = pd.DataFrame(
        {
            "case_id": ["TM0000", "TM0001", "TM0001", "TM0002", "TM0003"],
            "at": [_ts("2016-12-02")] * 4 + [_ts("2017-02-01")],  # the last one is after as_of
            "from_status": ["resolved", "resolved", "extension_requested", "extension_requested", "resolved"],
            "to_status": ["dispatched", "dispatched", "dispatched", "dispatched", "dispatched"],
            "action": ["check_fail", "check_fail", "approve_extension", "reject_extension", "check_fail"],
        }
    )
    flags = case_flags(cases, events, start="2016-12-01", end="2016-12-31", timezone=TZ)
    assert flags.loc[flags["reworked"], "case_id"].tolist() == ["TM0000", "TM0001"]
    assert flags.loc[flags["extended"], "case_id"].tolist() == ["TM0001"]  # a rejection is no extension
    row = kpi_table(cases, events, start="2016-12-01", end="2016-12-31", timezone=TZ).iloc[0]
    assert row["rework_rate"] == pytest.approx(2 / row["handled"])
    assert row["extension_rate"] == pytest.approx(1 / row["should_close"])
    assert (row["callbacks"], row["satisfied"]) == (
        9,
        8,
    )  # all ten are closed on-time cases; one has no callback
    hours = (flags["closed_at"] - flags["dispatched_at"] - pd.Timedelta(seconds=1)) / pd.Timedelta(hours=1)
    assert row["handling_hours_mean"] == pytest.approx(hours.mean())
    assert row["handling_hours_p90"] == pytest.approx(hours.quantile(0.9))


@pytest.fixture(scope="module")
def city(city_cases: pd.DataFrame, city_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    cells = pd.read_parquet(city_dir / "geo" / "cells.parquet", columns=["cell", "district", "subdistrict"])
    assignments = pd.read_csv(city_dir / "people" / "assignments.csv", dtype=str)
    events = pd.read_parquet(city_dir / "cases" / "case_events.parquet")
    config = json.loads((city_dir / "truth" / "config.json").read_text(encoding="utf-8"))
    return attach_inspectors(attach_areas(city_cases, cells), assignments), events, config


def test_demo_city_matches_the_configured_rates(city) -> None:
    cases, events, config = city
    end = (pd.Timestamp(config["start"]) + pd.Timedelta(days=config["days"] - 1)).date()
    row = kpi_table(cases, events, start=config["start"], end=end, timezone=config["timezone"]).iloc[0]
    assert abs(row["closure_rate"] - config["closure_rate"]) <= 0.01
    assert abs(row["on_time_closure_rate"] - config["on_time_rate"]) <= 0.01
    assert abs(row["satisfaction_rate"] - config["satisfaction_rate"]) <= 0.01
    assert abs(row["rework_rate"] - config["rework_rate"]) <= 0.01
    assert abs((cases["status"] == "cancelled").mean() - config["cancel_rate"]) <= 0.01
    assert row["should_close"] > 20_000  # the ±1 point is not luck of a small sample
    # the simulator's only approved extensions: a few open cases of the last day (sim.present)
    approved = events["to_status"].eq("dispatched") & events["from_status"].eq("extension_requested")
    assert row["extended"] == events.loc[approved, "case_id"].nunique() <= 40


def test_every_grouping_adds_up_to_the_total(city) -> None:
    cases, events, _ = city
    assert cases["district"].notna().mean() > 0.99
    assert cases["inspector"].notna().mean() > 0.9
    total = kpi_table(cases, events).iloc[0]
    for by in GROUPINGS:
        table = kpi_table(cases, events, by=by)
        assert table[by].is_unique
        assert len(table) > 1
        for column in COUNT_COLUMNS:
            assert table[column].sum() == total[column], (by, column)
        rates = table[list(RATE_COLUMNS)].to_numpy(dtype=float)
        assert np.all(np.isnan(rates) | ((rates >= 0) & (rates <= 1)))
    # the slowest department (ZJ, simulated 1.6× as late as average) ranks below the fastest (HW, 0.7×)
    dept = kpi_table(cases, events, by="department")
    key = dept["department"].str.split("-").str[-1]
    late = dept.assign(key=key).groupby("key")[["should_close", "closed_on_time"]].sum()
    on_time = late["closed_on_time"] / late["should_close"]
    assert on_time["ZJ"] < on_time["HW"]


def test_department_scores_and_grades(city) -> None:
    assert grades([100, 90, 89.9, 75, 60, 59.99, 40, 39.9, np.nan]).tolist() == [
        "A", "A", "B", "B", "C", "D", "D", "E", "",
    ]  # fmt: skip
    table = pd.DataFrame(
        {
            "department": ["a", "b"],
            "handling_rate": [1.0, 0.9],
            "on_time_handling_rate": [0.95, 0.5],
            "overdue": [10, 1000],
            "reworked": [0, 3],
            "extended": [0, 0],
        }
    )
    scoring = Scoring(
        deductions=(Deduction("overdue", "overdue", 0.1, 20.0), Deduction("rework", "reworked", 0.2, 10.0))
    )
    scored = department_scores(table, scoring)
    assert scored["base_score"].tolist() == pytest.approx(
        [100 * (0.4 * 1.0 + 0.6 * 0.95), 100 * (0.4 * 0.9 + 0.6 * 0.5)]
    )
    assert scored["deduct_overdue"].tolist() == pytest.approx([1.0, 20.0])  # capped at 20
    assert scored["score"].tolist() == pytest.approx([97.0 - 1.0, 66.0 - 20.0 - 0.6])
    assert scored["grade"].tolist() == ["A", "D"]
    shipped = load_scoring()
    assert [d.name for d in shipped.deductions] == ["overdue", "rework", "extension"]
    assert shipped.inspector_weights == {
        "valid_reports": 0.25,
        "on_time_verify_rate": 0.40,
        "on_time_check_rate": 0.35,
    }
    cases, events, _ = city
    demo = department_scores(kpi_table(cases, events, by="department"))
    demo = demo[demo["department"] != NO_GROUP]  # waiting for dispatch (sim.present): no department yet
    assert demo["score"].between(0, 100).all()
    assert set(demo["grade"]) <= set("ABCDE")


def test_inspector_kpis_on_a_planted_history() -> None:
    """A: 3 patrol reports (1 cancelled); 2 public reports in A's beat verified after 0.5 and 2 working hours;
    one feedback checked after 1 working hour, one never checked (limit 4 h long past). B: 1 report."""
    t = _ts("2025-03-03 09:00")  # Monday
    h = pd.Timedelta(hours=1)
    cases = pd.DataFrame(
        {
            "case_id": ["p1", "p2", "p3", "q1", "q2", "b1"],
            "source": ["patrol", "patrol", "patrol", "hotline", "wechat", "patrol"],
            "reported_by": ["A", "A", "A", None, None, "B"],
            "reported_at": [t] * 6,
            "registered_at": [t + h, t + h, pd.NaT, t + 3 * h, t + 3 * h, t + h],
            "status": ["closed", "resolved", "cancelled", "closed", "registered", "dispatched"],
            "inspector": ["A", "A", "A", "A", "A", "B"],
        }
    )
    events = pd.DataFrame(
        {
            "case_id": ["q1", "q2", "p1", "p1", "p2"],
            "at": [t + 0.5 * h, t + 2 * h, t + 5 * h, t + 6 * h, t + 5 * h],
            "from_status": ["reported", "reported", "dispatched", "resolved", "dispatched"],
            "to_status": ["verified", "verified", "resolved", "checked", "resolved"],
        }
    ).sort_values(["case_id", "at"], kind="stable")
    scoring = Scoring(verify_limit_hours=1.0, check_limit_hours=4.0)
    out = inspector_kpis(cases, events, as_of="2025-03-10", timezone=TZ, scoring=scoring).set_index(
        "inspector"
    )
    a, b = out.loc["A"], out.loc["B"]
    assert (a["reports"], a["valid_reports"], b["reports"], b["valid_reports"]) == (3, 2, 1, 1)
    assert (a["should_verify"], a["verified_on_time"]) == (2, 1)
    assert (a["should_check"], a["checked_on_time"]) == (2, 1)  # t+5h → t+6h is 1 working hour (lunch aside)
    assert a["valid_reports_points"] == 100.0
    assert b["valid_reports_points"] == 50.0
    assert a["score"] == pytest.approx(0.25 * 100 + 0.40 * 50 + 0.35 * 50)
    assert b["score"] == pytest.approx(50.0)  # only the report count is defined for B: weights renormalised
    assert (a["grade"], b["grade"]) == ("C", "D")  # 62.5 and 50


@pytest.mark.shared_data
@pytest.mark.slow  # imports the 121k-row extract through the product's importer (~15 s on an idle core)
def test_boston_on_time_flag_agrees_with_the_city(tmp_path: Path) -> None:
    """The flag computed after the product's import (TARGET_DT → deadline_at) against Boston's own.

    Found (and asserted): every closed case the city flagged agrees with ours; 82 closed cases carry no
    flag at all in the export (all closed after their target, 40 BTDT abandoned vehicles, 29 PWDx street
    lights …), so they count as disagreements: 99.92 % overall, the worst department BTDT 99.75 %. Cases
    without a target are on time in both (no deadline, never overdue). The 197 rows that close before they
    open are quarantined by the importer and not compared.
    """
    from cases.db import init_db, make_engine
    from cases.importing import import_cases
    from cases.lifecycle import load_lifecycle_frame
    from cases.mapping import load_mapping

    csv = shared_dataset("boston311_2015") / "boston311_2015.csv.gz"
    engine = make_engine(f"sqlite:///{tmp_path / 'boston.db'}")
    init_db(engine)
    import_cases(csv, engine, mapping=load_mapping("boston311"))
    cases = load_lifecycle_frame(engine)
    engine.dispose()
    flags = case_flags(cases)  # no window: every case, as of the last step in the data
    closed = flags[flags["closed"]]
    ours = np.where(closed["closed_on_time"], "ONTIME", "OVERDUE")
    city = pd.read_csv(csv, dtype=str, usecols=["CASE_ENQUIRY_ID", "OnTime_Status", "Department"])
    city = city.set_index("CASE_ENQUIRY_ID").reindex(closed["case_id"].astype(str))
    agree = ours == city["OnTime_Status"].to_numpy()
    assert len(closed) == 101_272 - 197  # every closed case except the quarantined close-before-open rows
    overall = agree.mean()
    per_dept = pd.Series(agree).groupby(city["Department"].to_numpy()).mean()
    sizes = pd.Series(agree).groupby(city["Department"].to_numpy()).size()
    report = pd.DataFrame({"agreement": per_dept, "closed": sizes})
    print(f"\nBoston on-time agreement {overall:.4%} of {len(closed):,} closed cases\n{report.to_string()}")
    assert overall >= 0.99
    assert (per_dept >= 0.99).all(), per_dept[per_dept < 0.99]
    disagree = city[~agree]
    assert disagree["OnTime_Status"].isna().all()  # where the city gave a flag, we agree on every case
    assert set(ours[~agree]) == {"OVERDUE"}


def test_cli_kpi_from_a_file_and_from_the_database(tmp_path: Path) -> None:
    import datetime as dt

    from click.testing import CliRunner

    from app.cli import main
    from cases.db import init_db, make_engine
    from cases.lifecycle import report_case, transition

    month = tianmen_month()
    month = month[month["case_id"] != "PARK1"].drop(columns="suspended_at").assign(lat=30.66, lon=113.17)
    path = tmp_path / "tianmen.csv"
    month.to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%S%z")
    out = tmp_path / "kpi.csv"
    args = ["--db-url", f"sqlite:///{tmp_path / 'unused.db'}", "kpi", "--cases", str(path)]
    args += ["--by", "department", "--from", "2016-12-01", "--to", "2016-12-31", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert sorted(table["department"]) == ["城管", "环卫"]  # ranked by score
    assert table[["should_close", "closed", "closed_on_time"]].sum().tolist() == [972, 911, 737]
    assert set(RATE_COLUMNS) <= set(table.columns)
    assert {"score", "grade"} <= set(table.columns)
    assert table["closure_rate"].between(0, 1).all()
    # the database path: two cases moved through the state machine, one reworked
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(url)
    init_db(engine)
    t0 = dt.datetime(2025, 3, 3, 1, 0, tzinfo=dt.UTC)
    for k, rework in ((1, False), (2, True)):
        case = f"S{k}"
        report_case(engine, case_id=case, source="patrol", category_code="06010", reported_at=t0,
                    actor="I01", role="inspector", lat=32.0, lon=120.86)  # fmt: skip
        steps = [("register", "supervisor"), ("dispatch", "dispatcher"), ("handle", "department")]
        steps += [("check_fail", "inspector"), ("handle", "department")] if rework else []
        steps += [("check_pass", "inspector"), ("close", "supervisor")]
        for m, (action, role) in enumerate(steps, start=1):
            extra = {"department": "D1-HW"} if action == "dispatch" else {}
            transition(engine, case, action, "x", role, t0 + dt.timedelta(minutes=10 * m), **extra)
    engine.dispose()
    out = tmp_path / "kpi.parquet"
    result = CliRunner().invoke(main, ["--db-url", url, "kpi", "--by", "category", "--out", str(out)])
    assert result.exit_code == 0, result.output
    row = pd.read_parquet(out).iloc[0]
    assert (row["category"], row["closed"], row["closed_on_time"], row["reworked"]) == ("06010", 2, 2, 1)
    assert row["rework_rate"] == 0.5
    out = tmp_path / "inspectors.csv"
    result = CliRunner().invoke(main, ["--db-url", url, "kpi", "--by", "inspector", "--out", str(out)])
    assert result.exit_code == 0, result.output
    people = pd.read_csv(out).set_index("inspector")  # no assignments stored: the reporter of patrol finds
    assert (people.loc["I01", "cases"], people.loc["I01", "reports"], people.loc["I01", "valid_reports"]) == (
        2,
        2,
        2,
    )
    assert people.loc["I01", "should_check"] == 3  # three feedbacks, each checked 10 minutes later
    assert people.loc["I01", "on_time_check_rate"] == 1.0
    bad = CliRunner().invoke(main, ["--db-url", url, "kpi", "--out", str(tmp_path / "x.html")])
    assert bad.exit_code == 2
    none = CliRunner().invoke(main, ["--db-url", url, "kpi", "--by", "district"])
    assert none.exit_code == 1
    assert "need a cells file or district areas" in none.output


def test_areas_from_polygons_join_on_cell() -> None:
    """Cases with a cell get the area of their cell (the cells-table rule); only cell-less ones are placed
    by point-in-polygon."""
    import geopandas as gpd
    import shapely

    from grid.build import cells_from_polygons
    from grid.cells import latlng_to_cells

    west, east = shapely.box(120.85, 32.0, 120.86, 32.01), shapely.box(120.86, 32.0, 120.87, 32.01)
    areas = gpd.GeoDataFrame(
        {"area_id": ["D1", "D2", "S1"], "level": ["district", "district", "subdistrict"]},
        geometry=[west, east, west],
        crs="EPSG:4326",
    )
    lat = np.array([32.005, 32.005, 32.002, 32.008])
    lon = np.array([120.852, 120.868, 120.8599, 120.855])
    cell = pd.array(latlng_to_cells(lat, lon, 10), dtype="Int64")
    cell[3] = pd.NA  # no cell: point-in-polygon
    cases = pd.DataFrame({"case_id": list("abcd"), "lat": lat, "lon": lon, "cell": cell})
    out = attach_areas_from_polygons(cases, areas)
    table = attach_areas(cases.iloc[:3], cells_from_polygons(areas, res=10))
    assert out["district"].iloc[:3].tolist() == table["district"].tolist()
    assert out["subdistrict"].iloc[:3].astype(object).fillna("-").tolist() == (
        table["subdistrict"].astype(object).fillna("-").tolist()
    )
    assert out["district"].tolist()[:2] == ["D1", "D2"]
    assert out["district"].iloc[3] == "D1"  # no cell: its point is in D1
    assert out["subdistrict"].iloc[3] == "S1"
    assert pd.isna(out["subdistrict"].iloc[1])
    no_cells = attach_areas_from_polygons(cases.drop(columns="cell"), areas)
    assert no_cells["district"].tolist() == ["D1", "D2", "D1", "D1"]
