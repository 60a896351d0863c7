"""One case through the whole loop in Chromium, each step by its role on its page (issue 20).

The app serves a copy of the 60-day demo city with one user per workflow role. The operator takes a hotline
call in the demo inspector's cells on the intake page, sees the earlier call of the same category nearby
suggested as a duplicate and registers a new case anyway; the inspector verifies it on site with a photo
(case page); the supervisor registers it (立案, case page); the dispatcher dispatches it from the dispatch
queue to the suggested department; the department asks for an extension (department page); the supervisor
approves it (approvals page); the department reports it handled with a photo (department page); the
inspector's re-check passes (case page); the supervisor closes it (case page); the operator records the
callback (callbacks page). The case page then shows every step of the timeline, and the manager's
dashboard (and :func:`services.kpi.kpi_table`) counts the case as closed on time, extended and satisfied.

After each click the test waits for the store to hold the step's status (read in-process from the served
SQLite file): that is the server's answer, whatever the page draws next. Screenshots go to
``test-output/screenshots/loop-*.png``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib.util
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from selenium.common.exceptions import ElementNotInteractableException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.browser

PASSWORD = "loop-test-pw-1"
INSPECTOR = "NT0003"
CATEGORY = "07001"
DEPARTMENT = "320613-CG"
CALLER_PHONE = "13812345678"
USERS = {
    "operator": {"username": "loop-operator"},
    "dispatcher": {"username": "loop-dispatcher"},
    "supervisor": {"username": "loop-supervisor"},
    "department": {"username": "loop-department", "department": DEPARTMENT},
    "inspector": {"username": "loop-inspector", "inspector_id": INSPECTOR},
    "manager": {"username": "loop-manager"},
}
ERROR = (By.CSS_SELECTOR, "[data-testid=stAlertContentError]")
SCREENSHOTS = REPO_ROOT / "test-output" / "screenshots"


def _driver_module():
    """tests/browser/driver.py, loaded by path as the conftest does (tests/ is not a package)."""
    spec = importlib.util.spec_from_file_location("loop_driver", Path(__file__).with_name("driver.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


driver = _driver_module()


class Loop:
    """The served app, its store and what the test planted: the call's point and the earlier case."""

    def __init__(self, url: str, data_dir: Path, lat: float, lon: float, earlier: str) -> None:
        from cases.db import make_engine

        self.url, self.data_dir, self.lat, self.lon, self.earlier = url, data_dir, lat, lon, earlier
        self.engine = make_engine(f"sqlite:///{(data_dir / 'gridpatrol.db').as_posix()}")
        self.case_id: str | None = None

    def status(self, case_id: str) -> str | None:
        from cases import repository_people

        case = repository_people.case_record(self.engine, case_id)
        return None if case.empty else str(case["status"].iloc[0])

    def wait_status(self, browser, status: str, timeout: float = 60) -> None:
        """Wait until the store holds the case in ``status``; on a page error, fail with its words."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.status(str(self.case_id)) == status:
                return
            errors = browser.find_elements(*ERROR)
            if errors:
                pytest.fail(f"waiting for {status}: the page says {errors[0].text!r}")
            time.sleep(0.3)
        pytest.fail(
            f"case {self.case_id} is {self.status(str(self.case_id))}, not {status}, after {timeout} s"
        )


def _demo_point(engine) -> tuple[float, float]:
    """The centre of a cell the demo inspector is assigned now (the middle one of their cells)."""
    from cases import repository
    from grid.cells import cell_centers

    now = pd.Timestamp.now(tz="UTC")
    live = repository.assignments_overlapping(engine, now, now + pd.Timedelta("1us"))
    cells = np.sort(live.loc[live["inspector_id"] == INSPECTOR, "cell"].to_numpy(dtype=np.int64))
    assert cells.size, f"the demo inspector {INSPECTOR} has no cells now"
    lat, lon = cell_centers(cells[cells.size // 2 : cells.size // 2 + 1])
    return float(lat[0]), float(lon[0])


@pytest.fixture(scope="module")
def loop(demo60_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loop]:
    """The app on a copy of the demo city, a user per role, and an earlier call 10 m from the new one."""
    from cases.db import make_engine
    from cases.users import create_user
    from grid.config import load_city_config
    from services.context import Actor, ServiceContext
    from services.intake import IntakeDraft, register_intake

    data_dir = tmp_path_factory.mktemp("loop") / "data"
    shutil.copytree(demo60_template, data_dir, symlinks=True)
    engine = make_engine(f"sqlite:///{(data_dir / 'gridpatrol.db').as_posix()}")
    for role, user in USERS.items():
        create_user(
            engine,
            user["username"],
            role,
            password=PASSWORD,
            **{k: v for k, v in user.items() if k != "username"},
        )
    lat, lon = _demo_point(engine)
    ctx = ServiceContext(engine=engine, config=load_city_config(), data_dir=data_dir)
    earlier = register_intake(
        ctx.as_actor(Actor("loop-earlier", "operator")),
        IntakeDraft(
            CATEGORY,
            "早先来电：垃圾桶满溢",
            lat=lat + 0.0001,
            lon=lon,
            reporter_phone="13900001111",
            reported_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
        ),
    ).case_id
    engine.dispose()
    try:
        with driver.serve_app(data_dir) as url:
            state = Loop(url, data_dir, lat, lon, earlier)
            yield state
            state.engine.dispose()
    except RuntimeError as exc:
        pytest.fail(str(exc))


# --- how a person uses the page ---------------------------------------------------------------------------


def _idle(browser, timeout: float = 90) -> None:
    """Wait until the script run is over (three quiet looks in a row: a rerun may follow a run)."""
    time.sleep(0.4)
    quiet = [0]

    def settled(d) -> bool:
        if d.find_elements(By.CSS_SELECTOR, driver.RUNNING):
            quiet[0] = 0
            return False
        quiet[0] += 1
        return quiet[0] >= 3

    WebDriverWait(browser, timeout, poll_frequency=0.2).until(settled)


def _body(browser) -> str:
    return browser.execute_script("return document.body ? document.body.innerText : ''")


def _wait_text(browser, text: str, timeout: float = 60) -> None:
    WebDriverWait(browser, timeout, poll_frequency=0.3).until(lambda d: text in _body(d))


def _find(browser, xpath: str, scope=None, timeout: float = 40):
    """The first displayed element at ``xpath`` (relative to ``scope``, else the page)."""
    root = scope or browser

    def shown(_):
        return [e for e in root.find_elements(By.XPATH, xpath) if e.is_displayed()] or False

    try:
        element = WebDriverWait(browser, timeout, poll_frequency=0.2).until(shown)[0]
    except TimeoutException:
        _shot(browser, "not-found")
        pytest.fail(f"nothing at {xpath} on {browser.current_url} (screenshot loop-not-found.png)")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    return element


def _type(browser, label: str, value: str, *, tag: str = "input", scope=None, commit: bool = True) -> None:
    """Type into the field labelled ``label``; leave it (Tab), which makes Streamlit take the value."""
    field = _find(browser, f".//{tag}[@aria-label='{label}']", scope)
    _press(browser, field)
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(value)
    if commit:  # outside a form; a form takes its fields' values when submitted
        field.send_keys(Keys.TAB)
        _idle(browser)


def _choose(browser, text: str, scope=None) -> None:
    """Click the radio option ``text``."""
    _find(browser, f".//div[@data-testid='stRadio']//label[contains(., '{text}')]", scope).click()
    _idle(browser)


def _pick(browser, label: str, text: str, scope=None, testid: str = "stSelectbox") -> None:
    """Open the select box (or multiselect) labelled ``label``, type ``text`` and click the option."""
    box = _find(browser, f".//div[@data-testid='{testid}'][.//label[contains(., '{label}')]]", scope)
    field = box.find_element(By.CSS_SELECTOR, "input")
    browser.execute_script("window.scrollBy(0, 250)")  # room below the box for its list of options
    option = f"//*[@role='option'][contains(., '{text}')]"
    for _attempt in range(3):
        _press(browser, field)
        field.send_keys(Keys.CONTROL, "a")
        field.send_keys(text)
        try:  # the list opens on typing; when it does not, the down arrow opens it
            _find(browser, option, timeout=5).click()
            break
        except pytest.fail.Exception:
            field.send_keys(Keys.ARROW_DOWN)
            with contextlib.suppress(pytest.fail.Exception):
                _find(browser, option, timeout=5).click()
                break
    _idle(browser)
    chosen = box.find_elements(By.CSS_SELECTOR, "input")
    if testid == "stSelectbox" and chosen:
        assert text in (chosen[0].get_attribute("value") or ""), chosen[0].get_attribute("value")


def _press(browser, element, tries: int = 20) -> None:
    """Click ``element``, waiting while it is not interactable yet (an expander still opening)."""
    for _ in range(tries):
        try:
            element.click()
            return
        except ElementNotInteractableException:
            time.sleep(0.3)
    browser.execute_script("arguments[0].click()", element)  # e.g. a popover (date picker) over it


def _click(browser, text: str, scope=None) -> None:
    _press(browser, _find(browser, f".//button[contains(., '{text}')]", scope))


def _upload(browser, photo: Path, scope=None) -> None:
    """Attach ``photo`` to the file uploader in ``scope`` and wait until it is listed."""
    root = scope or browser
    WebDriverWait(browser, 30).until(lambda _: root.find_elements(By.CSS_SELECTOR, "input[type=file]"))
    root.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(str(photo))
    WebDriverWait(browser, 30).until(lambda d: photo.name in (scope.text if scope is not None else _body(d)))
    _idle(browser)


def _login(browser, loop: Loop, role: str, path: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {role} opens {path}")
    driver.login(browser, f"{loop.url}/{path}", USERS[role]["username"], PASSWORD, timeout=60)
    _idle(browser)


def _shot(browser, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / f"loop-{name}.png"))


def _case_action(browser, loop: Loop, role: str, word: str, note: str, status: str, photo=None) -> None:
    """On the case page, open the action ``word``'s form, write the note (attach the photo), submit."""
    _login(browser, loop, role, f"case?case={loop.case_id}")
    _wait_text(browser, "可执行操作")
    panel = _find(browser, f"//div[@data-testid='stExpander'][.//summary[contains(., '{word}')]]")
    if panel.find_element(By.TAG_NAME, "details").get_attribute("open") is None:
        panel.find_element(By.TAG_NAME, "summary").click()
        time.sleep(0.3)
    _type(browser, "备注", note, tag="textarea", scope=panel, commit=False)
    if photo is not None:
        _upload(browser, photo, panel)
    _click(browser, "执行", panel)
    loop.wait_status(browser, status)
    _wait_text(browser, f"已记录：案件 {loop.case_id}")
    _shot(browser, f"{status}-{role}")


