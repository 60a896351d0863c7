"""The administrator's user page: the accounts in words; create (password shown once), reset password,
unlock, change role and scope, deactivate and reactivate, each through one service call."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from cases.users import authenticate

from .conftest import PASSWORD, ROLE_USERS


def _page(login):
    at = login("admin")
    at.switch_page("views/users.py").run()
    assert not at.exception
    return at


def _button(at, label: str):
    return next(b for b in at.button if b.label == label)


def _select(at, key: str):
    return next(s for s in at.selectbox if s.key == key)


def test_the_accounts_are_shown_in_words(app_db: Engine, login) -> None:
    at = _page(login)
    users = at.dataframe[0].value.set_index("username")
    assert users.loc[ROLE_USERS["planner"], "role"] == "规划分析员"
    assert users.loc[ROLE_USERS["inspector"], "user_scope"] == "张三 · 全市"
    assert users.loc[ROLE_USERS["admin"], "user_active"] == "是"
    assert set(users["user_locked"]) == {"否"}


def test_create_reset_unlock_change_and_deactivate(app_db: Engine, login) -> None:
    at = _page(login)
    next(i for i in at.text_input if i.key == "admin_new_name").input("clerk7")
    _select(at, "admin_create_role").set_value("operator")
    _button(at, "创建账户").click().run()
    assert not at.exception
    assert at.success[0].value == "已创建账户 clerk7。"
    password = at.code[0].value
    assert authenticate(app_db, "clerk7", password).ok
    at.run()  # shown once only
    assert not at.code

    _select(at, "admin_pw_user").set_value("clerk7")
    _button(at, "生成新密码").click().run()
    new_password = at.code[0].value
    assert new_password != password
    assert authenticate(app_db, "clerk7", new_password).ok

    for _ in range(5):
        authenticate(app_db, ROLE_USERS["manager"], "wrong-password-1")
    assert authenticate(app_db, ROLE_USERS["manager"], PASSWORD).reason == "locked"
    at.run()
    users = at.dataframe[0].value.set_index("username")
    assert users.loc[ROLE_USERS["manager"], "user_locked"] == "是"
    _select(at, "admin_pw_user").set_value(ROLE_USERS["manager"])
    _button(at, "解除锁定").click().run()
    assert at.success[0].value == f"已解除 {ROLE_USERS['manager']} 的锁定。"
    assert authenticate(app_db, ROLE_USERS["manager"], PASSWORD).ok

    _select(at, "admin_scope_user").set_value("clerk7")
    _select(at, "admin_scope_role").set_value("inspector")
    _button(at, "保存角色与范围").click().run()
    assert at.error[0].value == "监督员账户须指定对应的监督员。"
    _select(at, "admin_scope_insp").set_value("I001")
    _button(at, "保存角色与范围").click().run()
    assert not at.exception
    users = at.dataframe[0].value.set_index("username")
    assert (users.loc["clerk7", "role"], users.loc["clerk7", "user_scope"]) == ("监督员", "张三 · 全市")

    _select(at, "admin_status_user").set_value("clerk7")
    _button(at, "停用账户").click().run()
    assert at.dataframe[0].value.set_index("username").loc["clerk7", "user_active"] == "否"
    assert authenticate(app_db, "clerk7", new_password).reason == "inactive"
    _select(at, "admin_status_user").set_value(ROLE_USERS["admin"])
    _button(at, "停用账户").click().run()
    assert at.error[0].value == "管理员不能停用自己的账户。"


def test_the_page_in_english(app_db: Engine, login) -> None:
    at = _page(login)
    at.sidebar.radio[0].set_value("en").run()
    assert not at.exception
    assert at.title[0].value == "Users"
    assert [tab.label for tab in at.tabs] == [
        "New account",
        "Password / unlock",
        "Role and scope",
        "Deactivate / reactivate",
    ]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_speaks_words_not_codes(app_db: Engine, login, lang: str) -> None:
    from .test_words import _shown, _untranslated

    at = _page(login)
    at.sidebar.radio[0].set_value(lang).run()
    assert not at.exception
    assert _untranslated(_shown(at), lang) == []
