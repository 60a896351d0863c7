"""Sessions survive a reload (issue 19): the login gives the browser a signed, http-only cookie bound to a
server-side session row; a reload keeps the user and the page, the login keeps its deep link, and after
logout a reload shows the login form."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = pytest.mark.browser

UPLOADER = (By.CSS_SELECTOR, "[data-testid=stFileUploader]")
PASSWORD_INPUT = (By.CSS_SELECTOR, "input[type=password]")


def test_a_reload_keeps_the_user_and_the_page_until_logout(login_as, browser, screenshot) -> None:
    wait = login_as("admin", path="data?via=link")  # a deep link: the importer, behind the login
    wait.until(ec.presence_of_element_located(UPLOADER))
    assert browser.current_url.split("?")[0].endswith("/data")
    assert "via=link" in browser.current_url
    cookie = browser.get_cookie("gridpatrol_session")
    assert cookie is not None
    assert cookie["httpOnly"]
    assert browser.execute_script("return document.cookie").find("gridpatrol_session") == -1

    browser.refresh()
    wait = WebDriverWait(browser, 30)
    wait.until(ec.presence_of_element_located(UPLOADER))
    assert browser.find_elements(*PASSWORD_INPUT) == []
    assert browser.current_url.split("?")[0].endswith("/data")
    screenshot("session-after-reload")

    logout = (By.XPATH, "//section[@data-testid='stSidebar']//button[contains(., '退出登录')]")
    wait.until(ec.element_to_be_clickable(logout)).click()
    wait.until(ec.presence_of_element_located(PASSWORD_INPUT))
    browser.refresh()
    wait.until(ec.presence_of_element_located(PASSWORD_INPUT))
    assert browser.find_elements(*UPLOADER) == []
    screenshot("session-after-logout-reload")


def test_a_forged_cookie_is_refused(login_as, browser, live_app: str) -> None:
    login_as("admin").until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=stMetric]")))
    cookie = browser.get_cookie("gridpatrol_session")
    token, _, signature = cookie["value"].rpartition(".")
    browser.delete_cookie("gridpatrol_session")
    browser.add_cookie({"name": "gridpatrol_session", "value": f"{token}x.{signature}", "path": "/"})
    browser.get(live_app)
    WebDriverWait(browser, 30).until(ec.presence_of_element_located(PASSWORD_INPUT))
