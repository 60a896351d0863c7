"""Login, navigation by role, and the overview page, headless."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from cases.models import Case, ImportBatch


def test_nothing_but_the_login_form_before_login(app_db: Engine, app_path: str) -> None:
    at = AppTest.from_file(app_path, default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value == "GridPatrol 网格巡查"
    assert len(at.text_input) == 2
    assert not at.metric  # no data shown


def test_wrong_password_is_refused(login) -> None:
    at = login("planner", password="not-the-password")
    assert not at.exception
    assert at.error[0].value == "用户名或密码错误。"
    assert not at.metric


def test_overview_after_login_shows_counts_and_imports(app_db: Engine, login) -> None:
    now = dt.datetime.now(dt.UTC)
    with Session(app_db) as session:
        batch = ImportBatch(
            kind="cases", source_file="x.csv", sha256="0" * 64, started_at=now, finished_at=now
        )
        session.add(batch)
        session.flush()
        session.add_all(
            Case(
                case_id=f"C{i}",
                source="hotline",
                category_code="06010",
                reported_at=now,
                import_batch=batch.batch_id,
            )
            for i in range(3)
        )
        session.commit()
    at = login("planner")
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["案件"] == "3"
    assert metrics["用户"] == "4"
    assert at.dataframe[0].value["source_file"].tolist() == ["x.csv"]


def test_english_ui(login) -> None:
    at = login("manager")
    at.sidebar.radio[0].set_value("en").run()
    assert not at.exception
    assert at.title[0].value == "GridPatrol"
    assert "cases" in {m.label for m in at.metric}


def test_logout(login) -> None:
    at = login("manager")
    assert at.metric
    at.sidebar.button[0].click().run()
    assert not at.metric
    assert len(at.text_input) == 2


def test_city_overview_for_city_roles_only(city, login) -> None:
    """Planners, managers and admins see where the last week's cases are and the cases per day; an
    inspector, who sees only their own cells, does not get the city-wide map."""
    at = login("planner")
    assert not at.exception
    (chart,) = at.get("deck_gl_json_chart")
    (layer,) = json.loads(chart.proto.json)["layers"]
    assert layer["@@type"] == "H3HexagonLayer"
    assert sum(row["count"] for row in layer["data"]) > 0
    assert at.get("vega_lite_chart")  # the cases per day
    at = login("inspector")
    assert not at.exception
    assert not at.get("deck_gl_json_chart")
    assert not at.get("vega_lite_chart")
