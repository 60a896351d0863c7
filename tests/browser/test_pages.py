"""Every role opens each of its pages in Chromium: the map draws, nothing leaks, untrusted text stays text.

The live app holds the planted city of tests/app/planted.py; b-inspector is inspector I001. Screenshots
go to test-output/screenshots/<page>-<role>.png.
"""

from __future__ import annotations

import time

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = pytest.mark.browser

XSS = "<img src=x onerror=alert(1)>"
MAP_FRAME = (By.CSS_SELECTOR, "iframe[title*='st_folium']")
ANY_MAP = (By.CSS_SELECTOR, "iframe[title*='st_folium'], [data-testid=stDeckGlJsonChart]")
METRIC = (By.CSS_SELECTOR, "[data-testid=stMetric]")
ERROR = (By.CSS_SELECTOR, "[data-testid=stAlertContentError]")
#: role → (navigation title, url path) of each page it opens, in the order of the navigation
ROLE_PAGES = {
    "planner": [("热点分析", "hotspots"), ("反复发生问题", "recurring"), ("新兴热点", "emerging"),
                ("风险预测", "forecast")],
    "manager": [("热点分析", "hotspots"), ("绩效看板", "dashboard"), ("警力部署", "deployment"),
                ("巡查覆盖", "coverage")],
    "inspector": [("我的网格", "my_grid")],
    "admin": [("我的网格", "my_grid"), ("巡查覆盖", "coverage"), ("新兴热点", "emerging")],
}  # fmt: skip
#: Pages without a map (charts and tables only).
NO_MAP = {"dashboard"}


def _scroll_to_map(browser) -> None:
    frame = browser.find_element(*ANY_MAP)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", frame)
    time.sleep(0.5)


def _no_alert(browser) -> None:
    try:
        alert = browser.switch_to.alert
    except NoAlertPresentException:
        return
    text = alert.text
    alert.dismiss()
    pytest.fail(f"a script ran: alert({text!r})")


@pytest.mark.parametrize("role", list(ROLE_PAGES))
def test_each_role_opens_its_pages_and_the_map_draws(
    login_as, browser, screenshot, map_painted, role: str
) -> None:
    login_as(role).until(ec.presence_of_element_located(METRIC))
    nav = browser.find_element(By.CSS_SELECTOR, "[data-testid=stSidebarNav]").text
    for title, path in ROLE_PAGES[role]:
        assert title in nav
        started = time.monotonic()
        browser.find_element(By.XPATH, f"//a[contains(., '{title}')]").click()
        WebDriverWait(browser, 30).until(ec.url_contains(path))
        if path in NO_MAP:
            WebDriverWait(browser, 40).until(ec.presence_of_element_located(METRIC))
            time.sleep(2)
        else:
            assert map_painted(browser) >= 1
            print(f"{role} {path}: map drawn {time.monotonic() - started:.1f} s after the click")
        assert browser.find_elements(*ERROR) == [], browser.find_element(*ERROR).text
        _no_alert(browser)
        if path not in NO_MAP:
            _scroll_to_map(browser)
        screenshot(f"{path}-{role}")
    if role != "admin":
        for forbidden in {"数据导入", "我的网格", "巡查覆盖", "绩效看板", "热点分析"} - {
            t for t, _ in ROLE_PAGES[role]
        }:
            assert forbidden not in nav


def test_an_inspector_cannot_open_another_inspectors_case_by_url(login_as, browser, screenshot) -> None:
    wait = login_as("inspector", path="my_grid?case=T-other")
    error = wait.until(ec.presence_of_element_located(ERROR))
    assert "T-other" in error.text
    assert "不在您的网格内" in error.text
    screenshot("my_grid-refused-inspector")
    # The other inspector's case is nowhere on the page (its description is "别人的案件").
    assert "别人的案件" not in browser.find_element(By.TAG_NAME, "body").text


def test_a_script_in_a_description_shows_as_text_and_runs_nothing(
    login_as, browser, screenshot, map_painted
) -> None:
    wait = login_as("inspector", path="my_grid?case=T-mine_verify")
    wait.until(ec.presence_of_element_located(METRIC))
    map_painted(browser)
    # the tasks come first on the page (cards, no tab): the description is shown as text there
    wait.until(lambda d: XSS in d.find_element(By.TAG_NAME, "body").text)
    _no_alert(browser)
    assert browser.find_elements(By.CSS_SELECTOR, "img[src='x']") == []
    browser.switch_to.frame(browser.find_element(*MAP_FRAME))
    try:
        assert browser.find_elements(By.CSS_SELECTOR, "img[src='x']") == []
    finally:
        browser.switch_to.default_content()
    _no_alert(browser)
    screenshot("my_grid-xss-inspector")
