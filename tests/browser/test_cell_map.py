"""The planner's deck.gl cell map in Chromium: hover shows a tooltip, a click opens the cell's history, the
base map can be switched (Gaode draws shifted polygons) with no network, and the downloads work.

The live app holds the planted city of tests/app/planted.py; screenshots go to test-output/screenshots/.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import h3
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = pytest.mark.browser

DECK = (By.CSS_SELECTOR, "[data-testid=stDeckGlJsonChart]")
HISTORY = re.compile(r"网格 ([0-9a-f]{15}) 的历史与案件")
METRIC = (By.CSS_SELECTOR, "[data-testid=stMetric]")


def _open_hotspots(login_as, browser, map_painted) -> object:
    login_as("planner", path="hotspots").until(ec.presence_of_element_located(METRIC))
    assert map_painted(browser) >= 1
    deck = browser.find_element(*DECK)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", deck)
    time.sleep(0.5)
    return deck


def _history_cell(browser) -> str | None:
    found = HISTORY.search(browser.find_element(By.TAG_NAME, "body").text)
    return found.group(1) if found else None


def test_hover_shows_the_cell_and_a_click_opens_its_history(
    login_as, browser, map_painted, screenshot
) -> None:
    deck = _open_hotspots(login_as, browser, map_painted)
    first = WebDriverWait(browser, 30).until(lambda d: _history_cell(d))  # the top-z cell, before any click
    chosen = None
    for dx, dy in ((0, 0), (40, 20), (-60, -30), (90, -60), (-120, 70), (150, 90)):
        ActionChains(browser).move_to_element_with_offset(deck, dx, dy).perform()
        time.sleep(0.6)
        tips = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".deck-tooltip") if e.text]
        if not tips:
            continue  # nothing under the pointer there
        assert "H3:" in tips[0]
        hovered = re.search(r"H3: ([0-9a-f]{15})", tips[0]).group(1)
        if hovered == first:
            continue  # its history is shown already: a click there would prove nothing
        ActionChains(browser).click().perform()
        WebDriverWait(browser, 30).until(lambda d, cell=hovered: _history_cell(d) == cell)
        chosen = hovered
        break
    assert chosen is not None, "no cell under any of the probed points"
    assert h3.is_valid_cell(chosen)
    assert h3.get_resolution(chosen) == 9  # the page's default resolution
    screenshot("hotspots-clicked-cell")


def test_gaode_base_map_draws_shifted_cells_without_network(
    login_as, browser, map_painted, screenshot
) -> None:
    _open_hotspots(login_as, browser, map_painted)
    box = (By.CSS_SELECTOR, "[data-testid=stSelectbox]:has(input[aria-label='底图'])")
    widget = WebDriverWait(browser, 30).until(ec.presence_of_element_located(box))
    widget.find_element(By.CSS_SELECTOR, "button[aria-haspopup=listbox]").click()
    option = (By.XPATH, "//*[@role='option'][normalize-space(.)='高德地图']")
    WebDriverWait(browser, 10).until(ec.element_to_be_clickable(option)).click()
    # Tiles from autonavi.com may or may not load here: the cells draw either way.
    assert map_painted(browser, timeout=60) >= 1
    errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not [m for m in errors if "DeckGlJsonChart" in m and "Failed to fetch" not in m], errors
    screenshot("hotspots-gaode")
    widget = browser.find_element(*box)
    widget.find_element(By.CSS_SELECTOR, "button[aria-haspopup=listbox]").click()
    option = (By.XPATH, "//*[@role='option'][normalize-space(.)='无']")
    WebDriverWait(browser, 10).until(ec.element_to_be_clickable(option)).click()


def test_downloads_of_the_current_view(login_as, browser, map_painted, downloads: Path) -> None:
    for old in downloads.glob("hotspots*"):
        old.unlink()
    _open_hotspots(login_as, browser, map_painted)
    for label, name in (("HTML", "hotspots.html"), ("GeoJSON", "hotspots.geojson")):
        button = browser.find_element(
            By.XPATH, f"//*[@data-testid='stDownloadButton']//button[normalize-space(.)='{label}']"
        )
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
        button.click()
        WebDriverWait(browser, 60).until(lambda _d, n=name: (downloads / n).is_file())
    page = (downloads / "hotspots.html").read_text(encoding="utf-8")
    assert "L.map(" in page or "L.map (" in page
    assert "cdn." not in page  # Leaflet is inlined: the file opens offline
    collection = json.loads((downloads / "hotspots.geojson").read_text(encoding="utf-8"))
    assert collection["type"] == "FeatureCollection"
    assert len(collection["features"]) >= 1
    assert {"h3", "count", "gi_class"} <= set(collection["features"][0]["properties"])
