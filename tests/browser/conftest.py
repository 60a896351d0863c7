"""Browser tests: the real app served by Streamlit, driven by Debian's Chromium through Selenium.

``.ci/run`` installs ``chromium`` and ``chromium-driver``; elsewhere the tests skip with the reason when the
browser is missing. Screenshots go to ``test-output/screenshots/``.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "test-output" / "screenshots"
PASSWORD = "browser-test-pw"
USERS = {"admin": "b-admin", "planner": "b-planner", "manager": "b-manager", "inspector": "b-inspector"}


def _load(name: str):
    """A helper module of tests/ loaded by path (tests/ is not a package)."""
    path = REPO_ROOT / "tests" / name
    spec = importlib.util.spec_from_file_location(f"browser_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


driver = _load("browser/driver.py")


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Serve the app on a free local port against a fresh database with one user per role and the planted
    city of tests/app/planted.py (inspector b-inspector is I001); yield its URL."""
    from sqlalchemy.orm import Session

    from cases.db import init_db, make_engine
    from cases.models import Inspector
    from cases.users import create_user

    data_dir = tmp_path_factory.mktemp("app-data")
    engine = make_engine(f"sqlite:///{data_dir / 'gridpatrol.db'}")
    init_db(engine)
    with Session(engine) as session:
        session.add(Inspector(inspector_id="I001", name="张三", district="320613", active=True))
        session.commit()
    for role, username in USERS.items():
        create_user(
            engine, username, role, password=PASSWORD, inspector_id="I001" if role == "inspector" else None
        )
    _load("app/planted.py").plant_city(engine, data_dir)
    engine.dispose()
    try:
        with driver.serve_app(data_dir) as url:
            yield url
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """A headless Chromium driven by Selenium (skips, or fails in CI, when Chromium is missing)."""
    reason = driver.chromium_missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    with driver.chromium() as chrome:
        yield chrome


@pytest.fixture
def login_as(live_app: str, browser) -> Callable[[str], object]:
    """Open the app in a clean browser session and log in as the test user of ``role``."""

    def _login(role: str, password: str = PASSWORD, path: str = "") -> object:
        return driver.login(browser, f"{live_app}/{path}", USERS.get(role, role), password)

    return _login


@pytest.fixture
def map_painted() -> Callable[..., int]:
    """:func:`driver.map_painted` (wait until the page's map has painted; the painted sample count)."""
    return driver.map_painted


@pytest.fixture
def screenshot(browser) -> Callable[[str], Path]:
    """Return a function that saves a screenshot under test-output/screenshots and returns its path."""

    def _save(name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        browser.save_screenshot(str(path))
        return path

    return _save


@pytest.fixture
def downloads() -> Path:
    """The folder the browser saves downloads to (:data:`driver.DOWNLOADS`)."""
    return driver.DOWNLOADS
