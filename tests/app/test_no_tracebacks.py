"""Zero tracebacks: every page, as every role that may open it, on every awkward store.

The stores: ``empty`` (migrated, users only), ``today`` (one case dated today, nothing else), ``demo``
(the 60-day demo city) and ``demo_today`` (the demo city plus one case dated today: the default ranges reach
into an empty year). On the demo stores every date input is then moved to a range without data (a widget
refuses a range outside its bounds, so with a case today the range lies in the empty months between; the
inspector's day may be any day up to today). Each page must show a plain message instead of an exception,
and no ``Traceback`` text.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cases.db import make_engine
from tests.conftest import use_data_copy

APP = str(Path(__file__).resolve().parents[2] / "app" / "streamlit_app.py")
PASSWORD = "demo-password-1"  # conftest's users
ROLE_USERS = {"admin": "admin1", "planner": "planner1", "manager": "manager1", "inspector": "inspector1"}

PAGES = {
    "admin": (
        "home", "hotspots", "recurring", "emerging", "forecast", "my_grid", "dashboard", "deployment",
        "coverage", "data",
    ),
    "planner": ("home", "hotspots", "recurring", "emerging", "forecast"),
    "manager": (
        "home", "hotspots", "recurring", "emerging", "forecast", "dashboard", "deployment", "coverage",
    ),
    "inspector": ("home", "my_grid"),
}  # fmt: skip
#: A range the demo city (2025-01-01 … 2025-03-01) holds nothing in (inside the bounds once a case is dated
#: today).
OUTSIDE = (dt.date(2025, 6, 2), dt.date(2025, 6, 8))
TEXT_ELEMENTS = ("markdown", "caption", "info", "warning", "error", "success", "text", "code", "title")


def _open(role: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=240).run()
    at.text_input[0].input(ROLE_USERS[role])
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    assert "user" in at.session_state, [e.value for e in at.error]
    return at.run()


def _texts(at: AppTest) -> list[str]:
    return [str(e.value) for kind in TEXT_ELEMENTS for e in getattr(at, kind)]


def _assert_clean(at: AppTest, where: str) -> None:
    assert not at.exception, (where, [e.value for e in at.exception])
    shown = [text for text in _texts(at) if "Traceback" in text]
    assert not shown, (where, shown)


def _move_dates_outside(at: AppTest, where: str) -> None:
    """Set every date input of the page to :data:`OUTSIDE` (a range) or its end (a day), one by one."""
    for i in range(len(at.date_input)):
        widget = at.date_input[i]
        value = OUTSIDE if isinstance(widget.value, tuple | list) else OUTSIDE[1]
        widget.set_value(value).run()
        _assert_clean(at, f"{where} dates {value}")


@pytest.fixture(params=["empty", "today", "demo", "demo_today"])
def store(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, add_case_today
) -> str:
    """The data folder of one store state, set as ``GRIDPATROL_DATA_DIR``; returns the state's name."""
    state = request.param
    template = request.getfixturevalue("_demo60_dir" if state.startswith("demo") else "_template_dir")
    folder = use_data_copy(template, tmp_path / "data", monkeypatch)
    if state in ("today", "demo_today"):
        engine = make_engine(f"sqlite:///{(folder / 'gridpatrol.db').as_posix()}")
        add_case_today(engine)
        engine.dispose()
    return state


@pytest.mark.slow
@pytest.mark.parametrize("role", list(PAGES))
def test_every_page_says_it_plainly(store: str, role: str) -> None:
    at = _open(role)
    _assert_clean(at, f"{store}/{role}/login")
    for page in PAGES[role]:
        at.switch_page(f"views/{page}.py").run()
        where = f"{store}/{role}/{page}"
        _assert_clean(at, where)
        if store.startswith("demo"):
            _move_dates_outside(at, where)