@pytest.fixture
def photos(tmp_path: Path) -> list[Path]:
    """Three small JPEGs taken "on site" (verification, handling, check): different pictures, as the
    store keeps one copy of a picture per case."""
    from PIL import Image

    paths = []
    for k, colour in enumerate([(120, 160, 90), (90, 120, 160), (160, 90, 120)]):
        paths.append(tmp_path / f"loop-site-{k}.jpg")
        Image.new("RGB", (64, 48), colour).save(paths[-1], "JPEG")
    return paths


def _intake(browser, loop: Loop) -> str:
    """The operator takes the call, sees the earlier one as a possible duplicate, registers a new case."""
    import re

    _login(browser, loop, "operator", "intake")
    _type(browser, "搜索案件类别（名称或编码）", CATEGORY)
    _type(browser, "问题描述", "垃圾桶满溢，垃圾散落路面", tag="textarea")
    _type(browser, "来电人姓名", "王先生")
    _type(browser, "来电人电话", CALLER_PHONE)
    _choose(browser, "输入坐标")
    _type(browser, "纬度", f"{loop.lat:.6f}")
    _type(browser, "经度", f"{loop.lon:.6f}")
    _wait_text(browser, "疑似重复案件")
    merge_box = _find(browser, "//div[@data-testid='stSelectbox'][.//label[contains(., '合并到')]]")
    offered = merge_box.get_attribute("textContent") + " " + _grid_text(browser)
    assert loop.earlier in offered, offered  # the earlier call is offered for merging …
    _shot(browser, "intake-duplicate")
    _click(browser, "登记为新案件")  # … and refused: the operator files a new case
    _wait_text(browser, "已登记案件")
    found = re.search(r"已登记案件 (RX\d+)", _body(browser))
    assert found, _body(browser)
    return found.group(1)


