"""Every page for every role: what each role sees, what it may not see, and what the pages compute.

The planted city (``city`` fixture, tests/app/conftest.py) has two inspectors with 19-cell beats, 20 weeks of
cases with a cluster in I001's beat that grows every week, open tasks for both inspectors and two days of
I001's tracks.
"""

from __future__ import annotations

import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cases.models import Case, CaseEvent
from grid.cells import cells_to_parents, cells_to_strings, latlng_to_cells

XSS = "<img src=x onerror=alert(1)>"
PHONE = "13812345678"
#: page → roles whose navigation holds it
ACCESS = {
    "home": {"admin", "planner", "manager", "inspector"},
    "hotspots": {"admin", "planner", "manager"},
    "recurring": {"admin", "planner", "manager"},
    "emerging": {"admin", "planner", "manager"},
    "forecast": {"admin", "planner", "manager"},
    "my_grid": {"admin", "inspector"},
    "dashboard": {"admin", "manager"},
    "deployment": {"admin", "manager"},
    "coverage": {"admin", "manager"},
    "data": {"admin"},
}


@pytest.mark.parametrize("role", ["admin", "planner", "manager", "inspector"])
def test_each_role_reaches_exactly_its_pages(app_db: Engine, login, role: str) -> None:
    # The navigation is built on the server from the role: a page outside it cannot be switched to (nor
    # opened by URL, see tests/browser). Pages are run for their roles in the tests below.
    at = login(role)
    assert not at.exception
    for page, roles in ACCESS.items():
        if role in roles:
            at.switch_page(f"views/{page}.py")
        else:
            with pytest.raises(ValueError, match="Could not find a navigation page"):
                at.switch_page(f"views/{page}.py")


def test_every_page_runs_for_the_admin_without_an_error(city, login) -> None:
    at = login("admin")
    for page in ACCESS:
        at.switch_page(f"views/{page}.py").run()
        assert not at.exception, (page, at.exception)
        assert not [e.value for e in at.error], page


def test_recurring_ranks_the_cluster_cell_first(city, login) -> None:
    at = login("planner")
    at.switch_page("views/recurring.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    centre = cells_to_parents(latlng_to_cells(np.array([32.010]), np.array([120.860]), 10), 9)
    top = table.iloc[0]
    assert top["h3"] == cells_to_strings(centre)[0]  # the cluster has cases every week
    assert top["share"] == 1.0
    assert top["current_run"] == top["n_periods"]
    # the cell history below is the top cell's by default: one bar per week, and its cases as text
    history = at.dataframe[1].value
    assert len(history) >= 20
    assert "description" in history.columns


def test_emerging_finds_the_growing_cluster(city, login) -> None:
    at = login("planner")
    at.switch_page("views/emerging.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    centre = cells_to_strings(
        cells_to_parents(latlng_to_cells(np.array([32.010]), np.array([120.860]), 10), 9)
    )
    row = table[table["h3"] == centre[0]].iloc[0]
    assert row["pattern"].endswith("hot_spot")
    assert row["trend_z"] > 0


def test_emerging_with_too_few_periods_says_so(city, login) -> None:
    at = login("planner")
    at.switch_page("views/emerging.py").run()
    at.selectbox[1].select("month").run()  # 20 weeks = 5 months < 10 periods
    assert not at.exception
    assert "10" in at.warning[0].value


def test_hotspots_has_the_cell_history(city, login) -> None:
    at = login("manager")
    at.switch_page("views/hotspots.py").run()
    assert not at.exception
    picker = next(s for s in at.selectbox if s.key == "hotspots-cell")
    areas, table, history = (frame.value for frame in at.dataframe)
    assert picker.value == table.iloc[0]["h3"]  # the hottest cell first
    assert areas.iloc[0]["h3"] == table.iloc[0]["h3"]  # the busiest area peaks there
    assert len(history) > 0
    assert [b.label for b in at.get("download_button")] == ["CSV", "GeoJSON", "HTML"]


def _tasks(at) -> list[str]:
    return list(at.dataframe[0].value["case_id"])


def test_inspector_sees_only_own_tasks_with_masked_phone(city, login, monkeypatch) -> None:
    monkeypatch.setenv("GRIDPATROL_PATROL_NEVER_VISITED_DAYS", "3")  # the city's neglect threshold
    at = login("inspector")
    at.switch_page("views/my_grid.py").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["我的网格数"] == "19"
    assert metrics["待核实"] == "1"
    assert metrics["待核查"] == "1"
    table = at.dataframe[0].value
    assert set(table["case_id"]) == {city["mine_verify"], city["mine_check"]}
    assert city["other"] not in set(table["case_id"])
    assert set(table["reporter_phone"]) == {"138****5678"}
    assert XSS in set(table["description"])  # the text itself, shown as text by the data grid
    # the tracks cover 3 of 19 cells in the last days: the other cells are not patrolled for 3 days
    neglected = int(metrics["3 天未巡查网格"])
    assert 10 <= neglected < 19


def test_admin_sees_the_phone_in_full_for_a_chosen_inspector(city, login) -> None:
    at = login("admin")
    at.switch_page("views/my_grid.py").run()
    at.selectbox[0].select("I002").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["case_id"]) == [city["other"]]
    assert list(table["reporter_phone"]) == [PHONE]
    # read-only: the lifecycle lets only the inspector act on site
    assert not [r for r in at.radio if r.label == "处理结果"]
    assert any("只读" in c.value for c in at.caption)


