"""Overview page: what the database holds and the latest imports."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
import streamlit as st

from app.context import db_key, engine
from app.i18n import TABLE_LABELS, label, t
from cases.models import ImportBatch
from cases.store import table_counts


@st.cache_data(ttl=30)
def _counts(key: str) -> dict[str, int]:
    del key  # the cache key: one entry per database
    return table_counts(engine())


@st.cache_data(ttl=30)
def _recent_imports(key: str) -> pd.DataFrame:
    columns = [
        ImportBatch.kind,
        ImportBatch.source_file,
        ImportBatch.finished_at,
        ImportBatch.rows_read,
        ImportBatch.rows_imported,
        ImportBatch.rows_duplicate,
        ImportBatch.rows_quarantined,
    ]
    del key
    query = sa.select(*columns).order_by(ImportBatch.batch_id.desc()).limit(20)
    with engine().connect() as conn:
        return pd.DataFrame(conn.execute(query).all(), columns=[c.key for c in columns])


st.title(t("app_title"))
st.caption(t("tagline"))
st.subheader(t("holds"))
counts = _counts(db_key())
for column, (table, count) in zip(st.columns(len(counts)), counts.items(), strict=True):
    column.metric(label(TABLE_LABELS, table), f"{count:,}")
st.subheader(t("imports"))
imports = _recent_imports(db_key())
if imports.empty:
    st.info(t("no_imports"))
else:
    st.dataframe(imports, hide_index=True, use_container_width=True)
shown = sa.engine.make_url(db_key()).render_as_string(hide_password=True)
st.caption(f"{t('database')}: {shown}")
