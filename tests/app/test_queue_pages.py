"""The queue pages (dispatch, department, approvals, alerts) on the 60-day demo city, as the roles that may
open them and as roles that may not (their navigation lacks the page; the services refuse them too, see
tests/services/test_queues.py)."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from cases.db import make_engine
from cases.models import Case
from cases.users import create_user
from grid.config import load_city_config
from services import cases as case_service
from services.context import Actor, ServiceContext
from tests.conftest import use_data_copy

APP = str(Path(__file__).resolve().parents[2] / "app" / "streamlit_app.py")
PASSWORD = "demo-password-1"
DEPARTMENT = "320613-CG"
USERS = {
    "dispatcher": "dispatcher1",
    "supervisor": "supervisor1",
    "department": "department1",
    "operator": "operator1",
}


def _words_checks():
    spec = importlib.util.spec_from_file_location("queue_words", Path(__file__).with_name("test_words.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module._shown, module._untranslated


@pytest.fixture
def queue_city(_demo60_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ServiceContext:
    """A copy of the 60-day city with a dispatcher, a supervisor, an operator and a user of ``DEPARTMENT``."""
    folder = use_data_copy(_demo60_dir, tmp_path / "data", monkeypatch)
    engine = make_engine(f"sqlite:///{(folder / 'gridpatrol.db').as_posix()}")
    for role, username in USERS.items():
        department = DEPARTMENT if role == "department" else None
        create_user(engine, username, role, password=PASSWORD, department=department)
    yield ServiceContext(engine=engine, config=load_city_config(), data_dir=folder)
    engine.dispose()


def _login(username: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.text_input[0].input(username)
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    return at.run()


def _open(username: str, page: str) -> AppTest:
    at = _login(username)
    at.switch_page(f"views/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not [e.value for e in at.error], page
    return at


def _status(ctx: ServiceContext, case_id: str) -> str:
    with ctx.engine.connect() as conn:
        return conn.execute(sa.select(Case.status).where(Case.case_id == case_id)).scalar_one()


def _first(ctx: ServiceContext, status: str, department: str | None = None) -> str:
    query = sa.select(Case.case_id).where(Case.status == status).order_by(Case.case_id)
    if department:
        query = query.where(Case.department == department)
    with ctx.engine.connect() as conn:
        return conn.execute(query.limit(1)).scalar_one()


@pytest.mark.parametrize(
    ("page", "refused"),
    [
        ("dispatch", "operator"),
        ("department", "supervisor"),
        ("approvals", "dispatcher"),
        ("alerts", "planner1"),
    ],
)
def test_a_refused_role_cannot_open_the_page(queue_city: ServiceContext, page: str, refused: str) -> None:
    at = _login(USERS.get(refused, refused))
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(f"views/{page}.py")


def test_dispatcher_dispatches_a_registered_case_to_its_suggested_department(
    queue_city: ServiceContext,
) -> None:
    case_id = _first(queue_city, "registered")
    at = _open("dispatcher1", "dispatch")
    assert at.dataframe, "the queue table"
    at.multiselect(key="dispatch_pick").set_value([case_id]).run()
    assert any(case_id in m.value for m in at.markdown), "a link to the case page"
    submit = next(b for b in at.button if b.label == "执行")
    submit.click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.success, [e.value for e in at.error]
    assert _status(queue_city, case_id) == "dispatched"


def test_department_user_handles_a_case_of_their_own(queue_city: ServiceContext) -> None:
    case_id = _first(queue_city, "dispatched", DEPARTMENT)
    at = _open("department1", "department")
    frame = at.dataframe[0].value
    assert len(frame) > 0
    at.selectbox(key="department_case").set_value(case_id).run()
    at.text_area[0].input("已清理").run()
    next(b for b in at.button if b.label == "提交").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert _status(queue_city, case_id) == "resolved"


def test_supervisor_approves_an_extension_with_the_history_shown(queue_city: ServiceContext) -> None:
    case_id = _first(queue_city, "dispatched", DEPARTMENT)
    department = queue_city.as_actor(Actor("department1", "department", department=DEPARTMENT))
    wanted = dt.datetime(2027, 1, 4, 9, tzinfo=dt.UTC)
    request = case_service.CaseRequest(case_id, note="设备待采购", deadline=wanted)
    case_service.request_extension(department, request)
    at = _open("supervisor1", "approvals")
    assert len(at.dataframe) == 2, "the requests and the history"
    assert "extension_requested" in set(at.dataframe[1].value["queue_to_status"].astype(str))
    next(b for b in at.button if b.label == "提交").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert _status(queue_city, case_id) == "dispatched"
    with queue_city.engine.connect() as conn:
        deadline = conn.execute(sa.select(Case.deadline_at).where(Case.case_id == case_id)).scalar_one()
    assert deadline == wanted


@pytest.mark.parametrize("username", ["department1", "supervisor1"])
def test_alerts_digest_page(queue_city: ServiceContext, username: str) -> None:
    at = _open(username, "alerts")
    assert at.metric
    assert len(at.dataframe) == 3
    if username == "department1":
        cases = at.dataframe[2].value
        assert set(cases["department"]) == {DEPARTMENT}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_queue_pages_speak_words_not_codes(queue_city: ServiceContext, lang: str) -> None:
    shown, untranslated = _words_checks()
    problems = []
    for username, page in (
        ("dispatcher1", "dispatch"),
        ("department1", "department"),
        ("supervisor1", "alerts"),
    ):
        at = _login(username)
        at.sidebar.radio[0].set_value(lang).run()
        at.switch_page(f"views/{page}.py").run()
        assert not at.exception, [e.value for e in at.exception]
        problems += [f"{page}: {p}" for p in untranslated(shown(at), lang)]
    assert not problems, "\n".join(problems)


def test_queue_pages_on_an_empty_store_say_so_plainly(app_db) -> None:
    at = _login("admin1")
    for page in ("dispatch", "department", "approvals", "alerts"):
        at.switch_page(f"views/{page}.py").run()
        assert not at.exception, (page, [e.value for e in at.exception])
        assert not at.error, (page, [e.value for e in at.error])
        assert at.info, page  # "the queue is empty" / "no case is near or past its deadline"
        for i in range(len(at.date_input)):
            at.date_input[i].set_value(dt.date(2025, 6, 8)).run()
            assert not at.exception, (page, [e.value for e in at.exception])
