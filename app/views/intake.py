"""Operator's page "Intake" (受理登记): register a hotline call or a walk-in, or merge it into a duplicate.

The form (location by address lookup, map click or typed WGS-84 / GCJ-02 coordinates; category from the
standard tree with search; description; caller; urgency; photo) builds a draft; before anything is saved the
page shows what :func:`services.intake.preview_intake` says it would become: where it lies, the suggested
department, the deadline and the possible duplicates with their status. Saving files the case
(:func:`services.intake.register_intake`), merging records the call on an existing case
(:func:`services.intake.merge_intake`); both check the role and the data again on the server. The pieces are
in :mod:`app.intake_widgets`.
"""

from __future__ import annotations

import streamlit as st

from app.context import require_role, service_context
from app.i18n import error_text, t
from app.intake_widgets import draft_form, outcome, save_or_merge, show_preview
from services.errors import ServiceError
from services.intake import intake_options, preview_intake

require_role("operator", "admin")
ctx = service_context()

st.title(t("intake"))
outcome()
try:
    options = intake_options(ctx)
except ServiceError as exc:
    st.error(error_text(exc))
    st.stop()

draft, photo = draft_form(ctx, options)

st.subheader(t("ix_preview"))
if draft is None:
    st.info(t("ix_fill_in"))
    st.stop()
try:
    preview = preview_intake(ctx, draft)
except ServiceError as exc:
    st.error(error_text(exc))
    st.stop()
show_preview(preview, ctx.timezone, options)
save_or_merge(ctx, draft, preview, photo)