def test_one_case_goes_through_the_whole_loop_across_the_roles(
    browser, loop: Loop, photos: list[Path]
) -> None:
    from cases import repository_addresses, repository_callbacks, repository_people, repository_photos

    started = time.monotonic()
    loop.case_id = case_id = _intake(browser, loop)
    assert loop.status(case_id) == "reported"
    assert repository_people.case_record(loop.engine, case_id)["category_code"].iloc[0] == CATEGORY
    assert repository_addresses.case_merges(loop.engine, loop.earlier).empty  # not merged
    assert loop.status(loop.earlier) == "reported"

    _case_action(browser, loop, "inspector", "现场核实", "现场确认属实", "verified", photos[0])
    _case_action(browser, loop, "supervisor", "立案", "同意立案", "registered")

    # the dispatcher sends it from the queue to the department the routing rules suggest
    _login(browser, loop, "dispatcher", "dispatch")
    _pick(browser, "选择案件（或在表格中勾选行）", case_id, testid="stMultiSelect")
    _choose(browser, "派遣")
    _click(browser, "执行")
    loop.wait_status(browser, "dispatched")
    _wait_text(browser, "完成 1 件，失败 0 件")
    _shot(browser, "dispatched-dispatcher")
    assert repository_people.case_record(loop.engine, case_id)["department"].iloc[0] == DEPARTMENT

    # the department asks for three more days
    _login(browser, loop, "department", "department")
    _pick(browser, "选择案件", case_id)
    _choose(browser, "申请延期")
    _type(browser, "理由 / 备注", "需协调环卫车辆", tag="textarea", commit=False)
    _click(browser, "提交")
    loop.wait_status(browser, "extension_requested")
    _shot(browser, "extension-department")
    asked = repository_people.case_events(loop.engine, case_id)["deadline_at"].iloc[-1]

    _login(browser, loop, "supervisor", "approvals")
    _pick(browser, "选择案件", case_id)
    _choose(browser, "批准")
    _type(browser, "备注", "同意延期", tag="textarea", commit=False)
    _click(browser, "提交")
    loop.wait_status(browser, "dispatched")
    _shot(browser, "approved-supervisor")
    assert repository_people.case_record(loop.engine, case_id)["deadline_at"].iloc[0] == asked

    # the department reports the work done, with a photo
    _login(browser, loop, "department", "department")
    _pick(browser, "选择案件", case_id)
    _choose(browser, "处置完成")
    _type(browser, "理由 / 备注", "已清运完毕", tag="textarea", commit=False)
    _upload(browser, photos[1])
    _click(browser, "提交")
    loop.wait_status(browser, "resolved")
    _shot(browser, "resolved-department")

    _case_action(browser, loop, "inspector", "现场核查通过", "复核合格", "checked", photos[2])
    _case_action(browser, loop, "supervisor", "结案", "准予结案", "closed")

    # the operator calls the reporter back: reached and satisfied
    _login(browser, loop, "operator", "callbacks")
    _pick(browser, "回访案件", case_id)
    _type(browser, "备注", "群众表示满意", tag="textarea", commit=False)
    _click(browser, "执行")
    _wait_text(browser, f"回访已记录：案件 {case_id}")
    _shot(browser, "callback-operator")
    callbacks = repository_callbacks.callbacks_of(loop.engine, case_id)
    assert len(callbacks) == 1

    # every step is on the case's timeline, with three photos (verification, handling, check)
    events = repository_people.case_events(loop.engine, case_id)
    assert events["to_status"].tolist() == [
        "reported", "verified", "registered", "dispatched", "extension_requested", "dispatched",
        "resolved", "checked", "closed",
    ]  # fmt: skip
    assert len(repository_photos.case_photo_rows(loop.engine, case_id)) == 3
    _timeline_on_the_case_page(browser, loop, events)
    _kpi_counts_the_case(browser, loop)
    print(f"the whole loop took {time.monotonic() - started:.0f} s")


