"""Administrator's data page: import files through the same services as ``gridpatrol import`` (with the
expected columns and a template per kind, the outcome in words: "K imported, of which F with field defects");
manage users (deactivate, reactivate, change role) through the same service as ``gridpatrol users``."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from app.context import require_role, service_context
from app.data_widgets import show_expected_columns, show_import_outcome, show_recent_imports
from app.i18n import ROLE_LABELS, error_text, label, t, worded
from app.tables import show_table
from services import users as user_service
from services.addresses import AddressImportRequest, import_addresses
from services.errors import ServiceError
from services.imports import ImportRequest, import_file

require_role("admin")

KINDS = ["cases", "inspectors", "assignments", "areas", "unit_grids", "addresses"]
SHIPPED_MAPPINGS = sorted(p.stem for p in (Path(__file__).parents[2] / "cases" / "mappings").glob("*.toml"))
ROLES = ["inspector", "operator", "dispatcher", "department", "supervisor", "planner", "manager", "admin"]
CRS_CHOICES = ["wgs84", "gcj02", "bd09", "EPSG:4528", "EPSG:4490"]

st.title(t("data"))
kind = st.selectbox(t("import_kind"), KINDS, format_func=worded())
show_expected_columns(service_context(), kind)
options: dict[str, str | None] = {}
if kind in ("areas", "unit_grids"):
    if kind == "areas":
        levels = ["district", "subdistrict", "community", "city"]
        options["level"] = st.selectbox(t("area_level"), levels, format_func=worded())
    options["crs"] = st.selectbox(t("coordinate_system"), CRS_CHOICES, help=t("imp_crs_help"))
else:
    options["mapping"] = st.selectbox(t("mapping"), ["", *SHIPPED_MAPPINGS]) or None
upload = st.file_uploader(t("upload"))
if upload is not None and st.button(t("run_import"), type="primary"):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / Path(upload.name).name
        path.write_bytes(upload.getvalue())
        try:
            with st.spinner(t("run_import")):
                if kind == "addresses":
                    request = AddressImportRequest(path, options["mapping"], write_quarantine=False)
                    report = import_addresses(service_context(), request).report
                else:
                    wait = lambda: st.info(t("imp_waiting_other"))  # noqa: E731  another import runs
                    options["on_wait"] = wait
                    request = ImportRequest(kind=kind, path=path, write_quarantine=False, **options)
                    report = import_file(service_context(), request).report
        except ServiceError as exc:
            st.error(error_text(exc))
            st.stop()
    show_import_outcome(report, upload.name)
show_recent_imports(service_context())

st.subheader(t("users"))
ctx = service_context()
users = user_service.list_users(ctx).to_frame()
shown = users.assign(role=users["role"].map(lambda r: label(ROLE_LABELS, r)))
show_table(shown)
if not users.empty:
    with st.form("manage_user"):
        who = st.selectbox(t("username"), users["username"].tolist())
        role = st.selectbox(t("role"), ROLES, format_func=worded(lambda r: label(ROLE_LABELS, r)))
        inspector_id = st.text_input(t("inspector")) or None
        change = st.form_submit_button(t("change_role"))
        deactivate = st.form_submit_button(t("deactivate_user"))
        reactivate = st.form_submit_button(t("reactivate_user"))
    try:
        if change:
            user_service.change_role(ctx, user_service.RoleChange(who, role, inspector_id=inspector_id))
        elif deactivate:
            user_service.deactivate_user(ctx, user_service.UserRef(who))
        elif reactivate:
            user_service.reactivate_user(ctx, user_service.UserRef(who))
    except ServiceError as exc:
        st.error(error_text(exc))
    else:
        if change or deactivate or reactivate:
            st.rerun()
