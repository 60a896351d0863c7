"""Widgets of the Data page's imports: expected columns and template download, the import's outcome
("K imported, of which F with field defects", quarantine and defects in words), the latest imports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from app.i18n import error_text, language, t, word
from app.safe_text import md, safe_t
from app.tables import show_table
from services import import_guide
from services.errors import ServiceError

__all__ = ["show_expected_columns", "show_import_outcome", "show_recent_imports"]

_PROBLEM_COLUMNS = ("file", "line", "field", "reason", "detail", "raw", "outcome")


def show_expected_columns(ctx: Any, kind: str) -> None:
    """The columns ``kind`` reads (as code spans: they are typed as they are) and its template file."""
    try:
        template = import_guide.import_template(ctx, import_guide.TemplateRequest(kind))
    except ServiceError as exc:
        st.error(error_text(exc))
        return
    columns = template.to_frame()
    sep = "、" if language() == "zh" else ", "

    def spans(names: pd.Series) -> str:
        return sep.join(f"`{n}`" for n in names) or "–"

    with st.expander(t("imp_expected")):
        required, optional = (spans(columns.loc[k == columns["required"], "column"]) for k in (True, False))
        st.markdown(t("imp_required_columns", columns=required))  # markdown-safe: our own field names
        st.markdown(t("imp_optional_columns", columns=optional))  # markdown-safe: our own field names
        st.download_button(
            t("imp_template"), template.content, file_name=template.file_name, key=f"template_{kind}"
        )


def show_import_outcome(report: Any, file_name: str) -> None:
    """The counts of an import of ``file_name``, its warnings, quarantined rows and field defects."""
    st.caption(safe_t("imp_file_named", name=file_name))
    counts = (report.read, report.imported, report.duplicates, report.quarantined)
    st.success(
        safe_t(
            "import_done", **dict(zip(("read", "imported", "duplicates", "quarantined"), counts, strict=True))
        )
    )
    defective = int(getattr(report, "defective", 0) or 0)
    st.info(safe_t("imp_imported_defects", imported=report.imported, defective=defective))
    for warning in report.warnings:
        st.warning(md(warning))
    if report.quarantined:
        st.subheader(t("quarantine"))
        show_table(_in_words(report.quarantine), key="import_quarantine")
    defects = getattr(report, "defects", None)
    if defects is not None and len(defects):
        st.subheader(t("imp_defects"))
        show_table(_in_words(defects), key="import_defects")


def show_recent_imports(ctx: Any) -> None:
    """The latest imports, times in the city's zone (:func:`app.tables.show_table`)."""
    try:
        recent = import_guide.recent_imports(ctx).to_frame()
    except ServiceError as exc:
        st.error(error_text(exc))
        return
    if recent.empty:
        return
    st.subheader(t("imp_recent"))
    show_table(recent, key="recent_imports")


def _in_words(frame: pd.DataFrame) -> pd.DataFrame:
    """Quarantine / defect rows with the reason and outcome in words and the page's column names."""
    out = frame.reindex(columns=[c for c in _PROBLEM_COLUMNS if c in frame.columns]).copy()
    if "file" in out:  # the uploaded file's name, not the temporary copy the import read
        out["file"] = out["file"].map(lambda v: Path(v).name if isinstance(v, str) else v)
    for name in ("reason", "outcome"):
        if name in out:
            out[name] = out[name].map(lambda v: word(v) if isinstance(v, str) else v)
    return out.rename(columns={c: f"imp_{c}" for c in out.columns})