def test_a_case_of_another_inspector_in_the_url_is_refused(city, login) -> None:
    at = login("inspector")
    at.switch_page("views/my_grid.py")
    at.query_params["case"] = city["other"]
    at.run()
    assert not at.exception
    assert "不在您的网格内" in at.error[0].value
    assert city["other"] not in _tasks(at)
    # a case id that does not exist gets the same answer (no hint whether it exists)
    at.query_params["case"] = "NO-SUCH-CASE"
    at.run()
    assert "不在您的网格内" in at.error[0].value
    # my own case in the URL is preselected; my closed case says it is closed
    at.query_params["case"] = city["mine_check"]
    at.run()
    assert not at.error
    case_box = next(s for s in at.selectbox if s.label == "案件")
    assert case_box.value == city["mine_check"]
    at.query_params["case"] = city["mine_closed"]
    at.run()
    assert "已结案" in at.info[0].value


def test_inspector_checks_a_case_and_the_event_is_stored(city, login, app_db: Engine) -> None:
    at = login("inspector")
    at.switch_page("views/my_grid.py")
    at.query_params["case"] = city["mine_check"]
    at.run()
    assert [r.options for r in at.radio if r.label == "处理结果"] == [["核查通过", "核查未通过（返工）"]]
    at.text_area[0].input("修好了")
    next(b for b in at.button if b.label == "提交").click().run()
    assert not at.exception
    assert "已记录" in at.success[0].value
    with app_db.connect() as conn:
        status, verified_at = conn.execute(
            sa.select(Case.status, Case.verified_at).where(Case.case_id == city["mine_check"])
        ).one()
        event = conn.execute(sa.select(CaseEvent).where(CaseEvent.case_id == city["mine_check"])).one()
    assert status == "checked"
    assert verified_at is not None
    assert (event.from_status, event.to_status, event.actor) == ("resolved", "checked", "I001")
    assert "修好了" in event.note
    assert city["mine_check"] not in _tasks(at.run())


def test_inspector_reports_a_problem_only_inside_own_cells(city, login, app_db: Engine) -> None:
    at = login("inspector")
    at.switch_page("views/my_grid.py").run()
    lat, lon = 32.0101, 120.8601  # inside I001's beat
    at.number_input(key="report_lat").set_value(lat)
    at.number_input(key="report_lon").set_value(lon)
    at.text_area(key="report_description").input(XSS)
    at.button(key="report_submit").click().run()
    assert not at.exception
    assert "已上报" in at.success[0].value
    with app_db.connect() as conn:
        row = conn.execute(sa.select(Case).where(Case.source == "patrol", Case.reported_by == "I001")).one()
    assert row.description == XSS
    assert row.status == "verified"
    assert row.category_code.startswith(row.category_code[:2])
    assert int(row.cell) in set(city["cells_I001"].tolist())
    # I002's beat is refused
    at.number_input(key="report_lat").set_value(32.030)
    at.number_input(key="report_lon").set_value(120.890)
    at.button(key="report_submit").click().run()
    assert "outside the cells assigned to I001" in at.error[0].value


