"""Take the README's screenshots of every view from a ``make demo`` data folder, in headless Chromium.

    python docs/screenshots.py [DATA_DIR]        # default: data/ (the demo's gridpatrol.db + demo-users.txt)

Serves the app over DATA_DIR with the base map off, logs in as the demo users of ``demo-users.txt`` and
saves ``docs/screenshots/<page>.png`` once each page's map has painted (the same check as the browser tests).
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
OUT = REPO_ROOT / "docs" / "screenshots"
#: page url path → (demo user, navigation title, whether it has a map)
VIEWS = {
    "home": ("demo-planner", "概览", True),  # the page after login: no navigation
    "my_grid": ("demo-inspector", "我的网格", True),
    "hotspots": ("demo-planner", "热点分析", True),
    "forecast": ("demo-planner", "风险预测", True),
    "dashboard": ("demo-manager", "绩效看板", False),
    "coverage": ("demo-manager", "巡查覆盖", True),
    "deployment": ("demo-manager", "警力部署", True),
}


def _driver():
    path = REPO_ROOT / "tests" / "browser" / "driver.py"
    spec = importlib.util.spec_from_file_location("screenshots_driver", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _passwords(data_dir: Path) -> dict[str, str]:
    lines = (data_dir / "demo-users.txt").read_text(encoding="utf-8").splitlines()
    return {parts[0]: parts[1] for parts in (line.split() for line in lines) if len(parts) >= 2}


def main(data_dir: Path) -> None:
    """Save one screenshot per entry of :data:`VIEWS`."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver = _driver()
    reason = driver.chromium_missing()
    if reason:
        raise SystemExit(reason)
    passwords = _passwords(data_dir)
    OUT.mkdir(parents=True, exist_ok=True)
    with driver.serve_app(data_dir) as url:
        for page, (user, title, has_map) in VIEWS.items():
            with driver.chromium(window="1400,900") as browser:
                driver.login(browser, url, user, passwords[user])
                WebDriverWait(browser, 60).until(ec.presence_of_element_located(driver.METRIC))
                if page != "home":
                    browser.find_element(By.XPATH, f"//a[contains(., '{title}')]").click()
                    WebDriverWait(browser, 60).until(ec.url_contains(page))
                if has_map:
                    driver.map_painted(browser, timeout=180)
                else:
                    WebDriverWait(browser, 60).until(ec.presence_of_element_located(driver.METRIC))
                time.sleep(2)
                browser.save_screenshot(str(OUT / f"{page}.png"))
                print(f"{page}: {OUT / f'{page}.png'}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO_ROOT / "data")