def _grid_text(browser, timeout: float = 30) -> str:
    """The text of the data grids on the page (Streamlit draws them on a canvas and mirrors the visible
    cells in an accessible table, which is what a screen reader — and this test — reads)."""

    def read(d) -> str | bool:
        cells = d.find_elements(By.CSS_SELECTOR, "[data-testid=stDataFrame] table td")
        return " | ".join(c.get_attribute("textContent") or "" for c in cells) or False

    return WebDriverWait(browser, timeout, poll_frequency=0.3).until(read)


def _timeline_on_the_case_page(browser, loop: Loop, events: pd.DataFrame) -> None:
    """The operator opens the case page: the timeline lists every step with its actor and note."""
    from app.texts.casework import ACTION_WORDS

    _login(browser, loop, "operator", f"case?case={loop.case_id}")
    _wait_text(browser, "办理过程")
    shown = _grid_text(browser)
    _shot(browser, "timeline-operator")
    for word in (
        "上报",
        "现场核实",
        "立案",
        "派遣",
        "延期申请",
        "延期批准",
        "处置反馈",
        "现场核查通过",
        "结案",
    ):
        assert word in shown, (word, shown)
    assert set(events["action"].dropna()) <= set(ACTION_WORDS)
    for username in ("loop-operator", "loop-supervisor", "loop-dispatcher", "loop-department"):
        assert username in shown, (username, shown)
    for note in ("现场确认属实", "需协调环卫车辆", "同意延期", "已清运完毕", "准予结案"):
        assert note in shown, (note, shown)


