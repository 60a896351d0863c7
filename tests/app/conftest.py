"""Fixtures for headless page tests (Streamlit AppTest) against a temporary database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from cases.db import init_db, make_engine
from cases.models import Inspector
from cases.users import create_user

APP = str(Path(__file__).resolve().parents[2] / "app" / "streamlit_app.py")
PASSWORD = "demo-password-1"
ROLE_USERS = {"admin": "admin1", "planner": "planner1", "manager": "manager1", "inspector": "inspector1"}


@pytest.fixture
def app_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """A migrated SQLite database in a temporary data dir, with one user per role (password PASSWORD)."""
    monkeypatch.delenv("GRIDPATROL_DB_URL", raising=False)
    monkeypatch.setenv("GRIDPATROL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GRIDPATROL_TILES", "none")
    engine = make_engine()
    init_db(engine)
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        session.add(Inspector(inspector_id="I001", name="张三", district="320613", active=True))
        session.commit()
    for role, username in ROLE_USERS.items():
        create_user(
            engine, username, role, password=PASSWORD, inspector_id="I001" if role == "inspector" else None
        )
    return engine


@pytest.fixture
def app_path() -> str:
    """Path of the app's entry script."""
    return APP


@pytest.fixture
def login(app_db: Engine) -> Callable[[str], AppTest]:
    """Return a function that opens the app and logs in as the user of ``role``."""

    def _login(role: str, password: str = PASSWORD) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60).run()
        at.text_input[0].input(ROLE_USERS.get(role, role))
        at.text_input[1].input(password)
        at.button[0].click().run()
        if "user" in at.session_state:
            at.run()  # one more run so that AppTest knows the pages the role's navigation registered
        return at

    return _login
