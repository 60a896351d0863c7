"""Browser tests: the real app served by Streamlit, driven by Debian's Chromium through Selenium.

``.ci/run`` installs ``chromium`` and ``chromium-driver``; elsewhere the tests skip with the reason when the
browser is missing. Screenshots go to ``test-output/screenshots/``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "test-output" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
PASSWORD = "browser-test-pw"
USERS = {"admin": "b-admin", "planner": "b-planner", "manager": "b-manager", "inspector": "b-inspector"}


def _planted():
    """tests/app/planted.py (the planted city shared with the AppTest tests), loaded by path."""
    import importlib.util

    path = REPO_ROOT / "tests" / "app" / "planted.py"
    spec = importlib.util.spec_from_file_location("browser_planted", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
    _planted().plant_city(engine, data_dir)
    engine.dispose()
    port = _free_port()
    env = {**os.environ, "GRIDPATROL_DATA_DIR": str(data_dir), "GRIDPATROL_TILES": "none"}
    env.pop("GRIDPATROL_DB_URL", None)
    log = (data_dir / "streamlit.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app/streamlit_app.py", "--server.port", str(port)],
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the app did not start: see {data_dir / 'streamlit.log'}")
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """A headless Chromium driven by Selenium (skips, or fails in CI, when Chromium is missing)."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        reason = (
            "Debian's chromium and chromium-driver are missing (apt-get install chromium chromium-driver)"
        )
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1300,900",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


@pytest.fixture
def login_as(live_app: str, browser) -> Callable[[str], object]:
    """Open the app in a clean browser session and log in as the test user of ``role``."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    def _login(role: str, password: str = PASSWORD, path: str = "") -> object:
        # A fresh tab: Streamlit keeps a tab's session across reloads (sessionStorage), so each login
        # starts in a new tab and the previous one is closed.
        previous = browser.current_window_handle
        browser.switch_to.new_window("tab")
        browser.switch_to.window(previous)
        browser.close()
        browser.switch_to.window(browser.window_handles[-1])
        browser.delete_all_cookies()
        browser.get(f"{live_app}/{path}")
        wait = WebDriverWait(browser, 30)
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "input[type=password]")))
        browser.find_element(By.CSS_SELECTOR, "input[aria-label='用户名']").send_keys(USERS.get(role, role))
        browser.find_element(By.CSS_SELECTOR, "input[type=password]").send_keys(password)
        # Streamlit draws the form's elements one after the other: wait for the button too.
        submit = (By.CSS_SELECTOR, "[data-testid=stBaseButton-secondaryFormSubmit]")
        wait.until(ec.element_to_be_clickable(submit)).click()
        return wait

    return _login


@pytest.fixture
def screenshot(browser) -> Callable[[str], Path]:
    """Return a function that saves a screenshot under test-output/screenshots and returns its path."""

    def _save(name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        browser.save_screenshot(str(path))
        return path

    return _save
