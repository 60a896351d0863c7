"""Widgets of the administrator's user page (``app/views/users.py``): the accounts table in words and one
form per operation, each calling one :mod:`services.users` function.

A generated password is kept in the session state for exactly one page run and shown once as code (not
markdown); every other message names the account through ``t`` with the username as a format value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from app.i18n import ROLE_LABELS, error_text, label, t, worded
from app.safe_text import safe_t
from app.tables import show_table
from cases.models import ROLES
from services import users as user_service
from services.context import ServiceContext
from services.errors import ServiceError

#: Session-state keys: the message of the last operation, a new password to show once.
DONE_KEY, PASSWORD_KEY = "admin_done", "admin_password_once"


def scope_words(row: pd.Series, choices: user_service.ScopeChoices) -> str:
    """The account's scope in words: its department, inspector and district by name, else city-wide."""
    parts = []
    if row.get("department"):
        parts.append(choices.departments.get(row["department"], row["department"]))
    if row.get("inspector_id"):
        parts.append(choices.inspectors.get(row["inspector_id"], row["inspector_id"]))
    district = row.get("district")
    parts.append(choices.districts.get(district, district) if district else t("admin_citywide"))
    return " · ".join(str(p) for p in parts)


def show_users(users: pd.DataFrame, choices: user_service.ScopeChoices) -> None:
    """The accounts: name, role and scope in words, locked (until when), active."""
    now = pd.Timestamp.now(tz="UTC")
    locked = users["locked_until"].notna() & (users["locked_until"] > now)
    shown = pd.DataFrame(
        {
            "username": users["username"],
            "role": users["role"].map(lambda r: label(ROLE_LABELS, r)),
            "user_scope": [scope_words(row, choices) for _, row in users.iterrows()],
            "user_locked": locked.map({True: t("admin_yes"), False: t("admin_no")}),
            "locked_until": users["locked_until"].where(locked),
            "user_active": users["active"].astype(bool).map({True: t("admin_yes"), False: t("admin_no")}),
        }
    )
    show_table(shown)


def show_outcome() -> None:
    """The message of the last operation and, once, a generated password."""
    done = st.session_state.pop(DONE_KEY, None)
    if done:
        st.success(done)  # markdown-safe: made by safe_t below
    once = st.session_state.pop(PASSWORD_KEY, None)
    if once:
        st.text(t("admin_new_password", username=once[0]))
        st.code(once[1], language=None)


def _run(operation: Callable[..., Any], ctx: ServiceContext, request: Any, done: str) -> None:
    """Call one service operation; on success remember its message (and a generated password) and rerun."""
    try:
        result = operation(ctx, request)
    except ServiceError as exc:
        st.error(error_text(exc))
        return
    st.session_state[DONE_KEY] = safe_t(done, username=request.username)
    if getattr(result, "password", None):
        st.session_state[PASSWORD_KEY] = (request.username, result.password)
    st.rerun()


def _pick(name: str, options: dict[str, str], key: str, *, none_text: str) -> str | None:
    """A select box of ``options`` (id → name) with a first "none" entry; the chosen id or None."""
    ids = [None, *options]
    return st.selectbox(
        t(name),
        ids,
        key=key,
        format_func=worded(lambda i: none_text if i is None else f"{options[i]} ({i})"),
    )


def _scope_fields(
    choices: user_service.ScopeChoices, prefix: str
) -> tuple[str, str | None, str | None, str | None]:
    role = st.selectbox(
        t("role"), list(ROLES), key=f"{prefix}_role", format_func=worded(lambda r: label(ROLE_LABELS, r))
    )
    none = t("admin_none")
    department = _pick("admin_department", choices.departments, f"{prefix}_dept", none_text=none)
    inspector = _pick("admin_inspector", choices.inspectors, f"{prefix}_insp", none_text=none)
    district = _pick("admin_district", choices.districts, f"{prefix}_district", none_text=t("admin_citywide"))
    return role, department, inspector, district


def create_form(ctx: ServiceContext, choices: user_service.ScopeChoices) -> None:
    """New account: name, role, department, inspector, district; the password is generated."""
    with st.form("admin_create_form"):
        username = st.text_input(t("admin_new_username"), key="admin_new_name").strip()
        role, department, inspector, district = _scope_fields(choices, "admin_create")
        submitted = st.form_submit_button(t("admin_create"), type="primary")
    if submitted:
        request = user_service.CreateUser(username, role, None, inspector, department, district)
        _run(user_service.create_user, ctx, request, "admin_created")


def password_form(ctx: ServiceContext, usernames: list[str]) -> None:
    """Reset a password (generated, shown once) or lift a lockout."""
    with st.form("admin_password_form"):
        who = st.selectbox(t("admin_account"), usernames, key="admin_pw_user")
        reset = st.form_submit_button(t("admin_reset"))
        unlock = st.form_submit_button(t("admin_unlock"))
    if reset:
        _run(user_service.reset_password, ctx, user_service.PasswordReset(who), "admin_reset_done")
    elif unlock:
        _run(user_service.unlock_user, ctx, user_service.UserRef(who), "admin_unlocked")


def scope_form(ctx: ServiceContext, usernames: list[str], choices: user_service.ScopeChoices) -> None:
    """Change role and scope."""
    with st.form("admin_scope_form"):
        who = st.selectbox(t("admin_account"), usernames, key="admin_scope_user")
        role, department, inspector, district = _scope_fields(choices, "admin_scope")
        submitted = st.form_submit_button(t("admin_change"))
    if submitted:
        request = user_service.RoleChange(who, role, inspector, department, district)
        _run(user_service.change_role, ctx, request, "admin_changed")


def status_form(ctx: ServiceContext, usernames: list[str]) -> None:
    """Deactivate or reactivate."""
    with st.form("admin_status_form"):
        who = st.selectbox(t("admin_account"), usernames, key="admin_status_user")
        deactivate = st.form_submit_button(t("admin_deactivate"))
        reactivate = st.form_submit_button(t("admin_reactivate"))
    if deactivate:
        _run(user_service.deactivate_user, ctx, user_service.UserRef(who), "admin_deactivated")
    elif reactivate:
        _run(user_service.reactivate_user, ctx, user_service.UserRef(who), "admin_reactivated")
