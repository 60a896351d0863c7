"""Sessions follow the store: the app re-reads the signed-in user on every run, so deactivating the account
or changing its role takes effect on the next run; an idle session is signed out with a message."""

from __future__ import annotations

import time

import pytest
from sqlalchemy.engine import Engine

from grid.config import load_city_config
from services.context import open_context
from services.users import RoleChange, UserRef, change_role, deactivate_user, reactivate_user

from .conftest import ROLE_USERS


def _system(engine: Engine):
    return open_context(engine=engine, config=load_city_config())


def _pages(at) -> set[str]:
    """The pages of the navigation the app registered for this run."""
    found = set()
    for page in ("dashboard", "hotspots", "data", "my_grid"):
        try:
            at.switch_page(f"views/{page}.py")
        except ValueError:
            continue
        found.add(page)
    return found


def test_a_deactivated_user_is_signed_out_on_the_next_run(app_db: Engine, login) -> None:
    at = login("manager")
    assert at.metric  # the overview
    deactivate_user(_system(app_db), UserRef(ROLE_USERS["manager"]))
    at.run()
    assert not at.exception
    assert "user" not in at.session_state
    assert not at.metric
    assert len(at.text_input) == 2  # the login form
    assert at.warning[0].value == "您的账户已停用或删除，已退出登录。"
    # and it cannot log in again until reactivated
    again = login("manager")
    assert again.error[0].value == "该账户已停用，请联系管理员。"
    reactivate_user(_system(app_db), UserRef(ROLE_USERS["manager"]))
    assert login("manager").metric


def test_a_role_change_ends_the_session_and_the_new_login_shows_the_new_roles_pages(
    app_db: Engine, login
) -> None:
    at = login("planner")
    assert _pages(at) == {"hotspots"}
    change_role(_system(app_db), RoleChange(ROLE_USERS["planner"], "manager"))
    at.run()
    assert not at.exception
    assert "user" not in at.session_state
    assert at.warning[0].value == "您的角色或权限范围已变更，已退出登录，请重新登录。"
    again = login("planner")
    assert again.session_state["user"].role == "manager"
    assert _pages(again) == {"dashboard", "hotspots"}
    change_role(_system(app_db), RoleChange(ROLE_USERS["planner"], "inspector", inspector_id="I001"))
    assert _pages(login("planner")) == {"my_grid"}


def test_logout_revokes_the_server_side_session(app_db: Engine, login) -> None:
    from services.sessions import SessionToken, resume_session

    at = login("manager")
    token = at.session_state["session_token"]
    assert resume_session(_system(app_db), SessionToken(token)).reason == "ok"
    next(b for b in at.sidebar.button if b.label == "退出登录").click().run()
    assert not at.exception
    assert "user" not in at.session_state
    assert len(at.text_input) == 2
    assert resume_session(_system(app_db), SessionToken(token)).reason == "revoked"


def test_a_locked_account_gets_the_same_answer_as_a_wrong_password(app_db: Engine, login) -> None:
    for _ in range(5):
        assert login("manager", password="wrong-password-1").error[0].value == "用户名或密码错误。"
    assert login("manager").error[0].value == "用户名或密码错误。"  # locked now: no other answer
    assert login("nobody").error[0].value == "用户名或密码错误。"


def test_an_idle_session_is_signed_out_with_a_message(
    app_db: Engine, login, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRIDPATROL_SESSION_IDLE_MINUTES", "5")
    at = login("manager")
    at.session_state["last_seen"] = time.time() - 4 * 60  # within the limit: still signed in
    at.run()
    assert at.metric
    at.session_state["last_seen"] = time.time() - 6 * 60
    at.run()
    assert not at.exception
    assert "user" not in at.session_state
    assert len(at.text_input) == 2
    assert at.warning[0].value == "长时间未操作，已自动退出登录，请重新登录。"
    at.sidebar.radio[0].set_value("en").run()
    assert at.warning[0].value == "You were signed out after a period of inactivity. Please log in again."


def test_the_data_page_deactivates_a_user_whose_session_then_ends(app_db: Engine, login) -> None:
    planner = login("planner")
    admin = login("admin")
    admin.switch_page("views/data.py").run()
    assert not admin.exception
    form = next(s for s in admin.selectbox if s.label == "用户名")
    form.set_value(ROLE_USERS["planner"])
    next(b for b in admin.button if b.label == "停用账户").click().run()
    assert not admin.exception
    users = admin.dataframe[-1].value.set_index("username")
    assert not users.loc[ROLE_USERS["planner"], "active"]
    planner.run()
    assert "user" not in planner.session_state
