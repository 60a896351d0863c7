"""Administrator's data page: import files through the same importers as the CLI; manage users."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from app.context import engine, require_role
from app.i18n import ROLE_LABELS, label, t
from cases.importing import ImportReadError
from cases.report import ImportReport
from cases.users import list_users

require_role("admin")

KINDS = ["cases", "inspectors", "assignments", "areas"]
SHIPPED_MAPPINGS = sorted(p.stem for p in (Path(__file__).parents[2] / "cases" / "mappings").glob("*.toml"))


def _run_import(kind: str, path: Path, options: dict[str, str | None]) -> ImportReport:
    from cases.mapping import load_mapping

    mapping = load_mapping(options["mapping"]) if options.get("mapping") else None
    if kind == "cases":
        from cases.importing import import_cases

        return import_cases(path, engine(), mapping=mapping)
    if kind == "inspectors":
        from cases.people import import_inspectors

        return import_inspectors(path, engine(), mapping=mapping)
    if kind == "assignments":
        from cases.people import import_assignments

        return import_assignments(path, engine(), mapping=mapping)
    from cases.areas import import_areas

    return import_areas(path, engine(), level=options["level"] or "district", crs=options["crs"] or "wgs84")


st.title(t("data"))
kind = st.selectbox(t("import_kind"), KINDS)
options: dict[str, str | None] = {"mapping": None, "level": None, "crs": None}
if kind == "areas":
    options["level"] = st.selectbox(t("area_level"), ["district", "subdistrict", "community", "city"])
    options["crs"] = st.selectbox(t("coordinate_system"), ["wgs84", "gcj02", "bd09"])
else:
    options["mapping"] = st.selectbox(t("mapping"), ["", *SHIPPED_MAPPINGS]) or None
upload = st.file_uploader(t("upload"))
if upload is not None and st.button(t("run_import"), type="primary"):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / Path(upload.name).name
        path.write_bytes(upload.getvalue())
        try:
            with st.spinner(t("run_import")):
                report = _run_import(kind, path, options)
        except ImportReadError as exc:
            st.error(t("import_failed", error=str(exc)))
            st.stop()
    st.success(
        t(
            "import_done",
            read=report.read,
            imported=report.imported,
            duplicates=report.duplicates,
            quarantined=report.quarantined,
        )
    )
    for warning in report.warnings:
        st.warning(warning)
    if report.quarantined:
        st.subheader(t("quarantine"))
        st.dataframe(report.quarantine, hide_index=True, use_container_width=True)

st.subheader(t("users"))
users = pd.DataFrame(list_users(engine()))
if not users.empty:
    users["role"] = users["role"].map(lambda r: label(ROLE_LABELS, r))
st.dataframe(users, hide_index=True, use_container_width=True)
