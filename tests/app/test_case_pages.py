"""The case page, the callback page and the reporters' page on the 60-day demo city (AppTest): the roles
that may use them, and the roles and scopes the server refuses (another department, another district)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from cases.db import make_engine
from cases.models import Case
from cases.users import create_user
from grid.config import load_city_config
from services.case_view import case_detail, case_district
from services.context import ServiceContext
from tests.conftest import use_data_copy
from tests.services.casework_util import DEPT, walk

APP = str(Path(__file__).resolve().parents[2] / "app" / "streamlit_app.py")
PASSWORD = "demo-password-1"
USERS = {"operator": "cw-operator", "supervisor": "cw-supervisor", "department": "cw-department"}


@pytest.fixture
def case_city(_demo60_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ServiceContext]:
    """The 60-day city with an operator, a supervisor, a user of ``DEPT``, a user of another department,
    a supervisor scoped to another district, and cases CP-OPEN (dispatched to DEPT), CP-REG (registered)
    and CP-CLOSED (closed, reporter left a phone)."""
    folder = use_data_copy(_demo60_dir, tmp_path / "data", monkeypatch)
    engine = make_engine(f"sqlite:///{(folder / 'gridpatrol.db').as_posix()}")
    ctx = ServiceContext(engine=engine, config=load_city_config(), data_dir=folder)
    walk(ctx, "CP-OPEN", "dispatched")
    walk(ctx, "CP-REG", "registered")
    walk(ctx, "CP-CLOSED", "closed")
    district = case_district(ctx, case_detail(ctx, "CP-OPEN").case)
    for role, username in USERS.items():
        create_user(
            engine, username, role, password=PASSWORD, department=DEPT if role == "department" else None
        )
    create_user(engine, "cw-other-dept", "department", password=PASSWORD, department="D-OTHER")
    with engine.connect() as conn:
        areas = conn.execute(sa.text("SELECT area_id FROM areas WHERE level = 'district'")).scalars().all()
    other = next(a for a in areas if a != district)
    create_user(engine, "cw-far-supervisor", "supervisor", password=PASSWORD, district=other)
    yield ctx
    engine.dispose()


def _login(username: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.text_input[0].input(username)
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    return at.run()


def _case_page(username: str, case_id: str) -> AppTest:
    at = _login(username)
    at.switch_page("views/case.py").run()
    at.text_input(key="cw_case_input").input(case_id).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _status(ctx: ServiceContext, case_id: str) -> str:
    with ctx.engine.connect() as conn:
        return conn.execute(sa.select(Case.status).where(Case.case_id == case_id)).scalar_one()


def test_the_department_sees_its_case_timeline_and_handles_it(case_city: ServiceContext) -> None:
    at = _case_page(USERS["department"], "CP-OPEN")
    assert not at.error, [e.value for e in at.error]
    timeline = at.dataframe[0].value
    assert timeline["cw_action"].tolist()[:2] == ["上报", "现场核实"]
    assert "138****5678" in " ".join(str(x.value) for x in at.text)
    at.text_area(key="cw_handle_note").input("已清理完毕")
    next(b for b in at.button if b.label == "执行" and "handle" in str(b.form_id)).click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert _status(case_city, "CP-OPEN") == "resolved"
    assert at.success, "the result is said on the reloaded page"


@pytest.mark.parametrize("username", ["cw-other-dept", "cw-far-supervisor"])
def test_a_case_outside_the_users_scope_is_refused_by_id(case_city: ServiceContext, username: str) -> None:
    at = _case_page(username, "CP-OPEN")
    assert at.error, "refused by the server"
    assert not at.dataframe, "no timeline of a refused case"


def test_planner_has_no_case_page_and_operator_no_reporters_page(case_city: ServiceContext) -> None:
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        _login("planner1").switch_page("views/case.py")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        _login(USERS["operator"]).switch_page("views/reporters.py")


def test_operator_mediates_a_registered_case(case_city: ServiceContext) -> None:
    at = _case_page(USERS["operator"], "CP-REG")
    at.text_input(key="cw_parties").input("张三；李四")
    at.text_area(key="cw_agreement").input("晚十点后不再施工")
    next(b for b in at.button if "mediate" in str(b.form_id)).click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert _status(case_city, "CP-REG") == "closed"


def test_operator_records_an_unsatisfied_callback_which_reopens_the_case(case_city: ServiceContext) -> None:
    at = _login(USERS["operator"])
    at.switch_page("views/callbacks.py").run()
    assert not at.exception, [e.value for e in at.exception]
    at.selectbox(key="cw_callback_case").set_value("CP-CLOSED")
    at.radio(key="cw_verdict").set_value("no")
    next(b for b in at.button if "cw_callback" in str(b.form_id)).click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert _status(case_city, "CP-CLOSED") == "dispatched"


def test_supervisor_lists_the_reporters_with_a_download(case_city: ServiceContext) -> None:
    at = _login(USERS["supervisor"])
    at.switch_page("views/reporters.py").run()
    at.text_input(key="cw_quarter").input("2025Q1").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    table = at.dataframe[0].value
    assert len(table) > 0
    assert table["reporter_phone"].str.contains(r"\*\*\*\*").all()


def _words_checks():
    import importlib.util

    spec = importlib.util.spec_from_file_location("case_words", Path(__file__).with_name("test_words.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module._shown, module._untranslated


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_case_pages_speak_words_not_codes(case_city: ServiceContext, lang: str) -> None:
    shown, untranslated = _words_checks()
    problems = []
    for username, page, case_id in (
        (USERS["operator"], "case", "CP-REG"),
        (USERS["department"], "case", "CP-OPEN"),
        (USERS["operator"], "callbacks", None),
        (USERS["supervisor"], "reporters", None),
    ):
        at = _login(username)
        at.sidebar.radio[0].set_value(lang).run()
        at.switch_page(f"views/{page}.py").run()
        if case_id:
            at.text_input(key="cw_case_input").input(case_id).run()
        if page == "reporters":
            at.text_input(key="cw_quarter").input("2025Q1").run()
        assert not at.exception, [e.value for e in at.exception]
        problems += [f"{page}: {p}" for p in untranslated(shown(at), lang)]
    assert not problems, "\n".join(problems)
