"""Administrator's user page: the accounts in words; create, reset password, unlock, change role and scope,
deactivate and reactivate (one :mod:`services.users` call each; widgets in :mod:`app.admin_widgets`)."""

from __future__ import annotations

import streamlit as st

from app import admin_widgets as widgets
from app.context import require_role, service_context
from app.i18n import error_text, t
from services import users as user_service
from services.errors import ServiceError

require_role("admin")
st.title(t("user_admin"))
st.caption(t("admin_intro"))
ctx = service_context()
try:
    users = user_service.list_users(ctx).to_frame()
    choices = user_service.scope_choices(ctx)
except ServiceError as exc:
    st.error(error_text(exc))
    st.stop()

widgets.show_outcome()
widgets.show_users(users, choices)
names = users["username"].tolist()
create, password, scope, status = st.tabs(
    [t("admin_tab_create"), t("admin_tab_password"), t("admin_tab_scope"), t("admin_tab_status")]
)
with create:
    widgets.create_form(ctx, choices)
with password:
    widgets.password_form(ctx, names)
with scope:
    widgets.scope_form(ctx, names, choices)
with status:
    widgets.status_form(ctx, names)
