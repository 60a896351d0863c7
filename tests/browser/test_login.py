"""Log in as each role in a real browser; pages a role may not open stay closed."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = pytest.mark.browser

METRIC = (By.CSS_SELECTOR, "[data-testid=stMetric]")
ERROR = (By.CSS_SELECTOR, "[data-testid=stAlertContentError]")


@pytest.mark.parametrize("role", ["admin", "planner", "manager", "inspector"])
def test_each_role_logs_in_and_sees_the_overview(login_as, browser, screenshot, role: str) -> None:
    wait = login_as(role)
    wait.until(ec.presence_of_element_located(METRIC))
    # The navigation is drawn only when a role has more than one page.
    nav = " ".join(e.text for e in browser.find_elements(By.CSS_SELECTOR, "[data-testid=stSidebarNav]"))
    assert ("数据导入" in nav) == (role == "admin")
    assert "概览" in browser.find_element(By.TAG_NAME, "body").text or "GridPatrol" in browser.title
    assert screenshot(f"home-{role}").stat().st_size > 0


def test_wrong_password_shows_an_error_and_no_data(login_as, browser) -> None:
    wait = login_as("planner", password="wrong-password")
    wait.until(ec.presence_of_element_located(ERROR))
    assert "用户名或密码错误" in browser.find_element(*ERROR).text
    assert browser.find_elements(*METRIC) == []


def test_a_page_outside_the_role_cannot_be_opened_by_url(login_as, browser, screenshot) -> None:
    # Opening the admin's page by URL: a new browser session, so the login comes first, and the
    # planner's navigation has no such page: the overview opens, never the importer.
    login_as("planner", path="data").until(ec.presence_of_element_located(METRIC))
    assert browser.find_elements(By.CSS_SELECTOR, "[data-testid=stFileUploader]") == []
    screenshot("data-refused-planner")
    login_as("admin").until(ec.presence_of_element_located(METRIC))
    browser.find_element(By.XPATH, "//a[contains(., '数据导入')]").click()
    WebDriverWait(browser, 30).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=stFileUploader]"))
    )
    screenshot("data-admin")
