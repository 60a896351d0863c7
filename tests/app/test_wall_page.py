"""The wall display page (app/views/wall.py) on the 60-day demo city: opened with the display token and no
login, refused without a valid token, and opened by a signed-in manager; no traceback, words not codes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from cases.db import make_engine
from cases.models import Case
from grid.config import load_city_config
from services.context import ServiceContext
from services.wall import new_display_token
from tests.conftest import use_data_copy

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app" / "streamlit_app.py")
WALL = str(ROOT / "app" / "views" / "wall.py")
PASSWORD = "demo-password-1"  # conftest's users
TEXTS = ("markdown", "caption", "info", "warning", "error")


@pytest.fixture
def wall_dir(_demo60_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the demo city with one case reported a minute ago (so that today has something)."""
    folder = use_data_copy(_demo60_dir, tmp_path / "data", monkeypatch)
    engine = make_engine(f"sqlite:///{(folder / 'gridpatrol.db').as_posix()}")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=1)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Case.__table__).values(
                case_id="T-wall", source="hotline", category_code="06010", lat=32.0, lon=120.86,
                reported_at=now, status="reported", version=1, description="<b>今天</b>",
            )
        )  # fmt: skip
    engine.dispose()
    return folder


def _token(folder: Path) -> str:
    engine = make_engine(f"sqlite:///{(folder / 'gridpatrol.db').as_posix()}")
    try:
        return new_display_token(ServiceContext(engine=engine, config=load_city_config(), data_dir=folder))
    finally:
        engine.dispose()


def _shown(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in TEXTS for e in getattr(at, kind))


def test_wall_opens_with_the_display_token(wall_dir: Path) -> None:
    token = _token(wall_dir)
    at = AppTest.from_file(WALL, default_timeout=240)
    at.query_params["display"] = token
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = _shown(at)
    assert "数字城管指挥大屏" in shown
    assert "今日受理" in shown
    assert "热线" in shown  # the source in words, not "hotline"
    assert "Traceback" not in shown
    assert not at.warning  # no login prompt
    assert len(at.get("deck_gl_json_chart")) == 1  # the live map


def test_wall_refuses_a_wrong_token(wall_dir: Path) -> None:
    _token(wall_dir)
    at = AppTest.from_file(WALL, default_timeout=120)
    at.query_params["display"] = "not-the-token"
    at.run()
    assert not at.exception
    assert at.warning
    assert "数字城管指挥大屏" not in _shown(at)


def test_wall_for_a_signed_in_manager_in_english(wall_dir: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=240).run()
    at.text_input[0].input("manager1")
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    assert "user" in at.session_state, [e.value for e in at.error]
    at.session_state["lang"] = "en"
    at.switch_page("views/wall.py").run()
    assert not at.exception, [e.value for e in at.exception]
    shown = _shown(at)
    assert "City management command centre" in shown
    assert "Hotline" in shown
    assert "Open / overdue by district" in shown
    assert "<b>今天</b>" not in shown  # citizens' text never reaches the wall