def test_coverage_reports_the_walk_and_the_neglected_cells(city, login) -> None:
    at = login("manager")
    at.switch_page("views/coverage.py").run()
    assert not at.exception
    kpis = at.dataframe[0].value
    mine = kpis[kpis["inspector_id"] == "I001"]
    assert mine["visited_cells"].max() >= 2  # the walk crosses several cells
    assert (mine["assigned_cells"] == 19).all()
    assert (kpis.loc[kpis["inspector_id"] == "I002", "visited_cells"] == 0).all()
    neglected = at.dataframe[1].value
    assert set(city["cells_I002"].tolist()) <= set(neglected["cell"])  # I002 never walked
    assert not at.error
    effect = at.dataframe[2].value.set_index("inspector")
    assert effect.loc["I001", "patrol_hours"] > 0  # 2 walks of 5 minutes
    gap = at.dataframe[3].value.set_index("cell")
    beats = np.concatenate([city["cells_I001"], city["cells_I002"]])
    assert set(gap.index) == set(beats.tolist())  # the assigned cells, each once
    assert gap.index.is_unique
    assert gap.loc[city["cells_I001"], "patrol_minutes"].sum() > 0
    assert gap["expected_share"].sum() == pytest.approx(1.0)
    assert gap["patrol_share"].sum() == pytest.approx(1.0)
    assert (gap.loc[city["cells_I002"], "patrol_minutes"] == 0).all()  # never walked: no patrol time
    assert set(gap["status"]) <= {"under", "balanced", "over", "idle"}


def test_pages_without_data_say_so(app_db: Engine, login) -> None:
    at = login("admin")
    for page in ("recurring", "emerging"):
        at.switch_page(f"views/{page}.py").run()
        assert not at.exception
        assert at.info[0].value == "数据库中还没有带位置的案件。"
    at.switch_page("views/coverage.py").run()
    assert at.info[0].value == "尚无巡查轨迹数据。"
    at.switch_page("views/my_grid.py").run()
    assert not at.exception
    assert "没有分配给您的网格" in at.info[0].value


def test_forecast_puts_the_growing_cluster_on_top(city, login) -> None:
    at = login("planner")
    at.switch_page("views/forecast.py").run()
    assert not at.exception
    assert not at.warning
    table = at.dataframe[0].value
    centre = cells_to_parents(latlng_to_cells(np.array([32.010]), np.array([120.860]), 10), 9)
    assert table.iloc[0]["h3"] == cells_to_strings(centre)[0]
    assert table.iloc[0]["rank"] == 1
    assert table["expected"].iloc[0] > 5  # the cluster had 21 cases in its last week, 2 in its first


def test_dashboard_ranks_the_on_time_department_first(city, login) -> None:
    at = login("manager")
    at.switch_page("views/dashboard.py").run()
    assert not at.exception
    tiles = {m.label: m.value for m in at.metric}
    ranking = at.dataframe[0].value
    # every history case was closed; the resolved task T-mine_check is due and still open
    closure = ranking["closed"].sum() / ranking["should_close"].sum()
    assert closure < 1
    assert tiles["结案率"] == f"{closure:.1%}"
    # half the cases (环卫) were fixed in 10 h, half (城管) in 50 h against a 24 h limit
    named = [d for d in ranking["department"] if d in ("环卫", "城管")]
    assert named == ["环卫", "城管"]
    by_department = ranking.set_index("department")
    assert by_department.loc["环卫", "on_time_handling_rate"] == 1.0
    assert by_department.loc["城管", "on_time_handling_rate"] == 0.0
    assert by_department.loc["环卫", "grade"] < by_department.loc["城管", "grade"]  # "A" before "E"
    assert "尚未导入行政区域" in at.info[0].value


def test_inspector_gets_a_route_through_the_open_tasks_as_gpx(city, login) -> None:
    at = login("inspector")
    at.switch_page("views/my_grid.py").run()
    at.button(key="suggest_route").click().run()
    assert not at.exception
    assert not at.warning, at.warning[0].value if at.warning else None
    stops = next(d.value for d in at.dataframe if "why" in d.value.columns)
    visited = ",".join(stops["case_ids"].fillna(""))
    assert city["mine_verify"] in visited  # overdue verification: a must-visit stop
    assert city["mine_check"] in visited
    assert "GPX" in [b.label for b in at.get("download_button")]


def test_deployment_cuts_the_assigned_cells_into_balanced_beats(city, login) -> None:
    at = login("manager")
    at.switch_page("views/deployment.py").run()
    assert not at.exception
    beats = at.dataframe[0].value
    assert len(beats) == 2  # two inspectors hold assignments
    assert beats["n_cells"].sum() == 38  # their 2 × 19 cells
    assert beats["contiguous"].all()
    what_if = next(d.value for d in at.dataframe if "weekly_share" in d.value.columns)
    assert list(what_if["inspectors"]) == [1, 2, 3]  # 2 now, ±1 (never down to 0)
    assert what_if["weekly_share"].is_monotonic_increasing
