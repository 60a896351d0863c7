"""The inspector's page on a 412-px phone (issue 19): after choosing the page in the navigation the sidebar
is out of the way, the tasks come first (with a countdown), then the KPI tiles, then the map; nothing
scrolls sideways; the buttons are big enough to tap. Saves docs/screenshots/my_grid_phone.png."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

REPO_ROOT = Path(__file__).resolve().parents[2]


def _driver():
    """tests/browser/driver.py, loaded by path (tests/ is not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "browser_driver_phone", Path(__file__).with_name("driver.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


driver = _driver()
PASSWORD, INSPECTOR = "browser-test-pw", "b-inspector"  # the users of conftest.live_app
SCREENSHOTS = REPO_ROOT / "test-output" / "screenshots"

pytestmark = pytest.mark.browser

UA = (  # an Android phone's Chrome
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36"
)
DOCS_SHOT = REPO_ROOT / "docs" / "screenshots" / "my_grid_phone.png"
TASKS_HEAD = (By.XPATH, "//h3[contains(., '我的任务')]")
SIDEBAR = (By.CSS_SELECTOR, "[data-testid=stSidebar]")
OPEN_NAV = (
    By.CSS_SELECTOR,
    "[data-testid=stExpandSidebarButton], [data-testid=stSidebarCollapsedControl] button",
)
MY_GRID_LINK = (By.XPATH, "//section[@data-testid='stSidebar']//a[contains(., '我的网格')]")
METRIC = (By.CSS_SELECTOR, "[data-testid=stMetric]")


@pytest.fixture(scope="module")
def phone() -> Iterator[object]:
    """A headless Chromium emulating an Android phone: a 412-px viewport, touch and a phone's user agent
    (Streamlit folds the navigation away after a page link is tapped only on a device that says it is
    mobile). Built here because :func:`driver.chromium` takes no device emulation."""
    from selenium import webdriver

    reason = driver.chromium_missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    options = webdriver.ChromeOptions()
    options.binary_location = driver.CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--window-size=412,915"):
        options.add_argument(arg)
    options.add_experimental_option(
        "mobileEmulation",
        {
            "deviceMetrics": {"width": 412, "height": 915, "pixelRatio": 2.0, "touch": True},
            "userAgent": UA,
        },
    )
    service = webdriver.ChromeService(executable_path=driver.CHROMEDRIVER)
    chrome = webdriver.Chrome(options=options, service=service)
    try:
        yield chrome
    finally:
        chrome.quit()


def _top(browser, element) -> float:
    return browser.execute_script("return arguments[0].getBoundingClientRect().top", element)


def _sidebar_width(browser) -> float:
    """How much of the screen the sidebar covers (0 when collapsed)."""
    return browser.execute_script(
        "const s = document.querySelector('[data-testid=stSidebar]'); if (!s) return 0;"
        "const r = s.getBoundingClientRect();"
        "return Math.max(0, Math.min(r.right, innerWidth) - Math.max(r.left, 0));"
    )


def test_the_inspector_page_on_a_phone_puts_the_tasks_first(live_app: str, phone) -> None:
    wait = driver.login(phone, live_app, INSPECTOR, PASSWORD)
    wait.until(ec.presence_of_element_located(METRIC))  # the overview
    assert _sidebar_width(phone) < 50  # a phone opens with the navigation collapsed
    wait.until(ec.element_to_be_clickable(OPEN_NAV)).click()
    wait.until(ec.element_to_be_clickable(MY_GRID_LINK)).click()
    wait = WebDriverWait(phone, 60)
    head = wait.until(ec.presence_of_element_located(TASKS_HEAD))
    wait.until(lambda b: _sidebar_width(b) < 50)  # choosing a page puts the navigation away
    wait.until(ec.presence_of_element_located(METRIC))
    wait.until(lambda b: not b.find_elements(By.CSS_SELECTOR, driver.RUNNING))
    # tasks first, then the KPI tiles, then the map
    first_metric = phone.find_elements(*METRIC)[0]
    map_head = phone.find_element(By.XPATH, "//h3[contains(., '地图')]")
    assert _top(phone, head) < _top(phone, first_metric) < _top(phone, map_head)
    cards = phone.find_elements(
        By.XPATH, "//*[contains(., '剩余') or contains(., '已超时')][self::p or self::span]"
    )
    assert cards, "a countdown on the task cards"
    # nothing scrolls sideways; the card buttons are big tap targets
    overflow = phone.execute_script(
        "const m = document.querySelector('[data-testid=stMain]') || document.body;"
        "return Math.max(document.documentElement.scrollWidth, m.scrollWidth) - innerWidth;"
    )
    assert overflow <= 1
    assert phone.execute_script("return innerWidth") == 412
    buttons = phone.find_elements(By.XPATH, "//button[contains(., '处理此任务') or contains(., '当前任务')]")
    assert buttons
    assert min(b.size["height"] for b in buttons) >= 44
    assert "Traceback" not in phone.find_element(By.TAG_NAME, "body").text
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "my_grid_phone.png"
    phone.save_screenshot(str(shot))
    DOCS_SHOT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, DOCS_SHOT)
    assert Path(DOCS_SHOT).stat().st_size > 10_000


def test_use_my_position_fills_the_report_location(live_app: str, phone) -> None:
    # the browser's geolocation, granted and placed inside I001's beat (tests/app/planted.py)
    wait = driver.login(phone, f"{live_app}/my_grid", INSPECTOR, PASSWORD, timeout=60)
    wait.until(ec.presence_of_element_located(TASKS_HEAD))
    phone.execute_cdp_cmd("Browser.grantPermissions", {"permissions": ["geolocation"], "origin": live_app})
    phone.execute_cdp_cmd(
        "Emulation.setGeolocationOverride", {"latitude": 32.0101, "longitude": 120.8601, "accuracy": 12}
    )
    frame = wait.until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "iframe[title*='gridpatrol_geolocation']"))
    )
    phone.execute_script("arguments[0].scrollIntoView({block: 'center'})", frame)
    phone.switch_to.frame(frame)
    button = wait.until(ec.element_to_be_clickable((By.ID, "locate")))
    assert "使用我的位置" in button.text
    assert button.size["height"] >= 44
    button.click()
    phone.switch_to.default_content()
    latitude = (By.CSS_SELECTOR, "input[aria-label='纬度（WGS-84）']")
    wait.until(lambda b: b.find_element(*latitude).get_attribute("value") == "32.010100")
    longitude = phone.find_element(By.CSS_SELECTOR, "input[aria-label='经度（WGS-84）']")
    assert longitude.get_attribute("value") == "120.860100"
    assert "精度约 12 米" in phone.find_element(By.TAG_NAME, "body").text
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    phone.save_screenshot(str(SCREENSHOTS / "my_grid_phone_position.png"))