def _kpi_counts_the_case(browser, loop: Loop) -> None:
    """The KPI table of today's filings counts the case: closed on time, extended once, reporter satisfied;
    the manager's dashboard shows the same cohort."""
    from grid.config import load_city_config
    from services.context import ServiceContext
    from services.kpi import DashboardRequest, KpiRequest, dashboard, kpi_table

    ctx = ServiceContext(engine=loop.engine, config=load_city_config(), data_dir=loop.data_dir)
    today = pd.Timestamp.now(tz=ctx.timezone).date()
    table = kpi_table(ctx, KpiRequest(by="department", start=today, end=today)).to_frame()
    row = table.set_index("department").loc[DEPARTMENT]
    counts = {
        k: int(row[k]) for k in ("cases", "closed", "closed_on_time", "extended", "callbacks", "satisfied")
    }
    assert counts == {
        "cases": 1,
        "closed": 1,
        "closed_on_time": 1,
        "extended": 1,
        "callbacks": 1,
        "satisfied": 1,
    }

    _login(browser, loop, "manager", "dashboard")
    overall = dashboard(ctx, DashboardRequest(today - dt.timedelta(days=89), today)).overall.iloc[0]
    cohort = f"立案 {int(overall['cases']):,} 件，应结案 {int(overall['should_close']):,} 件"
    _wait_text(browser, cohort)
    assert int(overall["closed"]) >= 1
    _shot(browser, "kpi-manager")
