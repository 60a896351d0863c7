"""Serve the app and drive Debian's Chromium: shared by the browser tests and ``benchmarks/bench_app.py``.

Not a test module: ``conftest.py`` and the benchmark import it (the benchmark by path).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
MAP_FRAME = (By.CSS_SELECTOR, "iframe[title*='st_folium']")
METRIC = (By.CSS_SELECTOR, "[data-testid=stMetric]")
#: Where the browser saves downloads (the browser tests read them back from here).
DOWNLOADS = REPO_ROOT / "test-output" / "downloads"

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
        # WebGL on SwiftShader in Chromium's GPU process, as Chromium does for a machine without a GPU
        # when allowed. ``--disable-gpu`` instead draws WebGL and composites in software on the page's
        # own thread: the deck.gl maps took 2-3x longer (measured: 1.6 s of main-thread work vs 0.2 s).
        "--use-angle=swiftshader",
        "--enable-unsafe-swiftshader",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--window-size={window}",
    ):
        options.add_argument(arg)
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(DOWNLOADS), "download.prompt_for_download": False}
    )
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


#: Records in the page, in ``performance.now()`` milliseconds, the user's pointer presses and every WebGL
#: draw call (merged into bursts): the start and end of an interaction as the page itself lived them, free
#: of the driver's polling. Installed before the app's scripts run (:func:`login`).
TIMELINE_JS = """
window.__gpTimeline = {presses: [], draws: []};
// the event's own time stamp: when the browser received the press, even if the page was busy then
document.addEventListener('pointerdown', (e) => window.__gpTimeline.presses.push(e.timeStamp), true);
for (const proto of [WebGLRenderingContext.prototype, WebGL2RenderingContext.prototype]) {
  for (const name of ['drawArrays', 'drawElements', 'drawArraysInstanced', 'drawElementsInstanced']) {
    const draw = proto[name];
    if (!draw) continue;
    proto[name] = function (...args) {
      const now = performance.now(), bursts = window.__gpTimeline.draws, last = bursts[bursts.length - 1];
      if (last && now - last[1] < 5) last[1] = now; else bursts.push([now, now]);
      return draw.apply(this, args);
    };
  }
}
"""


def login(
    browser, url: str, username: str, password: str, *, timeout: float = 30, timeline: bool = False
) -> WebDriverWait:
    """Open ``url`` in a fresh tab (Streamlit keeps a tab's session) and submit the login form.

    With ``timeline``, the tab records :data:`TIMELINE_JS`'s presses and draws (:func:`interaction_s`).
    """
    previous = browser.current_window_handle
    browser.switch_to.new_window("tab")
    browser.switch_to.window(previous)
    browser.close()
    browser.switch_to.window(browser.window_handles[-1])
    if timeline:
        browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": TIMELINE_JS})
    # every cookie of every host (the session cookie of a previous login included): ``delete_all_cookies``
    # only reaches the current page's host, and the fresh tab shows about:blank
    browser.execute_cdp_cmd("Network.clearBrowserCookies", {})
    browser.get(url)
    wait = WebDriverWait(browser, timeout)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "input[type=password]")))
    browser.find_element(By.CSS_SELECTOR, "input[aria-label='用户名']").send_keys(username)
    browser.find_element(By.CSS_SELECTOR, "input[type=password]").send_keys(password)
    # Streamlit draws the form's elements one after the other: wait for the button too.
    submit = (By.CSS_SELECTOR, "[data-testid=stBaseButton-secondaryFormSubmit]")
    wait.until(ec.element_to_be_clickable(submit)).click()
    return wait


DECK = (By.CSS_SELECTOR, "[data-testid=stDeckGlJsonChart]")
#: Present while the app's script runs: the status widget's running icon, elements marked stale.
RUNNING = (
    "[data-testid=stStatusWidgetRunningIcon], [data-testid=stStatusWidgetRunningManIcon], "
    "[data-testid=stElementContainer][data-stale=true]"
)
#: A deck map counts as drawn when this many of its pixels are not (near-)white: cells and their outlines.
DECK_MIN_PIXELS = 1_500


def deck_image(element) -> np.ndarray:
    """The deck.gl map ``element`` as drawn on screen, an (h, w, 3) uint8 array.

    A screenshot, because deck.gl's WebGL canvas keeps no drawing buffer for a script to read back.
    """
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(element.screenshot_as_png)).convert("RGB"))


def _deck_drawn(browser, before: np.ndarray | None) -> np.ndarray | None:
    """The deck map's image once it is drawn, idle and (with ``before``) different from it; else None."""
    if browser.find_elements(By.CSS_SELECTOR, RUNNING):
        return None  # the script is still running: what is on screen may be the stale map
    decks = browser.find_elements(*DECK)
    if not decks:
        return None
    image = deck_image(decks[0])
    painted = int((image.min(axis=2) < 235).sum())
    if painted < DECK_MIN_PIXELS:
        return None
    if before is not None and image.shape == before.shape and np.array_equal(image, before):
        return None
    return image


def map_painted(browser, timeout: float = 40, *, new_since_mark: bool = False) -> int:
    """Wait until the page's map (an st_folium frame or a deck.gl chart) has painted; a painted-pixel count.

    With ``new_since_mark``, only a map drawn after :func:`mark_maps` counts: for folium a new frame
    (st_folium keys its component by the map's script, so a changed map is a new frame), for deck.gl an
    image that differs from the one marked and stays the same for two looks in a row.
    """
    wait = WebDriverWait(browser, timeout)
    if new_since_mark and getattr(browser, "gp_deck_mark", None) is not None:
        before = browser.gp_deck_mark
        previous: list[np.ndarray] = []

        def settled(driver) -> list[np.ndarray] | bool:  # a list: WebDriverWait tests truthiness
            image = _deck_drawn(driver, before)
            if image is None:
                previous.clear()
                return False
            if previous and previous[-1].shape == image.shape and np.array_equal(previous[-1], image):
                return [image]
            previous[:] = [image]
            return False

        (image,) = wait.until(settled)
        return int((image.min(axis=2) < 235).sum())
    selector = "iframe[title*='st_folium']" + (":not([data-gp-old])" if new_since_mark else "")
    found = wait.until(
        lambda d: d.find_elements(By.CSS_SELECTOR, selector) or d.find_elements(*DECK) or False
    )[0]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", found)
    if found.tag_name.lower() != "iframe":
        (image,) = wait.until(lambda d: [i] if (i := _deck_drawn(d, None)) is not None else False)
        return int((image.min(axis=2) < 235).sum())
    browser.switch_to.frame(found)
    try:
        return wait.until(lambda driver: driver.execute_script(PAINTED_JS) or False)
    finally:
        browser.switch_to.default_content()


def clear_timeline(browser) -> None:
    """Forget the presses and draws recorded so far (:data:`TIMELINE_JS`)."""
    browser.execute_script("window.__gpTimeline.presses = []; window.__gpTimeline.draws = [];")


def wait_drawn(browser, *, after_press: bool = True, quiet_s: float = 0.6, timeout: float = 120) -> None:
    """Wait until the script run is over and no WebGL draw happened for ``quiet_s`` (:data:`TIMELINE_JS`).

    With ``after_press``, a draw must have followed the last pointer press (the new map); without, the page
    has simply settled (what it shows is drawn, as a person would see it before their next click). Polls
    with a small script, never with screenshots: a screenshot makes headless Chromium composite a frame,
    which would slow down the page being measured.
    """
    script = """
    const tl = window.__gpTimeline, press = tl.presses[tl.presses.length - 1];
    if (!arguments[0]) return tl.draws.length ? performance.now() - tl.draws[tl.draws.length - 1][1] : 1e9;
    const after = tl.draws.filter(d => press !== undefined && d[0] >= press);
    return after.length ? performance.now() - after[after.length - 1][1] : -1;
    """

    def settled(driver) -> bool:
        if driver.find_elements(By.CSS_SELECTOR, RUNNING):
            return False
        return driver.execute_script(script, after_press) >= quiet_s * 1000.0

    WebDriverWait(browser, timeout, poll_frequency=0.1).until(settled)


def map_changed(browser) -> bool:
    """Whether the deck.gl map on screen differs from the one :func:`mark_maps` saw (one screenshot)."""
    decks = browser.find_elements(*DECK)
    before = getattr(browser, "gp_deck_mark", None)
    if not decks or before is None:
        return bool(decks)
    image = deck_image(decks[0])
    return image.shape != before.shape or not np.array_equal(image, before)


def interaction_s(browser) -> float:
    """Seconds from the last pointer press to the end of the last WebGL draw after it, as the page recorded
    them since :func:`clear_timeline` (call it once the map has settled: :func:`wait_drawn`).

    Raises RuntimeError when nothing was pressed or nothing was drawn after the press.
    """
    presses, draws = browser.execute_script("return [window.__gpTimeline.presses, window.__gpTimeline.draws]")
    if not presses:
        msg = "no pointer press was recorded since clear_timeline()"
        raise RuntimeError(msg)
    after = [end for start, end in draws if start >= presses[-1]]
    if not after:
        msg = "the map was not drawn after the last press"
        raise RuntimeError(msg)
    return (after[-1] - presses[-1]) / 1000.0


def mark_maps(browser) -> None:
    """Remember the maps now on the page, so :func:`map_painted` can wait for a new drawing.

    Folium frames are tagged; a deck.gl map's current image is kept on the driver object.
    """
    browser.execute_script(
        "document.querySelectorAll(\"iframe[title*='st_folium']\").forEach(f => f.dataset.gpOld = '1')"
    )
    decks = browser.find_elements(*DECK)
    browser.gp_deck_mark = deck_image(decks[0]) if decks else None
