"""Fixtures for headless page tests (Streamlit AppTest) against a temporary database."""

from __future__ import annotations

import importlib.util
import shutil
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


DB_NAME = "gridpatrol.db"


def _new_db(folder: Path) -> Engine:
    """A migrated SQLite database in ``folder`` with inspector I001 and one user per role."""
    from sqlalchemy.orm import Session

    engine = make_engine(f"sqlite:///{(folder / DB_NAME).as_posix()}")
    init_db(engine)
    with Session(engine) as session:
        session.add(Inspector(inspector_id="I001", name="张三", district="320613", active=True))
        session.commit()
    for role, username in ROLE_USERS.items():
        create_user(
            engine, username, role, password=PASSWORD, inspector_id="I001" if role == "inspector" else None
        )
    return engine


def _copy_db(source: Path, target: Path) -> None:
    """Copy the data dir ``source`` (database and tracks) into ``target``."""
    for suffix in ("", "-wal", "-shm"):
        (target / f"{DB_NAME}{suffix}").unlink(missing_ok=True)
    shutil.copy2(source / DB_NAME, target / DB_NAME)
    if (source / "tracks").is_dir():
        shutil.copytree(source / "tracks", target / "tracks", dirs_exist_ok=True)


@pytest.fixture(scope="session")
def _template_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrating and hashing passwords takes seconds: do it once and copy the file for each test."""
    folder = tmp_path_factory.mktemp("app-template")
    _new_db(folder).dispose()
    return folder


@pytest.fixture(scope="session")
def _city_dir(_template_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("app-city")
    _copy_db(_template_dir, folder)
    engine = make_engine(f"sqlite:///{(folder / DB_NAME).as_posix()}")
    plant_city(engine, folder)
    engine.dispose()
    return folder


@pytest.fixture
def app_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _template_dir: Path) -> Engine:
    """A migrated SQLite database in a temporary data dir, with one user per role (password PASSWORD)."""
    monkeypatch.delenv("GRIDPATROL_DB_URL", raising=False)
    monkeypatch.setenv("GRIDPATROL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GRIDPATROL_TILES", "none")
    _copy_db(_template_dir, tmp_path)
    return make_engine()


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


def _load_planted():
    spec = importlib.util.spec_from_file_location("app_planted", Path(__file__).with_name("planted.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


planted = _load_planted()
plant_city, add_case_today_to, beat_cells, BEATS, PLANTED = (
    planted.plant_city,
    planted.add_case_today,
    planted.beat_cells,
    planted.BEATS,
    planted.PLANTED,
)


@pytest.fixture
def city(app_db: Engine, tmp_path: Path, _city_dir: Path) -> dict[str, object]:
    """The planted city of :func:`plant_city` in the app's database and data dir: the planted case ids,
    and each inspector's beat cells as ``cells_I001`` / ``cells_I002``."""
    app_db.dispose()
    _copy_db(_city_dir, tmp_path)
    ids: dict[str, object] = {name: f"T-{name}" for name in PLANTED}
    ids.update({f"cells_{i}": beat_cells(i) for i in BEATS})
    return ids


@pytest.fixture
def add_case_today():
    """:func:`planted.add_case_today`: one open case reported an hour ago, by the machine's clock."""
    return add_case_today_to


@pytest.fixture(scope="session")
def _demo60_dir(demo60_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 60-day demo city of tests/services/conftest.py (2025-01-01 … 2025-03-01, tracks included) with
    one user per role (the inspector account bound to the first demo inspector): read-only, copy it."""
    import sqlalchemy as sa

    folder = tmp_path_factory.mktemp("app-demo60")
    shutil.copytree(demo60_template, folder, dirs_exist_ok=True, symlinks=True)
    engine = make_engine(f"sqlite:///{(folder / DB_NAME).as_posix()}")
    with engine.connect() as conn:
        first = conn.execute(sa.select(sa.func.min(Inspector.inspector_id))).scalar()
    for role, username in ROLE_USERS.items():
        create_user(
            engine, username, role, password=PASSWORD, inspector_id=first if role == "inspector" else None
        )
    engine.dispose()
    return folder
