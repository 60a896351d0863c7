"""Serve the app and drive Debian's Chromium: shared by the browser tests and ``benchmarks/bench_app.py``.

Not a test module: ``conftest.py`` and the benchmark import it (the benchmark by path).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
MAP_FRAME = (By.CSS_SELECTOR, "iframe[title*='st_folium']")
METRIC = (By.CSS_SELECTOR, "[data-testid=stMetric]")

#: Counts painted pixels (sampled) on Leaflet's overlay canvases plus SVG paths: > 0 once cells are drawn.
PAINTED_JS = """
let n = document.querySelectorAll('.leaflet-overlay-pane path').length;
for (const c of document.querySelectorAll('.leaflet-overlay-pane canvas')) {
    if (!c.width || !c.height) continue;
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < data.length; i += 4 * 7) if (data[i] > 0) n++;
}
return n;
"""


def chromium_missing() -> str | None:
    """Why the browser cannot run here (None when Chromium and its driver are installed)."""
    if Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists():
        return None
    return "Debian's chromium and chromium-driver are missing (apt-get install chromium chromium-driver)"


@contextlib.contextmanager
def chromium(window: str = "1300,900") -> Iterator[object]:
    """A headless Chromium driven by Selenium, closed on exit."""
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
        f"--window-size={window}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve_app(data_dir: Path, *, tiles: str = "none", startup_s: float = 60) -> Iterator[str]:
    """Serve ``app/streamlit_app.py`` on a free port over the SQLite database of ``data_dir``; yield its URL.

    Raises RuntimeError (naming the log file) when the server does not answer within ``startup_s``.
    """
    port = _free_port()
    env = {**os.environ, "GRIDPATROL_DATA_DIR": str(data_dir), "GRIDPATROL_TILES": tiles}
    env.pop("GRIDPATROL_DB_URL", None)
    log_path = Path(data_dir) / "streamlit.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app/streamlit_app.py", "--server.port", str(port),
             "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + startup_s
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        msg = f"the app did not start: see {log_path}"
                        raise RuntimeError(msg) from None
                    time.sleep(0.5)
            yield url
        finally:
            server.terminate()
            server.wait(timeout=20)


def login(browser, url: str, username: str, password: str, *, timeout: float = 30) -> WebDriverWait:
    """Open ``url`` in a fresh tab (Streamlit keeps a tab's session) and submit the login form."""
    previous = browser.current_window_handle
    browser.switch_to.new_window("tab")
    browser.switch_to.window(previous)
    browser.close()
    browser.switch_to.window(browser.window_handles[-1])
    browser.delete_all_cookies()
    browser.get(url)
    wait = WebDriverWait(browser, timeout)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "input[type=password]")))
    browser.find_element(By.CSS_SELECTOR, "input[aria-label='用户名']").send_keys(username)
    browser.find_element(By.CSS_SELECTOR, "input[type=password]").send_keys(password)
    # Streamlit draws the form's elements one after the other: wait for the button too.
    submit = (By.CSS_SELECTOR, "[data-testid=stBaseButton-secondaryFormSubmit]")
    wait.until(ec.element_to_be_clickable(submit)).click()
    return wait


def map_painted(browser, timeout: float = 40, *, new_since_mark: bool = False) -> int:
    """Wait until an st_folium map has painted its layers; return the painted pixel (sample) count.

    With ``new_since_mark``, only a map frame created after :func:`mark_maps` counts (st_folium keys its
    component by the map's script, so a changed map is a new frame).
    """
    wait = WebDriverWait(browser, timeout)
    selector = "iframe[title*='st_folium']" + (":not([data-gp-old])" if new_since_mark else "")
    frame = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, selector)))
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", frame)
    browser.switch_to.frame(frame)
    try:
        return wait.until(lambda driver: driver.execute_script(PAINTED_JS) or False)
    finally:
        browser.switch_to.default_content()


def mark_maps(browser) -> None:
    """Tag the map frames now on the page, so :func:`map_painted` can wait for a new one."""
    browser.execute_script(
        "document.querySelectorAll(\"iframe[title*='st_folium']\").forEach(f => f.dataset.gpOld = '1')"
    )
